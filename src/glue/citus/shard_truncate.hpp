// TRUNCATE on Citus: the policy of a Citus table's TRUNCATE on the node that runs it, and the
// archiving (or refusal) of the rows of the shards a TRUNCATE removes on the node that holds
// them. Builds on the TRUNCATE guard's interface (truncate_guard.hpp), which knows nothing of
// Citus: the one arrow goes from here to there.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CitusTruncateDelegate is the guard's TruncateDelegate (registered by RegisterCitus): it
// handles shards (ArchiveShardsBeforeTruncate archives them), placements Citus scheduled for
// removal (stale rows: nothing to do) and Citus tables (the nodes holding the shards archive;
// this node checks that they can and sends them the context). Ordinary tables: false.
bool CitusTruncateDelegate(Relation rel, TruncatePolicy policy);

// ArchiveShardsBeforeTruncate, for a TRUNCATE that names Citus shards (the command Citus sends to
// the node holding them, or a user's with citus.enable_manual_changes_to_shards), checks TRUNCATE
// privilege on each named relation before locking it, refuses when a shard's Citus table's
// policy is 'deny', and archives every row of the shards it removes whose policy is 'archive',
// from their heaps (ArchiveAllRows). A replicated shard (a reference table's) archives on its
// designated placement only. Called by the Citus utility hook before the TRUNCATE runs.
void ArchiveShardsBeforeTruncate(const TruncateStmt* statement);

}  // namespace deleted_record::glue
