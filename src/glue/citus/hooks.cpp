// The executor and fmgr hooks of Citus support, and the transaction callbacks (see hooks.hpp).
#include "glue/citus/hooks.hpp"

#include "glue/archive_table.hpp"
#include "glue/citus/catalog.hpp"
#include "glue/citus/context_propagation.hpp"
#include "glue/citus/shard_truncate.hpp"
#include "glue/citus/transaction_key.hpp"
#include "glue/transaction_end.hpp"
#include "glue/truncate_guard.hpp"

extern "C" {
#include "catalog/pg_class.h"   // RELKIND_*
#include "nodes/nodeFuncs.h"    // query_tree_walker
#include "optimizer/planner.h"  // planner_hook
#include "utils/regproc.h"      // format_procedure
#include "tcop/utility.h"       // ProcessUtility_hook
}

namespace deleted_record::glue {

namespace {

bool hooks_installed = false;
// deleted_record_citus.converting: on while a Citus function rebuilds a table (fmgr hook).
constexpr const char* kConvertingSetting = "deleted_record_citus.converting";
bool converting_setting = false;
bool CitusWillCopyOurTriggers(Node* statement);
void CheckDelegatedCall(Oid function);
ExecutorStart_hook_type previous_executor_start = nullptr;
ProcessUtility_hook_type previous_process_utility = nullptr;
needs_fmgr_hook_type previous_needs_fmgr_hook = nullptr;
fmgr_hook_type previous_fmgr_hook = nullptr;

// IsDistributedPlan: Citus replaces the plan of a statement it distributes by its custom scan.
bool IsDistributedPlan(const PlannedStmt* statement) {
  const Plan* plan = statement->planTree;
  if (plan == nullptr || !IsA(plan, CustomScan)) return false;
  const CustomScanMethods* methods = reinterpret_cast<const CustomScan*>(plan)->methods;
  return methods != nullptr && methods->CustomName != nullptr && strncmp(methods->CustomName, "Citus", 5) == 0;
}

bool ContextWouldNotReachNodes();

// CheckCachedDelegation rechecks, at execution, the calls of distributed functions in a plan Citus
// made (a cached plan of SELECT f() or SELECT * FROM f(), prepared before the session set its
// context or role, is not planned again; found by review). Citus keeps the query it delegates in
// its plan (the job's query); its text form names each function a FuncExpr calls.
void CheckCachedDelegation(const PlannedStmt* statement) {
  const auto* scan = reinterpret_cast<const CustomScan*>(statement->planTree);
  char* text = nodeToString(scan->custom_private);
  static const char kCall[] = "{FUNCEXPR :funcid ";
  for (const char* at = strstr(text, kCall); at != nullptr; at = strstr(at + 1, kCall)) {
    Oid function = static_cast<Oid>(strtoul(at + sizeof(kCall) - 1, nullptr, 10));
    if (function >= FirstNormalObjectId) CheckDelegatedCall(function);
  }
  pfree(text);
}

extern "C" void DeletedRecordExecutorStart(QueryDesc* query, int eflags) {
  const PlannedStmt* statement = query->plannedstmt;
  if (statement->commandType == CMD_SELECT && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
      IsDistributedPlan(statement) && ContextWouldNotReachNodes())
    CheckCachedDelegation(statement);
  bool deletes = statement->commandType == CMD_DELETE || statement->commandType == CMD_MERGE ||
                 statement->hasModifyingCTE;
  // In every backend, Citus's own included: the other nodes would record the current role.
  if (deletes && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && GetUserId() != GetSessionUserId() &&
      IsDistributedPlan(statement))
    CheckLoginRoleReachesNodes("the rows of this statement");
  if (deletes && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && !IsCitusInternalBackend() && IsDistributedPlan(statement) &&
      !PropagateContextSettings(false))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("deleted_record: the deletion context set in this session cannot reach the Citus nodes that archive "
                    "this statement's rows"),
             errdetail("deleted_record.* values set with SET, set_config or connection options (and under SET ROLE the login role and every context value) stay on this node; Citus "
                       "passes settings to other nodes only as SET LOCAL inside a transaction block."),
             errhint("Run the statement in a transaction block: BEGIN; SELECT deleted_record_set_context('<actor>', "
                     "'<reason>'); DELETE ...; COMMIT; (or SET LOCAL inside BEGIN ... COMMIT).")));
  if (previous_executor_start != nullptr)
    previous_executor_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

// CheckDelegatedCall: Citus runs a call of a distributed function or procedure outside a
// transaction block on the worker that holds its distribution argument's shard (delegation).
// The deletion context set in this session must reach it like any distributed DELETE's, or the
// call fails before it runs, saying how to pass it.
void CheckDelegatedCall(Oid function) {
  bool force_delegation = false;
  if (!IsDistributedFunction(function, &force_delegation)) return;
  // Delegated (outside a transaction block, or always when forced), the call runs on a node that
  // Citus connects to as the current role.
  if (GetUserId() != GetSessionUserId() && (!IsTransactionBlock() || force_delegation))
    CheckLoginRoleReachesNodes(psprintf("the rows deleted by distributed function %s", format_procedure(function)));
  if (IsCitusInternalBackend() || PropagateContextSettings(false)) return;
  ereport(ERROR,
          (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
           errmsg("deleted_record: the deletion context set in this session cannot reach the Citus node that runs "
                  "distributed function %s",
                  format_procedure(function)),
           errdetail("deleted_record.* values set with SET, set_config or connection options (and under SET ROLE the login role and every context value) stay on this node; Citus "
                     "runs the call on another node and passes settings only as SET LOCAL inside a transaction block."),
           errhint("Call it in a transaction block: BEGIN; SELECT deleted_record_set_context('<actor>', '<reason>'); "
                   "SELECT ... / CALL ...; COMMIT;")));
}

planner_hook_type previous_planner = nullptr;

// AsWalker passes a walker to PostgreSQL's tree walkers: declared without parameters in 15;
// from 16 on, macros cast it to tree_walker_callback themselves.
#if PG_VERSION_NUM >= 160000
inline tree_walker_callback AsWalker(bool (*walker)(Node*, void*)) { return walker; }
#else
using Walker = bool (*)();
inline Walker AsWalker(bool (*walker)(Node*, void*)) {
  return reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(walker));
}
#endif

