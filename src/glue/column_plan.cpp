// Column classification: which kind of conversion each column gets, whether it is part of the
// key, whether its text depends on session settings, and the jsonb key order.
#include "glue/column_plan.hpp"

#include "glue/table_key.hpp"

namespace deleted_record::glue {

namespace {

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

// TypeList collects the types a plan depends on.
struct TypeList {
  int count;
  int capacity;
  Oid* types;
};

void Remember(TypeList* list, Oid type) {
  for (int i = 0; i < list->count; ++i)
    if (list->types[i] == type) return;
  if (list->count == list->capacity) {
    list->capacity = Max(8, list->capacity * 2);
    list->types = list->types == nullptr ? static_cast<Oid*>(palloc(sizeof(Oid) * list->capacity))
                                         : static_cast<Oid*>(repalloc(list->types, sizeof(Oid) * list->capacity));
  }
  list->types[list->count++] = type;
}

// ClassifyColumn decides how a column becomes JSON and whether that depends on settings.
// Key columns never use kArray, so that their converted value can be reused for object_id.
ColumnKind ClassifyColumn(Oid type, bool is_key, ArrayElement* element, bool* settings_sensitive, TypeList* types) {
  Oid base = getBaseType(type);
  Remember(types, type);
  Remember(types, base);
  *settings_sensitive = false;
  ColumnKind kind = DirectKind(base);
  if (kind != ColumnKind::kOutputString) return kind;

  Oid element_type = get_element_type(base);
  if (OidIsValid(element_type)) Remember(types, element_type);
  if (OidIsValid(element_type) && !is_key) {
    Oid element_base = getBaseType(element_type);
    Remember(types, element_base);
    ColumnKind element_kind = DirectKind(element_base);
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
void PrepareToJsonb(FmgrInfo* finfo, Form_pg_attribute attribute) {
  fmgr_info(F_TO_JSONB, finfo);
  Node* argument = reinterpret_cast<Node*>(
      makeNullConst(attribute->atttypid, attribute->atttypmod, attribute->attcollation));
  finfo->fn_expr = reinterpret_cast<Node*>(
      makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(argument), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
}

// CompareJsonbKeyOrder orders columns as jsonb orders object keys: by length, then bytes.
int CompareJsonbKeyOrder(const void* a, const void* b) {
  const JsonbValue& left = static_cast<const PlannedColumn*>(a)->key;
  const JsonbValue& right = static_cast<const PlannedColumn*>(b)->key;
  if (left.val.string.len != right.val.string.len) return left.val.string.len < right.val.string.len ? -1 : 1;
  return memcmp(left.val.string.val, right.val.string.val, left.val.string.len);
}


// KeyPositions sets key_position_of_attnum[attnum - 1] for each key column, -1 elsewhere,
// and returns the number of key columns.
int KeyPositions(Relation rel, int* key_position_of_attnum) {
  int natts = RelationGetDescr(rel)->natts;
  for (int i = 0; i < natts; ++i) key_position_of_attnum[i] = -1;
  Oid index_oid = TableKeyIndex(rel);
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

bool Listed(char* const* names, int count, const char* name) {
  for (int i = 0; i < count; ++i)
    if (strcmp(names[i], name) == 0) return true;
  return false;
}

// PolicyArray makes the text[] of a policy's column names.
Datum PolicyArray(char* const* names, int count) {
  Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * Max(count, 1)));
  for (int i = 0; i < count; ++i) elements[i] = CStringGetTextDatum(names[i]);
  return PointerGetDatum(construct_array(elements, count, TEXTOID, -1, false, TYPALIGN_INT));
}

// CheckPolicyColumns fails unless every column a policy names is a live, non-key column of rel.
void CheckPolicyColumns(Relation rel, char* const* names, int count, const int* key_position_of_attnum, const char* what) {
  for (int i = 0; i < count; ++i) {
    AttrNumber attnum = get_attnum(RelationGetRelid(rel), names[i]);
    if (attnum == InvalidAttrNumber)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("table \"%s\" has no column \"%s\", which it %s", RelationGetRelationName(rel), names[i], what),
                      errhint("Attach the table again with its current columns: SELECT deleted_record_attach(...).")));
    if (attnum > 0 && key_position_of_attnum[attnum - 1] >= 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("column \"%s\" of table \"%s\", which it %s, is part of its key now", names[i],
                             RelationGetRelationName(rel), what),
                      errhint("object_id is the key's value: attach the table again without that column.")));
  }
}

}  // namespace

void PlanColumns(Relation rel, const boundary::OptionLists* options, ColumnPlan* plan) {
  TupleDesc descriptor = RelationGetDescr(rel);
  int* key_position_of_attnum = static_cast<int*>(palloc(sizeof(int) * (descriptor->natts + 1)));
  TypeList types = {};
  memset(plan, 0, sizeof(ColumnPlan));
  plan->key_count = KeyPositions(rel, key_position_of_attnum);
  boundary::OptionLists none = {};
  if (options == nullptr) options = &none;
  CheckPolicyColumns(rel, options->exclude, options->exclude_count, key_position_of_attnum, "excludes from the archive");
  CheckPolicyColumns(rel, options->mask, options->mask_count, key_position_of_attnum, "masks");
  plan->columns = static_cast<PlannedColumn*>(palloc0(sizeof(PlannedColumn) * Max(descriptor->natts, 1)));
  bool any_sensitive = false;
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped || Listed(options->exclude, options->exclude_count, NameStr(attribute->attname)))
      continue;
    PlannedColumn* column = &plan->columns[plan->column_count++];
    column->attnum = attribute->attnum;
    column->key_position = key_position_of_attnum[i];
    column->key.type = jbvString;
    column->key.val.string.val = pstrdup(NameStr(attribute->attname));
    column->key.val.string.len = strlen(column->key.val.string.val);
    bool sensitive = false;
    column->kind =
        ClassifyColumn(attribute->atttypid, column->key_position >= 0, &column->element, &sensitive, &types);
    if (Listed(options->mask, options->mask_count, NameStr(attribute->attname))) {
      column->kind = ColumnKind::kMasked;  // the hash of the value's text output
      sensitive = !OutputIgnoresSettings(getBaseType(attribute->atttypid));
    }
    any_sensitive |= sensitive;
    if (plan->key_count == 1 && column->key_position == 0 && !OutputIgnoresSettings(getBaseType(attribute->atttypid)))
      any_sensitive = true;  // object_id is the key's text output
    Oid output_function;
    bool is_varlena;
    getTypeOutputInfo(attribute->atttypid, &output_function, &is_varlena);
    fmgr_info(output_function, &column->output);
    if (column->kind == ColumnKind::kToJsonb) PrepareToJsonb(&column->to_jsonb, attribute);
  }
  // jsonb stores object keys sorted (shorter first, then bytewise) and sorts every object it
  // builds; visiting the columns in that order makes the sort a single pass over sorted keys.
  qsort(plan->columns, plan->column_count, sizeof(PlannedColumn), CompareJsonbKeyOrder);
  plan->needs_canonical_settings = any_sensitive;
  plan->type_count = types.count;
  plan->types = types.types;
  plan->has_excluded = options->exclude_count > 0;
  plan->has_masked = options->mask_count > 0;
  if (plan->has_excluded) plan->excluded_columns = PolicyArray(options->exclude, options->exclude_count);
  if (plan->has_masked) plan->masked_columns = PolicyArray(options->mask, options->mask_count);
  pfree(key_position_of_attnum);
}

}  // namespace deleted_record::glue
