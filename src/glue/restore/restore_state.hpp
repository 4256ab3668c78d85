// What one restore knows while it runs (the selection, its target tables and their plan), and
// the functions each room of src/glue/restore/ offers the pipeline.
#pragma once
#include "glue/restore.hpp"
#include "glue/postgres_api.hpp"

namespace deleted_record::glue::restore {

enum class Outcome { kRestored, kSkipped, kAlreadyRestored };

// Candidate is one selected archive row, in the order the caller gave.
struct Candidate {
  Datum id;         // uuid
  int target;       // index into Restore::targets
  char* object_id;  // or null
  Outcome outcome;
  char* detail;     // or null
};

// Target is one table rows go back into: its names as archived, the archive rows to restore into
// it, its catalog facts and, in plan, the same facts with the core's decisions written beside them.
struct Target {
  char* schema_name;  // as archived
  char* table_name;
  Oid relid;          // InvalidOid until resolved (never, when none of its rows is pending)
  char* qualified;    // quoted, for statements and messages
  char* rowtype;      // the table's row type, quoted
  int pending_count;  // archive rows to restore into it
  int capacity;
  Datum* pending;
  int* pending_candidates;
  boundary::RestoreTablePlan* plan;  // its facts, then the core's decisions (an entry of the
                                     // array Execute plans over); null when nothing is pending
  bool has_unique;     // a unique or exclusion index: conflicts are possible
  bool per_row;        // skip mode inserts row by row (see RunStep)
  int match_count;     // skip mode: the columns identifying a row (a plain unique index)
  char** match_columns;
  char** match_operators;  // and the equality of that index's operator class for each, as
                           // OPERATOR(schema.name): a join on it is hashed or merged, not nested
  char** match_orders;      // the less-than of the same operator class, for DISTINCT ON
  char** match_collations;  // " COLLATE schema.name" of the index's collation, or ""
};

struct Restore {
  Oid owner;                  // the archive's owner, who marks rows restored
  char* archive_name;         // the archive, schema-qualified and quoted
  ConflictPolicy policy;
  MaskedPolicy masked;
  bool dry_run;
  bool immediate;             // deferrable constraints of the targets are checked at each INSERT
  char* deferrable;           // those constraints, for SET CONSTRAINTS; null when none
  const char* data;           // the archived data as inserted (masked values removed for 'null')
  char* role;                 // the caller, for restored_by
  int candidate_count;
  Candidate* candidates;
  int target_count;
  Target* targets;
};

// ---- small SPI helpers every room uses ----------------------------------------------------

inline char* UuidText(Datum id) { return DatumGetCString(DirectFunctionCall1(uuid_out, id)); }

inline Datum UuidArray(Datum* ids, int count) {
  return PointerGetDatum(construct_array(ids, count, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

// RestoredIds: the ids of the selected rows still to be restored (outcome restored), in
// candidate order; *count gets how many (the array has room for at least one).
inline Datum* RestoredIds(const Restore* restore, int* count) {
  Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * Max(restore->candidate_count, 1)));
  *count = 0;
  for (int i = 0; i < restore->candidate_count; ++i)
    if (restore->candidates[i].outcome == Outcome::kRestored) ids[(*count)++] = restore->candidates[i].id;
  return ids;
}

inline void RunQuery(const char* query, int nargs, Oid* types, Datum* values, bool read_only, int expected) {
  int result = SPI_execute_with_args(query, nargs, types, values, nullptr, read_only, 0);
  if (result != expected) elog(ERROR, "deleted_record: restore query failed (%s): %s", SPI_result_code_string(result), query);
}

// ---- selection.cpp: the selected archive rows, read and locked ----------------------------
void LoadCandidates(Restore* restore, ArrayType* archive_ids);
Datum TransactionRows(Restore* restore, const char* xact);
void LockPending(Restore* restore);
void LoadKeys(Restore* restore, Target* target);
char* FirstRowWithKey(Restore* restore, Target* target, const char* key);
char* ArchivedValue(Restore* restore, Datum id, const char* column);

// ---- catalog.cpp: the target tables' facts, read by OID from the caches and catalogs ------
void ResolveTarget(Restore* restore, Target* target);
int ForeignKeys(Restore* restore, int* planned, int planned_count, boundary::RestoreKeyPlan** keys, char*** qualified_names);
char* DeferrableConstraints(Restore* restore);

// ---- statements.cpp: the SQL text of each step --------------------------------------------
char* InsertStatement(const Restore* restore, const Target* target, bool skip);
char* ColumnProbeStatement(const Restore* restore, const Target* target, const char* column);
char* SetConstraintsCommand(char** names, const boundary::RestoreKeyPlan* keys, int count, const char* mode);

// ---- running.cpp: the steps in subtransactions, the culprit search, deferred checks -------
void RunStep(Restore* restore, Target* target);
void SetConstraints(char** names, const boundary::RestoreKeyPlan* keys, int count, const char* mode);
void SetImmediate(const char* names);
void CheckDeferred(const char* names);
void DryRun(Restore* restore, void (*execute)(void*));
void RealRun(Restore* restore, void (*execute)(void*));

// ---- marking.cpp: as the owner, rows marked restored; what happened to each row -----------
void RunQueryAsOwner(const Restore* restore, const char* query, int nargs, Oid* types, Datum* values, int expected);
void MarkRestored(Restore* restore);
void EmitResults(FunctionCallInfo fcinfo, Restore* restore);

}  // namespace deleted_record::glue::restore
