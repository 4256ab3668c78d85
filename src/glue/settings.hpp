// The deleted_record.* settings (GUCs) and how a delete reads them.
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

// ReadDeletionContext reads the settings as they are at this moment and enforces
// deleted_record.require_context for a delete from the named relation.
void ReadDeletionContext(const char* qualified_relation_name, DeletionContext* context);

}  // namespace deleted_record::glue
