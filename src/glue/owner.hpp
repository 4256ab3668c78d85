// Acting as the extension's owner: the one way the extension does work with elevated rights
// (writing the archive, marking rows restored, erasure). Nothing the caller defined may run
// with the owner's rights, so the switch also pins search_path.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// OwnerWork is the work done as the owner. It must hold no C++ object with a destructor: an
// error inside longjmps through AsExtensionOwner, which restores the caller's identity, security
// context and settings and re-raises the error.
typedef void (*OwnerWork)(void* argument);

// OwnerSearchPath says whether AsExtensionOwner pins search_path for the work.
enum class OwnerSearchPath {
  // Pinned to pg_catalog, pg_temp for the work's duration (in a GUC nest level): for work that
  // runs SQL, or expressions that could parse SQL (function bodies of defaults, constraints).
  kPinned,
  // Left as the caller's: only for work that runs no SQL and evaluates no expression at all
  // (the archive writer with no defaults, checks, generated columns or expression or partial
  // indexes of a DBA's). Saves setting and restoring search_path (and recomputing the
  // namespace path afterwards) on the hot path.
  kNoSqlRuns,
};

// AsExtensionOwner runs work(argument) as owner (the extension's owner, ArchiveTable::owner)
// with SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION and, when kPinned,
// search_path = pg_catalog, pg_temp; afterwards, and on every error path, the caller's user,
// security context and settings are back. Statements run inside must still be written so that
// no caller-defined object can be resolved (OPERATOR(pg_catalog.=), pg_catalog.count(...)).
void AsExtensionOwner(Oid owner, OwnerWork work, void* argument,
                      OwnerSearchPath search_path = OwnerSearchPath::kPinned);

}  // namespace deleted_record::glue
