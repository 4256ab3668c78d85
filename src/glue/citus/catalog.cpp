// Citus's catalogs and functions, read by OID and index (see catalog.hpp).
#include "glue/citus/catalog.hpp"

#include "glue/archive_table.hpp"

namespace deleted_record::glue {

namespace {

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

// GroupHasActiveNode: a primary node of the group is active in pg_dist_node. A node disabled
// with citus_disable_node keeps its placements (shardstate 1) but receives no writes.
bool GroupHasActiveNode(int32 group) {
  bool active = false;
  ScanCatalog("pg_dist_node", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool isnull = false;
                Datum value = ColumnValue(tuple, descriptor, catalog, "groupid", &isnull);
                if (isnull || DatumGetInt32(value) != group) return true;
                bool active_null = false;
                bool is_active = DatumGetBool(ColumnValue(tuple, descriptor, catalog, "isactive", &active_null));
                if (!active_null && is_active) active = true;
                return !active;
              });
  return active;
}

// IsDesignatedPlacement: of a shard's active placements on active nodes, the one in the lowest
// group archives (every node with metadata sees the same placements and the same disabled
// nodes, so exactly one placement the write reaches archives).
bool IsDesignatedPlacement(int64 shard_id) {
  int32 lowest = PG_INT32_MAX;
  ScanCatalog("pg_dist_placement", "pg_dist_placement_shardid_index", "shardid", F_INT8EQ, Int64GetDatum(shard_id),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool state_null = false, group_null = false;
                int32 state = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "shardstate", &state_null));
                int32 group = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "groupid", &group_null));
                if (!state_null && !group_null && state == 1 && group < lowest && GroupHasActiveNode(group))
                  lowest = group;
                return true;
              });
  // No active placement known: archive rather than lose the row.
  return lowest == PG_INT32_MAX || lowest == LocalGroupId();
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


// HasPlacementInGroup: pg_dist_placement records a placement of the shard in the given group.
bool HasPlacementInGroup(int64 shard_id, int32 group) {
  bool found = false;
  ScanCatalog("pg_dist_placement", "pg_dist_placement_shardid_index", "shardid", F_INT8EQ, Int64GetDatum(shard_id),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool isnull = false;
                Datum value = ColumnValue(tuple, descriptor, catalog, "groupid", &isnull);
                if (!isnull && DatumGetInt32(value) == group) found = true;
                return !found;
              });
  return found;
}

// KnownShard returns the Citus table relid is a live shard of on this node (and its shard id),
// or InvalidOid. Citus's metadata decides: Citus's own relation_is_a_known_shard (it rebuilds the
// name of a shard of its metadata the way Citus names shards, hashed long names included), the
// shard in pg_dist_shard, a placement of it in this node's group in pg_dist_placement, and the
// relation in its table's schema. A table that merely carries the name of a shard placed on
// another node is not one (found by review: it went unarchived).
Oid KnownShard(Oid relid, int64* shard_id) {
  Oid argument_types[1] = {REGCLASSOID};
  Oid function = CitusFunction("relation_is_a_known_shard", 1, argument_types);
  if (!OidIsValid(function) || !DatumGetBool(OidFunctionCall1(function, ObjectIdGetDatum(relid)))) return InvalidOid;
  char* name = get_rel_name(relid);
  if (name == nullptr || !ShardIdFromName(name, shard_id)) return InvalidOid;
  Oid logical = LogicalRelationOfShard(*shard_id);
  if (!OidIsValid(logical) || logical == relid || get_rel_namespace(logical) != get_rel_namespace(relid) ||
      !HasPlacementInGroup(*shard_id, LocalGroupId()))
    return InvalidOid;
  return logical;
}

// kCleanupShardPlacement is pg_dist_cleanup.object_type of a shard placement
// (CLEANUP_OBJECT_SHARD_PLACEMENT in Citus's shard_cleaner.h).
constexpr int32 kCleanupShardPlacement = 1;

// ScheduledForCleanup: pg_dist_cleanup names relid (by its qualified name, as Citus writes it) as
// a shard placement of this node's group. pg_dist_cleanup lives on the coordinator only.
bool ScheduledForCleanup(Oid relid, const char* name) {
  const char* qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
  int32 local = LocalGroupId();
  bool scheduled = false;
  ScanCatalog("pg_dist_cleanup", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool type_null = false, group_null = false, name_null = false;
                int32 type = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "object_type", &type_null));
                int32 group = DatumGetInt32(ColumnValue(tuple, descriptor, catalog, "node_group_id", &group_null));
                if (type_null || group_null || type != kCleanupShardPlacement || group != local) return true;
                Datum object = ColumnValue(tuple, descriptor, catalog, "object_name", &name_null);
                if (!name_null && strcmp(TextDatumGetCString(object), qualified) == 0) scheduled = true;
                return !scheduled;
              });
  return scheduled;
}

