// A restore, top to bottom as the README tells it: read the selection as the caller, lock it,
// find each table by its name today, plan parents first, insert as the caller, mark as owner.
#include "glue/restore.hpp"

#include "glue/archive_table.hpp"
#include "glue/progress.hpp"
#include "glue/restore/restore_state.hpp"
#include "glue/spi_connection.hpp"

namespace deleted_record::glue {

namespace {

// A restore of this many rows or more reports its progress.
constexpr int64 kProgressRows = 10000;

using namespace restore;

// Start reads the options (an invalid one is an error before anything is read) and finds the archive.
void Start(Restore* restore, text* on_conflict, bool dry_run, text* masked) {
  memset(restore, 0, sizeof(Restore));
  restore->masked = MaskedPolicy::kError;  // 1.1's entry points pass no masked
  char* masked_name = masked != nullptr ? text_to_cstring(masked) : nullptr;
  boundary::Verdict masked_verdict = {true, {}};
  if (masked_name != nullptr) masked_verdict = boundary::ParseMaskedPolicy(masked_name, &restore->masked);
  if (!masked_verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_restore: invalid masked value %s", quote_literal_cstr(masked_name)),
                    errhint("Allowed values are %s: 'null' restores masked columns as NULL.", kMaskedPolicyValues)));
  // masked => 'null': masked values are removed from the data, so their columns get NULL.
  restore->data = restore->masked == MaskedPolicy::kNull
                      ? "(a.data OPERATOR(pg_catalog.-) COALESCE(a.masked_columns, '{}'::pg_catalog.text[]))"
                      : "a.data";
  char* policy_name = on_conflict != nullptr ? text_to_cstring(on_conflict) : nullptr;
  boundary::Verdict verdict = boundary::ParseConflictPolicy(policy_name, &restore->policy);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_restore: invalid on_conflict value %s",
                           policy_name != nullptr ? quote_literal_cstr(policy_name) : "NULL"),
                    errhint("Allowed values are %s.", kConflictPolicyValues)));
  restore->dry_run = dry_run;
  const ArchiveTable* archive = ResolveArchiveTable();
  restore->owner = archive->owner;
  restore->archive_name = ExtensionObjectName(archive, "deleted_record");
  restore->role = GetUserNameFromId(GetUserId(), false);
}

// FailPlan raises why the core could not plan the restore, naming an archive row when one
// column of one table is the cause.
void FailPlan(Restore* restore, const boundary::Verdict& verdict, const boundary::RestorePlanProblem& problem,
              const int* planned) {
  if (problem.table >= 0 && problem.column[0] != '\0')
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("cannot restore archive row %s: %s",
                           FirstRowWithKey(restore, &restore->targets[planned[problem.table]], problem.column),
                           verdict.message),
                    errhint("Nothing was restored.")));
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("cannot restore these archive rows: %s", verdict.message), errhint("Nothing was restored.")));
}

