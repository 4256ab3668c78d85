// The deletion context on the workers: the settings a transaction's deletes need are sent to
// the Citus nodes that archive its rows, as SET LOCAL inside the distributed transaction.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// kLoginRoleSetting carried the login role to the other nodes under SET ROLE in earlier builds
// of 1.2 (a placeholder outside the reserved deleted_record prefix); it is never sent now, and a
// node refuses to archive while it claims a login role other than the session's own.
constexpr const char* kLoginRoleSetting = "deleted_record_citus.login_role";

// PropagateContextSettings sends the deletion-context settings to the workers of the current
// transaction (SET LOCAL with citus.propagate_set_commands = 'local'): all of them when force is
// true (deleted_record_set_context), else those set in this session that the workers lack.
// Returns false when something had to be sent but
// cannot be: outside a transaction block (Citus propagates SET LOCAL in a plain function called
// in autocommit only sometimes, so a statement there is refused rather than archived without
// its context; deleted_record_set_context, force, is called where Citus does propagate it).
bool PropagateContextSettings(bool force);

// CheckLoginRoleReachesNodes raises an error, naming what (e.g. "the rows of this statement"),
// when the current role is not the login role (SET ROLE, SECURITY DEFINER): the other nodes
// would record the current role as the session user, and no node can verify a claimed one.
void CheckLoginRoleReachesNodes(const char* what);

// CitusLoginRole always returns null (the archive records the session's own login role); it
// raises an error when deleted_record_citus.login_role claims another role: a claim that no
// node can verify is refused rather than recorded.
const char* CitusLoginRole();

// ForgetSentSettings forgets what was sent, at the end of the transaction.
void ForgetSentSettings();

// ForgetSentSince forgets what was sent in a rolled-back subtransaction (its SET LOCAL is
// undone here and on the workers alike).
void ForgetSentSince(SubTransactionId subtransaction);

}  // namespace deleted_record::glue
