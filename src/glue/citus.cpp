// Citus support. Every fact comes from Citus's own catalogs (pg_dist_shard, pg_dist_placement,
// pg_dist_partition, pg_dist_local_group), found by name in pg_catalog and read by index, and
// from Citus's SQL functions called through fmgr; nothing here links to Citus.
//
// What runs where (test/citus/FINDINGS.md has the experiments behind each rule):
// - row archiving happens on the node holding the shard, in that node's part of the distributed
//   transaction; the relation cache names the logical table instead of the shard, and on a
//   replicated shard (a reference table) only the placement in the lowest group archives;
// - the grouping key comes from Citus's distributed transaction id;
// - hooks (installed only when Citus was preloaded before us): an executor hook that sends the
//   deletion context to the workers before a distributed DELETE or MERGE, or refuses the
//   statement where it cannot; an fmgr hook that lets create_distributed_table and friends
//   distribute a table whose only triggers are ours, and refuses distributing the archive.
#include "glue/citus.hpp"

#include "glue/archive_table.hpp"
#include "glue/settings.hpp"

namespace deleted_record::glue {

namespace {

bool hooks_installed = false;
ExecutorStart_hook_type previous_executor_start = nullptr;
needs_fmgr_hook_type previous_needs_fmgr_hook = nullptr;
fmgr_hook_type previous_fmgr_hook = nullptr;

// ---- Catalog access ------------------------------------------------------------------------

// CatalogOid is the OID of a relation of Citus's in pg_catalog, or InvalidOid.
Oid CatalogOid(const char* name) { return get_relname_relid(name, PG_CATALOG_NAMESPACE); }

// ScanCatalog calls visit(tuple, descriptor) for every row of a Citus catalog whose column
// equals value (all rows when column is null), through the named index when it exists.
// visit returns false to stop. Returns false when the catalog does not exist.
template <typename Visit>
bool ScanCatalog(const char* catalog, const char* index, const char* column, RegProcedure equality, Datum value,
                 Visit visit) {
  Oid catalog_oid = CatalogOid(catalog);
  if (!OidIsValid(catalog_oid)) return false;
  Relation rel = table_open(catalog_oid, AccessShareLock);
  ScanKeyData key;
  int key_count = 0;
  if (column != nullptr) {
    AttrNumber attnum = get_attnum(catalog_oid, column);
    if (attnum == InvalidAttrNumber) elog(ERROR, "deleted_record: Citus catalog %s has no column %s", catalog, column);
    ScanKeyInit(&key, attnum, BTEqualStrategyNumber, equality, value);
    key_count = 1;
  }
  Oid index_oid = index != nullptr ? CatalogOid(index) : InvalidOid;
  SysScanDesc scan = systable_beginscan(rel, index_oid, OidIsValid(index_oid), nullptr, key_count, &key);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan)))
    if (!visit(tuple, RelationGetDescr(rel), catalog_oid)) break;
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  return true;
}

Datum ColumnValue(HeapTuple tuple, TupleDesc descriptor, Oid catalog, const char* column, bool* isnull) {
  AttrNumber attnum = get_attnum(catalog, column);
  if (attnum == InvalidAttrNumber) elog(ERROR, "deleted_record: a Citus catalog has no column %s", column);
  return heap_getattr(tuple, attnum, descriptor, isnull);
}

// ShardIdFromName reads the shard id Citus appends to a shard's name ("invoice_102008").
bool ShardIdFromName(const char* name, int64* shard_id) {
  const char* underscore = strrchr(name, '_');
  if (underscore == nullptr || underscore[1] == '\0') return false;
  int64 value = 0;
  for (const char* p = underscore + 1; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || value > (PG_INT64_MAX - 9) / 10) return false;
    value = value * 10 + (*p - '0');
  }
  *shard_id = value;
  return value > 0;
}

