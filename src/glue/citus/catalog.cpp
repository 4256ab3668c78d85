// Citus's catalogs and functions, read by OID and index (see catalog.hpp).
#include "glue/citus/catalog.hpp"

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

// ConfirmedShard asks Citus whether relid is one of its shards: it rebuilds the shard's name
// its own way, which also covers long names Citus shortened with a hash.
bool ConfirmedShard(Oid relid) {
  Oid argument_types[1] = {REGCLASSOID};
  Oid function = CitusFunction("relation_is_a_known_shard", 1, argument_types);
  if (!OidIsValid(function)) return true;  // older Citus: the catalog match must do
  return DatumGetBool(OidFunctionCall1(function, ObjectIdGetDatum(relid)));
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

}  // namespace deleted_record::glue
