#!/usr/bin/env bash
# two_phase: `make installcheck` passes on a cluster with PostgreSQL's defaults, where
# max_prepared_transactions = 0 and PREPARE TRANSACTION is an error (the pg_regress suite and the
# isolation specs, run exactly as `make installcheck` runs them, against a cluster of its own
# configured so); and two-phase commit is archived as any commit is, on the same cluster once
# max_prepared_transactions allows it: a prepared transaction's deletes are archived (once, with
# its context) when COMMIT PREPARED runs, from any session, and never when ROLLBACK PREPARED runs.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

# cluster_start writes max_prepared_transactions = 10; the later line gives PostgreSQL's default.
start_own_cluster two_phase "max_prepared_transactions = 0"
check "the cluster runs with PostgreSQL's default max_prepared_transactions" "0" "$(q -c 'SHOW max_prepared_transactions')"

# --- 1. make installcheck on that cluster. Results go to $tmp (REGRESS_OPTS/ISOLATION_OPTS add a
# later --outputdir), so the checkout's results/ and regression.diffs stay those of scripts/test.sh.
outdir=$tmp/out
mkdir -p "$outdir/regress" "$outdir/isolation"
make -s -C "$REPO_ROOT" installcheck ISOLATION= PG_CONFIG="$PGBIN/pg_config" \
  REGRESS_OPTS="--inputdir=test --load-extension=deleted_record --outputdir=$outdir/regress" \
  >"$outdir/regress.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -qE 'All [0-9]+ tests passed|^# All [0-9]+ tests passed' "$outdir/regress.log"; then
  ok "make installcheck (pg_regress suite) passes with max_prepared_transactions = 0: $(grep -oE 'All [0-9]+ tests passed' "$outdir/regress.log")"
else
  not_ok "make installcheck (pg_regress suite) passes with max_prepared_transactions = 0 (exit code $rc)"
  grep -E 'FAILED|failed|not ok' "$outdir/regress.log" | sed 's/^/#   /'
  [ -s "$outdir/regress/regression.diffs" ] && head -60 "$outdir/regress/regression.diffs" | sed 's/^/#   /'
fi
make -s -C "$REPO_ROOT" installcheck REGRESS= PG_CONFIG="$PGBIN/pg_config" \
  ISOLATION_OPTS="--inputdir=test/isolation --load-extension=deleted_record --outputdir=$outdir/isolation" \
  >"$outdir/isolation.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -qE 'All [0-9]+ tests passed' "$outdir/isolation.log"; then
  ok "make installcheck (isolation specs) passes with max_prepared_transactions = 0: $(grep -oE 'All [0-9]+ tests passed' "$outdir/isolation.log")"
else
  not_ok "make installcheck (isolation specs) passes with max_prepared_transactions = 0 (exit code $rc)"
  grep -E 'FAILED|failed|not ok' "$outdir/isolation.log" | sed 's/^/#   /'
  [ -s "$outdir/isolation/regression.diffs" ] && head -60 "$outdir/isolation/regression.diffs" | sed 's/^/#   /'
fi
check "no pg_regress test or isolation spec uses two-phase commit (it needs a non-default setting)" "" \
  "$(grep -liE 'PREPARE[[:space:]]+TRANSACTION|COMMIT[[:space:]]+PREPARED' "$REPO_ROOT"/test/sql/*.sql "$REPO_ROOT"/test/isolation/specs/*.spec)"

# --- 2. two-phase commit, on the same cluster restarted with max_prepared_transactions = 10.
q -c "ALTER SYSTEM SET max_prepared_transactions = 10" >/dev/null || die "ALTER SYSTEM failed"
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w restart >/dev/null \
  || { cat "$CLUSTER_DIR/server.log" >&2; die "restart failed"; }
check "after the restart, max_prepared_transactions = 10" "10" "$(q -c 'SHOW max_prepared_transactions')"

createdb twopc || die "createdb failed"
q twopc >/dev/null <<'SQL' || die "setup failed"
CREATE EXTENSION deleted_record;
CREATE TABLE item (id int PRIMARY KEY, label text);
CREATE TABLE line (id int PRIMARY KEY, item_id int NOT NULL REFERENCES item ON DELETE CASCADE);
SELECT deleted_record_attach('item');
SELECT deleted_record_attach('line');
INSERT INTO item VALUES (41, 'two-phase'), (42, 'two-phase rolled back'), (43, 'prepared, committed elsewhere');
INSERT INTO line VALUES (410, 41), (420, 42), (430, 43);
SQL

# Prepared and committed in one session, with context and a cascade.
q twopc >/dev/null <<'SQL' || die "2PC a failed"
BEGIN;
SELECT deleted_record_set_context('support:alice', 'two-phase', '{"gid": "dr_2pc_a"}');
DELETE FROM item WHERE id = 41;
PREPARE TRANSACTION 'dr_2pc_a';
COMMIT PREPARED 'dr_2pc_a';
SQL
# Prepared, then rolled back.
q twopc >/dev/null <<'SQL' || die "2PC b failed"
BEGIN;
DELETE FROM item WHERE id = 42;
PREPARE TRANSACTION 'dr_2pc_b';
ROLLBACK PREPARED 'dr_2pc_b';
SQL
# Prepared in one session; nothing is visible before COMMIT PREPARED, which another session runs.
q twopc >/dev/null <<'SQL' || die "2PC c failed"
BEGIN;
SET LOCAL deleted_record.actor = 'batch';
DELETE FROM item WHERE id = 43;
PREPARE TRANSACTION 'dr_2pc_c';
SQL
check "while prepared, the transaction's archive rows are not visible and its rows still are" "0|1" \
  "$(q twopc -c "SELECT (SELECT count(*) FROM deleted_record WHERE object_id IN ('43', '430')) || '|' || (SELECT count(*) FROM item WHERE id = 43)")"
q twopc -c "COMMIT PREPARED 'dr_2pc_c'" >/dev/null || die "COMMIT PREPARED from another session failed"

check "committed prepared transactions archived each row once, with their context and one xact_id per transaction; the rolled-back one nothing" \
  "item 41 support:alice two-phase dr_2pc_a 1,line 410 support:alice two-phase dr_2pc_a 1,item 43 batch 1,line 430 batch 1" \
  "$(q twopc -c "SELECT string_agg(concat_ws(' ', table_name, object_id, actor, reason, metadata->>'gid', n), ','
                                   ORDER BY left(object_id, 2), table_name)
                   FROM (SELECT *, count(*) OVER (PARTITION BY table_name, object_id) AS n FROM deleted_record) a")"
check "each committed prepared transaction's rows share one xact_id (a delete and its cascade), two transactions in all" "2|true" \
  "$(q twopc -c "SELECT count(DISTINCT xact_id) || '|' || bool_and(xact_id IS NOT NULL) FROM deleted_record")"
check "the live tables: only the rolled-back transaction's rows remain" "42 420" \
  "$(q twopc -c "SELECT (SELECT string_agg(id::text, ' ') FROM item) || ' ' || (SELECT string_agg(id::text, ' ') FROM line)")"

tap_done
