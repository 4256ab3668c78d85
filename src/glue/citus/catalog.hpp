// What a relation is to Citus, read from Citus's own catalogs (pg_dist_shard, pg_dist_placement,
// pg_dist_partition, pg_dist_local_group), found by name in pg_catalog and read by index, and
// from Citus's SQL functions called through fmgr: the library does not link to Citus, and a
// server without Citus pays one catalog lookup per relation-cache build and nothing per row.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ScanSystemCatalog calls visit(tuple, descriptor) for every row of a PostgreSQL catalog (by OID)
// whose attnum equals the OID value, through index when it is valid; visit returns false to stop.
// The one catalog scan of the Citus hooks (Citus's own catalogs: ScanCatalog in catalog.cpp).
template <typename Visit>
void ScanSystemCatalog(Oid catalog, Oid index, AttrNumber attnum, Oid value, Visit visit) {
  Relation rel = table_open(catalog, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, attnum, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(value));
  SysScanDesc scan = systable_beginscan(rel, index, OidIsValid(index), nullptr, 1, &key);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan)))
    if (!visit(tuple, RelationGetDescr(rel))) break;
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
}

// CitusRelation is what a relation is to Citus (all false/invalid without Citus).
struct CitusRelation {
  bool is_shard;        // a shard placement: its deleted rows are rows of logical_relid
  Oid logical_relid;    // for a shard, the Citus table (whose shell exists on every node)
  bool archive_here;    // false on every placement of a replicated shard (a reference table's)
                        // but the designated one, so that a row is archived exactly once, and
                        // on a placement Citus scheduled for removal on this node (pg_dist_cleanup:
                        // an old copy a move or split left for deferred drop), never by name or trigger
  bool is_citus_table;  // the shell of a Citus table (distributed, reference or Citus local)
};

// CitusPresent is true when the current database has Citus's metadata (one syscache lookup).
bool CitusPresent();

// DescribeCitusRelation fills facts for rel from Citus's catalogs.
void DescribeCitusRelation(Relation rel, CitusRelation* facts);

// CitusShardOf returns the Citus table relid is a shard of, by Citus's metadata only: a live shard
// with a placement on this node (pg_dist_shard, pg_dist_placement), or a placement Citus
// scheduled for removal here (pg_dist_cleanup: an old placement left for deferred drop, a split's
// new shard before Citus records it) whose shard pg_dist_shard still knows; else InvalidOid.
// Never opens or locks relid.
Oid CitusShardOf(Oid relid);

// CheckShardsArchivable errors unless every active node has Citus's metadata (each archives the
// rows of its own shards before TRUNCATE of rel, a Citus table).
void CheckShardsArchivable(Relation rel);

// IsCitusTableOid: relid is a Citus table (distributed, reference or Citus local).
bool IsCitusTableOid(Oid relid);

// IsDistributedFunction: Citus delegates calls of function (a distributed function or procedure
// with a distribution argument) to the node holding that argument's shard; *force_delegation
// (when not null) tells whether Citus delegates it inside transaction blocks too.
bool IsDistributedFunction(Oid function, bool* force_delegation = nullptr);

// For the other rooms of glue/citus/:

// CitusFunction is the OID of a function of Citus's in pg_catalog, or InvalidOid.
Oid CitusFunction(const char* name, int argument_count, const Oid* argument_types);

// LocalGroupId is this node's group in pg_dist_local_group (0: the coordinator, or no Citus).
int32 LocalGroupId();

// IsCitusInternalBackend: this backend is one of Citus's own connections to this node.
bool IsCitusInternalBackend();

}  // namespace deleted_record::glue