Oid LogicalRelationOfShard(int64 shard_id) {
  Oid logical = InvalidOid;
  ScanCatalog("pg_dist_shard", "pg_dist_shard_shardid_index", "shardid", F_INT8EQ, Int64GetDatum(shard_id),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool isnull = false;
                Datum value = ColumnValue(tuple, descriptor, catalog, "logicalrelid", &isnull);
                if (!isnull) logical = DatumGetObjectId(value);
                return false;
              });
  return logical;
}

int32 LocalGroupId() {
  int32 group = 0;
  ScanCatalog("pg_dist_local_group", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool isnull = false;
                Datum value = ColumnValue(tuple, descriptor, catalog, "groupid", &isnull);
                if (!isnull) group = DatumGetInt32(value);
                return false;
              });
  return group;
}

// IsDesignatedPlacement: of a shard's active placements, the one in the lowest group archives.
bool IsDesignatedPlacement(int64 shard_id) {
  int32 lowest = PG_INT32_MAX;
  ScanCatalog("pg_dist_placement", "pg_dist_placement_shardid_index", "shardid", F_INT8EQ, Int64GetDatum(shard_id),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool state_null = false, group_null = false;
                int32 state = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "shardstate", &state_null));
                int32 group = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "groupid", &group_null));
                if (!state_null && !group_null && state == 1 && group < lowest) lowest = group;
                return true;
              });
  // No active placement known: archive rather than lose the row.
  return lowest == PG_INT32_MAX || lowest == LocalGroupId();
}

// HasTableMetadata: this node knows Citus's tables (the coordinator, and since Citus 11 every
// worker with metadata sync), so a shard it does not know is not one of Citus's live shards.
bool HasTableMetadata() {
  bool found = false;
  ScanCatalog("pg_dist_partition", nullptr, nullptr, InvalidOid, (Datum) 0, [&](HeapTuple, TupleDesc, Oid) {
    found = true;
    return false;
  });
  return found;
}

// CarriesCopiedTriggers: rel has a trigger Citus copied onto it as onto a shard, renamed with the
// shard id as suffix ("deleted_record_insert_102008"). Users' own tables carry ours unrenamed.
bool CarriesCopiedTriggers(Relation rel, int64 shard_id) {
  if (rel->trigdesc == nullptr) return false;
  char suffix[32];
  snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shard_id);
  size_t suffix_length = strlen(suffix);
  for (int i = 0; i < rel->trigdesc->numtriggers; ++i) {
    const char* name = rel->trigdesc->triggers[i].tgname;
    size_t length = strlen(name);
    if (length > suffix_length && strcmp(name + length - suffix_length, suffix) == 0) return true;
  }
  return false;
}

bool IsCitusTable(Oid relid) {
  bool found = false;
  ScanCatalog("pg_dist_partition", "pg_dist_partition_logical_relid_index", "logicalrelid", F_OIDEQ,
              ObjectIdGetDatum(relid), [&](HeapTuple, TupleDesc, Oid) {
                found = true;
                return false;
              });
  return found;
}

// CitusFunction is the OID of a function of Citus's in pg_catalog, or InvalidOid.
Oid CitusFunction(const char* name, int argument_count, const Oid* argument_types) {
  return LookupFuncName(list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup(name))), argument_count,
                        argument_types, true);
}

// ConfirmedShard asks Citus whether relid is one of its shards: it rebuilds the shard's name
// its own way, which also covers long names Citus shortened with a hash.
bool ConfirmedShard(Oid relid) {
  Oid argument_types[1] = {REGCLASSOID};
  Oid function = CitusFunction("relation_is_a_known_shard", 1, argument_types);
  if (!OidIsValid(function)) return true;  // older Citus: the catalog match must do
  return DatumGetBool(OidFunctionCall1(function, ObjectIdGetDatum(relid)));
}

bool IsCitusInternalBackend() {
  return application_name != nullptr && strncmp(application_name, "citus_internal", 14) == 0;
}

// ---- The transaction key -------------------------------------------------------------------

char transaction_key[96];
bool transaction_key_valid = false;

