// TRUNCATE on Citus (see shard_truncate.hpp).
#include "glue/citus/shard_truncate.hpp"

#include "glue/archive_buffer.hpp"
#include "glue/archive_table.hpp"
#include "glue/citus/catalog.hpp"
#include "glue/citus/context_propagation.hpp"
#include "glue/truncate_guard.hpp"

extern "C" {
#include "catalog/heap.h"  // heap_truncate_find_FKs
}

namespace deleted_record::glue {

namespace {

// GuardPolicyOf reads the policy of relid's enabled guard from pg_trigger, without locking relid:
// the shell of a Citus table is locked by the TRUNCATE's coordinator over another connection of
// the same distributed transaction, and waiting for it would be a distributed deadlock.
// Returns false when relid has no guard.
bool GuardPolicyOf(Oid relid, Oid guard_function, TruncatePolicy* policy) {
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
  bool found = false;
  HeapTuple tuple;
  while (!found && HeapTupleIsValid(tuple = systable_getnext(scan))) {
    auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (trigger->tgfoid != guard_function || trigger->tgenabled == TRIGGER_DISABLED) continue;
    found = true;
    *policy = TruncatePolicy::kArchive;  // an unreadable policy archives
    bool isnull = false;
    Datum value = heap_getattr(tuple, Anum_pg_trigger_tgargs, RelationGetDescr(triggers), &isnull);
    if (trigger->tgnargs != 1 || isnull) continue;
    bytea* arguments = DatumGetByteaPP(value);
    char* text = pnstrdup(VARDATA_ANY(arguments), VARSIZE_ANY_EXHDR(arguments));  // "name\0"
    TruncatePolicy parsed = TruncatePolicy::kArchive;
    if (boundary::ParseTruncatePolicy(text, &parsed).ok) *policy = parsed;
  }
  systable_endscan(scan);
  table_close(triggers, AccessShareLock);
  return found;
}

// ShardTruncatePolicy reads the policy of the Citus table whose shard is truncated (or of its
// nearest partition ancestor with a guard) on this node; false when none has a guard.
bool ShardTruncatePolicy(Oid logical, Oid guard_function, TruncatePolicy* policy) {
  List* chain = list_make1_oid(logical);
  if (get_rel_relispartition(logical)) chain = list_concat(chain, get_partition_ancestors(logical));
  bool found = false;
  ListCell* cell;
  foreach (cell, chain) {
    if (GuardPolicyOf(lfirst_oid(cell), guard_function, policy)) {
      found = true;
      break;
    }
  }
  list_free(chain);
  return found;
}

struct ShardBatch {
  List* relids;
};

void ArchiveShards(void* argument) {
  auto* batch = static_cast<ShardBatch*>(argument);
  ListCell* cell;
  foreach (cell, batch->relids) {
    Relation rel = table_open(lfirst_oid(cell), NoLock);  // locked by ArchiveShardsBeforeTruncate
    ArchiveAllRows(rel);
    table_close(rel, NoLock);
  }
}

// CheckTruncatePrivilege is the RangeVarGetRelidExtended callback that checks, before the lock is
// taken, that the current role may TRUNCATE the relation (as PostgreSQL's own TRUNCATE does):
// naming a shard must not let a role queue an ACCESS EXCLUSIVE lock on a table it cannot
// truncate (found by review).
void CheckTruncatePrivilege(const RangeVar* relation, Oid relid, Oid, void*) {
  if (!OidIsValid(relid)) return;
  char relkind = get_rel_relkind(relid);
  if (relkind == '\0') return;  // dropped concurrently: the lookup retries
  AclResult result = pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE);
  if (result != ACLCHECK_OK) aclcheck_error(result, get_relkind_objtype(relkind), relation->relname);
}

void RefuseShardTruncate(Relation shard, Oid logical) {
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                  errmsg("TRUNCATE of shard \"%s\" of table \"%s\" is denied by deleted_record",
                         RelationGetRelationName(shard), get_rel_name(logical)),
                  errdetail("Its rows would be removed without being archived."),
                  errhint("Use DELETE on the Citus table, or allow it with SELECT deleted_record_attach('%s', "
                          "on_truncate => 'archive').",
                          quote_qualified_identifier(get_namespace_name(get_rel_namespace(logical)),
                                                     get_rel_name(logical)))));
}

}  // namespace

