// The SQL-callable entry points of deleted_record.so and its _PG_init. Each entry checks how it
// was called, then hands over to the glue module that does the work; the core is reached only
// through boundary.hpp.
#include "glue/archive_buffer.hpp"
#include "glue/archive_row.hpp"
#include "glue/attachment_contract.hpp"
#include "glue/capture.hpp"
#include "glue/citus.hpp"
#include "glue/deletion_context.hpp"
#include "glue/erasure.hpp"
#include "glue/masking.hpp"
#include "glue/progress.hpp"
#include "glue/restore.hpp"
#include "glue/relation_cache.hpp"
#include "glue/settings.hpp"
#include "glue/truncate_guard.hpp"

extern "C" {
PG_COMPAT_MODULE_MAGIC("deleted_record", "1.2");
void _PG_init(void);
PG_FUNCTION_INFO_V1(deleted_record_insert);
PG_FUNCTION_INFO_V1(deleted_record_truncate_guard);
PG_FUNCTION_INFO_V1(deleted_record_uuid7);
PG_FUNCTION_INFO_V1(deleted_record_set_context);
PG_FUNCTION_INFO_V1(deleted_record_truncate_policy);
PG_FUNCTION_INFO_V1(deleted_record_attachment_options);
PG_FUNCTION_INFO_V1(deleted_record_follow_columns);
PG_FUNCTION_INFO_V1(deleted_record_attachments);
PG_FUNCTION_INFO_V1(deleted_record_truncate_guard_policy);
PG_FUNCTION_INFO_V1(deleted_record_check_trigger);
PG_FUNCTION_INFO_V1(deleted_record_mask);
PG_FUNCTION_INFO_V1(deleted_record_erase);
PG_FUNCTION_INFO_V1(deleted_record_can_commit);
PG_FUNCTION_INFO_V1(deleted_record_restore);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_xid8);
PG_FUNCTION_INFO_V1(deleted_record_shard_of);
}

namespace deleted_record::glue {
namespace {

const char* FiredWhen(TriggerEvent event) {
  if (TRIGGER_FIRED_BEFORE(event)) return "BEFORE";
  if (TRIGGER_FIRED_AFTER(event)) return "AFTER";
  return "INSTEAD OF";
}

const char* FiredBy(TriggerEvent event) {
  if (TRIGGER_FIRED_BY_INSERT(event)) return "INSERT";
  if (TRIGGER_FIRED_BY_UPDATE(event)) return "UPDATE";
  if (TRIGGER_FIRED_BY_DELETE(event)) return "DELETE";
  return "TRUNCATE";
}

// RequireTrigger raises the trigger-protocol error unless fcinfo is a trigger call.
TriggerData* RequireTrigger(FunctionCallInfo fcinfo, const char* function, const char* usage) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("%s() must be called as a trigger", function), errhint("%s", usage)));
  return reinterpret_cast<TriggerData*>(fcinfo->context);
}

void MisfiredTrigger(TriggerData* trigger, const char* function, const char* expected, const char* usage) {
  TriggerEvent event = trigger->tg_event;
  ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                  errmsg("%s() must be fired %s", function, expected),
                  errdetail("Trigger \"%s\" on table \"%s\" is fired %s %s FOR EACH %s.", trigger->tg_trigger->tgname,
                            RelationGetRelationName(trigger->tg_relation), FiredWhen(event), FiredBy(event),
                            TRIGGER_FIRED_FOR_ROW(event) ? "ROW" : "STATEMENT"),
                  errhint("%s", usage)));
}

}  // namespace
}  // namespace deleted_record::glue

using namespace deleted_record;
using namespace deleted_record::glue;

