// Row -> jsonb by the column plan. Hot types are converted directly (no per-row catalog lookups,
// no SPI); everything else goes through to_jsonb() itself, so the JSON is PostgreSQL's own.
#include "glue/row_converter.hpp"

#include "glue/masking.hpp"

#include <cmath>

namespace deleted_record::glue {

namespace {

// CanonicalSettingsInEffect is true when no setting that changes text output differs from the
// canonical one, the common case, which then costs a few comparisons per row.
bool CanonicalSettingsInEffect() {
  return DateStyle == USE_ISO_DATES && IntervalStyle == INTSTYLE_POSTGRES && extra_float_digits > 0 &&
         bytea_output == BYTEA_OUTPUT_HEX && strcmp(pg_get_timezone_name(session_timezone), "UTC") == 0;
}

void SetForConversion(const char* name, const char* value) {
  (void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

// EnterCanonicalSettings switches the settings that differ, inside a GUC nest level that
// LeaveCanonicalSettings pops (an error pops it through transaction abort). Returns -1 when
// nothing had to change.
int EnterCanonicalSettings() {
  if (CanonicalSettingsInEffect()) return -1;
  int nest_level = NewGUCNestLevel();
  if (strcmp(pg_get_timezone_name(session_timezone), "UTC") != 0) SetForConversion("TimeZone", "UTC");
  if (DateStyle != USE_ISO_DATES) SetForConversion("DateStyle", "ISO");
  if (IntervalStyle != INTSTYLE_POSTGRES) SetForConversion("IntervalStyle", "postgres");
  if (extra_float_digits <= 0) SetForConversion("extra_float_digits", "1");
  if (bytea_output != BYTEA_OUTPUT_HEX) SetForConversion("bytea_output", "hex");
  return nest_level;
}

void LeaveCanonicalSettings(int nest_level) {
  if (nest_level >= 0) AtEOXact_GUC(true, nest_level);
}

void SetString(JsonbValue* value, char* text, size_t length) {
  if (length > JENTRY_OFFLENMASK)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("string too long to represent as jsonb string"),
                    errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
                              JENTRY_OFFLENMASK)));
  value->type = jbvString;
  value->val.string.val = text;
  value->val.string.len = static_cast<int>(length);
}

void SetCString(JsonbValue* value, char* text) { SetString(value, text, strlen(text)); }

// SetNumeric stores a number, or its text when it is NaN or infinite (JSON has no such numbers).
void SetNumeric(JsonbValue* value, Numeric number) {
  if (numeric_is_nan(number) || numeric_is_inf(number)) {
    SetCString(value, DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(number))));
    return;
  }
  value->type = jbvNumeric;
  value->val.numeric = number;
}

// SetFloat renders the shortest text that reads back exactly (what extra_float_digits >= 1 gives).
void SetFloat(JsonbValue* value, double number, bool is_float4) {
  char text[32];
  if (is_float4)
    float_to_shortest_decimal_buf(static_cast<float>(number), text);
  else
    double_to_shortest_decimal_buf(number, text);
  if (std::isnan(number) || std::isinf(number)) {
    SetCString(value, pstrdup(text));
    return;
  }
  value->type = jbvNumeric;
  value->val.numeric = DatumGetNumeric(
      DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

void ReadJsonbValue(JsonbIterator** iterator, JsonbValue* value);

// ReadJsonbContainer reads the container the iterator just began (begin: that token's value) as
// an in-memory tree, in stored order. A stored jsonb's object keys are already sorted and
// unique, so the tree is built without a parse state (pushJsonbValue would sort and de-duplicate
// every object again; it was half of a nested jsonb column's cost).
void ReadJsonbContainer(JsonbIterator** iterator, JsonbIteratorToken begin_token, const JsonbValue* begin,
                        JsonbValue* value) {
  check_stack_depth();
  JsonbValue token_value;
  if (begin_token == WJB_BEGIN_ARRAY) {
    int count = begin->val.array.nElems;
    value->type = jbvArray;
    value->val.array.rawScalar = begin->val.array.rawScalar;
    value->val.array.nElems = count;
    value->val.array.elems = static_cast<JsonbValue*>(palloc(sizeof(JsonbValue) * Max(count, 1)));
    for (int i = 0; i < count; ++i) ReadJsonbValue(iterator, &value->val.array.elems[i]);
    if (JsonbIteratorNext(iterator, &token_value, false) != WJB_END_ARRAY) elog(ERROR, "deleted_record: malformed jsonb array");
    return;
  }
  int count = begin->val.object.nPairs;
  value->type = jbvObject;
  value->val.object.nPairs = count;
  value->val.object.pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * Max(count, 1)));
  for (int i = 0; i < count; ++i) {
    JsonbPair* pair = &value->val.object.pairs[i];
    if (JsonbIteratorNext(iterator, &pair->key, false) != WJB_KEY) elog(ERROR, "deleted_record: malformed jsonb object");
    pair->order = i;
    ReadJsonbValue(iterator, &pair->value);
  }
  if (JsonbIteratorNext(iterator, &token_value, false) != WJB_END_OBJECT) elog(ERROR, "deleted_record: malformed jsonb object");
}

