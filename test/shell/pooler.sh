#!/usr/bin/env bash
# pooler: through pgbouncer in transaction pooling mode, many clients delete their own rows while
# half of them set the deletion context per transaction (SET LOCAL, set_config(..., true),
# deleted_record_set_context); every archived row must carry exactly its own client's context and
# no context may leak between transactions that share a server connection.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

CLIENTS=20
TXNS=40          # transactions per client
PER_TXN=2        # rows deleted per transaction
ROWS=$((TXNS * PER_TXN + 10))   # rows owned by each client

bouncer_pid=
stop_bouncer() {
  if [ -n "$bouncer_pid" ]; then
    as_server_user kill "$bouncer_pid" 2>/dev/null
    local i; for i in $(seq 50); do kill -0 "$bouncer_pid" 2>/dev/null || break; sleep 0.1; done
    bouncer_pid=
  fi
}
on_exit() { stop_bouncer; }
start_own_cluster pooler

q >/dev/null <<SQL || die "setup failed"
CREATE EXTENSION deleted_record;
CREATE TABLE items (id int PRIMARY KEY, owner int NOT NULL, payload text);
CREATE INDEX ON items (owner);
SELECT deleted_record_attach('items');
INSERT INTO items SELECT c * 100000 + k, c, 'row ' || k FROM generate_series(0, $((CLIENTS - 1))) c, generate_series(1, $ROWS) k;
-- Which server backend ran each transaction (not attached): proves connections were shared.
CREATE TABLE txlog (client int NOT NULL, pid int NOT NULL, how int NOT NULL);
SQL

# pgbouncer, as the server's OS user, on 127.0.0.1 only. "pool1" has a single server connection,
# which makes the session-level SET hazard deterministic.
bdir=$tmp/pgbouncer
mkdir -p "$bdir"
bport=$(free_port)
echo '"postgres" ""' >"$bdir/userlist.txt"
cat >"$bdir/pgbouncer.ini" <<EOF
[databases]
postgres = host=127.0.0.1 port=$PGPORT dbname=postgres
pool1 = host=127.0.0.1 port=$PGPORT dbname=postgres pool_size=1
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bdir/userlist.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 100
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
EOF
chown -R "$(server_user)" "$bdir"
as_server_user /usr/sbin/pgbouncer -d -q "$bdir/pgbouncer.ini" || die "pgbouncer did not start"
for i in $(seq 100); do [ -s "$bdir/pgbouncer.pid" ] && break; sleep 0.1; done
bouncer_pid=$(cat "$bdir/pgbouncer.pid" 2>/dev/null)
[ -n "$bouncer_pid" ] || { cat "$bdir/pgbouncer.log" >&2; die "pgbouncer wrote no pid file"; }
for i in $(seq 100); do
  psql -X -qAt -h 127.0.0.1 -p "$bport" -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.1
done
viab() { psql -X -qAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$bport" "$@"; }
check "pgbouncer accepts connections" "1" "$(viab -d postgres -c 'SELECT 1' 2>&1)"

# Even clients set the context, each transaction by one of three ways chosen at random;
# odd clients set nothing. Every transaction deletes PER_TXN of the client's own rows.
cat >"$tmp/delete.sql" <<EOF
\set how random(0, 2)
BEGIN;
\if :client_id % 2 = 0
\if :how = 0
SET LOCAL deleted_record.actor = 'client-:client_id';
SET LOCAL deleted_record.reason = 'reason-:client_id';
SET LOCAL deleted_record.metadata = '{"client": :client_id}';
\elif :how = 1
SELECT set_config('deleted_record.actor', 'client-' || :client_id, true), set_config('deleted_record.reason', 'reason-' || :client_id, true), set_config('deleted_record.metadata', jsonb_build_object('client', :client_id)::text, true);
\else
SELECT deleted_record_set_context('client-' || :client_id, 'reason-' || :client_id, jsonb_build_object('client', :client_id));
\endif
\endif
INSERT INTO txlog VALUES (:client_id, pg_backend_pid(), :how);
DELETE FROM items WHERE id IN (SELECT id FROM items WHERE owner = :client_id ORDER BY id LIMIT $PER_TXN);
COMMIT;
EOF
pgbench -n -h 127.0.0.1 -p "$bport" -c "$CLIENTS" -j 2 -t "$TXNS" -f "$tmp/delete.sql" postgres >"$tmp/pgbench.log" 2>&1
rc=$?
check "pgbench through pgbouncer completes without errors" "0" "$rc"
[ "$rc" -eq 0 ] || tail -20 "$tmp/pgbench.log" | sed 's/^/# /'
check "pgbench processed every transaction" "$((CLIENTS * TXNS))" \
  "$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$tmp/pgbench.log")"

