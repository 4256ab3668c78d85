// The archive table: found by OID through pg_extension (never through search_path), its
// columns mapped by name, its partitions' ranges read for routing. archive_writer writes it.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ArchiveColumn names the archive's columns the extension fills. Optional ones may be missing
// from an older schema (the library serves every installed version of the SQL objects).
enum ArchiveColumn {
  kId, kData, kDeletedAt, kObjectId, kTableName, kSchemaName, kPartitionName, kActor, kReason,
  kMetadata, kXactId, kSessionUserName, kCurrentUserName, kUpdatedAt,
  kRestoredAt, kRestoredBy, kExcludedColumns, kMaskedColumns, kXactKey,  // 1.1
  kArchiveColumnCount
};

// ArchiveLeaf is one partition of a partitioned archive and the range of ids it takes; the
// fields after the range are the writer's, computed at the partition's first write in
// ArchiveTableMemory() (and forgotten with the lookup).
struct ArchiveLeaf {
  Oid relid;
  bool from_min;                // lower bound is MINVALUE
  bool to_max;                  // upper bound is MAXVALUE
  uint8 lower[UUID_LEN];        // inclusive
  uint8 upper[UUID_LEN];        // exclusive
  bool map_known;               // map, descriptor and needs_checks below computed
  TupleConversionMap* map;      // the archive's row shape -> this partition's, when they differ
  TupleDesc descriptor;         // a copy of the partition's (copies are not reference-counted)
  bool needs_checks;            // CHECK, generated or NOT NULL columns beyond the extension's
  bool evaluates_expressions;   // writing evaluates a DBA's defaults, checks or index expressions
  // IndexInfo of the partition's plain btree indexes (no expressions, no predicate), built once:
  // building them again for every write was a tenth of a one-row delete's extra cost.
  int index_info_count;
  Oid* index_info_oids;
  IndexInfo** index_infos;
};

struct ArchiveTable {
  Oid relid;
  Oid owner;               // the extension's owner: the identity the archive is written under
  Oid schema;              // the extension's schema
  Oid insert_function;     // deleted_record_insert(): archive triggers are recognised by it
  TupleDesc descriptor;    // a copy, for forming rows without opening the table
  uint64 generation;       // a new number for every lookup (caches keyed by its pointers compare it)
  AttrNumber attnums[kArchiveColumnCount];  // InvalidAttrNumber where the schema lacks the column
  bool xact_id_is_xid8;    // 1.0 stored xid8; 1.1 stores bigint
  // Defaults of columns a DBA added (the trigger fills only its own), in the archive's row
  // shape: applied before a row is routed, as PostgreSQL applies the parent's defaults.
  int default_count;
  AttrNumber* default_attnums;
  Expr** default_expressions;
  // A plain (1.0) archive: CHECK, generated or NOT NULL columns beyond the extension's.
  bool needs_checks;
  // A partitioned archive (1.1): rows are routed to its partitions by id, without locking the
  // parent, so that dropping old partitions never waits for, or blocks, a delete.
  bool partitioned;
  int leaf_count;
  ArchiveLeaf* leaves;          // range partitions, ordered by lower bound
  ArchiveLeaf* default_leaf;    // the DEFAULT partition, or null
  int leaf_oid_count;
  Oid* leaf_oids;               // every partition's OID (the default's too), ascending
};

// ExtensionObjectName is the schema-qualified, quoted name of one of the extension's objects
// (a table or function in the archive's schema), for statements the glue builds.
inline char* ExtensionObjectName(const ArchiveTable* archive, const char* name) {
  return quote_qualified_identifier(get_namespace_name(archive->schema), name);
}

// IsBlankText is true for a NULL pointer or a text of white space only (a required reason, say).
inline bool IsBlankText(const text* value) {
  if (value == nullptr) return true;
  const char* data = VARDATA_ANY(value);
  for (int i = 0, n = VARSIZE_ANY_EXHDR(value); i < n; ++i)
    if (!isspace(static_cast<unsigned char>(data[i]))) return false;
  return true;
}

// ResolveArchiveTable returns the archive, looked up once per backend and again after any
// change to it; errors when the extension or its table is missing.
const ArchiveTable* ResolveArchiveTable();

// IsArchiveRelation is true for the archive table itself and its partitions.
bool IsArchiveRelation(Oid relid);

// ArchiveTableIsCurrent is false once a change to the archive or a partition was seen since
// the last ResolveArchiveTable (whose pointers then still hold, until it is called again).
bool ArchiveTableIsCurrent();

// ArchiveTableMemory holds the current lookup: what is allocated in it lives until the next.
MemoryContext ArchiveTableMemory();

// RouteArchiveRow returns the partition that takes the row with this id (errors when none does).
ArchiveLeaf* RouteArchiveRow(const ArchiveTable* archive, const uint8* id);

// ArchiveRowsNeedChecks is true when a row written into a relation of this shape must be
// checked: CHECK constraints, generated columns, or a NOT NULL column the trigger may leave empty.
bool ArchiveRowsNeedChecks(TupleDesc descriptor);

// Up to this many ids, archive rows are read by `id = ANY (ids)`: the planner keeps only the
// partitions holding one of them and each is read by its primary key in one scan (a join of
// unnest(ids) with the archive rescans the partitions' Append, pruning again, for every id:
// twenty times slower for 1,000 ids). Beyond it the planner's pruning of the array's elements,
// one by one, would cost more memory than a small server has (about 2.5 kB an element: 100,000
// ids took more than 240 MB), so the ids are joined as unnest(ids), which the planner merges
// or hashes with the partitions' rows.
constexpr int kArchiveIdsByAny = 4096;

// ArchiveIds is how a statement reads the archive rows (alias `alias`) whose ids are parameter
// `param` (a uuid[] of count elements), in the cheaper of the two forms above: `from` is
// appended to the statement's FROM list (empty, or ", pg_catalog.unnest(...) AS ids(id)"),
// `where` is its condition. Operators and functions are qualified.
struct ArchiveIds {
  char* from;
  char* where;
};
inline ArchiveIds ArchiveIdsOf(const char* alias, const char* param, int count) {
  if (count <= kArchiveIdsByAny) return {pstrdup(""), psprintf("%s.id OPERATOR(pg_catalog.=) ANY (%s)", alias, param)};
  return {psprintf(", pg_catalog.unnest(%s) AS ids(id)", param), psprintf("%s.id OPERATOR(pg_catalog.=) ids.id", alias)};
}

// The same for the uuid[] that param stands for (its element count picks the form).
inline ArchiveIds ArchiveIdsOf(const char* alias, const char* param, const ArrayType* ids) {
  return ArchiveIdsOf(alias, param, ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids)));
}

// ScanLatest calls visit(slot) for every row of rel the latest snapshot sees (what committed
// before the call); visit returns false to stop. The one table scan of the glue's small tables.
template <typename Visit>
void ScanLatest(Relation rel, Visit visit) {
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  TableScanDesc scan = table_beginscan(rel, snapshot, 0, nullptr);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
    if (!visit(slot)) break;
  ExecDropSingleTupleTableSlot(slot);
  table_endscan(scan);
  UnregisterSnapshot(snapshot);
}

// ArchiveTableOnRelcacheChange forgets the archive's cached facts when it or a partition changes
// (a relcache callback).
extern "C" void ArchiveTableOnRelcacheChange(Datum arg, Oid relid);

}  // namespace deleted_record::glue
