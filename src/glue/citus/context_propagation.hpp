// The deletion context on the workers: the settings a transaction's deletes need are sent to
// the Citus nodes that archive its rows, as SET LOCAL inside the distributed transaction.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// kLoginRoleSetting carries the login role to the other nodes under SET ROLE (a placeholder
// setting outside the reserved deleted_record prefix).
constexpr const char* kLoginRoleSetting = "deleted_record_citus.login_role";

// PropagateContextSettings sends the deletion-context settings to the workers of the current
// transaction (SET LOCAL with citus.propagate_set_commands = 'local'): all of them when force is
// true (deleted_record_set_context), else those set in this session that the workers lack; under
// SET ROLE every one of them and the login role. Returns false when something had to be sent but
// cannot be: outside a transaction block (Citus propagates SET LOCAL in a plain function called
// in autocommit only sometimes, so a statement there is refused rather than archived without
// its context; deleted_record_set_context, force, is called where Citus does propagate it).
bool PropagateContextSettings(bool force);

// CitusLoginRole is, in a backend Citus opened for a distributed transaction, the login role the
// initiating session sent under SET ROLE, when this backend's session user may act as it (the
// login role is a member of it, as SET ROLE requires); else null.
const char* CitusLoginRole();

// ForgetSentSettings forgets what was sent, at the end of the transaction.
void ForgetSentSettings();

// ForgetSentSince forgets what was sent in a rolled-back subtransaction (its SET LOCAL is
// undone here and on the workers alike).
void ForgetSentSince(SubTransactionId subtransaction);

}  // namespace deleted_record::glue
