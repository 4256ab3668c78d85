#!/usr/bin/env bash
# purge_concurrency: deletes on attached tables keep running, never waiting on a lock, while
# deleted_record_purge works through a large expired archive (60 batches of expired rows in the
# DEFAULT partition and a fully expired partition to drop), and a reader holding a lock on the
# archive stalls neither the purge (its drops give up after lock_timeout and fall back to batch
# deletes) nor the deletes.
#
# 0. The writer never locks deleted_record itself: with it locked ACCESS EXCLUSIVE (ONLY the
#    parent, as a purge's DROP of a partition does), a delete in a new session archives at once.
# Then two purges run while pgbench deletes single rows of an attached table from two sessions:
# 1. with a reader holding a lock on the expired partition itself (SELECT ... FROM ONLY it, in an
#    open transaction) for longer than the purge's lock_timeout;
# 2. with a reader holding a lock on the archive through deleted_record (a SELECT of old rows, in
#    an open transaction).
# Lock waits are observed directly: log_lock_waits with a 20 ms deadlock_timeout logs every wait
# longer than that, and a sampler reads pg_stat_activity/pg_locks four times a second.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

ITEMS=200000          # rows of the attached table the deleters delete from (one per transaction)
RATE=200              # deletes per second, both sessions together (pgbench --rate)
DEFAULT_EXPIRED=300000  # expired archive rows in the DEFAULT partition (60 batches of 5000)
PARTITION_EXPIRED=20000 # expired archive rows in a partition of their own, four months back
RECENT=1000           # archive rows of the same table within its retention
SECOND_EXPIRED=30000  # expired rows for the second purge
HOLD=15               # seconds each reader holds its lock (the purge's lock_timeout is 5 s)
WAIT=600              # seconds any purge may take at most

bg_pids=()
on_exit() {
  touch "$tmp/stop" 2>/dev/null
  local p; for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
}
start_own_cluster purge_concurrency "log_lock_waits = on" "deadlock_timeout = '20ms'" "log_line_prefix = '%n [%p] %a '"

q >/dev/null <<SQL || die "setup failed"
CREATE EXTENSION deleted_record;
CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL);
CREATE TABLE history (id bigint PRIMARY KEY);   -- its archive rows are made by hand
CREATE TABLE notes (id int PRIMARY KEY);
SELECT deleted_record_attach('notes');
INSERT INTO notes SELECT generate_series(1, 10);
SELECT deleted_record_attach('items', retention => '30 days');
SELECT deleted_record_attach('history', retention => '30 days');
-- Retention applies to the rows an attachment archived; the history rows made below by hand
-- predate these attaches, so the attachments are registered from the beginning of time (as the
-- update from 1.1 registers the tables attached then).
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000'
 WHERE table_name IN ('notes', 'items', 'history');
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, $ITEMS) g;
CREATE SEQUENCE next_item;   -- each delete takes the next id: every transaction deletes one row
-- The month four months ago (UTC), as a partition of its own, named as the extension names them.
CREATE TABLE old_month AS
SELECT a, a + interval '1 month' AS b,
       format('deleted_record_%s_%s', to_char(a AT TIME ZONE 'UTC', 'YYYYMMDD'),
              to_char((a + interval '1 month') AT TIME ZONE 'UTC', 'YYYYMMDD')) AS name
  FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC' - interval '4 months') AT TIME ZONE 'UTC' AS a) s;
DO \$\$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM old_month;
  EXECUTE format('CREATE TABLE %I PARTITION OF deleted_record FOR VALUES FROM (%L) TO (%L)',
                 m.name, deleted_record_uuid7_floor(m.a), deleted_record_uuid7_floor(m.b));
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', m.name);
END \$\$;
-- old_rows(at, n, first): n archive rows of history deleted at the moment at.
CREATE FUNCTION old_rows(at timestamptz, n int, first int) RETURNS void LANGUAGE sql AS \$\$
  INSERT INTO deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(deleted_record_uuid7_floor(at)::text PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g, 'note', 'made by hand'), at, at, g::text, 'history', 'public'
    FROM generate_series(first, first + n - 1) g \$\$;