// ContextWouldNotReachNodes: a call delegated now would run without this session's context or
// login role — the role is not the login role (SET ROLE, SECURITY DEFINER), or context set in
// this session cannot be sent outside a transaction block. No catalog access.
bool ContextWouldNotReachNodes() {
  return GetUserId() != GetSessionUserId() || (!IsTransactionBlock() && !PropagateContextSettings(false));
}

// CheckDistributedCalls checks every call of a user-defined function in the query (its target
// list, FROM clause — SELECT * FROM f(...) is delegated too, found by review — and subqueries).
bool CheckDistributedCalls(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, FuncExpr) && castNode(FuncExpr, node)->funcid >= FirstNormalObjectId)
    CheckDelegatedCall(castNode(FuncExpr, node)->funcid);
  if (IsA(node, Query)) return query_tree_walker(castNode(Query, node), AsWalker(CheckDistributedCalls), context, 0);
  return expression_tree_walker(node, AsWalker(CheckDistributedCalls), context);
}

// DeletedRecordPlanner checks the calls of distributed functions in a query before Citus plans
// their delegation to a worker, when something would not reach it: the context set in this
// session outside a transaction block, or the login role (SET ROLE, SECURITY DEFINER). The
// check that decides this costs no catalog access; in the usual case nothing is walked.
extern "C" PlannedStmt* DeletedRecordPlanner(Query* parse, const char* query, int options, ParamListInfo parameters) {
  if (parse->commandType != CMD_UTILITY && CitusPresent() && ContextWouldNotReachNodes())
    (void) query_tree_walker(parse, AsWalker(CheckDistributedCalls), nullptr, 0);
  if (previous_planner != nullptr) return previous_planner(parse, query, options, parameters);
  return standard_planner(parse, query, options, parameters);
}

// DeletedRecordProcessUtility archives, before a TRUNCATE of Citus shards (what Citus sends to
// the nodes holding them, or runs locally), the rows of those shards (truncate_guard.hpp).
extern "C" void DeletedRecordProcessUtility(PlannedStmt* statement, const char* query, bool read_only_tree,
                                            ProcessUtilityContext context, ParamListInfo parameters,
                                            QueryEnvironment* environment, DestReceiver* destination,
                                            QueryCompletion* completion) {
  Node* utility = statement->utilityStmt;
  int nest_level = -1;
  if (utility != nullptr && CitusPresent()) {
    if (IsA(utility, TruncateStmt)) ArchiveShardsBeforeTruncate(castNode(TruncateStmt, utility));
    if (IsA(utility, CallStmt) && castNode(CallStmt, utility)->funcexpr != nullptr)
      CheckDelegatedCall(castNode(CallStmt, utility)->funcexpr->funcid);
    if (CitusWillCopyOurTriggers(utility)) {
      // The same exception as for create_distributed_table of an attached table: Citus may copy
      // deleted_record's triggers onto the new shards (they write only the local archive).
      nest_level = NewGUCNestLevel();
      (void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                               true, 0, false);
    }
  }
  if (previous_process_utility != nullptr)
    previous_process_utility(statement, query, read_only_tree, context, parameters, environment, destination,
                             completion);
  else
    standard_ProcessUtility(statement, query, read_only_tree, context, parameters, environment, destination,
                            completion);
  // After an error the (sub)transaction's abort restores the setting.
  if (nest_level >= 0) AtEOXact_GUC(true, nest_level);
}

