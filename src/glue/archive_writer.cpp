// The archive writer. The archive table and its owner are looked up once per backend through
// pg_extension (never search_path) and forgotten on relcache invalidation of the table. Rows
// are buffered and go straight to the heap (one multi-insert) and its indexes, skipping SPI
// and the executor's per-statement setup.
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
  int attribute_count;
  TupleDesc descriptor;  // a copy, for forming rows without opening the table
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

void ForgetInsertSlots();

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
  Relation archive = table_open(relid, AccessShareLock);
  resolved.attribute_count = RelationGetDescr(archive)->natts;
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  resolved.descriptor = CreateTupleDescCopy(RelationGetDescr(archive));
  MemoryContextSwitchTo(old);
  table_close(archive, AccessShareLock);
  if (archive_table.descriptor != nullptr) {
    ForgetInsertSlots();  // before the address can be reused by a descriptor of another shape
    FreeTupleDesc(archive_table.descriptor);
  }
  resolved.relid = relid;
  resolved.owner = owner;
  resolved.valid = true;
  archive_table = resolved;
  return &archive_table;
}

// Archive rows are formed as tuples and buffered, then written with one multi-insert when a
// statement finishes (ExecutorFinish), when the buffer is full, before TRUNCATE returns, and
// at commit or prepare. Rows buffered inside a subtransaction that aborts are dropped with it.
constexpr int kMaxBufferedRows = 1000;
constexpr Size kMaxBufferedBytes = 8 * 1024 * 1024;

struct BufferedRow {
  HeapTuple tuple;
  SubTransactionId subtransaction;
};

struct ArchiveBuffer {
  MemoryContext context;  // the tuples; reset after every flush
  BufferedRow rows[kMaxBufferedRows];
  int count;
  Size bytes;
};

ArchiveBuffer* archive_buffer = nullptr;

// Slots for the multi-insert, reused across flushes. They are built on the archive table's
// descriptor copy, which is not reference-counted: slots on the relation's own descriptor would
// each pin it, and releasing a thousand pins costs a linear search each.
struct InsertSlots {
  MemoryContext context;
  TupleDesc descriptor;  // the descriptor the slots were made for
  int count;
  TupleTableSlot* slots[kMaxBufferedRows];
};

InsertSlots* insert_slots = nullptr;

void ForgetInsertSlots() {
  if (insert_slots == nullptr) return;
  MemoryContextReset(insert_slots->context);
  insert_slots->descriptor = nullptr;
  insert_slots->count = 0;
}

TupleTableSlot** SlotsFor(TupleDesc descriptor, int count) {
  if (insert_slots == nullptr) {
    insert_slots = static_cast<InsertSlots*>(MemoryContextAllocZero(TopMemoryContext, sizeof(InsertSlots)));
    insert_slots->context = AllocSetContextCreate(TopMemoryContext, "deleted_record insert slots",
                                                  ALLOCSET_DEFAULT_SIZES);
  }
  if (insert_slots->descriptor != descriptor) {
    MemoryContextReset(insert_slots->context);
    insert_slots->descriptor = descriptor;
    insert_slots->count = 0;
  }
  MemoryContext old = MemoryContextSwitchTo(insert_slots->context);
  while (insert_slots->count < count)
    insert_slots->slots[insert_slots->count++] = MakeTupleTableSlot(descriptor, &TTSOpsHeapTuple);
  MemoryContextSwitchTo(old);
  return insert_slots->slots;
}

ArchiveBuffer* Buffer() {
  if (archive_buffer == nullptr) {
    archive_buffer = static_cast<ArchiveBuffer*>(MemoryContextAllocZero(TopMemoryContext, sizeof(ArchiveBuffer)));
    archive_buffer->context = AllocSetContextCreate(TopMemoryContext, "deleted_record archive buffer",
                                                    ALLOCSET_DEFAULT_SIZES);
  }
  return archive_buffer;
}

// DiscardBuffer forgets buffered rows, and frees the tuples of a flush that failed (a flush
// empties the count before writing).
void DiscardBuffer() {
  if (archive_buffer == nullptr) return;
  archive_buffer->count = 0;
  archive_buffer->bytes = 0;
  MemoryContextReset(archive_buffer->context);
}

