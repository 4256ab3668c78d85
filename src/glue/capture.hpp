// The capture pipeline: one deleted row in, one buffered archive row out.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CaptureDeletedRow archives tuple, just deleted from rel: relation facts from the cache, the
// deletion context from the settings, the row as jsonb (converted as the deleting user), the
// archive row assembled and buffered for the writer (which writes as the extension owner).
void CaptureDeletedRow(Relation rel, HeapTuple tuple);

}  // namespace deleted_record::glue
