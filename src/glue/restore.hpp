// Undelete: archived rows go back into their tables, one INSERT per table, parents first,
// all or nothing, as the calling user; then the archive rows are marked restored.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// RestoreArchiveRows restores the archive rows with the given ids and returns one result row
// per distinct id (archive_id, target, object_id, outcome, detail) through fcinfo's
// materialized result set. on_conflict is 'error' or 'skip'; dry_run checks everything and
// changes nothing.
void RestoreArchiveRows(FunctionCallInfo fcinfo, ArrayType* archive_ids, text* on_conflict, bool dry_run);

// RestoreTransaction restores every row one deleting transaction archived.
void RestoreTransaction(FunctionCallInfo fcinfo, int64 xact_id, text* on_conflict, bool dry_run);

}  // namespace deleted_record::glue
