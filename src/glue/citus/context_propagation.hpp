// The deletion context on the workers: the settings a transaction's deletes need are sent to
// the Citus nodes that archive its rows, as SET LOCAL inside the distributed transaction.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// PropagateContextSettings sends the deletion-context settings to the workers of the current
// transaction (SET LOCAL with citus.propagate_set_commands = 'local'): all of them when force is
// true (deleted_record_set_context), else those set in this session that the workers lack.
// Returns false when something had to be sent but cannot be: outside a transaction block.
bool PropagateContextSettings(bool force);

// ForgetSentSettings forgets what was sent, at the end of the transaction.
void ForgetSentSettings();

// ForgetSentSince forgets what was sent in a rolled-back subtransaction (its SET LOCAL is
// undone here and on the workers alike).
void ForgetSentSince(SubTransactionId subtransaction);

}  // namespace deleted_record::glue
