// The per-backend cache of RelationArchiveInfo, keyed by relation OID. Invalidation callbacks
// only clear flags (they can run at any time), and only for entries that depend on what
// changed; rebuilding happens at the next delete. A rebuilt entry replaces the old one only once
// complete, and the old memory is kept until the transaction ends, since an outer trigger call
// may still be using it.
#include "glue/relation_cache.hpp"

#include "glue/attachment_contract.hpp"
#include "glue/transaction_end.hpp"

namespace deleted_record::glue {

namespace {

struct CacheEntry {
  Oid relid;  // hash key
  bool valid;
  RelationArchiveInfo* info;
};

HTAB* relation_cache = nullptr;
MemoryContext cache_context = nullptr;     // parent of every entry's context
MemoryContext retired_context = nullptr;   // replaced entries, freed at transaction end

// InvalidateWhere marks stale every entry for which depends(info) is true (and entries without info).
template <typename Predicate>
void InvalidateWhere(Predicate depends) {
  if (relation_cache == nullptr) return;
  HASH_SEQ_STATUS status;
  hash_seq_init(&status, relation_cache);
  while (CacheEntry* entry = static_cast<CacheEntry*>(hash_seq_search(&status)))
    if (entry->info == nullptr || depends(entry->info)) entry->valid = false;
}

bool Contains(const uint32* hashes, int count, uint32 hash_value) {
  for (int i = 0; i < count; ++i)
    if (hashes[i] == hash_value) return true;
  return false;
}

// RememberDependencies records the syscache hash values the entry depends on.
void RememberDependencies(Relation rel, RelationArchiveInfo* info) {
  info->namespace_hashes[0] = GetSysCacheHashValue1(NAMESPACEOID, ObjectIdGetDatum(RelationGetNamespace(rel)));
  info->namespace_hashes[1] =
      GetSysCacheHashValue1(NAMESPACEOID, ObjectIdGetDatum(get_rel_namespace(info->root_relid)));
  info->type_hash_count = info->columns.type_count;
  info->type_hashes = static_cast<uint32*>(palloc(sizeof(uint32) * Max(info->type_hash_count, 1)));
  info->cast_hashes = static_cast<uint32*>(palloc(sizeof(uint32) * Max(info->type_hash_count, 1)));
  for (int i = 0; i < info->type_hash_count; ++i) {
    Oid type = info->columns.types[i];
    info->type_hashes[i] = GetSysCacheHashValue1(TYPEOID, ObjectIdGetDatum(type));
    // to_jsonb() uses a user type's cast to json: a new or dropped cast changes the plan.
    info->cast_hashes[i] = GetSysCacheHashValue2(CASTSOURCETARGET, ObjectIdGetDatum(type), ObjectIdGetDatum(JSONOID));
  }
}

// BuildRelationArchiveInfo computes everything in a fresh memory context under the caller's
// context, so an error halfway frees it; the caller adopts it into the cache on success.
RelationArchiveInfo* BuildRelationArchiveInfo(Relation rel) {
  MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "deleted_record relation", ALLOCSET_SMALL_SIZES);
  MemoryContext old = MemoryContextSwitchTo(context);
  RelationArchiveInfo* info = static_cast<RelationArchiveInfo*>(palloc0(sizeof(RelationArchiveInfo)));
  info->relid = RelationGetRelid(rel);
  info->context = context;

