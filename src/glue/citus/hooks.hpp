// What Citus support hooks into: an executor hook that sends the deletion context to the workers
// before a distributed DELETE or MERGE (or refuses the statement where it cannot, or where the
// current role is not the login role), a planner hook and the executor hook that check calls of
// distributed functions Citus delegates (also in FROM clauses, subqueries and cached plans), a
// utility hook for TRUNCATE of shards (shard_truncate.hpp) and for statements that make Citus
// copy our triggers, an fmgr hook that lets create_distributed_table and friends (the schema
// functions too) distribute a table whose only triggers are ours and refuses distributing the
// archive, the TRUNCATE guard's delegate, and the (sub)transaction callbacks of glue/citus/.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CheckCitusAttachPrerequisites raises an error when tables are attached in a Citus database
// while the library's hooks are not installed (it must be preloaded after citus).
void CheckCitusAttachPrerequisites();

// RegisterCitus installs the hooks a Citus cluster needs, when Citus was preloaded before this
// library (called from _PG_init); in any case it defines deleted_record_citus.converting (a
// superuser-only setting), registers the TRUNCATE guard's delegate and the transaction callbacks.
void RegisterCitus();

}  // namespace deleted_record::glue