struct DistributedTransactionId {
  int32 initiator;
  int64 number;
  TimestampTz stamp;
};

bool ReadDistributedTransactionId(Oid function, DistributedTransactionId* id) {
  Datum record = OidFunctionCall0(function);
  HeapTupleHeader header = DatumGetHeapTupleHeader(record);
  TupleDesc descriptor = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header), HeapTupleHeaderGetTypMod(header));
  HeapTupleData tuple = {};
  tuple.t_len = HeapTupleHeaderGetDatumLength(header);
  tuple.t_data = header;
  bool initiator_null = true, number_null = true, stamp_null = true;
  if (descriptor->natts >= 5) {
    id->initiator = DatumGetInt32(heap_getattr(&tuple, 3, descriptor, &initiator_null));
    id->number = DatumGetInt64(heap_getattr(&tuple, 4, descriptor, &number_null));
    Datum stamp = heap_getattr(&tuple, 5, descriptor, &stamp_null);
    id->stamp = stamp_null ? 0 : DatumGetTimestampTz(stamp);
  }
  ReleaseTupleDesc(descriptor);
  return !initiator_null && !number_null && id->number != 0;
}

void ComputeTransactionKey() {
  Oid function = CitusFunction("get_current_transaction_id", 0, nullptr);
  DistributedTransactionId id = {};
  bool distributed = OidIsValid(function) && ReadDistributedTransactionId(function, &id);
  if (!distributed && OidIsValid(function) && !IsCitusInternalBackend()) {
    // This node started the transaction and has not gone remote yet: assign the distributed
    // id now, so that this row and the workers' rows of later statements share one key.
    auto use_coordinated_transaction = reinterpret_cast<void (*)(void)>(
        load_external_function("citus", "UseCoordinatedTransaction", false, nullptr));
    if (use_coordinated_transaction != nullptr) {
      use_coordinated_transaction();
      distributed = ReadDistributedTransactionId(function, &id);
    }
  }
  if (distributed)
    snprintf(transaction_key, sizeof(transaction_key), "d:%d:" INT64_FORMAT ":" INT64_FORMAT, id.initiator, id.number,
             static_cast<int64>(id.stamp));
  else
    // A Citus backend without a distributed id runs a statement that touches this node only.
    snprintf(transaction_key, sizeof(transaction_key), "l:%d:" UINT64_FORMAT, LocalGroupId(),
             U64FromFullTransactionId(GetTopFullTransactionId()));
  transaction_key_valid = true;
}

// ---- The deletion context on the workers ---------------------------------------------------

// What this transaction sent to the workers, per setting, and in which subtransaction: a
// subtransaction's rollback undoes its SET LOCAL here and on the workers alike.
struct SentSetting {
  bool sent;
  char* value;  // in TopTransactionContext
  SubTransactionId sent_in;
};
SentSetting sent_settings[kContextSettingCount];

void ForgetSentSettings() {
  for (auto& sent : sent_settings) sent = {false, nullptr, InvalidSubTransactionId};
}

// ForgetSentSince forgets what was sent in a rolled-back subtransaction: subtransaction ids only
// grow, so everything sent since it began has an id at least its own.
void ForgetSentSince(SubTransactionId subtransaction) {
  for (auto& sent : sent_settings)
    if (sent.sent && sent.sent_in >= subtransaction) sent = {false, nullptr, InvalidSubTransactionId};
}

bool NeedsSending(const ContextSetting& now, const SentSetting& sent) {
  if (sent.sent) return strcmp(now.value, sent.value) != 0;
  return now.set_in_session && now.value[0] != '\0';
}

