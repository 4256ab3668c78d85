// The distributed transaction's grouping key, from Citus's get_current_transaction_id().
#include "glue/citus/transaction_key.hpp"

#include "glue/citus/catalog.hpp"

namespace deleted_record::glue {

namespace {

char transaction_key[96];
bool transaction_key_valid = false;

struct DistributedTransactionId {
  int32 initiator;
  int64 number;
  TimestampTz stamp;
};

bool ReadDistributedTransactionId(Oid function, DistributedTransactionId* id) {
  Datum record = OidFunctionCall0(function);
  HeapTupleHeader header = DatumGetHeapTupleHeader(record);
  TupleDesc descriptor = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header), HeapTupleHeaderGetTypMod(header));
  HeapTupleData tuple = {};
  tuple.t_len = HeapTupleHeaderGetDatumLength(header);
  tuple.t_data = header;
  bool initiator_null = true, number_null = true, stamp_null = true;
  if (descriptor->natts >= 5) {
    id->initiator = DatumGetInt32(heap_getattr(&tuple, 3, descriptor, &initiator_null));
    id->number = DatumGetInt64(heap_getattr(&tuple, 4, descriptor, &number_null));
    Datum stamp = heap_getattr(&tuple, 5, descriptor, &stamp_null);
    id->stamp = stamp_null ? 0 : DatumGetTimestampTz(stamp);
  }
  ReleaseTupleDesc(descriptor);
  return !initiator_null && !number_null && id->number != 0;
}

void ComputeTransactionKey() {
  Oid function = CitusFunction("get_current_transaction_id", 0, nullptr);
  DistributedTransactionId id = {};
  bool distributed = OidIsValid(function) && ReadDistributedTransactionId(function, &id);
  if (!distributed && OidIsValid(function) && !IsCitusInternalBackend()) {
    // This node started the transaction and has not gone remote yet: assign the distributed
    // id now, so that this row and the workers' rows of later statements share one key.
    auto use_coordinated_transaction = reinterpret_cast<void (*)(void)>(
        load_external_function("citus", "UseCoordinatedTransaction", false, nullptr));
    if (use_coordinated_transaction != nullptr) {
      use_coordinated_transaction();
      distributed = ReadDistributedTransactionId(function, &id);
    }
  }
  if (distributed)
    snprintf(transaction_key, sizeof(transaction_key), "d:%d:" INT64_FORMAT ":" INT64_FORMAT, id.initiator, id.number,
             static_cast<int64>(id.stamp));
  else
    // A Citus backend without a distributed id runs a statement that touches this node only.
    snprintf(transaction_key, sizeof(transaction_key), "l:%d:" UINT64_FORMAT, LocalGroupId(),
             U64FromFullTransactionId(GetTopFullTransactionId()));
  transaction_key_valid = true;
}

}  // namespace

Datum CitusTransactionKey() {
  if (!transaction_key_valid) ComputeTransactionKey();
  return CStringGetTextDatum(transaction_key);
}

void ForgetTransactionKey() { transaction_key_valid = false; }

}  // namespace deleted_record::glue