// _PG_init is the table of contents of what the library takes from PostgreSQL, in order.
void _PG_init(void) {
  // Settings: deleted_record.actor, .reason, .metadata, .require_context, .partition_period.
  DefineSettings();

  // Cache invalidation: each cache is told only what it depends on.
  CacheRegisterRelcacheCallback(RelationCacheOnRelcacheChange, (Datum) 0);                 // per-table facts
  CacheRegisterSyscacheCallback(NAMESPACEOID, RelationCacheOnNamespaceChange, (Datum) 0);  // ... schema renames
  CacheRegisterSyscacheCallback(TYPEOID, RelationCacheOnTypeChange, (Datum) 0);            // ... column types
  CacheRegisterSyscacheCallback(CASTSOURCETARGET, RelationCacheOnCastChange, (Datum) 0);   // ... casts to json
  CacheRegisterRelcacheCallback(ArchiveTableOnRelcacheChange, (Datum) 0);                  // the archive, partitions
  CacheRegisterSyscacheCallback(AUTHOID, ArchiveRowOnRoleChange, (Datum) 0);               // role names

  // Statement end: the statement's buffered archive rows are written.
  previous_executor_finish = ExecutorFinish_hook;
  ExecutorFinish_hook = ArchiveBufferOnExecutorFinish;

  // (Sub)transaction ends: buffered rows belong to the (sub)transaction that deleted them.
  RegisterXactCallback(ArchiveBufferOnTransactionEvent, nullptr);
  RegisterSubXactCallback(ArchiveBufferOnSubtransactionEvent, nullptr);
  RegisterXactCallback(RelationCacheOnTransactionEnd, nullptr);
  RegisterXactCallback(MaskingOnTransactionEnd, nullptr);  // the masking secret is forgotten

  // Citus (src/glue/citus/hooks.cpp), in this order: the superuser-only setting
  // deleted_record_citus.converting; the TRUNCATE guard's delegate for Citus tables and shards;
  // (sub)transaction callbacks (the context sent to the workers). Only when Citus was preloaded
  // first: ExecutorStart_hook (the context to the workers, cached plans rechecked), planner_hook
  // (delegated calls checked), ProcessUtility_hook (TRUNCATE naming shards, Citus's table
  // conversions), needs_fmgr_hook and fmgr_hook (distributing attached tables).
  RegisterCitus();
}

// deleted_record_insert: AFTER DELETE FOR EACH ROW; archives OLD.
extern "C" Datum deleted_record_insert(PG_FUNCTION_ARGS) {
  static const char* const kUsage =
      "Attach it with SELECT deleted_record_attach('table'), or CREATE TRIGGER deleted_record_insert "
      "AFTER DELETE ON table FOR EACH ROW EXECUTE FUNCTION deleted_record_insert().";
  TriggerData* trigger = RequireTrigger(fcinfo, "deleted_record_insert", kUsage);
  TriggerEvent event = trigger->tg_event;
  if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_ROW(event) || !TRIGGER_FIRED_BY_DELETE(event))
    MisfiredTrigger(trigger, "deleted_record_insert", "AFTER DELETE FOR EACH ROW", kUsage);

  Relation rel = trigger->tg_relation;
  HeapTuple old_row = trigger->tg_trigtuple;
  // An UPDATE that moves a row to another partition runs as delete + insert and marks the old
  // tuple as moved: the row was not deleted, so it is not archived.
  if (HeapTupleHeaderIndicatesMovedPartitions(old_row->t_data)) return PointerGetDatum(nullptr);
  if (IsArchiveRelation(RelationGetRelid(rel)))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("deleted_record_insert() cannot archive the archive table itself"),
                    errhint("DROP TRIGGER %s ON %s.", quote_identifier(trigger->tg_trigger->tgname),
                            RelationGetRelationName(rel))));
  if (!IsArchivingTrigger(trigger)) return PointerGetDatum(nullptr);
  CaptureDeletedRow(rel, old_row);
  return PointerGetDatum(nullptr);
}

