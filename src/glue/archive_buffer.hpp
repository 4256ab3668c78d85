// The archive buffer: archive rows wait here and are written with one multi-insert per batch.
// Each row belongs to the (sub)transaction that captured it, so a row is never written in a
// subtransaction younger than its delete (whose rollback would take the archive row while the
// delete commits).
#pragma once
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

// BufferArchiveRow forms the archive row from values/nulls and keeps it until a flush writes it.
// Where no batch is open (nothing will flush later: the statement that loaded this library,
// deferred triggers fired at COMMIT, replication apply) the row is written at once.
void BufferArchiveRow(const ArchiveTable* target, Datum* values, bool* nulls);

// RunArchiveBatch runs body(argument) as one batch: the rows it archives in the current
// (sub)transaction are written when it ends (a statement, a TRUNCATE).
void RunArchiveBatch(void (*body)(void*), void* argument);

// The callbacks _PG_init hands PostgreSQL for the buffer:
// ArchiveBufferOnExecutorFinish (ExecutorFinish_hook) writes the statement's buffered rows, then
// calls the hook it replaced (previous_executor_finish);
extern "C" void ArchiveBufferOnExecutorFinish(QueryDesc* query);
extern ExecutorFinish_hook_type previous_executor_finish;
// ArchiveBufferOnTransactionEvent writes what is left at PRE_COMMIT/PRE_PREPARE (or fails the
// commit) and forgets the buffer at the end; ArchiveBufferOnSubtransactionEvent passes a
// committed subtransaction's rows to its parent and drops an aborted one's.
extern "C" void ArchiveBufferOnTransactionEvent(XactEvent event, void* arg);
extern "C" void ArchiveBufferOnSubtransactionEvent(SubXactEvent event, SubTransactionId subtransaction,
                                                   SubTransactionId parent, void* arg);

}  // namespace deleted_record::glue
