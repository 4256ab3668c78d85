// The TRUNCATE guard: a BEFORE TRUNCATE statement trigger whose argument is the attached table's
// policy — archive every row about to be removed, deny the TRUNCATE, or let it through.
// Citus support (glue/citus/) builds on this room through the small interface below; this room
// includes nothing of Citus's.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ApplyTruncatePolicy applies the policy to the TRUNCATE of rel that fired guard.
void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy);

// ArchiveAllRows archives every row of rel, about to be truncated, from its heap (the latest
// snapshot, taken after TRUNCATE's exclusive lock): not filtered by row-level security, no SQL.
// Call it inside RunArchiveBatch.
void ArchiveAllRows(Relation rel);

// RefuseTruncate raises the error of the 'deny' policy for rel.
void RefuseTruncate(Relation rel);

// TruncateDelegate is asked first by ApplyTruncatePolicy; it returns true when it has applied
// (or deliberately skipped) the policy for rel itself, false to let the guard apply it here.
using TruncateDelegate = bool (*)(Relation rel, TruncatePolicy policy);

// SetTruncateDelegate registers the delegate (Citus support, from _PG_init).
void SetTruncateDelegate(TruncateDelegate delegate);

}  // namespace deleted_record::glue
