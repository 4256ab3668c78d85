// Row -> jsonb. Hot types are converted directly (no per-row catalog lookups, no SPI);
// everything else goes through to_jsonb() itself, so the JSON is PostgreSQL's own.
#include "glue/row_to_jsonb.hpp"

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

// SetJsonb stores a jsonb document: scalars as themselves, containers as binary, which
// pushJsonbValue unpacks into the enclosing object.
void SetJsonb(JsonbValue* value, Jsonb* document) {
  if (JB_ROOT_IS_SCALAR(document)) {
    if (!JsonbExtractScalar(&document->root, value)) elog(ERROR, "could not extract scalar from jsonb");
    return;
  }
  value->type = jbvBinary;
  value->val.binary.data = &document->root;
  value->val.binary.len = VARSIZE(document) - VARHDRSZ;
}

void ConvertColumn(ColumnConverter* column, Datum datum, bool is_null, JsonbValue* value) {
  if (is_null) {
    value->type = jbvNull;
    return;
  }
  switch (column->kind) {
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
    case ColumnKind::kJsonb:
      SetJsonb(value, DatumGetJsonbP(datum));
      return;
    case ColumnKind::kOutputString:
      SetCString(value, OutputFunctionCall(&column->output, datum));
      return;
    case ColumnKind::kToJsonb:
      SetJsonb(value, DatumGetJsonbP(FunctionCall1(&column->to_jsonb, datum)));
      return;
  }
}

// KeyText renders object_id: the key's text output, or a JSON array for composite keys.
void KeyText(const RelationArchiveInfo* info, const Datum* values, const bool* nulls, const JsonbValue* converted,
             ConvertedRow* result) {
  result->object_id_is_null = true;
  if (info->key_count == 0) return;
  if (info->key_count == 1) {
    ColumnConverter* column = &info->columns[info->key_columns[0]];
    int index = column->attnum - 1;
    if (nulls[index]) return;
    result->object_id = CStringGetTextDatum(OutputFunctionCall(&column->output, values[index]));
    result->object_id_is_null = false;
    return;
  }
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
  for (int k = 0; k < info->key_count; ++k) {
    JsonbValue element = converted[info->key_columns[k]];
    pushJsonbValue(&state, WJB_ELEM, &element);
  }
  Jsonb* array = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, nullptr));
  result->object_id = CStringGetTextDatum(JsonbToCString(nullptr, &array->root, VARSIZE(array)));
  result->object_id_is_null = false;
}

}  // namespace

void ConvertRow(const RelationArchiveInfo* info, HeapTuple tuple, TupleDesc descriptor, ConvertedRow* result) {
  int attribute_count = descriptor->natts;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * attribute_count));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * attribute_count));
  heap_deform_tuple(tuple, descriptor, values, nulls);
  // Composite keys reuse the converted values of their columns.
  JsonbValue* converted =
      info->key_count > 1 ? static_cast<JsonbValue*>(palloc(sizeof(JsonbValue) * info->column_count)) : nullptr;

  int nest_level = info->needs_canonical_settings ? EnterCanonicalSettings() : -1;
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int c = 0; c < info->column_count; ++c) {
    ColumnConverter* column = &info->columns[c];
    int index = column->attnum - 1;
    JsonbValue value;
    ConvertColumn(column, values[index], nulls[index], &value);
    pushJsonbValue(&state, WJB_KEY, &column->key);
    pushJsonbValue(&state, WJB_VALUE, &value);
    if (converted != nullptr) converted[c] = value;
  }
  JsonbValue* object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
  result->data = JsonbPGetDatum(JsonbValueToJsonb(object));
  KeyText(info, values, nulls, converted, result);
  LeaveCanonicalSettings(nest_level);
}

}  // namespace deleted_record::glue