// NamedAsShardOf returns the Citus table in relid's schema whose shard shard_id relid is named
// as, by Citus's own shard_name(table, shard id) (hashed long names included); InvalidOid if none.
// The table of a shard pg_dist_shard knows is taken from there; a shard it no longer knows (the
// parent of a completed split) is matched against the schema's Citus tables.
Oid NamedAsShardOf(Oid relid, const char* name, int64 shard_id) {
  // shard_name(regclass, bigint, skip_qualify_public boolean) since Citus 13.1, before that
  // shard_name(regclass, bigint).
  Oid argument_types[3] = {REGCLASSOID, INT8OID, BOOLOID};
  Oid shard_name = CitusFunction("shard_name", 3, argument_types);
  bool three = OidIsValid(shard_name);
  if (!three) shard_name = CitusFunction("shard_name", 2, argument_types);
  if (!OidIsValid(shard_name)) return InvalidOid;
  Oid schema = get_rel_namespace(relid);
  auto named_as = [&](Oid table) {
    if (!OidIsValid(table) || table == relid || get_rel_namespace(table) != schema) return false;
    Datum result = three ? OidFunctionCall3(shard_name, ObjectIdGetDatum(table), Int64GetDatum(shard_id),
                                            BoolGetDatum(true))
                         : OidFunctionCall2(shard_name, ObjectIdGetDatum(table), Int64GetDatum(shard_id));
    char* expected = TextDatumGetCString(result);
    // shard_name qualifies the name when its schema is not on the search path.
    return strcmp(expected, quote_identifier(name)) == 0 ||
           strcmp(expected, quote_qualified_identifier(get_namespace_name(schema), name)) == 0;
  };
  Oid known = LogicalRelationOfShard(shard_id);
  if (OidIsValid(known)) return named_as(known) ? known : InvalidOid;
  Oid found = InvalidOid;
  ScanCatalog("pg_dist_partition", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool isnull = false;
                Oid table = DatumGetObjectId(ColumnValue(tuple, descriptor, catalog, "logicalrelid", &isnull));
                if (!isnull && named_as(table)) found = table;
                return !OidIsValid(found);
              });
  return found;
}

// ArchiveTriggerArguments reads the stored arguments of relid's archive trigger from pg_trigger
// (without opening relid), or null.
bytea* ArchiveTriggerArguments(Oid relid, Oid insert_function) {
  bytea* arguments = nullptr;
  ScanSystemCatalog(TriggerRelationId, TriggerRelidNameIndexId, Anum_pg_trigger_tgrelid, relid,
                    [&](HeapTuple tuple, TupleDesc descriptor) {
                      auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
                      if (trigger->tgfoid != insert_function) return true;
                      bool isnull = false;
                      Datum value = heap_getattr(tuple, Anum_pg_trigger_tgargs, descriptor, &isnull);
                      if (!isnull) arguments = DatumGetByteaPCopy(value);
                      return arguments == nullptr;
                    });
  return arguments;
}

// SameArchiveTrigger: relid's archive trigger is a copy of table's (the same attachment).
bool SameArchiveTrigger(Oid relid, Oid table) {
  Oid insert_function = ResolveArchiveTable()->insert_function;
  if (!OidIsValid(insert_function)) return false;
  bytea* mine = ArchiveTriggerArguments(relid, insert_function);
  bytea* theirs = mine != nullptr ? ArchiveTriggerArguments(table, insert_function) : nullptr;
  return theirs != nullptr && VARSIZE_ANY_EXHDR(mine) == VARSIZE_ANY_EXHDR(theirs) &&
         memcmp(VARDATA_ANY(mine), VARDATA_ANY(theirs), VARSIZE_ANY_EXHDR(mine)) == 0;
}

// StaleShardCopyOf tells whether relid is a placement of a Citus table's shard that is not a live
// placement on this node — an old placement a move or split left behind for deferred drop, or a
// move's or split's new placement before Citus records it — and sets *logical to that table.
// Decided by Citus's metadata: pg_dist_cleanup names it for this node (on the coordinator); or
// relid is named, by Citus's shard_name, as a shard of a Citus table in its schema that has no
// live placement here (pg_dist_shard, pg_dist_placement) and Citus copied that table's archive
// trigger onto it. Renaming a table takes its owner, so a role with only TRIGGER privilege cannot
// make an ordinary table a copy (found by review: a trigger alone did), and an ordinary table
// named like a shard keeps its own attachment and archives.
bool StaleShardCopyOf(Oid relid, Oid* logical) {
  *logical = InvalidOid;
  char* name = get_rel_name(relid);
  int64 shard_id = 0;
  if (name == nullptr || !ShardIdFromName(name, &shard_id)) return false;
  Oid table = NamedAsShardOf(relid, name, shard_id);
  if (ScheduledForCleanup(relid, name)) {
    *logical = table;
    return true;
  }
  if (!OidIsValid(table) || !SameArchiveTrigger(relid, table)) return false;
  *logical = table;
  return true;
}

}  // namespace

