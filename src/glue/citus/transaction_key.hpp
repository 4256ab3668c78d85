// The grouping key of a distributed transaction: the same on every node that archives its rows.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// CitusTransactionKey is the current transaction's grouping key as a text Datum: the same on
// every node for one distributed transaction ("d:<initiator>:<number>:<stamp>"), or the local
// transaction on this node's group ("l:<group>:<xid>") for work that touches one node only.
// Computed once per transaction; on the node that started the transaction, the distributed
// transaction id is assigned first, so rows archived before its first remote statement share it.
Datum CitusTransactionKey();

// ForgetTransactionKey drops the key at the end of the transaction.
void ForgetTransactionKey();

}  // namespace deleted_record::glue
