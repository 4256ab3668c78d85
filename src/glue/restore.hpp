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

// Up to this many ids, archive rows are read by `id = ANY (ids)`: the planner keeps only the
// partitions holding one of them and each is read by its primary key in one scan (a join of
// unnest(ids) with the archive rescans the partitions' Append, pruning again, for every id:
// twenty times slower for 1,000 ids). Beyond it the planner's pruning of the array's elements,
// one by one, would cost more memory than a small server has (about 2.5 kB an element: 100,000
// ids took more than 240 MB), so the ids are joined as unnest(ids), which the planner merges
// or hashes with the partitions' rows.
constexpr int kArchiveIdsByAny = 4096;

// ArchiveIds is how a statement reads the archive rows (alias `alias`) whose ids are parameter
// `param` (a uuid[] of count elements), in the cheaper of the two forms above: `from` is
// appended to the statement's FROM list (empty, or ", pg_catalog.unnest(...) AS ids(id)"),
// `where` is its condition. Operators and functions are qualified.
struct ArchiveIds {
  char* from;
  char* where;
};
inline ArchiveIds ArchiveIdsOf(const char* alias, const char* param, int count) {
  if (count <= kArchiveIdsByAny) return {pstrdup(""), psprintf("%s.id OPERATOR(pg_catalog.=) ANY (%s)", alias, param)};
  return {psprintf(", pg_catalog.unnest(%s) AS ids(id)", param), psprintf("%s.id OPERATOR(pg_catalog.=) ids.id", alias)};
}

}  // namespace deleted_record::glue
