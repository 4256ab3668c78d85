// The archive writer: archive rows into the archive's heap and every index, as the extension owner.
#pragma once
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

// WriteArchiveRows inserts tuples (formed with the archive's descriptor) into the archive and
// every index of it, as the extension owner. Tuples are not freed.
void WriteArchiveRows(HeapTuple* tuples, int count);

}  // namespace deleted_record::glue
