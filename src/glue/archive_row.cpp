// The archive row's values. Role names are cached per OID (ALTER ROLE … RENAME clears them);
// ids come from the core's UUIDv7 generator.
#include "glue/archive_row.hpp"

#include <sys/time.h>

namespace deleted_record::glue {

namespace {

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

// The transaction key of archive rows written without Citus: a UUIDv7 made when the top-level
// transaction archives its first row, the same for all its rows (cascades and subtransactions
// included). Unique across clusters and time, unlike xact_id, which repeats once the archive
// moves to a server with another transaction history.
struct CachedTransactionKey {
  FullTransactionId xact;
  bool valid;
  char text[37];
};
CachedTransactionKey transaction_key = {InvalidFullTransactionId, false, {}};

Datum LocalTransactionKey(FullTransactionId xact) {
  if (!transaction_key.valid || !FullTransactionIdEquals(transaction_key.xact, xact)) {
    transaction_key.valid = false;
    Datum uuid = NextUuid7Datum();
    boundary::FormatUuid(DatumGetUUIDP(uuid)->data, transaction_key.text);
    transaction_key.xact = xact;
    transaction_key.valid = true;
  }
  return CStringGetTextDatum(transaction_key.text);
}

}  // namespace

extern "C" void ArchiveRowOnRoleChange(Datum arg, int cache_id, uint32 hash_value) {
  session_user_cache.role = InvalidOid;
  current_user_cache.role = InvalidOid;
}

Datum NextUuid7Datum() {
  struct timeval now;
  gettimeofday(&now, nullptr);
  uint64 unix_ms = static_cast<uint64>(now.tv_sec) * 1000 + static_cast<uint64>(now.tv_usec) / 1000;
  pg_uuid_t* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
  boundary::NextUuid7(unix_ms, pg_prng_uint64(&pg_global_prng_state), pg_prng_uint64(&pg_global_prng_state),
                      uuid->data);
  return UUIDPGetDatum(uuid);
}

void AssembleArchiveRow(const ArchiveTable* target, const RelationArchiveInfo* info, const ConvertedRow* row,
                        const DeletionContext* context, Datum* values, bool* nulls) {
  int attribute_count = target->descriptor->natts;
  memset(values, 0, sizeof(Datum) * attribute_count);
  memset(nulls, true, sizeof(bool) * attribute_count);
  auto set = [&](ArchiveColumn column, Datum value, bool is_null) {
    if (target->attnums[column] == InvalidAttrNumber) return;
    int index = target->attnums[column] - 1;
    values[index] = value;
    nulls[index] = is_null;
  };
  TimestampTz now = GetCurrentTransactionStartTimestamp();
  FullTransactionId xact = GetTopFullTransactionId();
  set(kId, NextUuid7Datum(), false);
  set(kData, row->data, false);
  set(kDeletedAt, TimestampTzGetDatum(now), false);
  set(kObjectId, row->object_id, row->object_id_is_null);
  set(kTableName, info->table_name, false);
  set(kSchemaName, info->schema_name, false);
  set(kPartitionName, info->partition_name, !info->is_partition);
  set(kActor, context->actor, context->actor_is_null);
  set(kReason, context->reason, context->reason_is_null);
  set(kMetadata, context->metadata, context->metadata_is_null);
  set(kXactId,
      target->xact_id_is_xid8 ? FullTransactionIdGetDatum(xact)
                              : Int64GetDatum(static_cast<int64>(U64FromFullTransactionId(xact))),
      false);
  // On a Citus node, under the initiator's SET ROLE, the session user is the login role it sent.
  const char* login = info->on_citus ? CitusLoginRole() : nullptr;
  set(kSessionUserName, login != nullptr ? CStringGetTextDatum(login) : RoleNameText(&session_user_cache, GetSessionUserId()),
      false);
  set(kCurrentUserName, RoleNameText(&current_user_cache, GetUserId()), false);
  set(kUpdatedAt, TimestampTzGetDatum(now), false);
  set(kExcludedColumns, info->columns.excluded_columns, !info->columns.has_excluded);
  set(kMaskedColumns, info->columns.masked_columns, !info->columns.has_masked);
  if (target->attnums[kXactKey] != InvalidAttrNumber)
    set(kXactKey, info->on_citus ? CitusTransactionKey() : LocalTransactionKey(xact), false);
}

}  // namespace deleted_record::glue
