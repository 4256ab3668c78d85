#!/usr/bin/env bash
# faults: a large DELETE on an attached table that is killed (kill -9 of its backend), times out or
# is cancelled leaves either everything deleted and archived or nothing at all; a 10 MB TOASTed
# value archives intact; a row that cannot become jsonb makes the DELETE fail cleanly.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

N=200000
WAIT=120                        # seconds any single wait may take
if [ -n "${VALGRIND_LOG_DIR:-}" ]; then N=20000; WAIT=900; fi

bg=
on_exit() { if [ -n "$bg" ]; then kill "$bg" 2>/dev/null; fi; }
start_own_cluster faults "restart_after_crash = on"

q >/dev/null <<'SQL' || die "setup failed"
CREATE EXTENSION deleted_record;
-- pause_midway sleeps (interruptibly) in the AFTER DELETE trigger queue of the middle row: by then
-- deleted_record_insert has archived the first half of the rows (AFTER row triggers fire row by row,
-- in name order), so a fault injected while it sleeps always hits the DELETE halfway through archiving.
CREATE FUNCTION pause_midway() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(3600);
  RETURN NULL;
END $$;
CREATE FUNCTION make_big(tbl text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, label text, amount numeric, at timestamptz, flags int[], payload text)', tbl);
  EXECUTE format($q$INSERT INTO %I SELECT i, 'label ' || i, i * 1.5, '2024-01-01'::timestamptz + i * interval '1 second',
                    ARRAY[i, i + 1], repeat(md5(i::text), 3) FROM generate_series(1, %s) i$q$, tbl, n);
  PERFORM deleted_record_attach(tbl::regclass);
  EXECUTE format('CREATE TRIGGER zz_pause_midway AFTER DELETE ON %I FOR EACH ROW WHEN (OLD.id = %s) EXECUTE FUNCTION pause_midway()',
                 tbl, n / 2);
END $$;
SQL

# counts TABLE: "rows left in TABLE|rows of TABLE in the archive".
counts() { q -c "SELECT (SELECT count(*) FROM $1), (SELECT count(*) FROM deleted_record WHERE table_name = '$1')"; }

# start_delete TABLE [SQL before]: runs DELETE FROM TABLE in the background (application_name TABLE).
start_delete() {
  PGAPPNAME=$1 psql -X -q -v ON_ERROR_STOP=1 ${2:+-c "$2"} -c "DELETE FROM $1" >"$tmp/$1.out" 2>&1 &
  bg=$!
}

# busy_pid TABLE: waits until the background DELETE is active and paused halfway through archiving
# and prints its backend pid; prints nothing when the DELETE ended first.
busy_pid() {
  local deadline=$((SECONDS + WAIT)) pid
  while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$bg" 2>/dev/null; do
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active'
                  AND query LIKE 'DELETE%' AND wait_event = 'PgSleep'" 2>/dev/null)
    if [ -n "$pid" ]; then echo "$pid"; return 0; fi
    sleep 0.05
  done
}