// The Citus functions that turn a table (their first argument) into a Citus table or back, and
// refuse tables with triggers (a local Citus table allows them, but not on the archive); and
// those that do so for every table of a schema (their first argument, schema-based sharding).
const char* const kDistributingFunctions[] = {"create_distributed_table", "create_distributed_table_concurrently",
                                              "create_reference_table", "alter_distributed_table", "undistribute_table",
                                              "citus_add_local_table_to_metadata", "citus_schema_distribute",
                                              "citus_schema_undistribute"};

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

// ConstantArgument is the call's first argument when it is an OID-valued constant (plans of
// literal calls, and PL/pgSQL's custom plans, have one), with its type.
Oid ConstantArgument(const FmgrInfo* flinfo, Oid* type) {
  if (flinfo->fn_expr == nullptr || !IsA(flinfo->fn_expr, FuncExpr)) return InvalidOid;
  List* arguments = reinterpret_cast<FuncExpr*>(flinfo->fn_expr)->args;
  if (arguments == NIL) return InvalidOid;
  Node* first = static_cast<Node*>(linitial(arguments));
  while (first != nullptr && IsA(first, RelabelType)) first = reinterpret_cast<Node*>(castNode(RelabelType, first)->arg);
  if (first == nullptr || !IsA(first, Const)) return InvalidOid;
  const Const* constant = castNode(Const, first);
  if (constant->constisnull || (constant->consttype != REGCLASSOID && constant->consttype != OIDOID &&
                                 constant->consttype != REGNAMESPACEOID))
    return InvalidOid;
  *type = constant->consttype;
  return DatumGetObjectId(constant->constvalue);
}

// SchemaTables lists the ordinary and partitioned tables of a schema.
List* SchemaTables(Oid schema) {
  List* tables = NIL;
  ScanSystemCatalog(RelationRelationId, InvalidOid, Anum_pg_class_relnamespace, schema, [&](HeapTuple tuple, TupleDesc) {
    auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
    if (form->relnamespace == schema &&
        (form->relkind == RELKIND_RELATION || form->relkind == RELKIND_PARTITIONED_TABLE))
      tables = lappend_oid(tables, form->oid);
    return true;
  });
  return tables;
}

// UserTriggers tells whether relid has triggers a user created that call a function of this
// extension (ours) and any that do not (foreign).
void UserTriggers(Oid relid, bool* ours, bool* foreign) {
  *ours = *foreign = false;
  Oid extension = get_extension_oid("deleted_record", true);
  ScanSystemCatalog(TriggerRelationId, TriggerRelidNameIndexId, Anum_pg_trigger_tgrelid, relid, [&](HeapTuple tuple, TupleDesc) {
    auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (trigger->tgisinternal) return true;
    if (OidIsValid(extension) && getExtensionOfObject(ProcedureRelationId, trigger->tgfoid) == extension)
      *ours = true;
    else
      *foreign = true;
    return true;
  });
}

// OnlyOurTriggers is true when relid has triggers and every one a user created calls a
// function of this extension: Citus may then copy them to shards (they only write the local
// archive); a table with anyone else's trigger keeps Citus's refusal.
bool OnlyOurTriggers(Oid relid) {
  bool ours = false, foreign = false;
  UserTriggers(relid, &ours, &foreign);
  return ours && !foreign;
}

bool NoForeignTriggers(Oid relid) {
  bool ours = false, foreign = false;
  UserTriggers(relid, &ours, &foreign);
  return !foreign;
}