SELECT old_rows((SELECT a FROM old_month) + interval '10 days', $PARTITION_EXPIRED, 1);
SELECT old_rows(now() - interval '60 days', $DEFAULT_EXPIRED, 1000001);
SELECT old_rows(now() - interval '20 days', $RECENT, 2000001);
SQL
OLD=$(q -c "SELECT name FROM old_month")
OLD_OID=$(q -c "SELECT '$OLD'::regclass::oid")
# history_state: expired and recent archive rows of history, and whether the old partition exists.
history_state() {
  q -c "SELECT count(*) FILTER (WHERE deleted_at < now() - interval '30 days') || ' expired, ' ||
               count(*) FILTER (WHERE deleted_at >= now() - interval '30 days') || ' recent, ' ||
               CASE WHEN to_regclass('$OLD') IS NULL THEN 'partition dropped'
                    ELSE 'partition with ' || count(*) FILTER (WHERE tableoid = to_regclass('$OLD')) || ' rows' END
          FROM deleted_record WHERE table_name = 'history'"
}
check "the archive holds the expired rows (in the DEFAULT partition and in $OLD) and recent ones" \
  "$((DEFAULT_EXPIRED + PARTITION_EXPIRED)) expired, $RECENT recent, partition with $PARTITION_EXPIRED rows" "$(history_state)"

# wait_lock APP RELATION: waits until the session APP holds a granted lock on RELATION.
wait_lock() {
  local i
  for i in $(seq 600); do
    [ "$(q -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE a.application_name = '$1' AND l.relation = '$2'::regclass AND l.granted")" != 0 ] && return 0
    sleep 0.1
  done
  return 1
}
# 0. deleted_record itself (ONLY the parent) locked ACCESS EXCLUSIVE by another transaction: a
#    delete in a new session must archive without waiting for it (lock_timeout makes a wait fail).
PGAPPNAME=locker psql -X -qAt -c "BEGIN" -c "LOCK TABLE ONLY deleted_record IN ACCESS EXCLUSIVE MODE" \
  -c "SELECT pg_sleep(120)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!; bg_pids+=("$locker")
if wait_lock locker deleted_record; then
  out=$(PGOPTIONS="-c lock_timeout=5s" psql -X -qAt -v ON_ERROR_STOP=1 -c "DELETE FROM notes WHERE id = 1 RETURNING id" 2>&1)
  check "with deleted_record (the parent only) locked ACCESS EXCLUSIVE, a delete in a new session archives without waiting" \
    "1" "$out"
else
  not_ok "with deleted_record (the parent only) locked ACCESS EXCLUSIVE, a delete in a new session archives without waiting (no lock taken)"
fi
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$locker" 2>/dev/null
check "... and the row is archived once (or, after a failed delete, still there)" "1" \
  "$(q -c "SELECT (SELECT count(*) FROM deleted_record WHERE table_name = 'notes') + (SELECT count(*) FROM notes WHERE id = 1)")"

# The sampler: four times a second, the sessions of the deleters, the purge and the readers, and
# every lock a deleter waits for. Touches no table, so it cannot itself wait behind the purge.
cat >"$tmp/sample.sql" <<'SQL'
SELECT extract(epoch FROM clock_timestamp()) || '|' ||
       count(*) FILTER (WHERE a.application_name = 'deleter') || '|' ||
       count(*) FILTER (WHERE a.application_name = 'deleter' AND a.wait_event_type = 'Lock') || '|' ||
       count(*) FILTER (WHERE a.application_name = 'purge' AND a.state = 'active') || '|' ||
       count(*) FILTER (WHERE a.application_name = 'purge' AND a.wait_event_type = 'Lock') || '|' ||
       coalesce((SELECT string_agg(l.locktype || ' ' || coalesce(l.relation::regclass::text, '') || ' ' || l.mode ||
                                   ' blocked by ' || pg_blocking_pids(l.pid)::text, '; ')
                   FROM pg_locks l JOIN pg_stat_activity w ON w.pid = l.pid
                  WHERE NOT l.granted AND w.application_name = 'deleter'), '')
  FROM pg_stat_activity a \watch 0.25
SQL
psql -X -qAt -f "$tmp/sample.sql" -o "$tmp/samples" >"$tmp/sampler.err" 2>&1 &
sampler=$!; bg_pids+=("$sampler")

# The deleters: pgbench rounds of 3 s (two sessions, --rate), one after the other until told to
# stop; each transaction deletes the row with the next id. Per-transaction logs for the times.
echo "DELETE FROM items WHERE id = (SELECT nextval('next_item'));" >"$tmp/delete.sql"
deleters() {
  local round=0
  while [ ! -e "$tmp/stop" ]; do
    round=$((round + 1))
    PGAPPNAME=deleter pgbench -n -c 2 -j 1 -T 3 -R "$RATE" -f "$tmp/delete.sql" -l --log-prefix="$tmp/pgb.$round" \
      >"$tmp/pgbench.$round.out" 2>&1
    echo $? >"$tmp/pgbench.$round.rc"
  done
}
deleters &
deleter_loop=$!; bg_pids+=("$deleter_loop")
for i in $(seq 300); do [ -s "$tmp/pgbench.1.rc" ] && break; sleep 0.1; done

