// Citus support, by concern (src/glue/citus/): what a relation is to Citus (catalog), the
// distributed transaction's grouping key, the deletion context on the workers, TRUNCATE of Citus tables and shards, and the hooks.
// Without Citus every call costs at most a syscache lookup.
#pragma once
#include "glue/citus/catalog.hpp"
#include "glue/citus/context_propagation.hpp"
#include "glue/citus/hooks.hpp"
#include "glue/citus/shard_truncate.hpp"
#include "glue/citus/transaction_key.hpp"