// CitusWillCopyOurTriggers: the utility statement makes Citus distribute a relation whose only
// triggers are (or, as a new partition, will be) deleted_record's: CREATE TABLE ... PARTITION OF
// an attached Citus table (also from create_time_partitions), ALTER TABLE ... ATTACH PARTITION
// to one, ALTER TABLE ... SET SCHEMA of an attached table (into a distributed schema, Citus
// distributes it).
bool CitusWillCopyOurTriggers(Node* statement) {
  if (IsA(statement, CreateStmt)) {
    auto* create = castNode(CreateStmt, statement);
    if (create->partbound == nullptr || create->inhRelations == NIL) return false;
    Oid parent = RangeVarGetRelid(linitial_node(RangeVar, create->inhRelations), NoLock, true);
    return OidIsValid(parent) && IsCitusTableOid(parent) && OnlyOurTriggers(parent);
  }
  if (IsA(statement, AlterTableStmt)) {
    auto* alter = castNode(AlterTableStmt, statement);
    if (alter->relation == nullptr) return false;
    Oid parent = RangeVarGetRelid(alter->relation, NoLock, true);
    if (!OidIsValid(parent) || !IsCitusTableOid(parent) || !OnlyOurTriggers(parent)) return false;
    ListCell* cell;
    foreach (cell, alter->cmds) {
      auto* command = lfirst_node(AlterTableCmd, cell);
      if (command->subtype != AT_AttachPartition || command->def == nullptr) continue;
      Oid partition = RangeVarGetRelid(castNode(PartitionCmd, command->def)->name, NoLock, true);
      if (OidIsValid(partition) && NoForeignTriggers(partition)) return true;
    }
    return false;
  }
  if (IsA(statement, AlterObjectSchemaStmt)) {
    auto* alter = castNode(AlterObjectSchemaStmt, statement);
    if (alter->objectType != OBJECT_TABLE || alter->relation == nullptr) return false;
    Oid relid = RangeVarGetRelid(alter->relation, NoLock, true);
    return OidIsValid(relid) && OnlyOurTriggers(relid);
  }
  return false;
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
    Oid type = InvalidOid;
    Oid argument = ConstantArgument(flinfo, &type);
    if (!OidIsValid(argument)) return;
    // A schema's tables (citus_schema_distribute / _undistribute), or the one table.
    List* tables = type == REGNAMESPACEOID ? SchemaTables(argument) : list_make1_oid(argument);
    bool only_ours = false, foreign = false;
    ListCell* cell;
    foreach (cell, tables) {
      Oid relid = lfirst_oid(cell);
      if (IsArchiveRelation(relid))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("the archive table \"%s\" cannot be made a Citus table", get_rel_name(relid)),
                        errdetail("Each node archives the rows deleted from its own shards into its own archive "
                                  "table; a distributed archive would hide every row archived afterwards."),
                        errhint("Read the whole cluster's archive with deleted_record_cluster().")));
      bool ours = false, theirs = false;
      UserTriggers(relid, &ours, &theirs);
      only_ours = only_ours || ours;
      foreign = foreign || theirs;
    }
    list_free(tables);
    if (open_call_count == kMaxOpenCalls) return;
    int nest_level = NewGUCNestLevel();
    // Citus rebuilds the table (undistribute_table, alter_distributed_table, the schema
    // functions) and copies its triggers, guards included: deleted_record_guard_partitions reads
    // this and leaves them be. Only this library can set it (superuser-only setting, set here
    // with the library's own authority; found by review: a user-settable placeholder let anyone
    // switch the guards off).
    (void) set_config_option(kConvertingSetting, "on", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    if (only_ours && !foreign)
      (void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                               true, 0, false);
    open_calls[open_call_count++] = {flinfo, nest_level};
  } else if (open_call_count > 0 && open_calls[open_call_count - 1].flinfo == flinfo) {
    // FHET_END restores the setting; on FHET_ABORT the aborting (sub)transaction does.
    if (event == FHET_END) AtEOXact_GUC(true, open_calls[open_call_count - 1].nest_level);
    open_call_count--;
  }
}

extern "C" void DeletedRecordCitusOnTransactionEnd(XactEvent event, void* arg) {
  if (!EndsTransaction(event)) return;
  ForgetTransactionKey();
  ForgetSentSettings();
  open_call_count = 0;
}

extern "C" void DeletedRecordCitusOnSubtransactionEnd(SubXactEvent event, SubTransactionId subtransaction,
                                                      SubTransactionId parent, void* arg) {
  if (event == SUBXACT_EVENT_ABORT_SUB) ForgetSentSince(subtransaction);
}

}  // namespace

void CheckCitusAttachPrerequisites() {
  if (hooks_installed || !CitusPresent()) return;
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("deleted_record must be preloaded after citus to attach tables in a Citus database"),
                  errdetail("Without its hooks, context set with SET would not reach the workers that archive deletes, "
                            "and attached tables could not be distributed."),
                  errhint("Set shared_preload_libraries = 'citus,deleted_record' on every node and restart them.")));
}

void RegisterCitus() {
  DefineCustomBoolVariable(kConvertingSetting,
                           "Set by deleted_record while Citus rebuilds a table, for the duration of the call.",
                           "Superuser-only: a session cannot set it to switch deleted_record's partition guards off.",
                           &converting_setting, false, PGC_SUSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr,
                           nullptr, nullptr);
  SetTruncateDelegate(CitusTruncateDelegate);
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
  previous_planner = planner_hook;
  planner_hook = DeletedRecordPlanner;
  previous_process_utility = ProcessUtility_hook;
  ProcessUtility_hook = DeletedRecordProcessUtility;
  previous_needs_fmgr_hook = needs_fmgr_hook;
  needs_fmgr_hook = DeletedRecordNeedsFmgrHook;
  previous_fmgr_hook = fmgr_hook;
  fmgr_hook = DeletedRecordFmgrHook;
  hooks_installed = true;
}

}  // namespace deleted_record::glue