# run_purge N: CALL deleted_record_purge(batch_size => 5000) as session 'purge' (in the
# background); its start and end times go to $tmp/purgeN.start and .end, its output to .out.
run_purge() {
  date +%s.%N >"$tmp/purge$1.start"
  PGAPPNAME=purge psql -X -qAt -v ON_ERROR_STOP=1 -c "CALL deleted_record_purge(batch_size => 5000)" >"$tmp/purge$1.out" 2>&1
  echo $? >"$tmp/purge$1.rc"
  date +%s.%N >"$tmp/purge$1.end"
}
# wait_purge N: waits for purge N (at most WAIT seconds); prints its duration or "unfinished".
wait_purge() {
  local i
  for i in $(seq $((WAIT * 10))); do
    if [ -s "$tmp/purge$1.end" ]; then
      awk '{ printf "%.1f", $1 - start }' start="$(cat "$tmp/purge$1.start")" "$tmp/purge$1.end"; return 0
    fi
    sleep 0.1
  done
  echo unfinished
}

# 1. A reader holds AccessShareLock on the expired partition for HOLD seconds: the purge's DROP of it
#    waits at most its lock_timeout, then the purge deletes its rows in batches meanwhile.
PGAPPNAME=reader1 psql -X -qAt -v ON_ERROR_STOP=1 >"$tmp/reader1.out" 2>&1 <<SQL &
BEGIN;
SELECT 'before ' || count(*) FROM ONLY $OLD;
SELECT pg_sleep($HOLD);
SELECT 'after ' || count(*) FROM ONLY $OLD;
COMMIT;
SQL
reader1=$!; bg_pids+=("$reader1")
wait_lock reader1 "$OLD" || not_ok "reader 1 got its lock on $OLD"
run_purge 1 &
bg_pids+=("$!")
took1=$(wait_purge 1)
wait "$reader1"
p1s=$(cat "$tmp/purge1.start"); p1e=$(cat "$tmp/purge1.end" 2>/dev/null || date +%s.%N)
echo "# purge 1 (reader on $OLD for $HOLD s) took $took1 s"

check "purge 1 finished: NOTICE and removed count of all $((DEFAULT_EXPIRED + PARTITION_EXPIRED)) expired rows" \
  "0|NOTICE:  deleted_record_purge: removed $((DEFAULT_EXPIRED + PARTITION_EXPIRED)) archive rows|$((DEFAULT_EXPIRED + PARTITION_EXPIRED))" \
  "$(cat "$tmp/purge1.rc" 2>/dev/null)|$(grep NOTICE "$tmp/purge1.out")|$(grep -v NOTICE "$tmp/purge1.out")"
# A purge tries the DROP of a locked partition once with its lock_timeout, then only in passing:
# whether it got to drop it before it finished depends on when the reader let go. Its rows are
# gone either way, and the next purge drops it (checked at the end).
emptied() { sed 's/partition with 0 rows$/partition dropped or emptied/; s/partition dropped$/partition dropped or emptied/'; }
check "after purge 1: no expired history row left, the recent ones stay, $OLD was dropped or emptied" \
  "0 expired, $RECENT recent, partition dropped or emptied" "$(history_state | emptied)"
r1_before=$(sed -n 's/^before //p' "$tmp/reader1.out"); r1_after=$(sed -n 's/^after //p' "$tmp/reader1.out")
echo "# reader 1 counted $r1_before rows in $OLD when it took its lock and $r1_after when it released it"
if [ "$r1_before" = "$PARTITION_EXPIRED" ] && [ -n "$r1_after" ] && [ "$r1_after" -lt "$r1_before" ]; then
  ok "the purge did not wait for the reader of $OLD: it deleted rows of it in batches while the reader held its lock"
else
  not_ok "the purge did not wait for the reader of $OLD: it deleted rows of it in batches while the reader held its lock"
  sed 's/^/#   reader 1: /' "$tmp/reader1.out"
fi
waits=$(grep -cE " purge LOG:  process [0-9]+ still waiting for AccessExclusiveLock on relation $OLD_OID " "$tmp/cluster/server.log")
if [ "$waits" -ge 1 ]; then ok "the purge tried to drop $OLD while the reader held it (and waited, $waits time(s))"
else not_ok "the purge tried to drop $OLD while the reader held it"; fi