// deleted_record_truncate_guard: BEFORE TRUNCATE FOR EACH STATEMENT; its argument is the policy.
extern "C" Datum deleted_record_truncate_guard(PG_FUNCTION_ARGS) {
  static const char* const kUsage = "It is created by deleted_record_attach('table', on_truncate => 'archive').";
  TriggerData* trigger = RequireTrigger(fcinfo, "deleted_record_truncate_guard", kUsage);
  TriggerEvent event = trigger->tg_event;
  if (!TRIGGER_FIRED_BEFORE(event) || !TRIGGER_FIRED_BY_TRUNCATE(event))
    MisfiredTrigger(trigger, "deleted_record_truncate_guard", "BEFORE TRUNCATE FOR EACH STATEMENT", kUsage);

  const Trigger* guard = trigger->tg_trigger;
  TruncatePolicy policy = TruncatePolicy::kArchive;
  boundary::Verdict verdict = boundary::ParseTruncatePolicy(guard->tgnargs == 1 ? guard->tgargs[0] : nullptr, &policy);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("trigger \"%s\" on table \"%s\" has an invalid TRUNCATE policy", guard->tgname,
                           RelationGetRelationName(trigger->tg_relation)),
                    errdetail("The trigger's single argument must be the policy: %s.", verdict.message),
                    errhint("%s", kUsage)));
  ApplyTruncatePolicy(trigger->tg_relation, guard, policy);
  return PointerGetDatum(nullptr);
}

// deleted_record_uuid7(): a time-ordered UUID, as used for deleted_record.id.
extern "C" Datum deleted_record_uuid7(PG_FUNCTION_ARGS) { PG_RETURN_DATUM(NextUuid7Datum()); }

// deleted_record_set_context(actor text, reason text, metadata jsonb): the context for the
// current transaction only.
extern "C" Datum deleted_record_set_context(PG_FUNCTION_ARGS) {
  SetContextForTransaction(PG_ARGISNULL(0) ? nullptr : PG_GETARG_TEXT_PP(0),
                           PG_ARGISNULL(1) ? nullptr : PG_GETARG_TEXT_PP(1),
                           PG_NARGS() < 3 || PG_ARGISNULL(2) ? nullptr : PG_GETARG_JSONB_P(2));
  PG_RETURN_VOID();
}

// deleted_record_truncate_policy(policy text): the policy if it is one, else the error listing
// the allowed values. The names live in the core; attach checks through here.
extern "C" Datum deleted_record_truncate_policy(PG_FUNCTION_ARGS) {
  char* name = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
  TruncatePolicy policy = TruncatePolicy::kArchive;
  boundary::Verdict verdict = boundary::ParseTruncatePolicy(name, &policy);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_attach: invalid on_truncate value %s",
                           name != nullptr ? quote_literal_cstr(name) : "NULL"),
                    errhint("Allowed values are %s.", kTruncatePolicyValues)));
  PG_RETURN_TEXT_P(cstring_to_text(boundary::TruncatePolicyName(policy)));
}

// deleted_record_attachment_options(target, attachment, retention, exclude_columns,
// mask_columns): the archive trigger's argument for an attach call, after checking it against
// the table.
extern "C" Datum deleted_record_attachment_options(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  // Version 1.1 declared it without the attachment id; until ALTER EXTENSION UPDATE it is
  // called that way.
  int first = PG_NARGS() == 4 ? 1 : 2;
  char* attachment = first == 1 || PG_ARGISNULL(1)
                         ? nullptr
                         : DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
  char* argument = BuildAttachmentArgument(PG_GETARG_OID(0), attachment,
                                           PG_ARGISNULL(first) ? nullptr : PG_GETARG_INTERVAL_P(first),
                                           PG_ARGISNULL(first + 1) ? nullptr : PG_GETARG_ARRAYTYPE_P(first + 1),
                                           PG_ARGISNULL(first + 2) ? nullptr : PG_GETARG_ARRAYTYPE_P(first + 2));
  if (argument == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(argument));
}

