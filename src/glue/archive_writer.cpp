// The archive writer. The archive table and its owner are looked up once per backend through
// pg_extension (never search_path) and forgotten on relcache invalidation of the table. Rows
// go straight to the heap and its indexes, skipping SPI and the executor's per-statement setup.
#include "glue/archive_writer.hpp"

#include <sys/time.h>

namespace deleted_record::glue {

namespace {

// Column positions of the archive table, in its declared order.
enum ArchiveColumn {
  kId, kData, kDeletedAt, kObjectId, kTableName, kSchemaName, kPartitionName, kActor, kReason,
  kMetadata, kXactId, kSessionUserName, kCurrentUserName, kUpdatedAt, kArchiveColumnCount
};

const char* const kArchiveColumnNames[kArchiveColumnCount] = {
    "id", "data", "deleted_at", "object_id", "table_name", "schema_name", "partition_name", "actor", "reason",
    "metadata", "xact_id", "session_user_name", "current_user_name", "updated_at"};

struct ArchiveTable {
  bool valid;
  Oid relid;
  Oid owner;  // the extension's owner: the identity the archive is written under
  AttrNumber attnums[kArchiveColumnCount];
};

ArchiveTable archive_table = {};

// User names are cached per OID; ALTER ROLE ... RENAME clears them.
struct CachedRoleName {
  Oid role;
  NameData name;
};
CachedRoleName session_user_cache = {InvalidOid, {}};
CachedRoleName current_user_cache = {InvalidOid, {}};

Datum RoleNameText(CachedRoleName* cache, Oid role) {
  if (cache->role != role) {
    cache->role = InvalidOid;
    namestrcpy(&cache->name, GetUserNameFromId(role, false));
    cache->role = role;
  }
  return CStringGetTextDatum(NameStr(cache->name));
}

void OnRoleChange(Datum arg, int cache_id, uint32 hash_value) {
  session_user_cache.role = InvalidOid;
  current_user_cache.role = InvalidOid;
}

void OnRelcacheInvalidation(Datum arg, Oid relid) {
  if (!OidIsValid(relid) || relid == archive_table.relid) archive_table.valid = false;
}

// ReadExtension reads the schema and owner of the extension with the given OID from pg_extension.
void ReadExtension(Oid extension, Oid* schema, Oid* owner) {
  Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
  SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
  HeapTuple tuple = systable_getnext(scan);
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "could not find extension %u", extension);
  Form_pg_extension form = reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple));
  *schema = form->extnamespace;
  *owner = form->extowner;
  systable_endscan(scan);
  table_close(catalog, AccessShareLock);
}

const ArchiveTable* ResolveArchiveTable() {
  if (archive_table.valid) return &archive_table;
  Oid extension = get_extension_oid("deleted_record", true);
  if (!OidIsValid(extension))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("extension \"deleted_record\" is not installed in this database"),
                    errhint("Run CREATE EXTENSION deleted_record.")));
  Oid schema, owner;
  ReadExtension(extension, &schema, &owner);
  Oid relid = get_relname_relid("deleted_record", schema);
  if (!OidIsValid(relid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("the deleted_record table of extension \"deleted_record\" is missing")));
  ArchiveTable resolved = {};
  for (int c = 0; c < kArchiveColumnCount; ++c) {
    resolved.attnums[c] = get_attnum(relid, kArchiveColumnNames[c]);
    if (resolved.attnums[c] == InvalidAttrNumber)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("the deleted_record table has no column \"%s\"", kArchiveColumnNames[c]),
                      errhint("The archive table's columns belong to the extension; do not drop or rename them.")));
  }
  resolved.relid = relid;
  resolved.owner = owner;
  resolved.valid = true;
  archive_table = resolved;
  return &archive_table;
}

