// What Citus support hooks into: an executor hook that sends the deletion context to the workers
// before a distributed DELETE or MERGE (or refuses the statement where it cannot), an fmgr hook
// that lets create_distributed_table and friends distribute a table whose only triggers are
// ours and refuses distributing the archive, and the (sub)transaction callbacks of glue/citus/.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CheckCitusAttachPrerequisites raises an error when tables are attached in a Citus database
// while the library's hooks are not installed (it must be preloaded after citus).
void CheckCitusAttachPrerequisites();

// RegisterCitus installs the hooks a Citus cluster needs, when Citus was preloaded before this
// library (called from _PG_init), and the transaction callbacks in any case.
void RegisterCitus();

}  // namespace deleted_record::glue