// deleted_record_follow_columns: ddl_command_end event trigger on ALTER TABLE; column policies
// follow renames and forget dropped columns.
extern "C" Datum deleted_record_follow_columns(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("deleted_record_follow_columns() must be called as an event trigger")));
  FollowColumnChanges(reinterpret_cast<EventTriggerData*>(fcinfo->context));
  PG_RETURN_VOID();
}

// deleted_record_attachments(): the attachment contract of every attached table.
extern "C" Datum deleted_record_attachments(PG_FUNCTION_ARGS) {
  ListAttachments(fcinfo);
  return (Datum) 0;
}

// deleted_record_truncate_guard_policy(relation): the policy of its own TRUNCATE guard, or NULL.
extern "C" Datum deleted_record_truncate_guard_policy(PG_FUNCTION_ARGS) {
  const char* policy = TruncateGuardPolicy(PG_GETARG_OID(0));
  if (policy == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(policy));
}

// deleted_record_check_trigger: ddl_command_end event trigger on CREATE TRIGGER; refuses archive
// triggers that break the attachment contract.
extern "C" Datum deleted_record_check_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("deleted_record_check_trigger() must be called as an event trigger")));
  CheckNewArchiveTrigger(reinterpret_cast<EventTriggerData*>(fcinfo->context));
  PG_RETURN_VOID();
}

// deleted_record_mask(value text): the stored form of a masked value.
extern "C" Datum deleted_record_mask(PG_FUNCTION_ARGS) {
  text* value = PG_GETARG_TEXT_PP(0);
  PG_RETURN_TEXT_P(cstring_to_text(MaskedForm(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value))));
}

// deleted_record_erase(archive_ids uuid[], reason text): erases rows, keeping tombstones.
extern "C" Datum deleted_record_erase(PG_FUNCTION_ARGS) {
  PG_RETURN_INT64(EraseArchiveRows(PG_ARGISNULL(0) ? nullptr : PG_GETARG_ARRAYTYPE_P(0),
                                   PG_ARGISNULL(1) ? nullptr : PG_GETARG_TEXT_PP(1)));
}

// deleted_record_can_commit(): whether the calling procedure may COMMIT; raises the error that
// says how to call deleted_record_purge when it may not.
extern "C" Datum deleted_record_can_commit(PG_FUNCTION_ARGS) {
  if (!SPI_inside_nonatomic_context())
    ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
                    errmsg("deleted_record_purge must be called with CALL outside a transaction block"),
                    errdetail("It commits after each batch, so that locks, WAL and undo stay bounded."),
                    errhint("Run CALL deleted_record_purge(...) on its own, not inside BEGIN ... COMMIT or a function.")));
  PG_RETURN_BOOL(true);
}

// deleted_record_shard_of(relation regclass): the Citus table relation is a shard of, or NULL.
extern "C" Datum deleted_record_shard_of(PG_FUNCTION_ARGS) {
  Oid logical = CitusShardOf(PG_GETARG_OID(0));
  if (!OidIsValid(logical)) PG_RETURN_NULL();
  PG_RETURN_OID(logical);
}

// ---- restore (src/glue/restore/): each entry checks its arguments and calls the pipeline --------

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_restore_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_xid8_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_text);
}

namespace {

// NeedRestoreArgument raises the error for a NULL argument that must not be.
void NeedRestoreArgument(FunctionCallInfo fcinfo, int argument, const char* function, const char* name) {
  if (PG_ARGISNULL(argument))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: %s must not be NULL", function, name)));
}

text* OptionalRestoreText(FunctionCallInfo fcinfo, int argument) {
  return PG_NARGS() > argument && !PG_ARGISNULL(argument) ? PG_GETARG_TEXT_PP(argument) : nullptr;
}

// RestoreIds is the archive_ids argument, which must be neither NULL nor hold a NULL.
ArrayType* RestoreIds(FunctionCallInfo fcinfo) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore", "archive_ids");
  ArrayType* archive_ids = PG_GETARG_ARRAYTYPE_P(0);
  if (array_contains_nulls(archive_ids))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_restore: archive_ids must not contain NULL")));
  return archive_ids;
}