// ReadJsonbValue reads the next element or object value: a scalar as itself, a container as a tree.
void ReadJsonbValue(JsonbIterator** iterator, JsonbValue* value) {
  JsonbValue token_value;
  JsonbIteratorToken token = JsonbIteratorNext(iterator, &token_value, false);
  if (token == WJB_BEGIN_ARRAY || token == WJB_BEGIN_OBJECT)
    ReadJsonbContainer(iterator, token, &token_value, value);
  else if (token == WJB_ELEM || token == WJB_VALUE)
    *value = token_value;
  else
    elog(ERROR, "deleted_record: malformed jsonb");
}

// SetJsonb stores a jsonb document as an in-memory JsonbValue tree (scalars as themselves), the
// form JsonbValueToJsonb serializes; nested binary containers are not accepted there.
void SetJsonb(JsonbValue* value, Jsonb* document) {
  if (JB_ROOT_IS_SCALAR(document)) {
    if (!JsonbExtractScalar(&document->root, value)) elog(ERROR, "could not extract scalar from jsonb");
    return;
  }
  JsonbIterator* iterator = JsonbIteratorInit(&document->root);
  JsonbValue begin;
  JsonbIteratorToken token = JsonbIteratorNext(&iterator, &begin, false);
  ReadJsonbContainer(&iterator, token, &begin, value);
}

// ConvertDirect converts a value of one of the direct kinds (never kArray, kOutputString or kToJsonb).
void ConvertDirect(ColumnKind kind, Datum datum, JsonbValue* value) {
  switch (kind) {
    case ColumnKind::kBool:
      value->type = jbvBool;
      value->val.boolean = DatumGetBool(datum);
      return;
    case ColumnKind::kInt2:
      value->type = jbvNumeric;
      value->val.numeric = int64_to_numeric(DatumGetInt16(datum));
      return;
    case ColumnKind::kInt4:
      value->type = jbvNumeric;
      value->val.numeric = int64_to_numeric(DatumGetInt32(datum));
      return;
    case ColumnKind::kInt8:
      value->type = jbvNumeric;
      value->val.numeric = int64_to_numeric(DatumGetInt64(datum));
      return;
    case ColumnKind::kNumeric:
      SetNumeric(value, DatumGetNumeric(datum));
      return;
    case ColumnKind::kFloat4:
      SetFloat(value, DatumGetFloat4(datum), true);
      return;
    case ColumnKind::kFloat8:
      SetFloat(value, DatumGetFloat8(datum), false);
      return;
    case ColumnKind::kDate:
      SetCString(value, JsonEncodeDateTime(nullptr, datum, DATEOID, nullptr));
      return;
    case ColumnKind::kTimestamp:
      SetCString(value, JsonEncodeDateTime(nullptr, datum, TIMESTAMPOID, nullptr));
      return;
    case ColumnKind::kTimestampTz: {
      const int utc_offset = 0;
      SetCString(value, JsonEncodeDateTime(nullptr, datum, TIMESTAMPTZOID, &utc_offset));
      return;
    }
    case ColumnKind::kText: {
      text* string = DatumGetTextPP(datum);
      SetString(value, VARDATA_ANY(string), VARSIZE_ANY_EXHDR(string));
      return;
    }
    case ColumnKind::kUuid: {
      char* text = static_cast<char*>(palloc(UUID_LEN * 2 + 5));
      boundary::FormatUuid(DatumGetUUIDP(datum)->data, text);
      SetString(value, text, UUID_LEN * 2 + 4);
      return;
    }
    case ColumnKind::kJsonb:
      SetJsonb(value, DatumGetJsonbP(datum));
      return;
    case ColumnKind::kArray:
    case ColumnKind::kOutputString:
    case ColumnKind::kToJsonb:
    case ColumnKind::kMasked:
      break;
  }
  elog(ERROR, "deleted_record: unexpected column kind %d", static_cast<int>(kind));
}

// BuildArrayDimension builds one dimension of an array as a JSON array, nesting as to_jsonb does.
void BuildArrayDimension(const ArrayElement* element, int dimension, int dimensions, const int* lengths,
                         const Datum* values, const bool* nulls, int* next, JsonbValue* result) {
  int count = lengths[dimension];
  result->type = jbvArray;
  result->val.array.rawScalar = false;
  result->val.array.nElems = count;
  result->val.array.elems = static_cast<JsonbValue*>(palloc(sizeof(JsonbValue) * count));
  for (int i = 0; i < count; ++i) {
    JsonbValue* item = &result->val.array.elems[i];
    if (dimension + 1 < dimensions) {
      BuildArrayDimension(element, dimension + 1, dimensions, lengths, values, nulls, next, item);
      continue;
    }
    if (nulls[*next])
      item->type = jbvNull;
    else
      ConvertDirect(element->kind, values[*next], item);
    (*next)++;
  }
}