// SendSettings runs SET LOCAL for the chosen settings through SPI, with Citus told to
// propagate SET LOCAL for the duration: Citus sends it to the transaction's open worker
// connections at once and replays it on those it opens later.
void SendSettings(const ContextSetting* settings, const bool* chosen) {
  // Copy the values first: SET LOCAL replaces the strings settings[] points to.
  char* values[kContextSettingCount] = {};
  for (int i = 0; i < kContextSettingCount; ++i)
    if (chosen[i]) values[i] = MemoryContextStrdup(TopTransactionContext, settings[i].value);
  int nest_level = NewGUCNestLevel();
  (void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                           0, false);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  for (int i = 0; i < kContextSettingCount; ++i) {
    if (!chosen[i]) continue;
    char* command = psprintf("SET LOCAL %s = %s", settings[i].name, quote_literal_cstr(values[i]));
    if (SPI_execute(command, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command);
  }
  SPI_finish();
  AtEOXact_GUC(true, nest_level);
  for (int i = 0; i < kContextSettingCount; ++i)
    if (chosen[i]) sent_settings[i] = {true, values[i], GetCurrentSubTransactionId()};
}

// ---- Hooks ---------------------------------------------------------------------------------

// IsDistributedPlan: Citus replaces the plan of a statement it distributes by its custom scan.
bool IsDistributedPlan(const PlannedStmt* statement) {
  const Plan* plan = statement->planTree;
  if (plan == nullptr || !IsA(plan, CustomScan)) return false;
  const CustomScanMethods* methods = reinterpret_cast<const CustomScan*>(plan)->methods;
  return methods != nullptr && methods->CustomName != nullptr && strncmp(methods->CustomName, "Citus", 5) == 0;
}

extern "C" void DeletedRecordExecutorStart(QueryDesc* query, int eflags) {
  const PlannedStmt* statement = query->plannedstmt;
  bool deletes = statement->commandType == CMD_DELETE || statement->commandType == CMD_MERGE ||
                 statement->hasModifyingCTE;
  if (deletes && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && !IsCitusInternalBackend() && IsDistributedPlan(statement) &&
      !PropagateContextSettings(false))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("deleted_record: the deletion context set in this session cannot reach the Citus nodes that archive "
                    "this statement's rows"),
             errdetail("deleted_record.* values set with SET, set_config or connection options stay on this node; Citus "
                       "passes settings to other nodes only as SET LOCAL inside a transaction block."),
             errhint("Run the statement in a transaction block: BEGIN; SELECT deleted_record_set_context('<actor>', "
                     "'<reason>'); DELETE ...; COMMIT; (or SET LOCAL inside BEGIN ... COMMIT).")));
  if (previous_executor_start != nullptr)
    previous_executor_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

// The Citus functions that turn a table (their first argument) into a Citus table or back, and
// refuse tables with triggers (a local Citus table allows them, but not on the archive).
const char* const kDistributingFunctions[] = {"create_distributed_table", "create_distributed_table_concurrently",
                                              "create_reference_table", "alter_distributed_table", "undistribute_table",
                                              "citus_add_local_table_to_metadata"};

// Function OIDs known to be one of kDistributingFunctions (a backend sees a handful).
constexpr int kKnownFunctionSlots = 16;
Oid known_distributing_functions[kKnownFunctionSlots];
int known_distributing_count = 0;

bool IsKnownDistributingFunction(Oid function) {
  for (int i = 0; i < known_distributing_count; ++i)
    if (known_distributing_functions[i] == function) return true;
  return false;
}

bool IsDistributingFunction(Oid function) {
  if (IsKnownDistributingFunction(function)) return true;
  HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
  if (!HeapTupleIsValid(tuple)) return false;
  auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
  bool matches = false;
  if (proc->prolang == ClanguageId && proc->pronamespace == PG_CATALOG_NAMESPACE)
    for (const char* name : kDistributingFunctions)
      if (strcmp(NameStr(proc->proname), name) == 0) matches = true;
  ReleaseSysCache(tuple);
  if (matches && known_distributing_count < kKnownFunctionSlots)
    known_distributing_functions[known_distributing_count++] = function;
  return matches;
}

extern "C" bool DeletedRecordNeedsFmgrHook(Oid function) {
  if (previous_needs_fmgr_hook != nullptr && previous_needs_fmgr_hook(function)) return true;
  return IsDistributingFunction(function);
}

