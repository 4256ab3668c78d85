// Undelete, as SQL calls it: the door into src/glue/restore/ (its pipeline.cpp reads the whole
// restore top to bottom). Archived rows go back into their tables, all or nothing, as the caller.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// RestoreArchiveRows restores the archive rows with the given ids and returns one result row
// per distinct id (archive_id, target, object_id, outcome, detail) through fcinfo's
// materialized result set. on_conflict is 'error' or 'skip'; dry_run checks everything and
// changes nothing; masked is 'error' or 'null' (null, as 1.1's entry points pass: 'error').
void RestoreArchiveRows(FunctionCallInfo fcinfo, ArrayType* archive_ids, text* on_conflict, bool dry_run,
                        text* masked = nullptr);

// RestoreTransactionByText restores every row one deleting transaction archived, named by its
// xact_key or by a decimal xact_id (an error when that id names rows of several keys).
void RestoreTransactionByText(FunctionCallInfo fcinfo, const char* xact, text* on_conflict, bool dry_run,
                              text* masked = nullptr);

// RestoreTransaction restores every row one deleting transaction archived (1.1's entry points).
void RestoreTransaction(FunctionCallInfo fcinfo, int64 xact_id, text* on_conflict, bool dry_run);

}  // namespace deleted_record::glue