# 2. A reader holds AccessShareLock on the archive through deleted_record (a SELECT of old rows in
#    an open transaction) for HOLD seconds while a second purge runs.
q -c "SELECT old_rows(now() - interval '45 days', $SECOND_EXPIRED, 3000001)" >/dev/null
PGAPPNAME=reader2 psql -X -qAt -v ON_ERROR_STOP=1 >"$tmp/reader2.out" 2>&1 <<SQL &
BEGIN;
SELECT 'before ' || count(*) FROM deleted_record WHERE id < deleted_record_uuid7_floor(now() - interval '40 days');
SELECT pg_sleep($HOLD);
SELECT 'after ' || count(*) FROM deleted_record WHERE id < deleted_record_uuid7_floor(now() - interval '40 days');
COMMIT;
SQL
reader2=$!; bg_pids+=("$reader2")
wait_lock reader2 deleted_record || not_ok "reader 2 got its lock on deleted_record"
run_purge 2 &
bg_pids+=("$!")
took2=$(wait_purge 2)
wait "$reader2"
p2s=$(cat "$tmp/purge2.start"); p2e=$(cat "$tmp/purge2.end" 2>/dev/null || date +%s.%N)
echo "# purge 2 (reader on deleted_record for $HOLD s) took $took2 s"
check "purge 2 finished and removed the $SECOND_EXPIRED new expired rows" \
  "0|NOTICE:  deleted_record_purge: removed $SECOND_EXPIRED archive rows|$SECOND_EXPIRED|0 expired, $RECENT recent, partition dropped or emptied" \
  "$(cat "$tmp/purge2.rc" 2>/dev/null)|$(grep NOTICE "$tmp/purge2.out")|$(grep -v NOTICE "$tmp/purge2.out")|$(history_state | emptied)"
r2_before=$(sed -n 's/^before //p' "$tmp/reader2.out"); r2_after=$(sed -n 's/^after //p' "$tmp/reader2.out")
echo "# reader 2 counted $r2_before old rows when it took its lock and $r2_after when it released it"
if [ "$r2_before" = "$SECOND_EXPIRED" ] && [ -n "$r2_after" ] && [ "$r2_after" -lt "$r2_before" ]; then
  ok "the purge did not wait for the reader of deleted_record: it removed rows while the reader held its lock"
else
  not_ok "the purge did not wait for the reader of deleted_record: it removed rows while the reader held its lock"
  sed 's/^/#   reader 2: /' "$tmp/reader2.out"
  awk -v s="$p2s" '$1 >= s && / purge (LOG|CONTEXT):/' "$tmp/cluster/server.log" | head -4 | cut -c1-400 | sed 's/^/#   server log: /'
fi

# Stop the deleters after one more round, then the sampler.
sleep 1
touch "$tmp/stop"
wait "$deleter_loop"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null

