// Masking: a masked column keeps 'hmac:' and the hex HMAC-SHA-256 of the value's text, keyed by
// the database's secret (the table deleted_record_secret, readable by the extension owner only).
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// MaskedForm returns the stored form of a value's text (palloc'd, "hmac:" + 64 hex digits).
// The secret is read directly, whoever the current user is: the delete runs as its user, who
// can read neither the secret nor the value's stored form's key.
char* MaskedForm(const char* text, size_t length);

// MaskingOnTransactionEnd forgets the secret at the end of every transaction (a callback).
extern "C" void MaskingOnTransactionEnd(XactEvent event, void* arg);

}  // namespace deleted_record::glue
