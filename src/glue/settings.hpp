// The deleted_record.* settings (GUCs): their definitions, their checks, and how a delete reads
// them. A value that could not be checked when it was set (set before the library was loaded,
// or in a role or database setting) is kept as it is and makes every delete fail with an error
// naming it, instead of being dropped with a WARNING nobody sees.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// DefineSettings registers the settings; called once from _PG_init.
void DefineSettings();

// DeletionContext is the who-and-why of one delete, as archive column values.
struct DeletionContext {
  Datum actor;
  Datum reason;
  Datum metadata;
  bool actor_is_null;
  bool reason_is_null;
  bool metadata_is_null;
};

// ReadDeletionContext reads the settings as they are at this moment, refuses settings that
// could not be honoured, and enforces deleted_record.require_context for a delete from the
// named relation.
void ReadDeletionContext(const char* qualified_relation_name, DeletionContext* context);

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

// SetContextForTransaction implements deleted_record_set_context(): the three settings for the
// current transaction only. metadata is NULL or a jsonb object. Outside a transaction block,
// called directly by the top-level statement, it raises an error: the settings would end with
// that statement and never reach a delete.
void SetContextForTransaction(text* actor, text* reason, Jsonb* metadata);

}  // namespace deleted_record::glue
