// Assembling one archive row: the converted row, the deletion context, the ids, the times and
// the roles, placed at the archive's column positions.
#pragma once
#include "glue/archive_table.hpp"
#include "glue/deletion_context.hpp"
#include "glue/relation_cache.hpp"
#include "glue/row_converter.hpp"

namespace deleted_record::glue {

// AssembleArchiveRow fills values/nulls (one entry per attribute of target->descriptor).
void AssembleArchiveRow(const ArchiveTable* target, const RelationArchiveInfo* info, const ConvertedRow* row,
                        const DeletionContext* context, Datum* values, bool* nulls);

// NextUuid7Datum returns a fresh UUIDv7 as a uuid Datum.
Datum NextUuid7Datum();

// ArchiveRowOnRoleChange forgets cached role names when roles change (a syscache callback).
extern "C" void ArchiveRowOnRoleChange(Datum arg, int cache_id, uint32 hash_value);

}  // namespace deleted_record::glue