# wait_ready: waits until the (restarting) server accepts queries again.
wait_ready() {
  local deadline=$((SECONDS + WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    pg_isready -q && q -c 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# (a) kill -9 of the backend in the middle of the DELETE (halfway through archiving).
q -c "SELECT make_big('big_kill', $N)" >/dev/null
start_delete big_kill
pid=$(busy_pid big_kill)
if [ -n "$pid" ]; then as_server_user kill -9 "$pid"; fi
wait "$bg"; rc=$?; bg=
if wait_ready; then ok "server is back after the backend was killed"; else not_ok "server is back after the backend was killed"; fi
c=$(counts big_kill)
if [ "$c" = "$N|0" ] || [ "$c" = "0|$N" ]; then ok "kill -9: (table, archive) is ($N, 0) or (0, $N), no partial state (got $c)"
else not_ok "kill -9: (table, archive) is ($N, 0) or (0, $N), no partial state"; echo "#   got: $c"; fi
if [ -n "$pid" ]; then
  check "kill -9 hit the running DELETE: the client lost its connection and nothing was deleted or archived" \
    "failed|$N|0" "$([ "$rc" -ne 0 ] && echo failed || echo succeeded)|$c"
else
  not_ok "kill -9 hit the running DELETE (it never reached the pause halfway through)"; sed 's/^/#   /' "$tmp/big_kill.out"
fi
check "after the crash a delete on the table archives again" "$((N - 1))|1" \
  "$(q -c "DELETE FROM big_kill WHERE id = 1" >/dev/null 2>&1; counts big_kill)"
q -c "DROP TABLE big_kill" >/dev/null

# (b) statement_timeout (the pause halfway through makes the DELETE outlast it whatever the speed).
q -c "SELECT make_big('big_timeout', $N)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "SET statement_timeout = '500ms'" -c "DELETE FROM big_timeout" >"$tmp/timeout.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'canceling statement due to statement timeout' "$tmp/timeout.out"; then
  ok "statement_timeout: the DELETE failed with the timeout error"
else
  not_ok "statement_timeout: the DELETE failed with the timeout error"; sed 's/^/#   /' "$tmp/timeout.out"
fi
check "statement_timeout: nothing deleted, nothing archived" "$N|0" "$(counts big_timeout)"

# (c) pg_cancel_backend from another session.
q -c "SELECT make_big('big_cancel', $N)" >/dev/null
start_delete big_cancel
pid=$(busy_pid big_cancel)
check "pg_cancel_backend of the running DELETE returns true" "t" \
  "$([ -n "$pid" ] && q -c "SELECT pg_cancel_backend($pid)" || echo "(DELETE ended before it could be cancelled)")"
wait "$bg"; rc=$?; bg=
if [ "$rc" -ne 0 ] && grep -q 'canceling statement due to user request' "$tmp/big_cancel.out"; then
  ok "pg_cancel_backend: the DELETE failed with the cancel error"
else
  not_ok "pg_cancel_backend: the DELETE failed with the cancel error"; sed 's/^/#   /' "$tmp/big_cancel.out"
fi
check "pg_cancel_backend: nothing deleted, nothing archived" "$N|0" "$(counts big_cancel)"

# (d) A 10 MB value stored out of line in TOAST archives intact.
q >/dev/null <<'SQL'
CREATE TABLE toasty (id int PRIMARY KEY, col text);
SELECT deleted_record_attach('toasty');
INSERT INTO toasty SELECT 1, string_agg(md5(i::text), '') FROM generate_series(1, 327680) i;
SQL
before=$(q -c "SELECT md5(col), octet_length(col), pg_column_size(col) < octet_length(col) OR
                      pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE relname = 'toasty')) > 1000000 FROM toasty")
check "the 10 MB value is TOASTed" "10485760|t" "$(cut -d'|' -f2- <<<"$before")"
q -c "DELETE FROM toasty" >/dev/null 2>"$tmp/toast.err"
check "the DELETE of the 10 MB row succeeds" "" "$(cat "$tmp/toast.err")"
check "the archived value has the same md5 and length" "$(cut -d'|' -f1,2 <<<"$before")" \
  "$(q -c "SELECT md5(data->>'col'), octet_length(data->>'col') FROM deleted_record WHERE table_name = 'toasty'")"

# expect_delete_error TABLE PATTERN DESCRIPTION: DELETE FROM TABLE must fail with an error
# matching PATTERN (extended regex, case-insensitive).
expect_delete_error() {
  local out="$tmp/$1.out" rc
  q -c "DELETE FROM $1" >"$out" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qiE "$2" "$out"; then
    ok "$3"
  else
    not_ok "$3"; echo "#   rc=$rc"; head -c 2000 "$out" | sed 's/^/#   /'
  fi
}

# (e1) A json value that jsonb rejects (\u0000) cannot be archived: the DELETE fails, nothing changes.
q >/dev/null <<'SQL'
CREATE TABLE jsonish (id int PRIMARY KEY, doc json);
SELECT deleted_record_attach('jsonish');
INSERT INTO jsonish VALUES (1, '{"a": "\u0000"}'), (2, '{"a": 1}');
SQL
expect_delete_error jsonish 'ERROR: .*Unicode escape' "a json value jsonb rejects makes the DELETE fail with a clear error"
check "... both rows stay and nothing is archived" "2|0" "$(counts jsonish)"

# (e2) A row whose jsonb would exceed the jsonb string limit (268435455 bytes).
if [ -n "${VALGRIND_LOG_DIR:-}" ]; then
  ok "a 270 MB value makes the DELETE fail with a clear error # SKIP too slow under valgrind"
  ok "... the row stays and nothing is archived # SKIP too slow under valgrind"
else
  q >/dev/null <<'SQL'
CREATE TABLE huge (id int PRIMARY KEY, v text);
SELECT deleted_record_attach('huge');
INSERT INTO huge VALUES (1, repeat('x', 270000000));
SQL
  expect_delete_error huge 'ERROR: .*(jsonb|too long|exceed)' "a 270 MB value makes the DELETE fail with a clear error"
  check "... the row stays and nothing is archived" "1|0" "$(counts huge)"
fi
check "no server process crashed except the one killed in (a)" "1" \
  "$(grep -c 'terminated by signal' "$tmp/cluster/server.log")"

tap_done
