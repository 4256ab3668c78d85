// The deletion context: who deletes and why, as a delete records it (from the settings, checked
// against deleted_record.require_context), and as deleted_record_set_context() sets it for one
// transaction, on every Citus node that archives its rows.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// DeletionContext is the who-and-why of one delete, as archive column values.
struct DeletionContext {
  Datum actor;
  Datum reason;
  Datum metadata;
  bool actor_is_null;
  bool reason_is_null;
  bool metadata_is_null;
};

// SuppliedContext names the parts of the context that a row brings itself (an import from soft
// deletion stamps each row with its own actor and reason): they count as set for
// deleted_record.require_context.
struct SuppliedContext {
  bool actor;
  bool reason;
};

// ReadDeletionContext reads the settings as they are at this moment, refuses settings that
// could not be honoured, and enforces deleted_record.require_context for a delete from the
// named relation, counting what the row supplies itself as set.
void ReadDeletionContext(const char* qualified_relation_name, SuppliedContext supplied, DeletionContext* context);

// SetContextForTransaction implements deleted_record_set_context(): the three settings for the
// current transaction only. metadata is NULL or a jsonb object. Outside a transaction block,
// called directly by the top-level statement, it raises an error: the settings would end with
// that statement and never reach a delete.
void SetContextForTransaction(text* actor, text* reason, Jsonb* metadata);

}  // namespace deleted_record::glue
