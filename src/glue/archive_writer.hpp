// Writing one row into the deleted_record table, found by OID through pg_extension.
#pragma once
#include "glue/row_to_jsonb.hpp"
#include "glue/settings.hpp"

namespace deleted_record::glue {

// ArchiveDeletedTuple archives one deleted tuple of rel: converts it as the current user,
// then inserts the archive row as the extension owner.
void ArchiveDeletedTuple(Relation rel, HeapTuple tuple);

// IsArchiveTable is true for the extension's own deleted_record table.
bool IsArchiveTable(Oid relid);

// NextUuid7Datum returns a fresh UUIDv7 as a uuid Datum.
Datum NextUuid7Datum();

// RegisterArchiveInvalidation forgets the archive table's OID when it changes or is dropped.
void RegisterArchiveInvalidation();

}  // namespace deleted_record::glue
