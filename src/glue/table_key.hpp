// The table key: what identifies a row of an attached table in the archive (object_id): its
// primary key (DEFERRABLE ones included), else its replica identity index, else nothing.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// TableKeyIndex returns the index of rel's key, or InvalidOid when it has none.
Oid TableKeyIndex(Relation rel);

}  // namespace deleted_record::glue