// InsertArchiveRow inserts values/nulls (one per archive attribute) and maintains every
// index, under the extension owner's identity; the identity switch is undone by transaction
// or subtransaction abort if anything below raises an error.
void InsertArchiveRow(const ArchiveTable* target, Relation archive, Datum* values, bool* nulls) {
  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  SetUserIdAndSecContext(target->owner,
                         saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

  EState* estate = CreateExecutorState();
  ResultRelInfo* result_relation = makeNode(ResultRelInfo);
  InitResultRelInfo(result_relation, archive, 1, nullptr, 0);
  ExecOpenIndices(result_relation, false);
  TupleTableSlot* slot = MakeSingleTupleTableSlot(RelationGetDescr(archive), &TTSOpsHeapTuple);
  ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(archive), values, nulls), slot, true);
  table_tuple_insert(archive, slot, GetCurrentCommandId(true), 0, nullptr);
  List* recheck = ExecInsertIndexTuples(result_relation, slot, estate, false, false, nullptr, NIL);
  list_free(recheck);
  ExecDropSingleTupleTableSlot(slot);
  ExecCloseIndices(result_relation);
  FreeExecutorState(estate);

  SetUserIdAndSecContext(saved_user, saved_security_context);
}

}  // namespace

Datum NextUuid7Datum() {
  struct timeval now;
  gettimeofday(&now, nullptr);
  uint64 unix_ms = static_cast<uint64>(now.tv_sec) * 1000 + static_cast<uint64>(now.tv_usec) / 1000;
  pg_uuid_t* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
  boundary::NextUuid7(unix_ms, pg_prng_uint64(&pg_global_prng_state), pg_prng_uint64(&pg_global_prng_state),
                      uuid->data);
  return UUIDPGetDatum(uuid);
}

bool IsArchiveTable(Oid relid) { return relid == ResolveArchiveTable()->relid; }

void ArchiveDeletedTuple(Relation rel, HeapTuple tuple) {
  RelationArchiveInfo* info = GetRelationArchiveInfo(rel);
  DeletionContext context;
  ReadDeletionContext(info->qualified_name, &context);
  ConvertedRow row;
  ConvertRow(info, tuple, RelationGetDescr(rel), &row);

  const ArchiveTable* target = ResolveArchiveTable();
  Relation archive = table_open(target->relid, RowExclusiveLock);
  int attribute_count = RelationGetDescr(archive)->natts;
  Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * attribute_count));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * attribute_count));
  memset(nulls, true, sizeof(bool) * attribute_count);
  auto set = [&](ArchiveColumn column, Datum value, bool is_null) {
    int index = target->attnums[column] - 1;
    values[index] = value;
    nulls[index] = is_null;
  };
  TimestampTz now = GetCurrentTransactionStartTimestamp();
  set(kId, NextUuid7Datum(), false);
  set(kData, row.data, false);
  set(kDeletedAt, TimestampTzGetDatum(now), false);
  set(kObjectId, row.object_id, row.object_id_is_null);
  set(kTableName, info->table_name, false);
  set(kSchemaName, info->schema_name, false);
  set(kPartitionName, info->partition_name, !info->is_partition);
  set(kActor, context.actor, context.actor_is_null);
  set(kReason, context.reason, context.reason_is_null);
  set(kMetadata, context.metadata, context.metadata_is_null);
  set(kXactId, FullTransactionIdGetDatum(GetTopFullTransactionId()), false);
  set(kSessionUserName, RoleNameText(&session_user_cache, GetSessionUserId()), false);
  set(kCurrentUserName, RoleNameText(&current_user_cache, GetUserId()), false);
  set(kUpdatedAt, TimestampTzGetDatum(now), false);
  InsertArchiveRow(target, archive, values, nulls);
  table_close(archive, NoLock);
}

void RegisterArchiveInvalidation() {
  CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum) 0);
  CacheRegisterSyscacheCallback(AUTHOID, OnRoleChange, (Datum) 0);
}

}  // namespace deleted_record::glue