// WriteRows inserts the buffered tuples and maintains every index of the archive, under the
// extension owner's identity; transaction or subtransaction abort undoes the identity switch
// if anything below raises an error.
void WriteRows(const ArchiveTable* target, BufferedRow* rows, int count) {
  Relation archive = table_open(target->relid, RowExclusiveLock);
  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  SetUserIdAndSecContext(target->owner,
                         saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

  EState* estate = CreateExecutorState();
  ResultRelInfo* result_relation = makeNode(ResultRelInfo);
  InitResultRelInfo(result_relation, archive, 1, nullptr, 0);
  ExecOpenIndices(result_relation, false);
  TupleTableSlot** slots = SlotsFor(target->descriptor, count);
  for (int i = 0; i < count; ++i) ExecStoreHeapTuple(rows[i].tuple, slots[i], false);
  table_multi_insert(archive, slots, count, GetCurrentCommandId(true), 0, nullptr);
  for (int i = 0; i < count; ++i) {
    List* recheck = ExecInsertIndexTuples(result_relation, slots[i], estate, false, false, nullptr, NIL);
    list_free(recheck);
    ResetPerTupleExprContext(estate);
    ExecClearTuple(slots[i]);  // frees the copy the multi-insert materialized
  }
  ExecCloseIndices(result_relation);
  FreeExecutorState(estate);
  SetUserIdAndSecContext(saved_user, saved_security_context);
  table_close(archive, NoLock);
}

ExecutorFinish_hook_type previous_executor_finish = nullptr;

// How many batches (statement ends in OnExecutorFinish, TRUNCATE guards) are open. Zero means
// a row is archived where nothing will flush it later: the statement that loaded this library
// (its hook was not installed yet), deferred triggers fired at COMMIT, logical replication
// apply. Those rows are written at once.
int open_batches = 0;

void RunExecutorFinish(void* query) {
  if (previous_executor_finish != nullptr)
    previous_executor_finish(static_cast<QueryDesc*>(query));
  else
    standard_ExecutorFinish(static_cast<QueryDesc*>(query));
}

void OnExecutorFinish(QueryDesc* query) { RunArchiveBatch(RunExecutorFinish, query); }

void BufferRow(const ArchiveTable* target, Datum* values, bool* nulls) {
  ArchiveBuffer* buffer = Buffer();
  MemoryContext old = MemoryContextSwitchTo(buffer->context);
  HeapTuple tuple = heap_form_tuple(target->descriptor, values, nulls);
  MemoryContextSwitchTo(old);
  buffer->rows[buffer->count].tuple = tuple;
  buffer->rows[buffer->count].subtransaction = GetCurrentSubTransactionId();
  buffer->count++;
  buffer->bytes += tuple->t_len;
  if (open_batches == 0 || buffer->count == kMaxBufferedRows || buffer->bytes >= kMaxBufferedBytes)
    FlushArchiveBuffer();
}

void OnTransactionEvent(XactEvent event, void* arg) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      FlushArchiveBuffer();  // rows of deferred triggers fired at commit
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PREPARE:
      DiscardBuffer();
      break;
    default:
      break;
  }
}

// OnSubtransactionEvent drops rows buffered in an aborting subtransaction or its children
// (their ids are at least the aborting one's while it is still open).
void OnSubtransactionEvent(SubXactEvent event, SubTransactionId subtransaction, SubTransactionId parent, void* arg) {
  if (event != SUBXACT_EVENT_ABORT_SUB || archive_buffer == nullptr) return;
  int kept = 0;
  for (int i = 0; i < archive_buffer->count; ++i)
    if (archive_buffer->rows[i].subtransaction < subtransaction) archive_buffer->rows[kept++] = archive_buffer->rows[i];
  archive_buffer->count = kept;
  if (kept == 0) DiscardBuffer();
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
  int attribute_count = target->attribute_count;
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
  BufferRow(target, values, nulls);
}

void FlushArchiveBuffer() {
  if (archive_buffer == nullptr || archive_buffer->count == 0) return;
  const ArchiveTable* target = ResolveArchiveTable();
  // Empty the buffer first: if writing fails, the statement fails and nothing is retried.
  int count = archive_buffer->count;
  archive_buffer->count = 0;
  archive_buffer->bytes = 0;
  WriteRows(target, archive_buffer->rows, count);
  MemoryContextReset(archive_buffer->context);
}

void RunArchiveBatch(void (*body)(void*), void* argument) {
  open_batches++;
  PG_TRY();
  {
    body(argument);
  }
  PG_FINALLY();
  {
    open_batches--;
  }
  PG_END_TRY();
  FlushArchiveBuffer();
}

void RegisterArchiveWriter() {
  CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum) 0);
  CacheRegisterSyscacheCallback(AUTHOID, OnRoleChange, (Datum) 0);
  previous_executor_finish = ExecutorFinish_hook;
  ExecutorFinish_hook = OnExecutorFinish;
  RegisterXactCallback(OnTransactionEvent, nullptr);
  RegisterSubXactCallback(OnSubtransactionEvent, nullptr);
}

}  // namespace deleted_record::glue
