// Writing archive rows into the deleted_record table, found by OID through pg_extension.
#pragma once
#include "glue/row_to_jsonb.hpp"
#include "glue/settings.hpp"

namespace deleted_record::glue {

// ArchiveDeletedTuple archives one deleted tuple of rel: converts it as the current user and
// buffers the archive row, which FlushArchiveBuffer writes as the extension owner.
void ArchiveDeletedTuple(Relation rel, HeapTuple tuple);

// FlushArchiveBuffer writes the buffered archive rows; it runs at the end of every statement.
void FlushArchiveBuffer();

// RunArchiveBatch runs body(argument), buffering the rows it archives, then flushes them.
void RunArchiveBatch(void (*body)(void*), void* argument);

// IsArchiveTable is true for the extension's own deleted_record table.
bool IsArchiveTable(Oid relid);

// NextUuid7Datum returns a fresh UUIDv7 as a uuid Datum.
Datum NextUuid7Datum();

// RegisterArchiveWriter installs the statement-end flush, the transaction callbacks, and the
// invalidation that forgets the archive table's OID when it changes or is dropped.
void RegisterArchiveWriter();

}  // namespace deleted_record::glue
