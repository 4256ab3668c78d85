// The per-backend cache of RelationArchiveInfo, keyed by relation OID. Invalidation callbacks
// only clear flags (they can run at any time); rebuilding happens at the next delete. A
// rebuilt entry replaces the old one only once complete, and the old memory is kept until the
// transaction ends, since an outer trigger call may still be using it.
#include "glue/relation_info.hpp"

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

void InvalidateAll() {
  if (relation_cache == nullptr) return;
  HASH_SEQ_STATUS status;
  hash_seq_init(&status, relation_cache);
  while (CacheEntry* entry = static_cast<CacheEntry*>(hash_seq_search(&status))) entry->valid = false;
}

void OnRelcacheInvalidation(Datum arg, Oid relid) {
  if (relation_cache == nullptr) return;
  if (!OidIsValid(relid)) {
    InvalidateAll();
    return;
  }
  // A change to a partition root (a rename, say) must also refresh its partitions' entries;
  // the cache holds only the tables this backend deleted from, so a scan is cheap.
  HASH_SEQ_STATUS status;
  hash_seq_init(&status, relation_cache);
  while (CacheEntry* entry = static_cast<CacheEntry*>(hash_seq_search(&status))) {
    if (entry->relid == relid || entry->info == nullptr || entry->info->root_relid == relid) entry->valid = false;
  }
}

void OnSyscacheInvalidation(Datum arg, int cache_id, uint32 hash_value) { InvalidateAll(); }

void OnTransactionEnd(XactEvent event, void* arg) {
  if (retired_context != nullptr && (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
                                     event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT))
    MemoryContextReset(retired_context);
}

// OutputIgnoresSettings is true for types whose text output no session setting changes.
bool OutputIgnoresSettings(Oid base_type) {
  switch (base_type) {
    case BOOLOID: case INT2OID: case INT4OID: case INT8OID: case NUMERICOID: case OIDOID:
    case TEXTOID: case VARCHAROID: case BPCHAROID: case NAMEOID: case CHAROID: case UUIDOID:
    case JSONOID: case JSONBOID: case INETOID: case CIDROID: case MACADDROID: case MACADDR8OID:
    case BITOID: case VARBITOID: case TSVECTOROID: case TSQUERYOID: case XMLOID:
      return true;
    default:
      return false;
  }
}

// ToJsonbIgnoresSettings is true when to_jsonb() of the type cannot depend on session settings.
bool ToJsonbIgnoresSettings(Oid base_type) {
  switch (base_type) {
    case DATEOID: case TIMESTAMPOID:  // to_jsonb renders these in XSD form whatever DateStyle says
      return true;
    default:
      break;
  }
  if (OutputIgnoresSettings(base_type)) return true;
  Oid element = get_element_type(base_type);
  return OidIsValid(element) && ToJsonbIgnoresSettings(getBaseType(element));
}

// HasCastToJson mirrors to_jsonb(): user-defined types with an explicit cast to json use it.
bool HasCastToJson(Oid base_type) {
  if (base_type < FirstNormalObjectId) return false;
  Oid cast_function = InvalidOid;
  return find_coercion_pathway(JSONOID, base_type, COERCION_EXPLICIT, &cast_function) == COERCION_PATH_FUNC &&
         OidIsValid(cast_function);
}

// DirectKind is the kind for types converted without to_jsonb(), or kOutputString.
ColumnKind DirectKind(Oid base_type) {
  switch (base_type) {
    case BOOLOID: return ColumnKind::kBool;
    case INT2OID: return ColumnKind::kInt2;
    case INT4OID: return ColumnKind::kInt4;
    case INT8OID: return ColumnKind::kInt8;
    case NUMERICOID: return ColumnKind::kNumeric;
    case FLOAT4OID: return ColumnKind::kFloat4;  // rendered shortest-exact, whatever extra_float_digits
    case FLOAT8OID: return ColumnKind::kFloat8;
    case DATEOID: return ColumnKind::kDate;
    case TIMESTAMPOID: return ColumnKind::kTimestamp;
    case TIMESTAMPTZOID: return ColumnKind::kTimestampTz;  // rendered in UTC, whatever TimeZone
    case TEXTOID: case VARCHAROID: case BPCHAROID: return ColumnKind::kText;
    case UUIDOID: return ColumnKind::kUuid;
    case JSONBOID: return ColumnKind::kJsonb;
    default: return ColumnKind::kOutputString;
  }
}

