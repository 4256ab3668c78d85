// The column plan: how each live column of a table becomes a key/value of the archived jsonb,
// decided once per table (per backend) from the catalog, so the per-row work is a switch.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ColumnKind says how one column becomes JSON. The direct kinds reproduce to_jsonb() for hot
// types without its per-row catalog lookups; kToJsonb calls to_jsonb() itself for everything else.
enum class ColumnKind : uint8 {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kNumeric,
  kFloat4,
  kFloat8,
  kDate,
  kTimestamp,
  kTimestampTz,
  kText,
  kUuid,
  kJsonb,
  kArray,         // an array whose elements have one of the kinds above
  kOutputString,  // the type's output function, as a JSON string
  kToJsonb,       // other arrays, composites, json, user types with casts to json
  kMasked,        // mask_columns: the keyed hash of the value's text, as a JSON string
};

// ArrayElement describes the elements of a kArray column, for deconstruct_array.
struct ArrayElement {
  ColumnKind kind;
  Oid type;
  int16 length;
  bool by_value;
  char alignment;
};

struct PlannedColumn {
  AttrNumber attnum;
  ColumnKind kind;
  int key_position;   // position in the primary/replica-identity key, or -1
  ArrayElement element;
  JsonbValue key;     // the column name as a jsonb string
  FmgrInfo output;    // the type's output function (kOutputString and single-column keys)
  FmgrInfo to_jsonb;  // to_jsonb() with a call expression typed as this column (kToJsonb)
};

struct ColumnPlan {
  int column_count;
  PlannedColumn* columns;  // in jsonb key order (by name length, then bytes)
  int key_count;           // 0 when the table has neither primary key nor replica identity index
  // Some column (or the key's text) renders differently under other TimeZone, DateStyle,
  // IntervalStyle, extra_float_digits or bytea_output: convert under the canonical settings.
  bool needs_canonical_settings;
  // Every type the decisions depend on (column types, their base and element types), so that
  // only a change of one of them, not of any type, makes the plan stale.
  int type_count;
  Oid* types;
  // The column policies (attachment options), recorded in each archive row.
  Datum excluded_columns;  // text[], when any column is excluded
  Datum masked_columns;    // text[], when any column is masked
  bool has_excluded;
  bool has_masked;
};

// PlanColumns builds the plan for rel's live columns in CurrentMemoryContext. options (may be
// null) are the table's attachment options: excluded columns are left out, masked ones hashed.
// A policy naming a column the table no longer has, or a key column, is an error: the archive
// must never receive a value it was told to keep out.
void PlanColumns(Relation rel, const boundary::OptionLists* options, ColumnPlan* plan);

}  // namespace deleted_record::glue