// Execute finds the tables, plans and runs the inserts (in a subtransaction: see DryRun, RealRun).
void Execute(Restore* restore) {
  // 1. The tables with rows to restore (others were restored before), by their names today,
  //    with the keys their archived rows hold: each one's plan (an entry of tables) holds its facts.
  int planned_count = 0;
  int* planned = static_cast<int*>(palloc(sizeof(int) * Max(restore->target_count, 1)));
  boundary::RestoreTablePlan* tables =
      static_cast<boundary::RestoreTablePlan*>(palloc0(sizeof(boundary::RestoreTablePlan) * Max(restore->target_count, 1)));
  for (int t = 0; t < restore->target_count; ++t) {
    Target* target = &restore->targets[t];
    target->plan = nullptr;
    if (target->pending_count == 0) continue;
    target->plan = &tables[planned_count];
    ResolveTarget(restore, target);
    LoadKeys(restore, target);
    // masked => 'null': masked keys are no problem; their columns get NULL (restore->data).
    if (restore->masked == MaskedPolicy::kNull) target->plan->masked_keys = {0, nullptr};
    planned[planned_count++] = t;
  }
  if (planned_count == 0) return;
  restore->deferrable = DeferrableConstraints(restore);

  // 2. The core decides in place: the columns each INSERT names, the foreign keys deferred,
  //    and the order of the tables, parents first.
  boundary::RestoreKeyPlan* keys = nullptr;
  char** key_names = nullptr;
  int key_count = ForeignKeys(restore, planned, planned_count, &keys, &key_names);
  int* order = static_cast<int*>(palloc(sizeof(int) * planned_count));
  boundary::RestorePlanProblem problem;
  boundary::Verdict verdict = boundary::PlanRestore(tables, planned_count, keys, key_count, order, &problem);
  if (!verdict.ok) FailPlan(restore, verdict, problem, planned);

  // 3. Insert, parents first. Immediate mode (a dry run, or naming a culprit): deferrable
  //    constraints of the targets are checked at each INSERT, so a failing row is found like
  //    any other; otherwise what the restore inserted is checked against them at the end.
  if (restore->immediate && restore->deferrable != nullptr) SetImmediate(restore->deferrable);
  //    The keys of a cycle between restored tables are deferred for the inserts. A real restore
  //    checks them with the others in a subtransaction rolled back afterwards (CheckDeferred), so
  //    they stay deferred: a caller that had deferred them keeps that, and no pending check of the
  //    caller's fires inside the restore. (Immediate mode runs in a subtransaction rolled back
  //    anyway: there they are checked, and fail, right here.)
  SetConstraints(key_names, keys, key_count, "DEFERRED");
  // A large restore reports its progress after each table, the way long operations do
  // (deleted_record_progress); a small one is over before anyone could look.
  int64 total = 0, done = 0;
  for (int s = 0; s < planned_count; ++s) total += restore->targets[planned[s]].pending_count;
  TimestampTz started = GetCurrentTimestamp();
  for (int s = 0; s < planned_count; ++s) {
    Target* target = &restore->targets[planned[order[s]]];
    RunStep(restore, target);
    done += target->pending_count;
    if (total >= kProgressRows) ReportProgress(restore->dry_run ? "restore (dry run)" : "restore", done, total, started);
  }
  if (restore->immediate)
    SetConstraints(key_names, keys, key_count, "IMMEDIATE");
  else
    CheckDeferred(restore->deferrable);
}

void ExecuteWork(void* restore) { Execute(static_cast<Restore*>(restore)); }

// Run restores the selection inside one SPI session; the results are written before it ends,
// since everything read through SPI lives in its memory.
void Run(FunctionCallInfo fcinfo, Restore* restore, ArrayType* archive_ids) {
  LoadCandidates(restore, archive_ids);
  if (restore->dry_run) {
    DryRun(restore, ExecuteWork);
  } else {
    LockPending(restore);
    RealRun(restore, ExecuteWork);
    MarkRestored(restore);
  }
  EmitResults(fcinfo, restore);
}

}  // namespace

void RestoreArchiveRows(FunctionCallInfo fcinfo, ArrayType* archive_ids, text* on_conflict, bool dry_run, text* masked) {
  Restore restore;
  Start(&restore, on_conflict, dry_run, masked);
  ConnectSpi();
  Run(fcinfo, &restore, archive_ids);
  FinishSpi();
}

void RestoreTransactionByText(FunctionCallInfo fcinfo, const char* xact, text* on_conflict, bool dry_run, text* masked) {
  Restore restore;
  Start(&restore, on_conflict, dry_run, masked);
  ConnectSpi();
  Datum ids = TransactionRows(&restore, xact);
  Run(fcinfo, &restore, DatumGetArrayTypeP(ids));
  FinishSpi();
}

void RestoreTransaction(FunctionCallInfo fcinfo, int64 xact_id, text* on_conflict, bool dry_run) {
  RestoreTransactionByText(fcinfo, psprintf(INT64_FORMAT, xact_id), on_conflict, dry_run, nullptr);
}

}  // namespace deleted_record::glue