// RestoreTransactionEntry checks the arguments of 1.2's restore_transaction variants.
Datum RestoreTransactionEntry(FunctionCallInfo fcinfo, const char* xact) {
  NeedRestoreArgument(fcinfo, 2, "deleted_record_restore_transaction", "dry_run");
  NeedRestoreArgument(fcinfo, 3, "deleted_record_restore_transaction", "masked");
  RestoreTransactionByText(fcinfo, xact, OptionalRestoreText(fcinfo, 1), PG_GETARG_BOOL(2), OptionalRestoreText(fcinfo, 3));
  return (Datum) 0;
}

// RestoreTransactionEntry11 checks the arguments of 1.1's restore_transaction variants.
Datum RestoreTransactionEntry11(FunctionCallInfo fcinfo, int64 xact_id) {
  NeedRestoreArgument(fcinfo, 2, "deleted_record_restore_transaction", "dry_run");
  RestoreTransaction(fcinfo, xact_id, OptionalRestoreText(fcinfo, 1), PG_GETARG_BOOL(2));
  return (Datum) 0;
}

}  // namespace

// deleted_record_restore(archive_ids uuid[], on_conflict text, dry_run boolean) of 1.1.
extern "C" Datum deleted_record_restore(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 2, "deleted_record_restore", "dry_run");
  RestoreArchiveRows(fcinfo, RestoreIds(fcinfo), OptionalRestoreText(fcinfo, 1), PG_GETARG_BOOL(2));
  return (Datum) 0;
}

// deleted_record_restore(archive_ids uuid[], on_conflict text, dry_run boolean, masked text).
extern "C" Datum deleted_record_restore_masked(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 2, "deleted_record_restore", "dry_run");
  NeedRestoreArgument(fcinfo, 3, "deleted_record_restore", "masked");
  RestoreArchiveRows(fcinfo, RestoreIds(fcinfo), OptionalRestoreText(fcinfo, 1), PG_GETARG_BOOL(2),
                     OptionalRestoreText(fcinfo, 3));
  return (Datum) 0;
}

// deleted_record_restore_transaction(xact bigint, on_conflict text, dry_run boolean) of 1.1.
extern "C" Datum deleted_record_restore_transaction(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return RestoreTransactionEntry11(fcinfo, PG_GETARG_INT64(0));
}

// deleted_record_restore_transaction(xact xid8, on_conflict text, dry_run boolean) of 1.1.
extern "C" Datum deleted_record_restore_transaction_xid8(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return RestoreTransactionEntry11(fcinfo, static_cast<int64>(U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(0))));
}

// deleted_record_restore_transaction(xact bigint, on_conflict, dry_run, masked).
extern "C" Datum deleted_record_restore_transaction_masked(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return RestoreTransactionEntry(fcinfo, psprintf(INT64_FORMAT, PG_GETARG_INT64(0)));
}

// deleted_record_restore_transaction(xact xid8, ...): pg_current_xact_id() values.
extern "C" Datum deleted_record_restore_transaction_xid8_masked(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return RestoreTransactionEntry(fcinfo, psprintf(UINT64_FORMAT, U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(0))));
}

// deleted_record_restore_transaction(xact text, ...): an xact_key, or a decimal xact_id.
extern "C" Datum deleted_record_restore_transaction_text(PG_FUNCTION_ARGS) {
  NeedRestoreArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return RestoreTransactionEntry(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

// Progress of long operations.
extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_report_progress);
}

// deleted_record_report_progress(operation text, done bigint, total bigint, started timestamptz):
// the progress line of this backend in pg_stat_activity (total NULL: not known).
extern "C" Datum deleted_record_report_progress(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_report_progress: operation, done and started must not be NULL")));
  char* operation = text_to_cstring(PG_GETARG_TEXT_PP(0));
  deleted_record::glue::RequireProgressRight(operation);
  deleted_record::glue::ReportProgress(operation, PG_GETARG_INT64(1), PG_ARGISNULL(2) ? -1 : PG_GETARG_INT64(2),
                                       PG_GETARG_TIMESTAMPTZ(3));
  pfree(operation);
  PG_RETURN_VOID();
}