// ConstantRelation is the call's first argument when it is a regclass constant (plans of
// literal calls, and PL/pgSQL's custom plans, have one).
Oid ConstantRelation(const FmgrInfo* flinfo) {
  if (flinfo->fn_expr == nullptr || !IsA(flinfo->fn_expr, FuncExpr)) return InvalidOid;
  List* arguments = reinterpret_cast<FuncExpr*>(flinfo->fn_expr)->args;
  if (arguments == NIL) return InvalidOid;
  Node* first = static_cast<Node*>(linitial(arguments));
  while (first != nullptr && IsA(first, RelabelType)) first = reinterpret_cast<Node*>(castNode(RelabelType, first)->arg);
  if (first == nullptr || !IsA(first, Const)) return InvalidOid;
  const Const* constant = castNode(Const, first);
  if (constant->constisnull || (constant->consttype != REGCLASSOID && constant->consttype != OIDOID)) return InvalidOid;
  return DatumGetObjectId(constant->constvalue);
}

// OnlyOurTriggers is true when relid has triggers and every one a user created calls a
// function of this extension: Citus may then copy them to shards (they only write the local
// archive); a table with anyone else's trigger keeps Citus's refusal.
bool OnlyOurTriggers(Oid relid) {
  Oid extension = get_extension_oid("deleted_record", true);
  if (!OidIsValid(extension)) return false;
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
  bool ours = false, foreign = false;
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
    auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (trigger->tgisinternal) continue;
    if (getExtensionOfObject(ProcedureRelationId, trigger->tgfoid) == extension)
      ours = true;
    else
      foreign = true;
  }
  systable_endscan(scan);
  table_close(triggers, AccessShareLock);
  return ours && !foreign;
}

// The GUC nest levels opened at FHET_START, closed at FHET_END of the same call.
struct OpenCall {
  const FmgrInfo* flinfo;
  int nest_level;
};
constexpr int kMaxOpenCalls = 8;
OpenCall open_calls[kMaxOpenCalls];
int open_call_count = 0;

extern "C" void DeletedRecordFmgrHook(FmgrHookEventType event, FmgrInfo* flinfo, Datum* private_data) {
  if (previous_fmgr_hook != nullptr) previous_fmgr_hook(event, flinfo, private_data);
  if (!IsKnownDistributingFunction(flinfo->fn_oid)) return;
  if (event == FHET_START) {
    Oid relid = ConstantRelation(flinfo);
    if (!OidIsValid(relid)) return;
    if (IsArchiveRelation(relid))
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("the archive table \"%s\" cannot be made a Citus table", get_rel_name(relid)),
                      errdetail("Each node archives the rows deleted from its own shards into its own archive table; "
                                "a distributed archive would hide every row archived afterwards."),
                      errhint("Read the whole cluster's archive with deleted_record_cluster().")));
    if (!OnlyOurTriggers(relid) || open_call_count == kMaxOpenCalls) return;
    int nest_level = NewGUCNestLevel();
    (void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                             0, false);
    open_calls[open_call_count++] = {flinfo, nest_level};
  } else if (open_call_count > 0 && open_calls[open_call_count - 1].flinfo == flinfo) {
    // FHET_END restores the setting; on FHET_ABORT the aborting (sub)transaction does.
    if (event == FHET_END) AtEOXact_GUC(true, open_calls[open_call_count - 1].nest_level);
    open_call_count--;
  }
}

extern "C" void DeletedRecordCitusOnTransactionEnd(XactEvent event, void* arg) {
  switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PARALLEL_ABORT:
      transaction_key_valid = false;
      ForgetSentSettings();
      open_call_count = 0;
      break;
    default:
      break;
  }
}

extern "C" void DeletedRecordCitusOnSubtransactionEnd(SubXactEvent event, SubTransactionId subtransaction,
                                          SubTransactionId parent, void* arg) {
  if (event == SUBXACT_EVENT_ABORT_SUB) ForgetSentSince(subtransaction);
}

}  // namespace