# (b) every delete committed and is archived exactly once.
rounds=$(ls "$tmp"/pgbench.*.rc | wc -l)
bad_rounds=$(grep -Lx 0 "$tmp"/pgbench.*.rc | wc -l)
processed=$(cat "$tmp"/pgbench.*.out | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
failed=$(cat "$tmp"/pgbench.*.out | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
last=$(q -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM next_item")
echo "# deleters: $rounds pgbench rounds, $processed deletes reported, $last ids taken"
check "every pgbench round succeeded without a failed transaction" "0 0" "$bad_rounds $failed"
if [ "$processed" -gt 0 ] && [ "$last" -ge "$processed" ] && [ "$last" -le "$((processed + 2 * rounds))" ] && [ "$last" -lt "$ITEMS" ]; then
  ok "the deletes reported by pgbench are the ids taken ($processed of $last; at most 2 per round unreported)"
else
  not_ok "the deletes reported by pgbench are the ids taken"; echo "#   processed=$processed last=$last rounds=$rounds items=$ITEMS"
fi
check "every delete committed: no row with a taken id is left, every other row is" "0|$((ITEMS - last))" \
  "$(q -c "SELECT count(*) FILTER (WHERE id <= $last) || '|' || count(*) FILTER (WHERE id > $last) FROM items")"
check "every deleted row is archived exactly once (and nothing else of items)" "$last|$last|1|$last" \
  "$(q -c "SELECT count(*) || '|' || count(DISTINCT object_id) || '|' || coalesce(min(object_id::int), 0) || '|' || coalesce(max(object_id::int), 0)
             FROM deleted_record WHERE table_name = 'items'")"

# Deletes ran during both purges, including while the readers held their locks.
# deletes_between START END: transactions of the deleters that ended in [START, END] (epoch s).
deletes_between() {
  cat "$tmp"/pgb.* | awk -v s="$1" -v e="$2" '{ t = $5 + $6 / 1e6; if (t >= s && t <= e) n++ } END { print n + 0 }'
}
during1=$(deletes_between "$p1s" "$p1e"); during2=$(deletes_between "$p2s" "$p2e")
hold1=$(deletes_between "$p1s" "$(awk -v s="$p1s" -v h="$HOLD" 'BEGIN { printf "%.3f", s + h - 2 }')")
echo "# deletes committed during purge 1: $during1 (during its first $((HOLD - 2)) s, while reader 1 held $OLD: $hold1); during purge 2: $during2"
cat "$tmp"/pgb.* | awk '{ l = ($7 == "" ? $3 : $3 - $7) / 1000; if (l > max) max = l } END { printf "# longest delete (latency without rate-limit lag): %.1f ms\n", max }'
if [ "$during1" -gt 0 ] && [ "$hold1" -gt 0 ] && [ "$during2" -gt 0 ]; then
  ok "deletes kept committing throughout both purges (also while a reader blocked the purge)"
else
  not_ok "deletes kept committing throughout both purges (also while a reader blocked the purge)"
fi

# (c) no delete waited on a lock: neither in the samples nor in the server log (any wait > 20 ms),
# during purge 1, during purge 2, or at any other time.
samples=$(grep -c '|' "$tmp/samples" 2>/dev/null)
purge_samples=$(awk -F'|' '$4 > 0' "$tmp/samples" | wc -l)
purge_lock_samples=$(awk -F'|' '$5 > 0' "$tmp/samples" | wc -l)
echo "# sampler: $samples samples, $purge_samples with the purge running, $purge_lock_samples with it waiting on a lock"
if [ "$purge_samples" -ge 10 ]; then ok "the sampler watched the purges ($purge_samples samples)"
else not_ok "the sampler watched the purges ($purge_samples samples)"; head -5 "$tmp/sampler.err" | sed 's/^/#   /'; fi
# deleter_waits FILTER: the samples and server log lines (both start with an epoch) showing a deleter
# waiting on a lock, whose time t satisfies the awk condition FILTER.
deleter_waits() {
  awk -F'|' -v p1s="$p1s" -v p1e="$p1e" -v p2s="$p2s" -v p2e="$p2e" "(\$3 > 0 || \$6 != \"\") { t = \$1; if ($1) print \"sample: \" \$0 }" "$tmp/samples"
  awk -v p1s="$p1s" -v p1e="$p1e" -v p2s="$p2s" -v p2e="$p2e" "/ deleter LOG:  process [0-9]+ (still waiting|acquired)/ { t = \$1; if ($1) print \"log: \" \$0 }" "$tmp/cluster/server.log"
}
# check_no_waits DESCRIPTION FILTER
check_no_waits() {
  local waits; waits=$(deleter_waits "$2")
  if [ -z "$waits" ]; then ok "$1"
  else not_ok "$1"; echo "#   $(grep -c '^sample' <<<"$waits") sample(s), $(grep -c '^log' <<<"$waits") server log line(s), e.g.:"
    { grep '^sample' <<<"$waits" | head -3; grep '^log' <<<"$waits" | head -4; } | cut -c1-300 | sed 's/^/#     /'
    local oids; oids=$(grep -o 'relation [0-9][0-9]*' <<<"$waits" | cut -d' ' -f2 | sort -u | paste -sd, -)
    [ -z "$oids" ] || echo "#   relations: $(q -c "SELECT string_agg(o || ' = ' || coalesce(to_regclass(o::regclass::text)::text, '(dropped)'), ', ')
                                                FROM unnest('{$oids}'::oid[]) o")"
  fi
}
check_no_waits "no delete waited on a lock during purge 1 (reader on $OLD)" "t >= p1s && t <= p1e"
check_no_waits "no delete waited on a lock during purge 2 (reader on deleted_record)" "t >= p2s && t <= p2e"
check_no_waits "no delete waited on a lock at any other time" "!(t >= p1s && t <= p1e) && !(t >= p2s && t <= p2e)"

# 3. With no reader left, the next purge drops what the busy ones could only empty.
q -c "CALL deleted_record_purge()" >/dev/null 2>&1
check "a purge without readers drops the expired partition the busy purges emptied" \
  "0 expired, $RECENT recent, partition dropped" "$(history_state)"

tap_done