// ---- Legal holds and the import from soft deletion -------------------------------------------
#include "glue/holds.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_hold);
PG_FUNCTION_INFO_V1(deleted_record_release);
PG_FUNCTION_INFO_V1(deleted_record_exists_now);
}

// deleted_record_exists_now(query): whether the query returns a row under the latest snapshot.
extern "C" Datum deleted_record_exists_now(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(ExistsWithLatestSnapshot(PG_ARGISNULL(0) ? nullptr : PG_GETARG_TEXT_PP(0)));
}

// deleted_record_hold(name, reason, for_table, for_object, deleted_from, deleted_until).
extern "C" Datum deleted_record_hold(PG_FUNCTION_ARGS) {
  HoldScope scope = {PG_ARGISNULL(2) ? InvalidOid : PG_GETARG_OID(2),
                     PG_ARGISNULL(3) ? nullptr : PG_GETARG_TEXT_PP(3),
                     !PG_ARGISNULL(4),
                     !PG_ARGISNULL(5),
                     PG_ARGISNULL(4) ? 0 : PG_GETARG_TIMESTAMPTZ(4),
                     PG_ARGISNULL(5) ? 0 : PG_GETARG_TIMESTAMPTZ(5)};
  PlaceHold(PG_ARGISNULL(0) ? nullptr : PG_GETARG_TEXT_PP(0), PG_ARGISNULL(1) ? nullptr : PG_GETARG_TEXT_PP(1), &scope);
  PG_RETURN_VOID();
}

// deleted_record_release(name).
extern "C" Datum deleted_record_release(PG_FUNCTION_ARGS) {
  ReleaseHold(PG_ARGISNULL(0) ? nullptr : PG_GETARG_TEXT_PP(0));
  PG_RETURN_VOID();
}

#include "glue/import.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_import_batch);
PG_FUNCTION_INFO_V1(deleted_record_import_may_commit);
}

// deleted_record_import_batch(target, soft_deleted, deleted_at, actor, reason, batch_size): one
// committed batch of deleted_record_import.
extern "C" Datum deleted_record_import_batch(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(5))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_import: batch_size must not be NULL")));
  // The procedure refuses Citus tables; a direct call of this batch must too: their rows are
  // archived on the nodes, where the import's stamps cannot reach them.
  if (!PG_ARGISNULL(0) && IsCitusTableOid(PG_GETARG_OID(0)))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("deleted_record_import: %s is a Citus table, which deleted_record_import does not support",
                           DatumGetCString(DirectFunctionCall1(regclassout, PG_GETARG_DATUM(0)))),
                    errhint("Import the soft-deleted rows before distributing the table (create_distributed_table), or "
                            "undistribute it first (undistribute_table).")));
  ImportRequest request = {PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
                           PG_ARGISNULL(1) ? nullptr : PG_GETARG_TEXT_PP(1),
                           PG_ARGISNULL(2) ? nullptr : PG_GETARG_TEXT_PP(2),
                           PG_ARGISNULL(3) ? nullptr : PG_GETARG_TEXT_PP(3),
                           PG_ARGISNULL(4) ? nullptr : PG_GETARG_TEXT_PP(4),
                           PG_GETARG_INT32(5)};
  PG_RETURN_INT64(ImportBatch(&request));
}

// deleted_record_import_may_commit(): whether deleted_record_import may COMMIT between batches;
// raises the error that says how to call it when it may not.
extern "C" Datum deleted_record_import_may_commit(PG_FUNCTION_ARGS) {
  RequireNonatomicCall("deleted_record_import");
  PG_RETURN_BOOL(true);
}