deleted=$((CLIENTS * TXNS * PER_TXN))
check "the clients deleted $deleted rows" "$((CLIENTS * ROWS - deleted))" "$(q -c 'SELECT count(*) FROM items')"
check "archived rows = deleted rows" "$deleted" "$(q -c "SELECT count(*) FROM deleted_record WHERE table_name = 'items'")"
check "every archived row is one of the deleted rows, once" "$deleted|$deleted" \
  "$(q -c "SELECT count(DISTINCT object_id), count(*) FROM deleted_record d
            WHERE NOT EXISTS (SELECT FROM items i WHERE i.id::text = d.object_id)")"
check "rows were archived for both setters and non-setters" "$((deleted / 2))|$((deleted / 2))" \
  "$(q -c "SELECT count(*) FILTER (WHERE (data->>'owner')::int % 2 = 0), count(*) FILTER (WHERE (data->>'owner')::int % 2 = 1)
            FROM deleted_record")"
check "setters' rows carry exactly their own client's actor, reason and metadata" "0" \
  "$(q -c "SELECT count(*) FROM deleted_record WHERE (data->>'owner')::int % 2 = 0
             AND (actor IS DISTINCT FROM 'client-' || (data->>'owner')
                  OR reason IS DISTINCT FROM 'reason-' || (data->>'owner')
                  OR metadata IS DISTINCT FROM jsonb_build_object('client', (data->>'owner')::int))")"
check "non-setters' rows carry no context at all (nothing leaked)" "0" \
  "$(q -c "SELECT count(*) FROM deleted_record WHERE (data->>'owner')::int % 2 = 1
             AND (actor IS NOT NULL OR reason IS NOT NULL OR metadata IS NOT NULL)")"
check "setters used all three ways to set the context" "3" \
  "$(q -c "SELECT count(DISTINCT how) FROM txlog WHERE client % 2 = 0")"
check "at most 4 server connections served all clients, shared by setters and non-setters" "t|t" \
  "$(q -c "SELECT count(DISTINCT pid) <= 4,
                  EXISTS (SELECT FROM txlog a JOIN txlog b USING (pid) WHERE a.client % 2 = 0 AND b.client % 2 = 1)
             FROM txlog")"

# Transaction-local context does not survive the transaction on a shared server connection...
q -c "INSERT INTO items VALUES (-1, -1, 'a'), (-2, -1, 'b'), (-3, -1, 'c')" >/dev/null
viab -d pool1 -c "BEGIN" -c "SET LOCAL deleted_record.actor = 'local-actor'" -c "DELETE FROM items WHERE id = -1" -c "COMMIT" >/dev/null
viab -d pool1 -c "DELETE FROM items WHERE id = -2" >/dev/null
check "SET LOCAL context ends with its transaction on a pooled connection" "-1|local-actor
-2|" "$(q -c "SELECT object_id, actor FROM deleted_record WHERE object_id IN ('-1', '-2') ORDER BY object_id::int DESC")"
# ...but a session-level SET stays on the server connection and leaks into another client's
# transaction (the documented hazard: use SET LOCAL or deleted_record_set_context with poolers).
viab -d pool1 -c "SET deleted_record.actor = 'leaked-actor'" >/dev/null
viab -d pool1 -c "DELETE FROM items WHERE id = -3" >/dev/null
check "a session-level SET through a transaction pooler leaks into the next client (documented hazard)" \
  "leaked-actor" "$(q -c "SELECT actor FROM deleted_record WHERE object_id = '-3'")"
viab -d pool1 -c "RESET deleted_record.actor" >/dev/null

stop_bouncer
tap_done
