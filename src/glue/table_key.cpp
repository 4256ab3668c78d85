// The table key rule, in one place: column planning (object_id at capture) and attachment
// checks (key columns cannot be excluded or masked) both ask here.
#include "glue/table_key.hpp"

namespace deleted_record::glue {

Oid TableKeyIndex(Relation rel) {
  Oid index_oid = compat::PrimaryKeyIndex(rel);
  return OidIsValid(index_oid) ? index_oid : RelationGetReplicaIndex(rel);
}

}  // namespace deleted_record::glue
