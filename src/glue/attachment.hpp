// An attached table's options (retention, excluded and masked columns), kept as its archive
// trigger's argument: checked when attaching, read when planning columns, and kept in step with
// column renames and drops.
#pragma once
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

// BuildAttachmentArgument checks the options against the table (by OID) and returns the
// archive trigger's argument (palloc'd), or null when there are no options.
char* BuildAttachmentArgument(Oid relid, const Interval* retention, ArrayType* exclude, ArrayType* mask);

// ArchiveTriggerArgument is the argument of the trigger that archives rel's rows (the first,
// in firing order, without a WHEN condition), or null when it has none.
const char* ArchiveTriggerArgument(Relation rel, const ArchiveTable* archive);

// FollowColumnChanges rewrites the options of a table whose columns were renamed or dropped
// (the deleted_record_follow_columns event trigger).
void FollowColumnChanges(EventTriggerData* event);

}  // namespace deleted_record::glue
