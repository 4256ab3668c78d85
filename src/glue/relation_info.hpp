// RelationArchiveInfo: what the trigger needs to know about a table, computed once per
// backend and rebuilt after any relcache change of the table or of its partition root.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ColumnKind says how one column becomes JSON. The direct kinds reproduce to_jsonb() for hot
// types without its per-row catalog lookups; ToJsonb calls to_jsonb() itself for everything else.
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
};

// ArrayElement describes the elements of a kArray column, for deconstruct_array.
struct ArrayElement {
  ColumnKind kind;
  Oid type;
  int16 length;
  bool by_value;
  char alignment;
};

struct ColumnConverter {
  AttrNumber attnum;
  ColumnKind kind;
  int key_position;  // position in the primary/replica-identity key, or -1
  ArrayElement element;
  JsonbValue key;    // the column name as a jsonb string
  FmgrInfo output;   // the type's output function (kOutputString and single-column keys)
  FmgrInfo to_jsonb; // to_jsonb() with a call expression typed as this column (kToJsonb)
};

struct RelationArchiveInfo {
  Oid relid;
  Oid root_relid;         // the partition root, or relid itself
  MemoryContext context;  // owns this struct and everything it points to
  Datum table_name;       // text: the partition root for partitions, else the table
  Datum schema_name;      // text
  Datum partition_name;   // text, when is_partition
  bool is_partition;
  char* qualified_name;   // for messages
  int column_count;
  ColumnConverter* columns;
  int key_count;          // 0 when the table has neither primary key nor replica identity index
  // Some column (or the key's text) renders differently under other TimeZone, DateStyle,
  // IntervalStyle, extra_float_digits or bytea_output: convert under the canonical settings.
  bool needs_canonical_settings;
};

// GetRelationArchiveInfo returns the cached info for rel, building it when missing or stale.
RelationArchiveInfo* GetRelationArchiveInfo(Relation rel);

// RegisterRelationInfoInvalidation hooks the cache to relcache and syscache invalidations.
void RegisterRelationInfoInvalidation();

}  // namespace deleted_record::glue
