// Citus: what deleted_record needs to know and do on a Citus cluster. Citus's catalogs are read
// and its functions called through fmgr, so the library does not link to Citus, and a server
// without Citus pays one catalog lookup per relation-cache build and nothing per row.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CitusRelation is what a relation is to Citus (all false/invalid without Citus).
struct CitusRelation {
  bool is_shard;        // a shard placement: its deleted rows are rows of logical_relid
  Oid logical_relid;    // for a shard, the Citus table (whose shell exists on every node)
  bool archive_here;    // false on every placement of a replicated shard (a reference table's)
                        // but the designated one, so that a row is archived exactly once, and
                        // on an old shard copy a move or split left behind for deferred drop
  bool is_citus_table;  // the shell of a Citus table (distributed, reference or Citus local)
};

// CitusPresent is true when the current database has Citus's metadata (one syscache lookup).
bool CitusPresent();

// DescribeCitusRelation fills facts for rel from Citus's catalogs.
void DescribeCitusRelation(Relation rel, CitusRelation* facts);

// CitusTransactionKey is the current transaction's grouping key as a text Datum: the same on
// every node for one distributed transaction ("d:<initiator>:<number>:<stamp>"), or the local
// transaction on this node's group ("l:<group>:<xid>") for work that touches one node only.
// Computed once per transaction; on the node that started the transaction, the distributed
// transaction id is assigned first, so rows archived before its first remote statement share it.
Datum CitusTransactionKey();

// PropagateContextSettings sends the deletion-context settings to the workers of the current
// transaction (SET LOCAL with citus.propagate_set_commands = 'local'): all of them when force is
// true (deleted_record_set_context), else those set in this session that the workers lack.
// Returns false when something had to be sent but cannot be: outside a transaction block.
bool PropagateContextSettings(bool force);

// CheckCitusAttachPrerequisites raises an error when tables are attached in a Citus database
// while the library's hooks are not installed (it must be preloaded after citus).
void CheckCitusAttachPrerequisites();

// CitusShardOf returns the Citus table relid is a shard of, or InvalidOid.
Oid CitusShardOf(Oid relid);

// RegisterCitus installs the hooks a Citus cluster needs, when Citus was preloaded before this
// library (called from _PG_init), and the transaction callbacks in any case.
void RegisterCitus();

}  // namespace deleted_record::glue