void SetArray(JsonbValue* value, const ArrayElement* element, Datum datum) {
  ArrayType* array = DatumGetArrayTypeP(datum);
  int dimensions = ARR_NDIM(array);
  int* lengths = ARR_DIMS(array);
  if (ArrayGetNItems(dimensions, lengths) <= 0) {
    value->type = jbvArray;
    value->val.array.rawScalar = false;
    value->val.array.nElems = 0;
    value->val.array.elems = nullptr;
    return;
  }
  Datum* values;
  bool* nulls;
  int count;
  deconstruct_array(array, element->type, element->length, element->by_value, element->alignment, &values, &nulls,
                    &count);
  int next = 0;
  BuildArrayDimension(element, 0, dimensions, lengths, values, nulls, &next, value);
}

// ConvertColumn converts one column's value into *value.
void ConvertColumn(PlannedColumn* column, Datum datum, bool is_null, JsonbValue* value) {
  if (is_null)
    value->type = jbvNull;
  else if (column->kind == ColumnKind::kArray)
    SetArray(value, &column->element, datum);
  else if (column->kind == ColumnKind::kOutputString)
    SetCString(value, OutputFunctionCall(&column->output, datum));
  else if (column->kind == ColumnKind::kToJsonb)
    SetJsonb(value, DatumGetJsonbP(FunctionCall1(&column->to_jsonb, datum)));
  else if (column->kind == ColumnKind::kMasked) {
    char* text = OutputFunctionCall(&column->output, datum);
    SetCString(value, MaskedForm(text, strlen(text)));
  }
  else
    ConvertDirect(column->kind, datum, value);
}

// KeyText renders object_id: the key's text output, or a JSON array for composite keys.
void KeyText(const ColumnPlan* plan, const Datum* values, const bool* nulls, PlannedColumn* const* key_columns,
             const JsonbValue* key_values, ConvertedRow* result) {
  result->object_id_is_null = true;
  if (plan->key_count == 0) return;
  if (plan->key_count == 1) {
    PlannedColumn* column = key_columns[0];
    if (column == nullptr || nulls[column->attnum - 1]) return;
    const JsonbValue* converted = &key_values[0];
    // Text and uuid keys: the JSON string already is the text output.
    if (column->kind == ColumnKind::kText || column->kind == ColumnKind::kUuid)
      result->object_id = PointerGetDatum(cstring_to_text_with_len(converted->val.string.val, converted->val.string.len));
    else
      result->object_id = CStringGetTextDatum(OutputFunctionCall(&column->output, values[column->attnum - 1]));
    result->object_id_is_null = false;
    return;
  }
  JsonbValue key_array;
  key_array.type = jbvArray;
  key_array.val.array.rawScalar = false;
  key_array.val.array.nElems = plan->key_count;
  key_array.val.array.elems = const_cast<JsonbValue*>(key_values);
  Jsonb* array = JsonbValueToJsonb(&key_array);
  result->object_id = CStringGetTextDatum(JsonbToCString(nullptr, &array->root, VARSIZE(array)));
  result->object_id_is_null = false;
}

}  // namespace

void ConvertRow(const ColumnPlan* plan, HeapTuple tuple, TupleDesc descriptor, ConvertedRow* result) {
  int attribute_count = descriptor->natts;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * attribute_count));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * attribute_count));
  heap_deform_tuple(tuple, descriptor, values, nulls);
  JsonbValue key_values[INDEX_MAX_KEYS];
  PlannedColumn* key_columns[INDEX_MAX_KEYS] = {};

  int nest_level = plan->needs_canonical_settings ? EnterCanonicalSettings() : -1;
  // The columns are already in jsonb key order with unique names, so the object is built as a
  // JsonbValue directly and serialized once, with no parse state and no key sort.
  JsonbValue object;
  object.type = jbvObject;
  object.val.object.nPairs = plan->column_count;
  object.val.object.pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * Max(plan->column_count, 1)));
  for (int c = 0; c < plan->column_count; ++c) {
    PlannedColumn* column = &plan->columns[c];
    int index = column->attnum - 1;
    JsonbPair* pair = &object.val.object.pairs[c];
    pair->key = column->key;
    pair->order = c;
    ConvertColumn(column, values[index], nulls[index], &pair->value);
    if (column->key_position >= 0) {
      key_values[column->key_position] = pair->value;
      key_columns[column->key_position] = column;
    }
  }
  result->data = JsonbPGetDatum(JsonbValueToJsonb(&object));
  KeyText(plan, values, nulls, key_columns, key_values, result);
  LeaveCanonicalSettings(nest_level);
}

}  // namespace deleted_record::glue
