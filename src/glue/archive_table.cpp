// The archive table found: by OID through pg_extension (never through search_path), its columns
// mapped by name, its partitions' ranges read for routing (archive_writer writes the rows).
#include "glue/archive_table.hpp"

extern "C" {
#include "utils/relcache.h"
}

namespace deleted_record::glue {

namespace {

const char* const kArchiveColumnNames[kArchiveColumnCount] = {
    "id", "data", "deleted_at", "object_id", "table_name", "schema_name", "partition_name", "actor", "reason",
    "metadata", "xact_id", "session_user_name", "current_user_name", "updated_at", "restored_at", "restored_by",
    "excluded_columns", "masked_columns", "xact_key"};
constexpr int kRequiredColumnCount = kRestoredAt;  // the 1.0 columns are required, later ones optional

bool archive_valid = false;
ArchiveTable archive_table = {};
MemoryContext archive_context = nullptr;  // the routing table and the writer's facts of each partition
uint64 archive_generation = 0;
// While ResolveArchiveTable reads the archive: its OID, and whether it changed meanwhile.
Oid archive_being_read = InvalidOid;
bool changed_while_read = false;

// IsLeaf is a binary search of the partitions' OIDs: every archived row asks it (an archive
// table is never itself archived) with a few dozen partitions or more.
bool IsLeaf(const ArchiveTable* archive, Oid relid) {
  int low = 0, high = archive->leaf_oid_count - 1;
  while (low <= high) {
    int middle = (low + high) / 2;
    Oid oid = archive->leaf_oids[middle];
    if (oid == relid) return true;
    if (oid < relid)
      low = middle + 1;
    else
      high = middle - 1;
  }
  return false;
}

int CompareOids(const void* a, const void* b) {
  Oid left = *static_cast<const Oid*>(a), right = *static_cast<const Oid*>(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

// ReadRangeBound copies one bound of a range partition on the uuid id.
void ReadRangeBound(List* datums, bool* unbounded, uint8* bound, bool is_lower) {
  auto* datum = static_cast<PartitionRangeDatum*>(linitial(datums));
  *unbounded = datum->kind != PARTITION_RANGE_DATUM_VALUE;
  if (*unbounded) {
    if ((datum->kind == PARTITION_RANGE_DATUM_MINVALUE) != is_lower)
      elog(ERROR, "deleted_record: unexpected bound on a partition of the archive");
    return;
  }
  memcpy(bound, DatumGetUUIDP(castNode(Const, datum->value)->constvalue)->data, UUID_LEN);
}

int CompareLeaves(const void* a, const void* b) {
  const auto* left = static_cast<const ArchiveLeaf*>(a);
  const auto* right = static_cast<const ArchiveLeaf*>(b);
  if (left->from_min != right->from_min) return left->from_min ? -1 : 1;
  return memcmp(left->lower, right->lower, UUID_LEN);
}

// ReadPartitions fills the routing table from pg_inherits and pg_class.relpartbound, without
// locking the parent: each partition is locked when written to, and its bound cannot change
// while it is locked.
void ReadPartitions(ArchiveTable* archive) {
  List* children = find_inheritance_children(archive->relid, NoLock);
  archive->leaves = static_cast<ArchiveLeaf*>(palloc0(sizeof(ArchiveLeaf) * Max(list_length(children), 1)));
  ListCell* cell;
  foreach (cell, children) {
    Oid child = lfirst_oid(cell);
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
    if (!HeapTupleIsValid(tuple)) continue;  // dropped meanwhile
    bool isnull = false;
    Datum bound_text = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relpartbound, &isnull);
    char relkind = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relkind;
    if (isnull || relkind != RELKIND_RELATION) {
      ReleaseSysCache(tuple);
      ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                      errmsg("partition %u of the deleted_record archive is not a plain range partition", child),
                      errhint("The archive's partitions must be ordinary tables partitioned by range of id.")));
    }
    auto* spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(bound_text)));
    ReleaseSysCache(tuple);
    if (spec->is_default) {
      archive->default_leaf = static_cast<ArchiveLeaf*>(palloc0(sizeof(ArchiveLeaf)));
      archive->default_leaf->relid = child;
      continue;
    }
    ArchiveLeaf* leaf = &archive->leaves[archive->leaf_count++];
    leaf->relid = child;
    ReadRangeBound(spec->lowerdatums, &leaf->from_min, leaf->lower, true);
    ReadRangeBound(spec->upperdatums, &leaf->to_max, leaf->upper, false);
  }
  qsort(archive->leaves, archive->leaf_count, sizeof(ArchiveLeaf), CompareLeaves);
  archive->leaf_oids = static_cast<Oid*>(palloc(sizeof(Oid) * (archive->leaf_count + 1)));
  for (int i = 0; i < archive->leaf_count; ++i) archive->leaf_oids[archive->leaf_oid_count++] = archive->leaves[i].relid;
  if (archive->default_leaf != nullptr) archive->leaf_oids[archive->leaf_oid_count++] = archive->default_leaf->relid;
  qsort(archive->leaf_oids, archive->leaf_oid_count, sizeof(Oid), CompareOids);
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

bool IsOurColumn(const char* name) {
  for (int c = 0; c < kArchiveColumnCount; ++c)
    if (strcmp(name, kArchiveColumnNames[c]) == 0) return true;
  return false;
}