  // A Citus shard's rows are rows of its logical table: names come from that table's tree.
  info->on_citus = CitusPresent();
  DescribeCitusRelation(rel, &info->citus);
  Oid named = info->citus.is_shard ? info->citus.logical_relid : info->relid;
  Oid root = named;
  info->is_partition = get_rel_relispartition(named);
  if (info->is_partition) {
    List* ancestors = get_partition_ancestors(named);
    root = llast_oid(ancestors);
    list_free(ancestors);
    char* partition = get_rel_name(named);
    if (partition == nullptr) elog(ERROR, "cache lookup failed for relation %u", named);
    info->partition_name = CStringGetTextDatum(partition);
  }
  info->root_relid = root;
  char* root_name = get_rel_name(root);
  char* schema = get_namespace_name(get_rel_namespace(root));
  if (root_name == nullptr || schema == nullptr) elog(ERROR, "cache lookup failed for partition root %u", root);
  info->table_name = CStringGetTextDatum(root_name);
  info->schema_name = CStringGetTextDatum(schema);
  info->qualified_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(named)), get_rel_name(named));
  // The table's options, from its archive trigger's argument (palloc'd in the entry's context).
  boundary::OptionLists options = {};
  const char* argument = ArchiveTriggerArgument(rel, ResolveArchiveTable());
  if (argument != nullptr) {
    boundary::Verdict verdict = ReadAttachmentArgument(argument, &options);
    if (!verdict.ok)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("the archive trigger of table \"%s\" has an invalid argument: %s",
                             RelationGetRelationName(rel), verdict.message),
                      errhint("Attach the table again: SELECT deleted_record_attach(...).")));
  }
  PlanColumns(rel, &options, &info->columns);
  RememberDependencies(rel, info);
  MemoryContextSwitchTo(old);
  return info;
}

}  // namespace

extern "C" void RelationCacheOnRelcacheChange(Datum arg, Oid relid) {
  // A change to a partition root (a rename, say) must also refresh its partitions' entries.
  InvalidateWhere([relid](const RelationArchiveInfo* info) {
    // A Citus table's relcache is invalidated when its placements change: so are its shards'.
    return !OidIsValid(relid) || info->relid == relid || info->root_relid == relid ||
           info->citus.logical_relid == relid;
  });
}

extern "C" void RelationCacheOnNamespaceChange(Datum arg, int cache_id, uint32 hash_value) {
  InvalidateWhere([hash_value](const RelationArchiveInfo* info) {
    return hash_value == 0 || Contains(info->namespace_hashes, 2, hash_value);
  });
}

extern "C" void RelationCacheOnTypeChange(Datum arg, int cache_id, uint32 hash_value) {
  InvalidateWhere([hash_value](const RelationArchiveInfo* info) {
    return hash_value == 0 || Contains(info->type_hashes, info->type_hash_count, hash_value);
  });
}

extern "C" void RelationCacheOnCastChange(Datum arg, int cache_id, uint32 hash_value) {
  InvalidateWhere([hash_value](const RelationArchiveInfo* info) {
    return hash_value == 0 || Contains(info->cast_hashes, info->type_hash_count, hash_value);
  });
}

extern "C" void RelationCacheOnTransactionEnd(XactEvent event, void* arg) {
  if (retired_context != nullptr && EndsTransaction(event))
    MemoryContextReset(retired_context);
}

RelationArchiveInfo* LookupRelationArchiveInfo(Relation rel) {
  if (relation_cache == nullptr) {
    cache_context = AllocSetContextCreate(TopMemoryContext, "deleted_record relation cache", ALLOCSET_DEFAULT_SIZES);
    retired_context = AllocSetContextCreate(TopMemoryContext, "deleted_record retired relations", ALLOCSET_SMALL_SIZES);
    HASHCTL control = {};
    control.keysize = sizeof(Oid);
    control.entrysize = sizeof(CacheEntry);
    control.hcxt = cache_context;
    relation_cache = hash_create("deleted_record relations", 64, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  Oid relid = RelationGetRelid(rel);
  bool found = false;
  CacheEntry* entry = static_cast<CacheEntry*>(hash_search(relation_cache, &relid, HASH_ENTER, &found));
  if (!found) {
    entry->valid = false;
    entry->info = nullptr;
  }
  if (entry->valid) return entry->info;

  RelationArchiveInfo* fresh = BuildRelationArchiveInfo(rel);
  // The build may have processed invalidations that removed nothing but flags; look again.
  entry = static_cast<CacheEntry*>(hash_search(relation_cache, &relid, HASH_ENTER, &found));
  if (found && entry->info != nullptr) MemoryContextSetParent(entry->info->context, retired_context);
  MemoryContextSetParent(fresh->context, cache_context);
  entry->info = fresh;
  entry->valid = true;
  return fresh;
}

}  // namespace deleted_record::glue
