// The capture pipeline, top to bottom. Each step lives in its own file:
//   relation_cache (names, root, column plan) -> settings (who and why) -> row_converter (jsonb,
//   object_id) -> archive_row (the archive's column values) -> archive_buffer (written later by
//   archive_writer, as the extension owner).
#include "glue/capture.hpp"

#include "glue/archive_buffer.hpp"
#include "glue/archive_row.hpp"
#include "glue/import.hpp"

namespace deleted_record::glue {

void CaptureDeletedRow(Relation rel, HeapTuple tuple) {
  RelationArchiveInfo* info = LookupRelationArchiveInfo(rel);
  // Another placement of this replicated shard (a Citus reference table's) archives the row.
  if (!info->citus.archive_here) return;

  // An import from soft deletion stamps its rows with their own actor and reason (when it was
  // given expressions for them): those count for require_context.
  SuppliedContext supplied = {false, false};
  if (ImportStampsActive()) supplied = ImportStampSupplies(rel, tuple);
  DeletionContext context;
  ReadDeletionContext(info->qualified_name, supplied, &context);

  ConvertedRow row;
  ConvertRow(&info->columns, tuple, RelationGetDescr(rel), &row);

  const ArchiveTable* target = ResolveArchiveTable();
  int attribute_count = target->descriptor->natts;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * attribute_count));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * attribute_count));
  AssembleArchiveRow(target, info, &row, &context, values, nulls);
  // An import from soft deletion gives the row its own deletion time, actor and reason.
  if (ImportStampsActive()) ApplyImportStamp(rel, tuple, target, values, nulls);

  BufferArchiveRow(target, values, nulls);
}

}  // namespace deleted_record::glue
