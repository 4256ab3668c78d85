// Buffered archive rows and the hooks that flush them.
//
// Ownership follows PostgreSQL's own after-trigger queue: a row is owned by the subtransaction
// that was current when it was captured; when that subtransaction commits its rows pass to the
// parent, when it aborts they are dropped. Only rows owned by the current subtransaction are
// ever written, at the end of a batch (statement end, TRUNCATE), when the buffer is full, and at
// commit. Since only the current subtransaction adds rows, and a child's rows are handed up or
// dropped before its parent continues, the buffer is always ordered by ownership depth: the
// rows owned by the current subtransaction are exactly its tail.
#include "glue/archive_buffer.hpp"

#include "glue/archive_writer.hpp"
#include "glue/transaction_end.hpp"

namespace deleted_record::glue {

namespace {

constexpr int kFlushRows = 1000;
constexpr Size kFlushBytes = 8 * 1024 * 1024;

struct BufferedRow {
  HeapTuple tuple;
  SubTransactionId owner;
};

struct ArchiveBuffer {
  MemoryContext tuples;  // the formed rows; reset whenever the buffer empties
  BufferedRow* rows;     // in TopMemoryContext; grows past kFlushRows only while rows of outer
  int count;             // subtransactions wait for a flush at their own level
  int capacity;
  int tail_start;        // first row owned by rows[count - 1].owner
  Size tail_bytes;
};

ArchiveBuffer buffer = {};

// How many batches are open. Zero means a row is archived where nothing will flush it later.
int open_batches = 0;


void EnsureBuffer() {
  if (buffer.tuples != nullptr) return;
  buffer.tuples = AllocSetContextCreate(TopMemoryContext, "deleted_record archive buffer", ALLOCSET_DEFAULT_SIZES);
  buffer.capacity = kFlushRows;
  buffer.rows = static_cast<BufferedRow*>(MemoryContextAlloc(TopMemoryContext, sizeof(BufferedRow) * buffer.capacity));
}

// FindTail recomputes the tail segment after rows were removed or handed to a parent.
void FindTail() {
  buffer.tail_start = buffer.count;
  buffer.tail_bytes = 0;
  if (buffer.count == 0) return;
  SubTransactionId owner = buffer.rows[buffer.count - 1].owner;
  while (buffer.tail_start > 0 && buffer.rows[buffer.tail_start - 1].owner == owner) {
    buffer.tail_start--;
    buffer.tail_bytes += buffer.rows[buffer.tail_start].tuple->t_len;
  }
}

// Truncate forgets rows from position keep on, freeing their tuples.
void Truncate(int keep) {
  if (keep == 0) {
    buffer.count = 0;
    MemoryContextReset(buffer.tuples);
  } else {
    for (int i = keep; i < buffer.count; ++i) heap_freetuple(buffer.rows[i].tuple);
    buffer.count = keep;
  }
  FindTail();
}

// WriteTail writes the rows owned by the current subtransaction, in batches of kFlushRows.
void WriteTail() {
  if (buffer.count == 0 || buffer.rows[buffer.count - 1].owner != GetCurrentSubTransactionId()) return;
  int start = buffer.tail_start;
  int count = buffer.count - start;
  HeapTuple* tuples = static_cast<HeapTuple*>(palloc(sizeof(HeapTuple) * count));
  for (int i = 0; i < count; ++i) tuples[i] = buffer.rows[start + i].tuple;
  // Take the rows out first: if writing fails, the (sub)transaction fails and nothing is retried;
  // their tuples stay allocated until the buffer next empties.
  buffer.count = start;
  FindTail();
  for (int done = 0; done < count; done += kFlushRows) WriteArchiveRows(tuples + done, Min(kFlushRows, count - done));
  if (buffer.count == 0)
    MemoryContextReset(buffer.tuples);
  else
    for (int i = 0; i < count; ++i) heap_freetuple(tuples[i]);
  pfree(tuples);
}

void Append(HeapTuple tuple, SubTransactionId owner) {
  if (buffer.count == buffer.capacity) {
    buffer.capacity *= 2;
    buffer.rows = static_cast<BufferedRow*>(repalloc(buffer.rows, sizeof(BufferedRow) * buffer.capacity));
  }
  if (buffer.count > 0 && buffer.rows[buffer.count - 1].owner != owner) {
    buffer.tail_start = buffer.count;
    buffer.tail_bytes = 0;
  }
  buffer.rows[buffer.count++] = {tuple, owner};
  buffer.tail_bytes += tuple->t_len;
}

void RunExecutorFinish(void* query) {
  if (previous_executor_finish != nullptr)
    previous_executor_finish(static_cast<QueryDesc*>(query));
  else
    standard_ExecutorFinish(static_cast<QueryDesc*>(query));
}

}  // namespace

ExecutorFinish_hook_type previous_executor_finish = nullptr;

extern "C" void ArchiveBufferOnExecutorFinish(QueryDesc* query) { RunArchiveBatch(RunExecutorFinish, query); }

extern "C" void ArchiveBufferOnTransactionEvent(XactEvent event, void* arg) {
  if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) {
    // Every subtransaction has ended: what is left belongs to the transaction (rows of
    // deferred triggers fired at commit, say). Anything else would be a row about to be lost:
    // fail the commit instead.
    WriteTail();
    if (buffer.count > 0)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                      errmsg("deleted_record: %d archive rows of an ended subtransaction were not written",
                             buffer.count)));
  } else if (EndsTransaction(event)) {
    open_batches = 0;
    if (buffer.tuples != nullptr) Truncate(0);
  }
}

extern "C" void ArchiveBufferOnSubtransactionEvent(SubXactEvent event, SubTransactionId subtransaction,
                                                   SubTransactionId parent, void* arg) {
  if (buffer.count == 0 || buffer.rows[buffer.count - 1].owner != subtransaction) return;
  if (event == SUBXACT_EVENT_COMMIT_SUB) {
    for (int i = buffer.tail_start; i < buffer.count; ++i) buffer.rows[i].owner = parent;
    FindTail();
  } else if (event == SUBXACT_EVENT_ABORT_SUB) {
    Truncate(buffer.tail_start);
  }
}

void BufferArchiveRow(const ArchiveTable* target, Datum* values, bool* nulls) {
  EnsureBuffer();
  MemoryContext old = MemoryContextSwitchTo(buffer.tuples);
  HeapTuple tuple = heap_form_tuple(target->descriptor, values, nulls);
  MemoryContextSwitchTo(old);
  Append(tuple, GetCurrentSubTransactionId());
  if (open_batches == 0 || buffer.count - buffer.tail_start >= kFlushRows || buffer.tail_bytes >= kFlushBytes)
    WriteTail();
}

void RunArchiveBatch(void (*body)(void*), void* argument) {
  open_batches++;
  PG_TRY();
  {
    body(argument);
  }
  PG_FINALLY();
  {
    open_batches--;
  }
  PG_END_TRY();
  WriteTail();
}

}  // namespace deleted_record::glue
