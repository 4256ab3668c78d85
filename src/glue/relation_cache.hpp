// The relation cache: what the trigger needs to know about a table (its names, partition root,
// column plan), computed once per backend and rebuilt only when something it depends on changes.
#pragma once
#include "glue/citus.hpp"
#include "glue/column_plan.hpp"

namespace deleted_record::glue {

struct RelationArchiveInfo {
  Oid relid;
  Oid root_relid;         // the partition root of the named table, or the named table itself
  MemoryContext context;  // owns this struct and everything it points to
  Datum table_name;       // text: the partition root for partitions, else the table
  Datum schema_name;      // text
  Datum partition_name;   // text, when is_partition
  bool is_partition;
  char* qualified_name;   // for messages
  // On Citus: a shard is archived under its logical table's names; on_citus asks for the
  // distributed transaction key.
  bool on_citus;
  CitusRelation citus;
  ColumnPlan columns;
  // What the entry depends on besides its own and its root's relcache entries: syscache hash
  // values of its schemas, its column types and the casts from those types to json.
  uint32 namespace_hashes[2];
  int type_hash_count;
  uint32* type_hashes;
  uint32* cast_hashes;    // type_hash_count entries
};

// LookupRelationArchiveInfo returns the cached info for rel, building it when missing or stale.
RelationArchiveInfo* LookupRelationArchiveInfo(Relation rel);

// The cache's invalidation callbacks: each marks stale only the entries that depend on what
// changed (the table or its root; a schema; a column type; a cast to json), and the
// transaction-end callback drops what a transaction built but never finished.
extern "C" void RelationCacheOnRelcacheChange(Datum arg, Oid relid);
extern "C" void RelationCacheOnNamespaceChange(Datum arg, int cache_id, uint32 hash_value);
extern "C" void RelationCacheOnTypeChange(Datum arg, int cache_id, uint32 hash_value);
extern "C" void RelationCacheOnCastChange(Datum arg, int cache_id, uint32 hash_value);
extern "C" void RelationCacheOnTransactionEnd(XactEvent event, void* arg);

}  // namespace deleted_record::glue