// ReadDefaults keeps the default expressions of columns a DBA added to the archive.
void ReadDefaults(Relation archive, ArchiveTable* resolved) {
  TupleDesc descriptor = RelationGetDescr(archive);
  resolved->default_attnums = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * Max(descriptor->natts, 1)));
  resolved->default_expressions = static_cast<Expr**>(palloc(sizeof(Expr*) * Max(descriptor->natts, 1)));
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped || attribute->attgenerated != '\0' || IsOurColumn(NameStr(attribute->attname))) continue;
    Node* expression = build_column_default(archive, attribute->attnum);
    if (expression == nullptr) continue;
    resolved->default_attnums[resolved->default_count] = attribute->attnum;
    resolved->default_expressions[resolved->default_count++] = reinterpret_cast<Expr*>(expression);
  }
}
}  // namespace

// ArchiveRowsNeedChecks is true when a row written into a relation of this shape must be checked: CHECK
// constraints, generated columns, or a NOT NULL column the trigger may leave empty.
bool ArchiveRowsNeedChecks(TupleDesc descriptor) {
  TupleConstr* constraints = descriptor->constr;
  if (constraints != nullptr && (constraints->num_check > 0 || constraints->has_generated_stored)) return true;
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (!attribute->attisdropped && attribute->attnotnull && !IsOurColumn(NameStr(attribute->attname))) return true;
  }
  return false;
}

ArchiveLeaf* RouteArchiveRow(const ArchiveTable* archive, const uint8* id) {
  int low = 0, high = archive->leaf_count - 1;
  while (low <= high) {
    int middle = (low + high) / 2;
    ArchiveLeaf* leaf = &archive->leaves[middle];
    if (!leaf->from_min && memcmp(id, leaf->lower, UUID_LEN) < 0)
      high = middle - 1;
    else if (!leaf->to_max && memcmp(id, leaf->upper, UUID_LEN) >= 0)
      low = middle + 1;
    else
      return leaf;
  }
  if (archive->default_leaf != nullptr) return archive->default_leaf;
  char text[UUID_LEN * 2 + 5];
  boundary::FormatUuid(id, text);
  ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                  errmsg("no partition of the deleted_record archive takes archive row %s", text),
                  errhint("Restore the archive's DEFAULT partition deleted_record_default.")));
  return nullptr;
}

extern "C" void ArchiveTableOnRelcacheChange(Datum arg, Oid relid) {
  if (!archive_valid) {
    // Nothing cached to forget, and archive_table's arrays may be freed already (a lookup under
    // way, or one that failed). A change to the archive while a lookup reads it (a partition
    // attached, say, which invalidates the parent) makes that lookup serve once and be redone.
    if (!OidIsValid(relid) || relid == archive_being_read) changed_while_read = true;
    return;
  }
  if (!OidIsValid(relid) || relid == archive_table.relid || IsLeaf(&archive_table, relid)) archive_valid = false;
}

const ArchiveTable* ResolveArchiveTable() {
  if (archive_valid) return &archive_table;
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
  archive_being_read = relid;
  changed_while_read = false;
  if (archive_context == nullptr)
    archive_context = AllocSetContextCreate(TopMemoryContext, "deleted_record archive table", ALLOCSET_SMALL_SIZES);
  ArchiveTable resolved = {};
  for (int c = 0; c < kArchiveColumnCount; ++c) {
    resolved.attnums[c] = get_attnum(relid, kArchiveColumnNames[c]);
    if (resolved.attnums[c] == InvalidAttrNumber && c < kRequiredColumnCount)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("the deleted_record table has no column \"%s\"", kArchiveColumnNames[c]),
                      errhint("The archive table's columns belong to the extension; do not drop or rename them.")));
  }
  resolved.xact_id_is_xid8 = get_atttype(relid, resolved.attnums[kXactId]) == XID8OID;
  // The parent's descriptor is read without a lock when partitioned (see ReadPartitions); its
  // shape cannot change without a lock on every partition, which writing waits for.
  resolved.relid = relid;
  resolved.schema = schema;
  resolved.insert_function = LookupFuncName(list_make2(makeString(get_namespace_name(schema)),
                                                       makeString(pstrdup("deleted_record_insert"))),
                                            0, nullptr, true);
  resolved.partitioned = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;
  Relation archive = relation_open(relid, resolved.partitioned ? NoLock : AccessShareLock);
  MemoryContextReset(archive_context);
  MemoryContext old = MemoryContextSwitchTo(archive_context);
  resolved.descriptor = CreateTupleDescCopy(RelationGetDescr(archive));
  // Rows are formed as anonymous records, not as values of the archive's row type: stored in a
  // partition's slot, a row typed as its parent makes servers that check composite types
  // (Debian's 15.20) look the parent's type up, locking the parent on every session's first write.
  resolved.descriptor->tdtypeid = RECORDOID;
  resolved.descriptor->tdtypmod = -1;
  ReadDefaults(archive, &resolved);
  resolved.needs_checks = !resolved.partitioned && ArchiveRowsNeedChecks(RelationGetDescr(archive));
  if (resolved.partitioned) ReadPartitions(&resolved);
  MemoryContextSwitchTo(old);
  relation_close(archive, resolved.partitioned ? NoLock : AccessShareLock);
  resolved.owner = owner;
  resolved.generation = ++archive_generation;
  archive_table = resolved;
  archive_being_read = InvalidOid;
  archive_valid = !changed_while_read;
  return &archive_table;
}

bool IsArchiveRelation(Oid relid) {
  const ArchiveTable* archive = ResolveArchiveTable();
  return relid == archive->relid || IsLeaf(archive, relid);
}

bool ArchiveTableIsCurrent() { return archive_valid; }

MemoryContext ArchiveTableMemory() { return archive_context; }

}  // namespace deleted_record::glue
