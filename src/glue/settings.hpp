// The deleted_record.* settings (GUCs): their definitions, their checks, and what they hold now.
// A value that could not be checked when it was set (set before the library was loaded, or in a
// role or database setting) is kept as it is and makes every delete fail with an error naming
// it, instead of being dropped with a WARNING nobody sees. What a delete makes of the values is
// the deletion context (deletion_context.hpp).
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// DefineSettings registers the settings; called once from _PG_init.
void DefineSettings();

// RefuseUnhonourableSettings raises an error naming the first setting whose value cannot be
// honoured (an unchecked bad value, a misspelt name under the prefix) for a delete from the
// named relation.
void RefuseUnhonourableSettings(const char* qualified_relation_name);

// ContextValues is what the context settings hold at this moment (null: unset).
struct ContextValues {
  const char* actor;
  const char* reason;
  Jsonb* metadata;            // as checked by jsonb's own parser when it was set
  RequiredContext required;   // deleted_record.require_context
};
ContextValues CurrentContextValues();

// ContextSetting is one of the settings a delete reads, as it stands in this session.
struct ContextSetting {
  const char* name;     // e.g. "deleted_record.actor"
  const char* value;    // "" when unset
  bool set_in_session;  // by connection options, SET, SET LOCAL or set_config, rather than by a
                        // role, database or server setting that other nodes' sessions get too
};
constexpr int kContextSettingCount = 4;

// ReadContextSettings fills kContextSettingCount entries: actor, reason, metadata, require_context.
void ReadContextSettings(ContextSetting* settings);

// SetContextSettingsLocally sets actor, reason and metadata ("" = unset) like SET LOCAL.
void SetContextSettingsLocally(const char* actor, const char* reason, const char* metadata);

// JsonbKindName names what a jsonb document is ("an array", "a string", ...), for messages.
const char* JsonbKindName(Jsonb* document);

}  // namespace deleted_record::glue
