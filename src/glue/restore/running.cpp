// Running the steps: each INSERT in a subtransaction, so that a failure is traced to the archive
// row (and column) at fault before it is raised; skip mode's outcomes; deferred constraint checks.
#include "glue/restore/restore_state.hpp"

namespace deleted_record::glue::restore {

namespace {

// InSubtransaction runs work(arg) in a subtransaction, which it releases (keep) or rolls back
// on success. On error it rolls the subtransaction back, puts memory context and resource owner
// back as they were (like plpgsql's exception blocks) and returns the error, copied; else
// null. Every BeginInternalSubTransaction of restore is paired here, on every path.
ErrorData* InSubtransaction(void (*work)(void*), void* arg, bool keep) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  ErrorData* volatile failure = nullptr;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(context);
  PG_TRY();
  {
    work(arg);
    if (keep)
      ReleaseCurrentSubTransaction();
    else
      RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    failure = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_END_TRY();
  return failure;
}

void SetImmediateWork(void* names) { SetImmediate(static_cast<const char*>(names)); }

struct InsertWork {
  const char* statement;
  Datum* ids;
  int count;
  const char* check;  // deferrable constraints to check after the INSERT, or null
  uint64 processed;
  SPITupleTable* rows;
};

void RunInsert(void* arg) {
  InsertWork* work = static_cast<InsertWork*>(arg);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {UuidArray(work->ids, work->count)};
  int result = SPI_execute_with_args(work->statement, 1, types, values, nullptr, false, 0);
  if (result < 0) elog(ERROR, "deleted_record: restore statement failed (%s)", SPI_result_code_string(result));
  work->processed = SPI_processed;
  work->rows = SPI_tuptable;
  CheckDeferred(work->check);
}

// TryInsert runs statement over ids in a subtransaction; on failure it rolls back and returns
// the error (copied), else null. When keep is false the subtransaction is rolled back anyway.
// check names deferrable constraints whose events are checked before the INSERT counts.
ErrorData* TryInsert(const char* statement, Datum* ids, int count, bool keep, uint64* processed, SPITupleTable** rows,
                     const char* check = nullptr) {
  InsertWork work = {statement, ids, count, check, 0, nullptr};
  ErrorData* failure = InSubtransaction(RunInsert, &work, keep);
  if (failure == nullptr) {
    if (processed != nullptr) *processed = work.processed;
    if (rows != nullptr) *rows = work.rows;
  }
  return failure;
}

// CulpritRow narrows a failing set of archive rows down to one that fails on its own.
int CulpritRow(const char* statement, Datum* ids, int count) {
  int low = 0, high = count;  // the failing range [low, high)
  while (high - low > 1) {
    int middle = low + (high - low) / 2;
    if (TryInsert(statement, ids + low, middle - low, false, nullptr, nullptr) != nullptr)
      high = middle;
    else if (TryInsert(statement, ids + middle, high - middle, false, nullptr, nullptr) != nullptr)
      low = middle;
    else
      return -1;  // only rows together fail (two archive rows with one key, say)
  }
  return TryInsert(statement, ids + low, 1, false, nullptr, nullptr) != nullptr ? low : -1;
}

// CulpritColumn finds the inserted column whose archived value no longer converts to its type.
const char* CulpritColumn(Restore* restore, Target* target, Datum id) {
  for (int c = 0; c < target->plan->column_count; ++c) {
    if (!target->plan->columns[c].inserted) continue;
    const char* name = target->plan->columns[c].name;
    if (TryInsert(ColumnProbeStatement(restore, target, name), &id, 1, false, nullptr, nullptr) != nullptr) return name;
  }
  return nullptr;
}

// FailRestoreRow raises the error of archive row target->pending[culprit].
void FailRestoreRow(Restore* restore, Target* target, int culprit, ErrorData* failure) {
  Datum id = target->pending[culprit];
  Candidate* candidate = &restore->candidates[target->pending_candidates[culprit]];
  const char* column =
      ERRCODE_TO_CATEGORY(failure->sqlerrcode) == ERRCODE_DATA_EXCEPTION ? CulpritColumn(restore, target, id) : nullptr;
  if (column != nullptr)
    ereport(ERROR, (errcode(failure->sqlerrcode),
                    errmsg("cannot restore archive row %s into table %s: column \"%s\" cannot take the archived value %s",
                           UuidText(id), target->qualified, column, quote_literal_cstr(ArchivedValue(restore, id, column))),
                    errdetail("%s", failure->message), errhint("Nothing was restored.")));
  ereport(ERROR, (errcode(failure->sqlerrcode),
                  errmsg("cannot restore archive row %s (object_id %s) into table %s: %s", UuidText(id),
                         candidate->object_id != nullptr ? candidate->object_id : "NULL", target->qualified,
                         failure->message),
                  failure->detail != nullptr ? errdetail("%s", failure->detail) : 0,
                  failure->constraint_name != nullptr && restore->policy == ConflictPolicy::kError &&
                          (failure->sqlerrcode == ERRCODE_UNIQUE_VIOLATION || failure->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION)
                      ? errhint("It conflicts with constraint \"%s\"; on_conflict => 'skip' leaves such rows in the "
                                "archive. Nothing was restored.",
                                failure->constraint_name)
                  : failure->constraint_name != nullptr
                      ? errhint("It breaks constraint \"%s\". Nothing was restored.", failure->constraint_name)
                      : errhint("Nothing was restored.")));
}

// FailRestore raises the error of a failed INSERT, naming the archive row (and for a value that
// no longer converts, the column and value) that causes it.
void FailRestore(Restore* restore, Target* target, const char* statement, ErrorData* failure) {
  int culprit = CulpritRow(statement, target->pending, target->pending_count);
  if (culprit < 0)
    ereport(ERROR, (errcode(failure->sqlerrcode),
                    errmsg("cannot restore the archive rows of table %s together: %s", target->qualified, failure->message),
                    failure->detail != nullptr ? errdetail("%s", failure->detail) : 0,
                    errhint("Two of the selected archive rows conflict with each other, or only together break a "
                            "constraint. Nothing was restored.")));
  FailRestoreRow(restore, target, culprit, failure);
}

// ViolationOnTarget tells a conflict with the target table's own key (or a partition's) from one
// raised elsewhere, say by a trigger writing to another table: only the first means skipped.
bool ViolationOnTarget(const Target* target, const ErrorData* failure) {
  if (failure->schema_name == nullptr || failure->table_name == nullptr) return true;
  Oid namespace_oid = get_namespace_oid(failure->schema_name, true);
  Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(failure->table_name, namespace_oid) : InvalidOid;
  if (!OidIsValid(relid)) return false;
  if (relid == target->relid) return true;
  return list_member_oid(find_all_inheritors(target->relid, NoLock, nullptr), relid);
}

// ComparePending orders positions in target->pending (the Target passed as arg) by their ids.
int ComparePending(const void* a, const void* b, void* arg) {
  const Target* target = static_cast<const Target*>(arg);
  return memcmp(DatumGetUUIDP(target->pending[*static_cast<const int*>(a)])->data,
                DatumGetUUIDP(target->pending[*static_cast<const int*>(b)])->data, UUID_LEN);
}

// InsertRowAlone inserts archive row target->pending[i] on its own, in a subtransaction:
// inserted means restored, a unique or exclusion violation (checked at once, deferred ones too)
// means skipped, any other error fails the restore naming the row. statement is the plain
// INSERT of the step (InsertStatement without skip).
void InsertRowAlone(Restore* restore, Target* target, const char* statement, int i) {
  CHECK_FOR_INTERRUPTS();
  Candidate* candidate = &restore->candidates[target->pending_candidates[i]];
  uint64 processed = 0;
  ErrorData* failure = TryInsert(statement, &target->pending[i], 1, true, &processed, nullptr,
                                 restore->immediate ? nullptr : restore->deferrable);
  if (failure == nullptr) {
    candidate->outcome = processed == 1 ? Outcome::kRestored : Outcome::kSkipped;
    candidate->detail =
        processed == 1 ? nullptr : psprintf("a BEFORE INSERT trigger or rule of %s kept it out", target->qualified);
    return;
  }
  if ((failure->sqlerrcode == ERRCODE_UNIQUE_VIOLATION || failure->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION) &&
      ViolationOnTarget(target, failure)) {
    candidate->outcome = Outcome::kSkipped;
    candidate->detail = psprintf("a live row of %s, or another selected archive row, has the same key (%s)",
                                 target->qualified, failure->detail != nullptr ? failure->detail : failure->message);
    return;
  }
  FailRestoreRow(restore, target, i, failure);
}

// RunStepRowByRow is skip mode for tables where inserted rows cannot be matched back to archive
// rows by their key: a BEFORE INSERT trigger may change the key, the unique indexes have
// expressions or predicates, or one is deferrable (no arbiter of ON CONFLICT). Each archive row
// is inserted on its own (InsertRowAlone).
void RunStepRowByRow(Restore* restore, Target* target) {
  char* statement = InsertStatement(restore, target, false);
  for (int i = 0; i < target->pending_count; ++i) InsertRowAlone(restore, target, statement, i);
}

}  // namespace

// SetImmediate checks now the pending events of the deferrable constraints named.
void SetImmediate(const char* names) {
  char* command = psprintf("SET CONSTRAINTS %s IMMEDIATE", names);
  if (SPI_execute(command, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command);
}

// CheckDeferred checks the pending events of the deferrable constraints named (SET
// CONSTRAINTS ... IMMEDIATE) in a subtransaction that is always rolled back: the events then
// count as not fired again and the constraints keep the mode the caller gave them, so nothing
// of the caller's transaction changes. A failing check is raised.
void CheckDeferred(const char* names) {
  if (names == nullptr) return;
  ErrorData* failure = InSubtransaction(SetImmediateWork, const_cast<char*>(names), false);
  if (failure != nullptr) ReThrowError(failure);
}

// RunStep inserts the pending archive rows of one table: one set-based INSERT, or in skip mode
// where rows cannot be matched back by their key, one INSERT per row.
void RunStep(Restore* restore, Target* target) {
  if (target->pending_count == 0) return;
  bool skip = restore->policy == ConflictPolicy::kSkip && target->has_unique;
  if (skip && target->per_row) {
    RunStepRowByRow(restore, target);
    return;
  }
  char* statement = InsertStatement(restore, target, skip);
  uint64 processed = 0;
  SPITupleTable* rows = nullptr;
  ErrorData* failure = TryInsert(statement, target->pending, target->pending_count, true, &processed, &rows);
  if (failure != nullptr) FailRestore(restore, target, statement, failure);
  if (!skip) {
    if (processed != static_cast<uint64>(target->pending_count))
      ereport(ERROR, (errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
                      errmsg("only %llu of %d archive rows were inserted into table %s",
                             static_cast<unsigned long long>(processed), target->pending_count, target->qualified),
                      errdetail("A BEFORE INSERT trigger or rule of the table kept the others out."),
                      errhint("Nothing was restored.")));
    return;
  }
  // Skip mode: the archive rows not returned were left out (a live row, or another selected
  // archive row, has their key). Each id returned is looked up among the pending ones sorted
  // (comparing every pair would cost the square of the rows).
  for (int i = 0; i < target->pending_count; ++i) restore->candidates[target->pending_candidates[i]].outcome = Outcome::kSkipped;
  int* order = static_cast<int*>(palloc(sizeof(int) * Max(target->pending_count, 1)));
  for (int i = 0; i < target->pending_count; ++i) order[i] = i;
  qsort_arg(order, target->pending_count, sizeof(int), ComparePending, target);
  // The rows whose key has a NULL (second column true) were not inserted: each is inserted
  // alone afterwards, its outcome what that INSERT did.
  int* alone = static_cast<int*>(palloc(sizeof(int) * Max(target->pending_count, 1)));
  int alone_count = 0;
  for (uint64 r = 0; r < processed; ++r) {
    CHECK_FOR_INTERRUPTS();
    bool isnull = false;
    const unsigned char* id = DatumGetUUIDP(SPI_getbinval(rows->vals[r], rows->tupdesc, 1, &isnull))->data;
    bool has_null_key = DatumGetBool(SPI_getbinval(rows->vals[r], rows->tupdesc, 2, &isnull));
    int low = 0, high = target->pending_count;  // the first pending id >= id is in [low, high]
    while (low < high) {
      int middle = low + (high - low) / 2;
      if (memcmp(DatumGetUUIDP(target->pending[order[middle]])->data, id, UUID_LEN) < 0)
        low = middle + 1;
      else
        high = middle;
    }
    if (low >= target->pending_count || memcmp(DatumGetUUIDP(target->pending[order[low]])->data, id, UUID_LEN) != 0)
      continue;
    if (has_null_key && alone_count < target->pending_count)
      alone[alone_count++] = order[low];
    else
      restore->candidates[target->pending_candidates[order[low]]].outcome = Outcome::kRestored;
  }
  pfree(order);
  for (int i = 0; i < target->pending_count; ++i) {
    Candidate* candidate = &restore->candidates[target->pending_candidates[i]];
    if (candidate->outcome == Outcome::kSkipped)
      candidate->detail = psprintf("a live row of %s, or another selected archive row, has the same key", target->qualified);
  }
  if (alone_count > 0) {
    char* plain = InsertStatement(restore, target, false);
    for (int k = 0; k < alone_count; ++k) InsertRowAlone(restore, target, plain, alone[k]);
  }
  pfree(alone);
}

// SetConstraints defers (or checks again) the foreign keys of a cycle between restored tables.
void SetConstraints(char** names, const boundary::RestoreKeyPlan* keys, int count, const char* mode) {
  char* command = SetConstraintsCommand(names, keys, count, mode);
  if (command != nullptr && SPI_execute(command, false, 0) != SPI_OK_UTILITY)
    elog(ERROR, "deleted_record: %s failed", command);
}

// DryRun runs execute in a subtransaction that is always rolled back, also when it fails: its
// error is raised after the rollback, so the caller's transaction is left as it was found.
void DryRun(Restore* restore, void (*execute)(void*)) {
  restore->immediate = true;
  ErrorData* failure = InSubtransaction(execute, restore, false);
  if (failure != nullptr) ReThrowError(failure);
}

// RealRun runs execute in a subtransaction kept when it succeeds. When it fails and deferrable
// constraints are involved, it runs again in immediate mode (rolled back) to name the archive
// row at fault; the first error is raised if that finds nothing.
void RealRun(Restore* restore, void (*execute)(void*)) {
  restore->immediate = false;
  ErrorData* failure = InSubtransaction(execute, restore, true);
  if (failure == nullptr) return;
  if (restore->deferrable != nullptr) {
    restore->immediate = true;
    ErrorData* named = InSubtransaction(execute, restore, false);
    if (named != nullptr) ReThrowError(named);
  }
  ReThrowError(failure);
}

}  // namespace deleted_record::glue::restore
