// The converter: a deleted tuple becomes the archive's jsonb and object_id, exactly as to_jsonb()
// renders the row under the canonical settings (TimeZone UTC, DateStyle ISO, IntervalStyle
// postgres, extra_float_digits >= 1, bytea_output hex), whatever the deleting session uses.
#pragma once
#include "glue/column_plan.hpp"

namespace deleted_record::glue {

struct ConvertedRow {
  Datum data;       // jsonb
  Datum object_id;  // text
  bool object_id_is_null;
};

// ConvertRow renders tuple by plan. It runs as the current (deleting) user: output functions and
// casts to json of column types never run with the archive owner's rights.
void ConvertRow(const ColumnPlan* plan, HeapTuple tuple, TupleDesc descriptor, ConvertedRow* result);

}  // namespace deleted_record::glue