// ClassifyColumn decides how a column becomes JSON and whether that depends on settings.
// Key columns never use kArray, so that their converted value can be reused for object_id.
ColumnKind ClassifyColumn(Oid type, bool is_key, ArrayElement* element, bool* settings_sensitive) {
  Oid base = getBaseType(type);
  *settings_sensitive = false;
  ColumnKind kind = DirectKind(base);
  if (kind != ColumnKind::kOutputString) return kind;

  Oid element_type = get_element_type(base);
  if (OidIsValid(element_type) && !is_key) {
    ColumnKind element_kind = DirectKind(getBaseType(element_type));
    if (element_kind != ColumnKind::kOutputString) {
      element->kind = element_kind;
      element->type = element_type;
      get_typlenbyvalalign(element_type, &element->length, &element->by_value, &element->alignment);
      return ColumnKind::kArray;
    }
  }
  bool is_container = OidIsValid(element_type) || type_is_rowtype(base);
  if (base == JSONOID || is_container || HasCastToJson(base)) {
    *settings_sensitive = !ToJsonbIgnoresSettings(base);
    return ColumnKind::kToJsonb;
  }
  *settings_sensitive = !OutputIgnoresSettings(base);
  return ColumnKind::kOutputString;
}

// PrepareToJsonb sets up to_jsonb() for one column type: it reads its argument type from the
// call expression, so the FmgrInfo carries a FuncExpr whose argument has the column's type.
void PrepareToJsonb(FmgrInfo* finfo, Form_pg_attribute attribute, MemoryContext context) {
  fmgr_info_cxt(F_TO_JSONB, finfo, context);
  MemoryContext old = MemoryContextSwitchTo(context);
  Node* argument = reinterpret_cast<Node*>(
      makeNullConst(attribute->atttypid, attribute->atttypmod, attribute->attcollation));
  finfo->fn_expr = reinterpret_cast<Node*>(
      makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(argument), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
  MemoryContextSwitchTo(old);
}

// CompareJsonbKeyOrder orders columns as jsonb orders object keys: by length, then bytes.
int CompareJsonbKeyOrder(const void* a, const void* b) {
  const JsonbValue& left = static_cast<const ColumnConverter*>(a)->key;
  const JsonbValue& right = static_cast<const ColumnConverter*>(b)->key;
  if (left.val.string.len != right.val.string.len) return left.val.string.len < right.val.string.len ? -1 : 1;
  return memcmp(left.val.string.val, right.val.string.val, left.val.string.len);
}

// KeyIndex returns the primary key, else the replica identity index, else InvalidOid.
Oid KeyIndex(Relation rel) {
  Oid index_oid = RelationGetPrimaryKeyIndex(rel);
  return OidIsValid(index_oid) ? index_oid : RelationGetReplicaIndex(rel);
}

// KeyPositions sets key_position_of_attnum[attnum - 1] for each key column, -1 elsewhere,
// and returns the number of key columns.
int KeyPositions(Relation rel, int* key_position_of_attnum) {
  int natts = RelationGetDescr(rel)->natts;
  for (int i = 0; i < natts; ++i) key_position_of_attnum[i] = -1;
  Oid index_oid = KeyIndex(rel);
  if (!OidIsValid(index_oid)) return 0;
  Relation index = index_open(index_oid, AccessShareLock);
  int key_count = IndexRelationGetNumberOfKeyAttributes(index);
  for (int i = 0; i < key_count; ++i) {
    AttrNumber attnum = index->rd_index->indkey.values[i];
    if (attnum > 0) key_position_of_attnum[attnum - 1] = i;  // expressions cannot be keys here
  }
  index_close(index, AccessShareLock);
  return key_count;
}

// BuildRelationArchiveInfo computes everything in a fresh memory context under the caller's
// context, so an error halfway frees it; the caller adopts it into the cache on success.
RelationArchiveInfo* BuildRelationArchiveInfo(Relation rel) {
  MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "deleted_record relation", ALLOCSET_SMALL_SIZES);
  MemoryContext old = MemoryContextSwitchTo(context);
  RelationArchiveInfo* info = static_cast<RelationArchiveInfo*>(palloc0(sizeof(RelationArchiveInfo)));
  info->relid = RelationGetRelid(rel);
  info->context = context;

  Oid root = info->relid;
  info->is_partition = rel->rd_rel->relispartition;
  if (info->is_partition) {
    List* ancestors = get_partition_ancestors(info->relid);
    root = llast_oid(ancestors);
    list_free(ancestors);
    info->partition_name = CStringGetTextDatum(RelationGetRelationName(rel));
  }
  info->root_relid = root;
  char* root_name = get_rel_name(root);
  char* schema = get_namespace_name(get_rel_namespace(root));
  if (root_name == nullptr || schema == nullptr) elog(ERROR, "cache lookup failed for partition root %u", root);
  info->table_name = CStringGetTextDatum(root_name);
  info->schema_name = CStringGetTextDatum(schema);
  info->qualified_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                    RelationGetRelationName(rel));

  TupleDesc descriptor = RelationGetDescr(rel);
  int* key_position_of_attnum = static_cast<int*>(palloc(sizeof(int) * (descriptor->natts + 1)));
  info->key_count = KeyPositions(rel, key_position_of_attnum);
  info->columns = static_cast<ColumnConverter*>(palloc0(sizeof(ColumnConverter) * descriptor->natts));
  bool any_sensitive = false;
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped) continue;
    ColumnConverter* column = &info->columns[info->column_count++];
    column->attnum = attribute->attnum;
    column->key_position = key_position_of_attnum[i];
    column->key.type = jbvString;
    column->key.val.string.val = pstrdup(NameStr(attribute->attname));
    column->key.val.string.len = strlen(column->key.val.string.val);
    bool sensitive = false;
    column->kind = ClassifyColumn(attribute->atttypid, column->key_position >= 0, &column->element, &sensitive);
    any_sensitive |= sensitive;
    if (info->key_count == 1 && column->key_position == 0 && !OutputIgnoresSettings(getBaseType(attribute->atttypid)))
      any_sensitive = true;  // object_id is the key's text output
    Oid output_function;
    bool is_varlena;
    getTypeOutputInfo(attribute->atttypid, &output_function, &is_varlena);
    fmgr_info_cxt(output_function, &column->output, context);
    if (column->kind == ColumnKind::kToJsonb) PrepareToJsonb(&column->to_jsonb, attribute, context);
  }
  // jsonb stores object keys sorted (shorter first, then bytewise) and sorts every object it
  // builds; visiting the columns in that order makes the sort a single pass over sorted keys.
  qsort(info->columns, info->column_count, sizeof(ColumnConverter), CompareJsonbKeyOrder);
  info->needs_canonical_settings = any_sensitive;
  pfree(key_position_of_attnum);
  MemoryContextSwitchTo(old);
  return info;
}

}  // namespace

RelationArchiveInfo* GetRelationArchiveInfo(Relation rel) {
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

void RegisterRelationInfoInvalidation() {
  CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum) 0);
  CacheRegisterSyscacheCallback(NAMESPACEOID, OnSyscacheInvalidation, (Datum) 0);  // schema renames
  CacheRegisterSyscacheCallback(TYPEOID, OnSyscacheInvalidation, (Datum) 0);       // type changes
  CacheRegisterSyscacheCallback(CASTSOURCETARGET, OnSyscacheInvalidation, (Datum) 0);  // new casts to json
  RegisterXactCallback(OnTransactionEnd, nullptr);
}

}  // namespace deleted_record::glue
