// Erasure of archive rows (a data subject's, say): the rows go, a tombstone per row stays in
// deleted_record_erasure with who erased it, when and why, but no data.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// EraseArchiveRows erases the archive rows with the given ids (duplicates count once) and
// returns how many went. Every id must be an archive row; reason must not be blank. The work
// runs as the extension owner, recording the calling role as erased_by.
int64 EraseArchiveRows(ArrayType* archive_ids, text* reason);

}  // namespace deleted_record::glue
