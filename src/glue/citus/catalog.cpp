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


// KnownShard returns the Citus table relid is a live shard of (and its shard id), or InvalidOid.
// Citus's own relation_is_a_known_shard decides (it rebuilds the name of a shard of its
// metadata the way Citus names shards, hashed long names included); only then is the shard id
// read from the name, the way Citus reads it, to find the shard's table in pg_dist_shard.
Oid KnownShard(Oid relid, int64* shard_id) {
  Oid argument_types[1] = {REGCLASSOID};
  Oid function = CitusFunction("relation_is_a_known_shard", 1, argument_types);
  if (!OidIsValid(function) || !DatumGetBool(OidFunctionCall1(function, ObjectIdGetDatum(relid)))) return InvalidOid;
  char* name = get_rel_name(relid);
  if (name == nullptr || !ShardIdFromName(name, shard_id)) return InvalidOid;
  Oid logical = LogicalRelationOfShard(*shard_id);
  return logical == relid ? InvalidOid : logical;
}

// ArchiveTriggerArguments: the arguments of rel's archive trigger as pg_trigger.tgargs stores
// them (each followed by a zero byte), or false when rel has none.
bool ArchiveTriggerArguments(Relation rel, Oid insert_function, StringInfo arguments) {
  if (rel->trigdesc == nullptr) return false;
  for (int i = 0; i < rel->trigdesc->numtriggers; ++i) {
    const Trigger* trigger = &rel->trigdesc->triggers[i];
    if (trigger->tgfoid != insert_function) continue;
    for (int a = 0; a < trigger->tgnargs; ++a) appendBinaryStringInfo(arguments, trigger->tgargs[a], strlen(trigger->tgargs[a]) + 1);
    return true;
  }
  return false;
}

// CopiedFromCitusTable returns the Citus table whose archive trigger rel's archive trigger is a
// copy of, or InvalidOid. Each attach gives a table a new attachment id, kept in its archive
// trigger's arguments, and the attachment contract refuses a trigger with another table's id:
// identical arguments on another relation are Citus's copy of the trigger onto a shard.
// Needs the Citus table's shell on this node (the coordinator, workers with metadata).
Oid CopiedFromCitusTable(Relation rel) {
  Oid insert_function = ResolveArchiveTable()->insert_function;
  StringInfoData arguments;
  initStringInfo(&arguments);
  if (!OidIsValid(insert_function) || !ArchiveTriggerArguments(rel, insert_function, &arguments)) return InvalidOid;
  // Each Citus table's triggers, by index: as many lookups as there are Citus tables.
  Oid source = InvalidOid;
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  ScanCatalog("pg_dist_partition", nullptr, nullptr, InvalidOid, (Datum) 0,
              [&](HeapTuple row, TupleDesc row_descriptor, Oid catalog) {
                bool isnull = false;
                Oid candidate = DatumGetObjectId(ColumnValue(row, row_descriptor, catalog, "logicalrelid", &isnull));
                if (isnull || candidate == RelationGetRelid(rel)) return true;
                ScanKeyData key;
                ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(candidate));
                SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
                HeapTuple tuple;
                while (!OidIsValid(source) && HeapTupleIsValid(tuple = systable_getnext(scan))) {
                  auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
                  if (trigger->tgfoid != insert_function) continue;
                  bool args_null = false;
                  Datum value = heap_getattr(tuple, Anum_pg_trigger_tgargs, RelationGetDescr(triggers), &args_null);
                  if (args_null) continue;
                  bytea* stored = DatumGetByteaPP(value);
                  if (VARSIZE_ANY_EXHDR(stored) == static_cast<Size>(arguments.len) &&
                      memcmp(VARDATA_ANY(stored), arguments.data, arguments.len) == 0)
                    source = candidate;
                }
                systable_endscan(scan);
                return !OidIsValid(source);
              });
  table_close(triggers, AccessShareLock);
  pfree(arguments.data);
  return source;
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
  // Not a shard Citus knows, yet its archive trigger is a copy of a Citus table's: an old
  // placement a shard move or split left behind for deferred drop (or a split's new shard before
  // Citus records it). Its rows live on in the current shards; a cascade from a reference table
  // still deletes them here, and archiving that would archive rows twice.
  if (OidIsValid(CopiedFromCitusTable(rel))) facts->archive_here = false;
}

Oid CitusShardOf(Oid relid) {
  if (!CitusPresent() || IsCitusTable(relid)) return InvalidOid;
  int64 shard_id = 0;
  Oid logical = KnownShard(relid, &shard_id);
  if (OidIsValid(logical)) return logical;
  Relation rel = try_relation_open(relid, AccessShareLock);
  if (rel == nullptr) return InvalidOid;
  logical = CopiedFromCitusTable(rel);
  relation_close(rel, AccessShareLock);
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

bool IsDistributedFunction(Oid function) {
  if (!CitusPresent()) return false;
  bool delegated = false;
  ScanCatalog("pg_dist_object", nullptr, "objid", F_OIDEQ, ObjectIdGetDatum(function),
              [&](HeapTuple tuple, TupleDesc descriptor, Oid catalog) {
                bool class_null = false, argument_null = false;
                Oid classid = DatumGetObjectId(ColumnValue(tuple, descriptor, catalog, "classid", &class_null));
                (void) ColumnValue(tuple, descriptor, catalog, "distribution_argument_index", &argument_null);
                if (!class_null && classid == ProcedureRelationId && !argument_null) delegated = true;
                return !delegated;
              });
  return delegated;
}

}  // namespace deleted_record::glue
