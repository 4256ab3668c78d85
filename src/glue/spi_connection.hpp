// Connecting to SPI, said once: every glue file that runs SQL through SPI opens and closes its
// connection here, so a failure reads the same wherever it happens.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ConnectSpi connects the current function to SPI, or raises the one error for it.
inline void ConnectSpi() {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
}

// FinishSpi closes the connection ConnectSpi opened (an error raised in between closes it too:
// PostgreSQL's abort processing cleans up SPI, so no PG_TRY is needed for that alone).
inline void FinishSpi() {
  if (SPI_finish() != SPI_OK_FINISH) elog(ERROR, "deleted_record: SPI_finish failed");
}

}  // namespace deleted_record::glue