bool CitusTruncateDelegate(Relation rel, TruncatePolicy policy) {
  if (!CitusPresent()) return false;
  CitusRelation citus;
  DescribeCitusRelation(rel, &citus);
  // A shard's rows are archived (or its TRUNCATE refused) where it lies, by
  // ArchiveShardsBeforeTruncate (guards on shards may be missing or stale: Citus copies them only
  // to later shards). A placement Citus scheduled for removal holds only stale rows.
  if (citus.is_shard || !citus.archive_here) return true;
  if (!citus.is_citus_table) return false;
  // With DDL propagation off Citus truncates only the shell's own heap, which holds at most the
  // copy left behind by create_distributed_table (truncate_local_data_after_distributing_table):
  // no row of the table is removed.
  const char* propagation = GetConfigOption("citus.enable_ddl_propagation", true, false);
  if (propagation != nullptr && strcmp(propagation, "off") == 0) return true;
  if (policy == TruncatePolicy::kIgnore) return true;
  if (policy == TruncatePolicy::kDeny) return false;  // the guard refuses
  // Citus truncates the shards after this guard (its own truncate trigger fires after it); each
  // node archives the rows of the shards it holds, from their heaps, under this transaction's
  // context and login role, which must reach them first.
  CheckShardsArchivable(rel);
  CheckLoginRoleReachesNodes(psprintf("the rows TRUNCATE removes from \"%s\"", RelationGetRelationName(rel)));
  if (!PropagateContextSettings(false))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("deleted_record: the deletion context set in this session cannot reach the Citus nodes that "
                    "archive the rows of \"%s\" before TRUNCATE",
                    RelationGetRelationName(rel)),
             errdetail("deleted_record.* values set with SET, set_config or connection options stay on this node; "
                       "Citus passes settings to other nodes only as SET LOCAL inside a transaction block."),
             errhint("Run the TRUNCATE in a transaction block: BEGIN; SELECT deleted_record_set_context('<actor>', "
                     "'<reason>'); TRUNCATE ...; COMMIT;")));
  return true;
}

void ArchiveShardsBeforeTruncate(const TruncateStmt* statement) {
  if (!CitusPresent()) return;
  // Only statements naming a shard (by Citus's metadata; no relation is opened or locked here).
  List* relids = NIL;
  ListCell* cell;
  bool names_shard = false;
  foreach (cell, statement->relations) {
    Oid relid = RangeVarGetRelid(lfirst_node(RangeVar, cell), NoLock, true);
    if (OidIsValid(relid) && OidIsValid(CitusShardOf(relid))) names_shard = true;
  }
  if (!names_shard) return;
  // The relations this TRUNCATE removes rows from, as ExecuteTruncate finds them (privilege
  // checked before each named relation is locked, locked as it locks them): the named ones,
  // their partitions and children, and with CASCADE every relation referencing them.
  foreach (cell, statement->relations) {
    RangeVar* range = lfirst_node(RangeVar, cell);
    Oid relid = RangeVarGetRelidExtended(range, AccessExclusiveLock, RVR_MISSING_OK, CheckTruncatePrivilege, nullptr);
    if (!OidIsValid(relid)) continue;
    if (range->inh)
      relids = list_concat_unique_oid(relids, find_all_inheritors(relid, AccessExclusiveLock, nullptr));
    else
      relids = list_append_unique_oid(relids, relid);
  }
  if (statement->behavior == DROP_CASCADE) {
    for (;;) {
      List* referencing = heap_truncate_find_FKs(relids);
      if (referencing == NIL) break;
      ListCell* more;
      foreach (more, referencing)
        relids = list_concat_unique_oid(relids, find_all_inheritors(lfirst_oid(more), AccessExclusiveLock, nullptr));
    }
  }
  const ArchiveTable* archive = ResolveArchiveTable();
  Oid guard_function = LookupFuncName(list_make2(makeString(get_namespace_name(archive->schema)),
                                                 makeString(pstrdup("deleted_record_truncate_guard"))),
                                      0, nullptr, true);
  if (!OidIsValid(guard_function)) return;
  ShardBatch batch = {NIL};
  foreach (cell, relids) {
    Relation rel = table_open(lfirst_oid(cell), NoLock);
    if (rel->rd_rel->relkind == RELKIND_RELATION) {
      CitusRelation citus;
      DescribeCitusRelation(rel, &citus);
      TruncatePolicy policy = TruncatePolicy::kArchive;
      if (citus.is_shard && ShardTruncatePolicy(citus.logical_relid, guard_function, &policy)) {
        // 'deny' on every placement (Citus's own TRUNCATE never gets here under 'deny': the
        // coordinator's guard refused it; a direct TRUNCATE of a shard must be refused too).
        if (policy == TruncatePolicy::kDeny) RefuseShardTruncate(rel, citus.logical_relid);
        if (policy == TruncatePolicy::kArchive && citus.archive_here)
          batch.relids = lappend_oid(batch.relids, RelationGetRelid(rel));
      }
    }
    table_close(rel, NoLock);
  }
  if (batch.relids != NIL) RunArchiveBatch(ArchiveShards, &batch);
}

}  // namespace deleted_record::glue
