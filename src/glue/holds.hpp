// Legal holds: placing and releasing them, and the check erasure makes. What a hold covers is
// decided in one place, the SQL function deleted_record_hold_rule (purge asks it too).
#pragma once
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

// HoldScope is what one hold covers; null pointers and InvalidOid mean "no restriction".
struct HoldScope {
  Oid relation;
  text* object_id;
  bool has_from;
  bool has_until;
  TimestampTz deleted_from;
  TimestampTz deleted_until;
};

// PlaceHold records the hold, placed by the calling role, after checking its arguments; the
// work runs as the extension owner.
void PlaceHold(text* name, text* reason, const HoldScope* scope);

// ReleaseHold records the release of the active hold of that name by the calling role.
void ReleaseHold(text* name);

// LockHoldsShared is taken by erasure and by each purge step before they look at holds, and
// LockHoldsExclusive by placing or releasing a hold: a hold then never arrives between an
// erasure's or a purge's check of the holds and its delete (both wait for the other's
// transaction). A transaction-level advisory lock of this database.
void LockHoldsShared();
void LockHoldsExclusive();

// ExecuteWithLatestSnapshot runs one statement inside SPI (connected by the caller) with the
// latest snapshot instead of the transaction's: under REPEATABLE READ and SERIALIZABLE it still
// sees what committed since the transaction began (a hold, say, committed while the caller waited
// for the holds lock). Returns SPI's result code.
int ExecuteWithLatestSnapshot(const char* query, int nargs, Oid* types, Datum* values, long count);

// ExistsWithLatestSnapshot runs the query (as the current role, with the current search_path)
// with the latest snapshot and tells whether it returned a row: the SQL function
// deleted_record_exists_now, which purge_step (plpgsql, which cannot choose its snapshot) asks.
bool ExistsWithLatestSnapshot(text* query);

// RefuseHeldRows raises an error naming the hold when any of the archive rows with these ids is
// held. It runs SQL: call it as the owner, inside SPI, with search_path pinned.
void RefuseHeldRows(const ArchiveTable* archive, ArrayType* archive_ids);

}  // namespace deleted_record::glue