// CitusFunction is the OID of a function of Citus's in pg_catalog, or InvalidOid.
Oid CitusFunction(const char* name, int argument_count, const Oid* argument_types) {
  return LookupFuncName(list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup(name))), argument_count,
                        argument_types, true);
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

bool IsCitusInternalBackend() {
  return application_name != nullptr && strncmp(application_name, "citus_internal", 14) == 0;
}

bool CitusPresent() { return OidIsValid(CatalogOid("pg_dist_shard")); }

void DescribeCitusRelation(Relation rel, CitusRelation* facts) {
  *facts = {false, InvalidOid, true, false};
  if (!CitusPresent()) return;
  Oid relid = RelationGetRelid(rel);
  facts->is_citus_table = IsCitusTable(relid);
  if (facts->is_citus_table) return;
  int64 shard_id = 0;
  Oid logical = KnownShard(relid, &shard_id);
  if (OidIsValid(logical)) {
    facts->is_shard = true;
    facts->logical_relid = logical;
    facts->archive_here = IsDesignatedPlacement(shard_id);
    return;
  }
  // Not a live shard here, but a placement Citus scheduled for removal on this node
  // (pg_dist_cleanup): an old placement a shard move or split left behind for deferred drop, or a
  // split's new shard before Citus records it. Its rows live on in the current shards; a cascade
  // from a reference table still deletes them here, and archiving that would archive rows twice.
  // Anything else (whatever its name or triggers) is an ordinary table and archives.
  Oid stale_of = InvalidOid;
  if (StaleShardCopyOf(relid, &stale_of)) facts->archive_here = false;
}

Oid CitusShardOf(Oid relid) {
  if (!CitusPresent() || IsCitusTable(relid)) return InvalidOid;
  int64 shard_id = 0;
  Oid logical = KnownShard(relid, &shard_id);
  if (OidIsValid(logical)) return logical;
  (void) StaleShardCopyOf(relid, &logical);
  return logical;
}


// CheckShardsArchivable: every active node has Citus's metadata, so that each can tell the
// shards it holds (and the designated placement of a reference table's) and archive their rows
// before TRUNCATE. A node without metadata could not: the TRUNCATE is refused instead.
void CheckShardsArchivable(Relation rel) {
  char* without = nullptr;
  ScanCatalog("pg_dist_node", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool active_null = false, metadata_null = false, name_null = false, port_null = false;
                bool active = DatumGetBool(ColumnValue(tuple, descriptor, catalog, "isactive", &active_null));
                bool metadata = DatumGetBool(ColumnValue(tuple, descriptor, catalog, "hasmetadata", &metadata_null));
                if (active_null || metadata_null || !active || metadata) return true;
                Datum name = ColumnValue(tuple, descriptor, catalog, "nodename", &name_null);
                Datum port = ColumnValue(tuple, descriptor, catalog, "nodeport", &port_null);
                without = psprintf("%s:%d", name_null ? "?" : TextDatumGetCString(name), port_null ? 0 : DatumGetInt32(port));
                return false;
              });
  if (without == nullptr) return;
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("cannot archive the rows of \"%s\" before TRUNCATE: node %s has no Citus metadata",
                         RelationGetRelationName(rel), without),
                  errdetail("Each node archives the rows of the shards it holds, and a node without metadata cannot "
                            "tell its shards."),
                  errhint("Sync the metadata (SELECT citus_activate_node(...)) or DELETE the rows instead.")));
}


bool IsCitusTableOid(Oid relid) { return CitusPresent() && IsCitusTable(relid); }

bool IsDistributedFunction(Oid function, bool* force_delegation) {
  if (force_delegation != nullptr) *force_delegation = false;
  if (!CitusPresent()) return false;
  bool delegated = false;
  ScanCatalog("pg_dist_object", nullptr, "objid", F_OIDEQ, ObjectIdGetDatum(function),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool class_null = false, argument_null = false, force_null = true;
                Oid classid = DatumGetObjectId(ColumnValue(tuple, descriptor, catalog, "classid", &class_null));
                (void) ColumnValue(tuple, descriptor, catalog, "distribution_argument_index", &argument_null);
                if (!class_null && classid == ProcedureRelationId && !argument_null) {
                  delegated = true;
                  AttrNumber force_column = get_attnum(catalog, "force_delegation");  // Citus 11 and later
                  Datum force = force_column == InvalidAttrNumber
                                    ? (Datum) 0
                                    : heap_getattr(tuple, force_column, descriptor, &force_null);
                  if (force_delegation != nullptr) *force_delegation = !force_null && DatumGetBool(force);
                }
                return !delegated;
              });
  return delegated;
}

}  // namespace deleted_record::glue
