// "End of transaction" for transaction callbacks: the events after which nothing a transaction
// kept in backend memory may survive (commit, abort and prepare, also of parallel workers).
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// EndsTransaction is true for the XactEvents that end the transaction's life in this backend.
inline bool EndsTransaction(XactEvent event) {
  return event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
         event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT;
}

}  // namespace deleted_record::glue
