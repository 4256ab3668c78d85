#!/usr/bin/env bash
# Shows deleted_record at work: installs what is missing, builds and installs the extension,
# starts a throwaway PostgreSQL cluster (or uses yours when PGHOST/PGPORT/PGDATABASE/PGUSER is
# set), deletes a customer whose invoices cascade, and prints the archive.
# Usage: scripts/demo.sh
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

ensure_prereqs
build_and_install

if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}${PGUSER:-}" ]; then
  log "using the existing server (${PGHOST:-default host}:${PGPORT:-5432}, database ${PGDATABASE:-default})"
else
  work=$(mktemp -d /tmp/deleted_record_demo.XXXXXX)
  chmod 755 "$work"
  trap 'cluster_stop; rm -rf "$work"' EXIT
  log "starting a throwaway cluster in $work"
  cluster_start "$work/cluster"
fi

psql -X -v ON_ERROR_STOP=1 --quiet <<'SQL'
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deleted_record;
DROP SCHEMA IF EXISTS deleted_record_demo CASCADE;
CREATE SCHEMA deleted_record_demo;
SET search_path = deleted_record_demo, public;
SET TimeZone = 'UTC';

CREATE TABLE customer (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE invoice (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id bigint NOT NULL REFERENCES customer ON DELETE CASCADE,
    amount      numeric(12,2) NOT NULL,
    currency    char(3) NOT NULL,
    issued_on   date NOT NULL,
    lines       jsonb
);
\o /dev/null
SELECT deleted_record_attach('customer'), deleted_record_attach('invoice');
\o

INSERT INTO customer VALUES (1, 'Ada Lovelace', 'ada@example.com'), (2, 'Grace Hopper', 'grace@example.com');
INSERT INTO invoice (customer_id, amount, currency, issued_on, lines) VALUES
    (1, 120.00, 'EUR', '2024-05-01', '[{"item": "analytical engine", "qty": 1}]'),
    (1,  35.50, 'EUR', '2024-06-12', '[{"item": "punch cards", "qty": 500}]'),
    (2,  99.99, 'USD', '2024-07-04', NULL);

\echo
\echo '== Attached tables'
SELECT a.* FROM deleted_record_attached a JOIN pg_class c ON c.oid = a.table_name
 WHERE c.relnamespace = 'deleted_record_demo'::regnamespace ORDER BY 1;

\echo '== Deleting customer 1 with who and why (its invoices go with it: ON DELETE CASCADE)'
BEGIN;
\o /dev/null
SELECT deleted_record_set_context('support:alice', 'GDPR erasure request #4711', '{"ticket": 4711}');
\o
DELETE FROM customer WHERE id = 1;
COMMIT;

\echo
\echo '== The live tables no longer have the rows'
SELECT (SELECT count(*) FROM customer) AS customers, (SELECT count(*) FROM invoice) AS invoices;

\echo '== The archive has all three, with the context and one transaction id for the cascade'
SELECT table_name, object_id, actor, reason, metadata, session_user_name,
       xact_id = min(xact_id) OVER () AS same_transaction
  FROM deleted_record WHERE schema_name = 'deleted_record_demo' ORDER BY id;

\echo '== The archived customer, exactly as to_jsonb() rendered it'
SELECT jsonb_pretty(data) AS data FROM deleted_record
 WHERE schema_name = 'deleted_record_demo' AND table_name = 'customer' AND object_id = '1';

\echo '== Undo: that delete and its cascade back, by the transaction''s xact_key'
SELECT target, object_id, outcome FROM deleted_record_restore_transaction(
    (SELECT xact_key FROM deleted_record
      WHERE schema_name = 'deleted_record_demo' AND table_name = 'customer' AND object_id = '1'));
SELECT (SELECT count(*) FROM customer) AS customers, (SELECT count(*) FROM invoice) AS invoices;

\echo '== TRUNCATE archives too (policy archive): every invoice, customer 2''s among them:'
TRUNCATE invoice;
SELECT table_name, data->>'currency' AS currency, data->>'amount' AS amount FROM deleted_record
 WHERE schema_name = 'deleted_record_demo' AND table_name = 'invoice' AND data->>'customer_id' = '2';

-- Leave a shared server as we found it (the extension stays installed).
DELETE FROM deleted_record WHERE schema_name = 'deleted_record_demo';
DROP SCHEMA deleted_record_demo CASCADE;
SQL
log "demo finished"