bool CitusPresent() { return OidIsValid(CatalogOid("pg_dist_shard")); }

void DescribeCitusRelation(Relation rel, CitusRelation* facts) {
  *facts = {false, InvalidOid, true, false};
  if (!CitusPresent()) return;
  Oid relid = RelationGetRelid(rel);
  facts->is_citus_table = IsCitusTable(relid);
  int64 shard_id = 0;
  if (!ShardIdFromName(RelationGetRelationName(rel), &shard_id)) return;
  Oid logical = LogicalRelationOfShard(shard_id);
  if (!OidIsValid(logical)) {
    // A shard copy Citus no longer knows: the old placement a shard move or split left behind
    // until Citus drops it (deferred). Its rows live on in the new shards; a cascade from a
    // reference table still deletes them here, and archiving that would archive rows twice.
    if (CarriesCopiedTriggers(rel, shard_id) && HasTableMetadata()) facts->archive_here = false;
    return;
  }
  if (logical == relid || !ConfirmedShard(relid)) return;
  facts->is_shard = true;
  facts->logical_relid = logical;
  facts->archive_here = IsDesignatedPlacement(shard_id);
}

Oid CitusShardOf(Oid relid) {
  if (!CitusPresent()) return InvalidOid;
  char* name = get_rel_name(relid);
  int64 shard_id = 0;
  if (name == nullptr || !ShardIdFromName(name, &shard_id)) return InvalidOid;
  Oid logical = LogicalRelationOfShard(shard_id);
  if (!OidIsValid(logical) || logical == relid || !ConfirmedShard(relid)) return InvalidOid;
  return logical;
}

Datum CitusTransactionKey() {
  if (!transaction_key_valid) ComputeTransactionKey();
  return CStringGetTextDatum(transaction_key);
}

bool PropagateContextSettings(bool force) {
  ContextSetting settings[kContextSettingCount];
  ReadContextSettings(settings);
  bool chosen[kContextSettingCount];
  bool any = false;
  for (int i = 0; i < kContextSettingCount; ++i) {
    // deleted_record_set_context sets actor, reason and metadata: those always go.
    chosen[i] = (force && i < 3) || NeedsSending(settings[i], sent_settings[i]);
    any = any || chosen[i];
  }
  if (!any) return true;
  // Citus propagates SET LOCAL only inside transaction blocks (and functions and DO blocks,
  // from where deleted_record_set_context is called; the executor hook cannot tell those).
  if (!force && !IsTransactionBlock()) return false;
  SendSettings(settings, chosen);
  return true;
}

void CheckCitusAttachPrerequisites() {
  if (hooks_installed || !CitusPresent()) return;
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("deleted_record must be preloaded after citus to attach tables in a Citus database"),
                  errdetail("Without its hooks, context set with SET would not reach the workers that archive deletes, "
                            "and attached tables could not be distributed."),
                  errhint("Set shared_preload_libraries = 'citus,deleted_record' on every node and restart them.")));
}

void RegisterCitus() {
  RegisterXactCallback(DeletedRecordCitusOnTransactionEnd, nullptr);
  RegisterSubXactCallback(DeletedRecordCitusOnSubtransactionEnd, nullptr);
  // Citus defines its settings in its own _PG_init: seeing one means it was loaded before us.
  // (The hooks' C names start with DeletedRecord: a preloaded library's exported names are
  // global, and Citus, loaded first, exports functions such as CitusExecutorStart.)
  if (!process_shared_preload_libraries_in_progress ||
      GetConfigOption("citus.enable_unsafe_triggers", true, false) == nullptr)
    return;
  previous_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = DeletedRecordExecutorStart;
  previous_needs_fmgr_hook = needs_fmgr_hook;
  needs_fmgr_hook = DeletedRecordNeedsFmgrHook;
  previous_fmgr_hook = fmgr_hook;
  fmgr_hook = DeletedRecordFmgrHook;
  hooks_installed = true;
}

}  // namespace deleted_record::glue
