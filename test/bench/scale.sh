# The scale benchmark of scripts/bench.sh (--only scale), sourced by it (it uses bench.sh's sql,
# median, paired, print_table, target, report_header and record helpers).
#
# Claim under test: with the time-partitioned archive (1.1) the cost of archiving a delete and of
# purging an expired row does not depend on how large the archive is. A delete writes into the
# current period's partition only, whose indexes hold that period's rows, whatever the archive
# holds besides; a purge drops an expired partition whole, after counting its rows.
#
# Layout. Two archives with the same deletion rate, one young and one old: every past month holds
# SCALE_MONTH_ROWS (1,000,000) rows in its own monthly partition, the young archive has one month
# of history (1M rows), the old one eight (8M rows, about 5 GB with indexes). The month both
# share is the oldest, the one the purge removes, so both purges remove the same partition and
# the same rows. The current month's partition, where every delete goes, is empty when each run
# starts in both (it is emptied after every run). Both archives live in one database: the old
# archive's seven extra months are tables that are attached as partitions for its runs and
# detached for the young archive's runs (with CHECK constraints of their bounds, attaching needs
# no scan), so the two runs of a round see the same server, the same attached table and the same
# current partition, and differ only by what the archive holds besides.
#
# Memory. The cluster runs in a cgroup v1 memory cgroup of SCALE_MEM_MB (256 MB): the postmaster
# is started inside it and every backend inherits it; the page cache of the files the server
# reads and writes counts against it too, so the 8M archive is about twenty times the memory the
# server can use (the 1M archive, about 650 MB, two and a half times). shared_buffers = 64MB.
# The cgroup is made under the one this script runs in (so that it stays inside whatever limits
# that one has) and removed at the end; root (or sudo) is needed.
#
# Measurements, in alternating rounds:
#   deletes - pgbench, 2 clients, -M prepared, synchronous_commit = off, single-row DELETEs of
#             random invoices from an attached table of SCALE_OLTP_ROWS rows (TPS), 1M vs 8M;
#             every run starts from the same memory state, whatever ran before it (the first
#             trial runs inherited the cache of the run before, which favoured the contender that
#             followed a run in its own database): the server restarts (empty shared buffers),
#             the cgroup's page cache is dropped (memory.force_empty), then the attached table and
#             its indexes are read in (pg_prewarm); the order of the contenders also rotates;
#   purge   - CALL deleted_record_purge(older_than => <age of the second-oldest month's start>):
#             removes the oldest month (1M rows) from the 1M and from the 8M archive; time per
#             row removed. The purged month is rebuilt (copied) before every purge run, and each
#             run starts from the same cold state (server restarted, page cache dropped).
# For reference, the 1.0 design: one unpartitioned archive with its primary key and
# (table_name, object_id) index holding every row. It is simulated with the extension itself in a
# second database whose archive has a DEFAULT partition only (no period partitions): every row
# goes to that one table, the 1M or the 8M copy of the same rows (indexes built by CREATE INDEX,
# which packs them tighter than a year of inserts would: the simulation flatters 1.0). Its deletes
# run in the same rounds; its purge (1.0 had none: README's "DELETE FROM deleted_record WHERE
# deleted_at < ..." retention job) runs once per size at the end, after which the data is gone.
#
# Running time, on a 2-CPU machine: building the archives takes most of it (about 9M rows
# generated or copied, indexed and vacuumed: 7.5 minutes on a quiet machine), about 12 minutes
# in all with 5 rounds of deletes and 3 of purges; 25 minutes or more when other work loads the
# machine. Disk: about 12 GB under /tmp (checked before starting).
#
# --quick (smoke run): 20,000 rows per month, 1 round, pgbench runs of 37,500 deletes: the archive then
# fits in memory, so its figures say nothing about scale; it checks that the benchmark works.

SCALE_MEM_MB=256
SCALE_MONTHS=8
SCALE_MONTH_ROWS=1000000
SCALE_OLTP_ROWS=300000
SCALE_PURGE_ROUNDS=$(( ROUNDS < 3 ? ROUNDS : 3 ))
SCALE_LOOKUP_MONTHS=36   # past monthly partitions present while lookups are timed
if [ "${QUICK:-0}" -eq 1 ]; then
  SCALE_MONTH_ROWS=20000
  SCALE_OLTP_ROWS=150000   # the quick run deletes a quarter of them (pgbench -t)
fi
SCALE_CGROUP=""
SCALE_DELETE_CONTENDERS=(ext1 ext8 v10_1 v10_8)
SCALE_PURGE_CONTENDERS=(ext1 ext8)
SCALE_V10_PURGE=(v10_1 v10_8)
LABEL[ext1]="1.1 partitioned, archive $SCALE_MONTH_ROWS rows"
LABEL[ext8]="1.1 partitioned, archive $((SCALE_MONTHS * SCALE_MONTH_ROWS)) rows"
LABEL[v10_1]="1.0 design, archive $SCALE_MONTH_ROWS rows"
LABEL[v10_8]="1.0 design, archive $((SCALE_MONTHS * SCALE_MONTH_ROWS)) rows"

# scale_cgroup_create makes the memory cgroup (under the caller's own memory cgroup) and sets its limit.
scale_cgroup_create() {
  local base self
  base=/sys/fs/cgroup/memory
  [ -f "$base/memory.limit_in_bytes" ] || die "scale: needs a cgroup v1 memory controller at $base"
  self=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  SCALE_CGROUP=$base${self%/}/deleted_record_bench_$$
  as_root mkdir "$SCALE_CGROUP" || die "scale: cannot create the memory cgroup $SCALE_CGROUP"
  echo $((SCALE_MEM_MB * 1024 * 1024)) | as_root tee "$SCALE_CGROUP/memory.limit_in_bytes" >/dev/null \
    || die "scale: cannot set the memory limit of $SCALE_CGROUP"
  log "scale: memory cgroup $SCALE_CGROUP of $SCALE_MEM_MB MB"
}

# scale_cgroup_remove removes the cgroup once the server's processes have left it.
scale_cgroup_remove() {
  [ -n "$SCALE_CGROUP" ] && [ -d "$SCALE_CGROUP" ] || return 0
  local i
  for i in $(seq 100); do
    as_root rmdir "$SCALE_CGROUP" 2>/dev/null && break
    sleep 0.1
  done
  [ -d "$SCALE_CGROUP" ] && log "warning: could not remove the memory cgroup $SCALE_CGROUP"
  SCALE_CGROUP=""
}

# scale_server_restart stops the server and starts it inside the memory cgroup: a shell that moves
# itself into the cgroup execs pg_ctl, whose postmaster (and so every server process) inherits
# the cgroup.
scale_server_restart() {
  local pid
  as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -w stop >/dev/null
  as_root bash -c 'echo $$ >"$1/cgroup.procs" && exec runuser -u "$2" -- "$3/pg_ctl" -D "$4/data" -l "$4/server.log" -w start' \
    _ "$SCALE_CGROUP" "$(server_user)" "$PGBIN" "$CLUSTER_DIR" >/dev/null \
    || { cat "$CLUSTER_DIR/server.log" >&2; die "scale: the server did not start in the memory cgroup"; }
  pid=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
  grep -qx "$pid" "$SCALE_CGROUP/cgroup.procs" || die "scale: the postmaster ($pid) is not in $SCALE_CGROUP"
}

# scale_cold_start restarts the server and drops the page cache charged to the cgroup, so that a
# run finds nothing cached (shared buffers or page cache) by the runs before it.
scale_cold_start() {
  scale_server_restart
  echo 0 | as_root tee "$SCALE_CGROUP/memory.force_empty" >/dev/null || die "scale: cannot empty the cgroup's page cache"
}

# scale_sql DB ARGS...: sql against one of the two databases.
scale_sql() { local db=$1; shift; PGDATABASE=$db sql "$@"; }

# scale_db CONTENDER prints the database of a contender.
scale_db() { case "$1" in ext*) echo scale_ext ;; v10*) echo scale_v10 ;; esac; }

# scale_use CONTENDER gives the contender's database the contender's archive: for 1.1 the oldest
# month only or all of them; for 1.0 the 1M or the 8M table as the archive's only partition.
scale_use() {
  case "$1" in
    ext1) scale_sql scale_ext -c "SELECT scale.use_months(1, $SCALE_MONTHS)" >/dev/null ;;
    ext8) scale_sql scale_ext -c "SELECT scale.use_months($SCALE_MONTHS, $SCALE_MONTHS)" >/dev/null ;;
    v10_1) scale_sql scale_v10 -c "SELECT scale.use_default('deleted_record_v10_1m')" >/dev/null ;;
    v10_8) scale_sql scale_v10 -c "SELECT scale.use_default('deleted_record_v10_8m')" >/dev/null ;;
  esac
}

# scale_setup builds both databases: the invoices and the attached table bench.oltp in each; in
# scale_ext the months of archive rows (one generated, the others copied from it), each with the
# indexes of an archive partition, attached as partitions; in scale_v10 the 1M and 8M tables of
# the 1.0 design (the same rows, copied from scale_ext) and an archive without period partitions.
# Every table of archive rows is created, filled and indexed in one transaction, so that with
# wal_level = minimal (as while the archives are built) it is written without WAL.
scale_setup() {
  local db k n name started=$SECONDS
  for db in scale_ext scale_v10; do
    sql -c "CREATE DATABASE $db"
    scale_sql "$db" -v source_rows="$SCALE_OLTP_ROWS" -f "$BENCH_SQL/setup.sql" >/dev/null
    scale_sql "$db" -f "$BENCH_SQL/scale.sql" >/dev/null
    scale_sql "$db" >/dev/null <<EOF
CREATE EXTENSION pg_prewarm;
SELECT bench.recreate('oltp', $SCALE_OLTP_ROWS, 'none');
CREATE UNIQUE INDEX ON bench.oltp (invoice_no);
SELECT public.deleted_record_attach('bench.oltp');
EOF
  done
  log "scale: generating the $SCALE_MONTH_ROWS archive rows of the oldest month"
  scale_sql scale_ext -c "SELECT scale.fill_template($SCALE_MONTHS, $SCALE_MONTH_ROWS)" >/dev/null
  for k in $(seq "$SCALE_MONTHS" -1 1); do
    name=$(scale_sql scale_ext -c "SELECT scale.partition_name($k)")
    log "scale: building $name ($SCALE_MONTH_ROWS rows, $((SECONDS - started)) s so far)"
    scale_sql scale_ext -c "SELECT scale.create_month($k, $SCALE_MONTHS, $SCALE_MONTH_ROWS, '$name')" >/dev/null
    scale_sql scale_ext -c "VACUUM (ANALYZE) public.$name"
    scale_sql scale_ext -c "SELECT scale.attach_month($k)" >/dev/null
  done

  log "scale: building the 1.0 design's archives ($((SECONDS - started)) s so far)"
  scale_sql scale_v10 >/dev/null <<'EOF'
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.deleted_record'::regclass LOOP
        EXECUTE format('ALTER TABLE public.deleted_record DETACH PARTITION %s', part);
    END LOOP;
END;
$$;
EOF
  # Every month's rows, from the 1.1 archive (all months attached by now), in one stream.
  scale_sql scale_ext -c "COPY (SELECT * FROM public.deleted_record
                                 WHERE id < public.deleted_record_uuid7_floor(scale.month_start(0))) TO STDOUT (FORMAT binary)" \
    | scale_sql scale_v10 -c "BEGIN" \
        -c "CREATE TABLE public.deleted_record_v10_8m (LIKE public.deleted_record INCLUDING DEFAULTS)" \
        -c "COPY public.deleted_record_v10_8m FROM STDIN (FORMAT binary)" \
        -c "ALTER TABLE public.deleted_record_v10_8m ADD PRIMARY KEY (id)" \
        -c "CREATE INDEX ON public.deleted_record_v10_8m (table_name, object_id)" \
        -c "CREATE TABLE public.deleted_record_v10_1m (LIKE public.deleted_record INCLUDING DEFAULTS)" \
        -c "INSERT INTO public.deleted_record_v10_1m SELECT * FROM public.deleted_record_v10_8m
             WHERE id < public.deleted_record_uuid7_floor(scale.month_start($((SCALE_MONTHS - 1))))" \
        -c "ALTER TABLE public.deleted_record_v10_1m ADD PRIMARY KEY (id)" \
        -c "CREATE INDEX ON public.deleted_record_v10_1m (table_name, object_id)" \
        -c "COMMIT"
  scale_sql scale_v10 -c "VACUUM (ANALYZE) public.deleted_record_v10_8m" -c "VACUUM (ANALYZE) public.deleted_record_v10_1m"
  n=$(scale_sql scale_v10 -c "SELECT (SELECT count(*) FROM public.deleted_record_v10_1m) || ' ' || (SELECT count(*) FROM public.deleted_record_v10_8m)")
  [ "$n" = "$SCALE_MONTH_ROWS $((SCALE_MONTHS * SCALE_MONTH_ROWS))" ] || die "scale: the 1.0 design's tables hold $n rows"
  log "scale: archives built in $((SECONDS - started)) s"
  SCALE_SETUP_SECONDS=$((SECONDS - started))
}

# scale_sizes prints the on-disk sizes of the archives (tables and indexes).
scale_sizes() {
  local one all v1 v8
  one=$(scale_sql scale_ext -c "SELECT pg_size_pretty(pg_total_relation_size(format('public.%I', scale.partition_name($SCALE_MONTHS))))")
  all=$(scale_sql scale_ext -c "SELECT pg_size_pretty(sum(pg_total_relation_size(format('public.%I', scale.partition_name(k))))) FROM generate_series(1, $SCALE_MONTHS) k")
  v1=$(scale_sql scale_v10 -c "SELECT pg_size_pretty(pg_total_relation_size('public.deleted_record_v10_1m'))")
  v8=$(scale_sql scale_v10 -c "SELECT pg_size_pretty(pg_total_relation_size('public.deleted_record_v10_8m'))")
  echo "1.1: one month $one, $SCALE_MONTHS months $all; 1.0 design: $v1 and $v8"
}

# scale_delete_run CONTENDER: gives the database the contender's archive, refills bench.oltp,
# vacuums it, checkpoints, starts cold (scale_cold_start), reads bench.oltp and its indexes in
# (pg_prewarm), runs pgbench (single-row DELETEs, the same sequence of invoices for every
# contender), checks that every transaction deleted its row and the archive got exactly those
# rows, then removes the rows the run archived (1.1: truncates the current partition; 1.0:
# deletes them from its table and vacuums it).
scale_delete_run() {
  local c=$1 db out tps xacts since deleted archived parts t0=$SECONDS t1 t2
  db=$(scale_db "$c")
  scale_use "$c"
  scale_sql "$db" -c "INSERT INTO bench.oltp SELECT s.* FROM bench.invoice_src s
                       WHERE s.invoice_no <= $SCALE_OLTP_ROWS AND NOT EXISTS (SELECT FROM bench.oltp t WHERE t.invoice_no = s.invoice_no)"
  scale_sql "$db" -c "VACUUM (ANALYZE) bench.oltp" -c "CHECKPOINT"
  scale_cold_start
  scale_sql "$db" -c "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c
                       WHERE c.oid = 'bench.oltp'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'bench.oltp'::regclass)" >/dev/null
  scale_sql "$db" -c "SELECT pg_prewarm(indexrelid) FROM pg_index WHERE indrelid = 'bench.oltp'::regclass" >/dev/null
  since=$(scale_sql "$db" -c "SELECT public.deleted_record_uuid7_floor(clock_timestamp())")
  t1=$SECONDS
  # A smoke run counts transactions instead of seconds: on a fast, idle machine 2 seconds of
  # deletes can use more than half of its small table.
  if [ "${QUICK:-0}" -eq 1 ]; then length=(-t $((SCALE_OLTP_ROWS / 8))); else length=(-T "$DURATION"); fi
  out=$(PGDATABASE=$db PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c 2 -j 2 "${length[@]}" \
          --random-seed=20240101 -D rows="$SCALE_OLTP_ROWS" -D clients=2 -D k=0 \
          -f "$BENCH_SQL/oltp_delete.pgbench" 2>&1) || die "scale ($c): pgbench failed: $out"
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
  xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  if [ -z "$tps" ] || [ -z "$xacts" ]; then die "scale ($c): no TPS in pgbench output: $out"; fi
  # Client i takes positions i, i + clients, ... of the permutation: with clients of unequal
  # speed the busier one runs past the end (and repeats invoices) before all rows are used.
  [ $((2 * xacts)) -lt "$SCALE_OLTP_ROWS" ] || die "scale ($c): $xacts deletes need more than half of the $SCALE_OLTP_ROWS rows; use a shorter --duration"
  deleted=$(scale_sql "$db" -c "SELECT $SCALE_OLTP_ROWS - count(*) FROM bench.oltp")
  archived=$(scale_sql "$db" -c "SELECT count(*) FROM public.deleted_record WHERE id >= '$since' AND table_name = 'oltp'")
  record scale_del "$c" "$deleted $archived" "$xacts"
  t2=$SECONDS
  if [ "$db" = scale_ext ]; then
    parts=$(scale_sql "$db" -c "SELECT string_agg(DISTINCT tableoid::regclass::text, ', ') FROM public.deleted_record WHERE id >= '$since'")
    [ -z "$parts" ] || scale_sql "$db" -c "TRUNCATE $parts"
  else
    scale_sql "$db" -c "DELETE FROM public.deleted_record WHERE id >= '$since'" -c "VACUUM public.deleted_record" >/dev/null
  fi
  RESULT[scale_del:$c]+="$tps "
  log "scale deletes round $round: ${LABEL[$c]}: $tps TPS ($xacts rows; prepared in $((t1 - t0)) s, cleaned up in $((SECONDS - t2)) s)"
}

# scale_purge_run CONTENDER: rebuilds the oldest month (dropped by the last purge; before the first
# purge the one built with the archive is replaced too, so that every run purges a month built
# the same way), gives the archive the contender's months, checkpoints, starts cold, times the
# purge of everything older than the second-oldest month, and checks that it removed exactly the
# oldest month (its partition is gone, the others are still there). Records microseconds per
# row removed.
scale_purge_run() {
  local c=$1 name out ms removed left want_left t0=$SECONDS
  name=$(scale_sql scale_ext -c "SELECT scale.partition_name($SCALE_MONTHS)")
  if [ -n "$(scale_sql scale_ext -c "SELECT to_regclass('public.$name')")" ]; then
    scale_sql scale_ext -c "SELECT scale.detach_month($SCALE_MONTHS)" -c "DROP TABLE public.$name" >/dev/null
  fi
  scale_sql scale_ext -c "SELECT scale.create_month($SCALE_MONTHS, $SCALE_MONTHS, $SCALE_MONTH_ROWS, '$name')" >/dev/null
  scale_sql scale_ext -c "VACUUM (ANALYZE) public.$name"
  scale_use "$c"
  scale_sql scale_ext -c "CHECKPOINT"
  scale_cold_start
  out=$(scale_sql scale_ext <<EOF
\timing on
CALL public.deleted_record_purge(older_than => now() - scale.month_start($((SCALE_MONTHS - 1))));
EOF
)
  ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
  removed=$(grep -m1 -E '^[0-9]+$' <<<"$out")
  if [ -z "$ms" ] || [ -z "$removed" ]; then die "scale ($c): no timing or row count in psql output: $out"; fi
  [ "$removed" -eq "$SCALE_MONTH_ROWS" ] || die "scale ($c): the purge removed $removed rows, expected $SCALE_MONTH_ROWS"
  [ -z "$(scale_sql scale_ext -c "SELECT to_regclass('public.$name')")" ] || die "scale ($c): the purged month's partition is still there"
  if [ "$c" = ext8 ]; then want_left=$((SCALE_MONTHS - 1)); else want_left=0; fi
  left=$(scale_sql scale_ext -c "SELECT count(*) FROM generate_series(1, $SCALE_MONTHS - 1) k
                                  JOIN pg_inherits i ON i.inhrelid = to_regclass(format('public.%I', scale.partition_name(k)))")
  [ "$left" -eq "$want_left" ] || die "scale ($c): $left older months left in the archive after the purge, expected $want_left"
  DELETED[scale_purge:$c]=$(( ${DELETED[scale_purge:$c]:-0} + SCALE_MONTH_ROWS ))
  ARCHIVED[scale_purge:$c]=$(( ${ARCHIVED[scale_purge:$c]:-0} + removed ))
  RESULT[scale_purge:$c]+="$(awk -v ms="$ms" -v n="$removed" 'BEGIN { printf "%.3f", ms * 1000 / n }') "
  log "scale purge round $round: ${LABEL[$c]}: $ms ms for $removed rows ($((SECONDS - t0)) s with the rebuild)"
}

# scale_v10_purge_run CONTENDER: the 1.0 design's retention job, once: one DELETE of the rows
# older than the second-oldest month from the 1M or 8M table (the rows are gone afterwards).
scale_v10_purge_run() {
  local c=$1 out ms removed
  scale_use "$c"
  scale_sql scale_v10 -c "CHECKPOINT"
  scale_cold_start
  out=$(scale_sql scale_v10 <<EOF
\timing on
WITH d AS (DELETE FROM public.deleted_record WHERE deleted_at < scale.month_start($((SCALE_MONTHS - 1))) RETURNING 1)
SELECT count(*) FROM d;
EOF
)
  ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
  removed=$(grep -m1 -E '^[0-9]+$' <<<"$out")
  if [ -z "$ms" ] || [ -z "$removed" ]; then die "scale ($c): no timing or row count in psql output: $out"; fi
  [ "$removed" -eq "$SCALE_MONTH_ROWS" ] || die "scale ($c): the DELETE removed $removed rows, expected $SCALE_MONTH_ROWS"
  DELETED[scale_purge:$c]=$SCALE_MONTH_ROWS
  ARCHIVED[scale_purge:$c]=$removed
  RESULT[scale_purge:$c]="$(awk -v ms="$ms" -v n="$removed" 'BEGIN { printf "%.3f", ms * 1000 / n }')"
  log "scale 1.0 design purge: ${LABEL[$c]}: $ms ms for $removed rows"
}

# scale_lookup_run CONTENDER: the archive of 1 or SCALE_MONTHS full months among
# SCALE_LOOKUP_MONTHS past monthly partitions (the others empty), a 10-row deleting transaction
# in the current partition (two: one to warm up with), bench.oltp vacuumed, then a cold start (server restarted, the
# cgroup's page cache dropped) and, in one session, each lookup once on other rows (this loads
# the session's catalog caches and the indexes' upper levels, as in any session that restored
# before; the rows looked up later stay on disk), then the timings of:
# deleted_record_restore_transaction of the other transaction (a real restore), a lookup of one
# archived object by (table_name, object_id) in the oldest month, a dry-run restore of 1,000
# archive rows of the oldest month by id, the rows of one table in a one-hour window of the
# oldest month, and an erasure of 100 archive rows of the oldest month by id (in a transaction
# rolled back, so that every round erases the same rows). Every lookup returns the same rows at
# both sizes: those of the oldest month, which both archives hold. Each is checked (10 rows
# restored, 1 row found, 1,000 rows examined, the window's rows, 100 rows erased).
scale_lookup_run() {
  local c=$1 keep out n first obj warm_obj x window warm_window erase warm_erase
  local -a ms counts
  local -A xact
  if [ "$c" = ext1 ]; then keep=1; else keep=$SCALE_MONTHS; fi
  scale_sql scale_ext -c "SELECT scale.use_lookup_months($keep, $SCALE_MONTHS, $SCALE_LOOKUP_MONTHS)" >/dev/null
  for x in warm timed; do
    xact[$x]=$(scale_sql scale_ext -c "BEGIN" \
                 -c "DELETE FROM bench.oltp WHERE invoice_no IN (SELECT invoice_no FROM bench.oltp ORDER BY invoice_no LIMIT 10)" \
                 -c "SELECT pg_current_xact_id()::text::bigint" -c "COMMIT")
    [[ "${xact[$x]}" =~ ^[0-9]+$ ]] || die "scale lookups ($c): no transaction id: ${xact[$x]}"
  done
  # Every run starts from a vacuumed target table, as the deletes' runs do: each dry run before
  # leaves its 1,000 rolled-back rows in bench.oltp (the same ids every round), whose dead index
  # entries the next dry run's uniqueness checks would visit on disk, more each round.
  scale_sql scale_ext -c "VACUUM (ANALYZE) bench.oltp" -c "CHECKPOINT"
  scale_cold_start
  # Objects and ids of the oldest month (the one both archives hold): rows from the middle of it.
  n=$SCALE_MONTH_ROWS; first=$((n / 2 + 1))
  obj=$(scale_sql scale_ext -c "SELECT md5('archived-$SCALE_MONTHS-$first')::uuid::text")
  warm_obj=$(scale_sql scale_ext -c "SELECT md5('archived-$SCALE_MONTHS-$((first + 5000))')::uuid::text")
  # One hour of the oldest month, ten days in (the warm-up reads another hour, two days later).
  window="table_name = 'oltp' AND id >= public.deleted_record_uuid7_floor(scale.month_start($SCALE_MONTHS) + interval '10 days')
          AND id < public.deleted_record_uuid7_floor(scale.month_start($SCALE_MONTHS) + interval '10 days 1 hour')"
  warm_window="table_name = 'oltp' AND id >= public.deleted_record_uuid7_floor(scale.month_start($SCALE_MONTHS) + interval '12 days')
          AND id < public.deleted_record_uuid7_floor(scale.month_start($SCALE_MONTHS) + interval '12 days 1 hour')"
  erase="ARRAY(SELECT scale.archive_id(scale.row_time($SCALE_MONTHS, i, $n), i) FROM generate_series($((first + 4000))::bigint, $((first + 4099))) i)"
  warm_erase="ARRAY(SELECT scale.archive_id(scale.row_time($SCALE_MONTHS, i, $n), i) FROM generate_series($((first + 6000))::bigint, $((first + 6099))) i)"
  out=$(scale_sql scale_ext <<SQL
SELECT count(*) FROM public.deleted_record_restore_transaction(${xact[warm]}::bigint);
SELECT count(*) FROM public.deleted_record WHERE table_name = 'oltp' AND object_id = '$warm_obj';
SELECT count(*) FROM public.deleted_record_restore(
    ARRAY(SELECT scale.archive_id(scale.row_time($SCALE_MONTHS, i, $n), i) FROM generate_series($((first + 2000))::bigint, $((first + 2999))) i),
    on_conflict => 'skip', dry_run => true);
SELECT count(*) FROM public.deleted_record WHERE $warm_window;
BEGIN;
SELECT public.deleted_record_erase($warm_erase, 'scale benchmark (rolled back)');
ROLLBACK;
\timing on
SELECT count(*) FROM public.deleted_record_restore_transaction(${xact[timed]}::bigint);
SELECT count(*) FROM public.deleted_record WHERE table_name = 'oltp' AND object_id = '$obj';
SELECT count(*) FROM public.deleted_record_restore(
    ARRAY(SELECT scale.archive_id(scale.row_time($SCALE_MONTHS, i, $n), i) FROM generate_series($first::bigint, $((first + 999))) i),
    on_conflict => 'skip', dry_run => true);
SELECT count(*) FROM public.deleted_record WHERE $window;
\timing off
BEGIN;
\timing on
SELECT public.deleted_record_erase($erase, 'scale benchmark (rolled back)');
\timing off
ROLLBACK;
SQL
)
  mapfile -t ms < <(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
  mapfile -t counts < <(grep -E '^[0-9]+$' <<<"$out")
  [ ${#ms[@]} -eq 5 ] || die "scale lookups ($c): expected 5 timings in: $out"
  [ ${#counts[@]} -eq 10 ] || die "scale lookups ($c): expected 10 row counts in: $out"
  # Both archives hold the same oldest month: the window holds the same rows at both sizes.
  [ -n "${SCALE_WINDOW_ROWS:-}" ] || SCALE_WINDOW_ROWS=${counts[8]}
  [ "${counts[*]:5:5}" = "10 1 1000 $SCALE_WINDOW_ROWS 100" ] && [ "$SCALE_WINDOW_ROWS" -gt 0 ] \
    || die "scale lookups ($c): expected 10 restored, 1 found, 1000 examined, $SCALE_WINDOW_ROWS in the window, 100 erased, got: ${counts[*]:5:5}"
  RESULT[scale_tx:$c]+="${ms[0]} "; RESULT[scale_obj:$c]+="${ms[1]} "; RESULT[scale_ids:$c]+="${ms[2]} "
  RESULT[scale_win:$c]+="${ms[3]} "; RESULT[scale_erase:$c]+="${ms[4]} "
  DELETED[scale_tx:$c]=$(( ${DELETED[scale_tx:$c]:-0} + 10 )); ARCHIVED[scale_tx:$c]=$(( ${ARCHIVED[scale_tx:$c]:-0} + 10 ))
  DELETED[scale_obj:$c]=$(( ${DELETED[scale_obj:$c]:-0} + 1 )); ARCHIVED[scale_obj:$c]=$(( ${ARCHIVED[scale_obj:$c]:-0} + 1 ))
  DELETED[scale_ids:$c]=$(( ${DELETED[scale_ids:$c]:-0} + 1000 )); ARCHIVED[scale_ids:$c]=$(( ${ARCHIVED[scale_ids:$c]:-0} + 1000 ))
  DELETED[scale_win:$c]=$(( ${DELETED[scale_win:$c]:-0} + SCALE_WINDOW_ROWS )); ARCHIVED[scale_win:$c]=$(( ${ARCHIVED[scale_win:$c]:-0} + counts[8] ))
  DELETED[scale_erase:$c]=$(( ${DELETED[scale_erase:$c]:-0} + 100 )); ARCHIVED[scale_erase:$c]=$(( ${ARCHIVED[scale_erase:$c]:-0} + counts[9] ))
  log "scale lookups round $round: ${LABEL[$c]}: restore_transaction ${ms[0]} ms, object ${ms[1]} ms, dry run of 1,000 ids ${ms[2]} ms, one-hour window (${counts[8]} rows) ${ms[3]} ms, erasure of 100 ids ${ms[4]} ms"
}

# scale_report prints the scale benchmark's header, tables, ratios and targets.
scale_report() {
  local del_ext del_v10 purge_ext purge_v10 peak failcnt tx obj ids win erase k
  del_ext=$(paired scale_del ext1 ext8); del_v10=$(paired scale_del v10_1 v10_8)
  purge_ext=$(paired scale_purge ext8 ext1)
  purge_v10=$(ratio "${RESULT[scale_purge:v10_8]}" "${RESULT[scale_purge:v10_1]}")
  tx=$(paired scale_tx ext8 ext1); obj=$(paired scale_obj ext8 ext1); ids=$(paired scale_ids ext8 ext1)
  win=$(paired scale_win ext8 ext1); erase=$(paired scale_erase ext8 ext1)
  peak=$(awk '{ printf "%.0f", $1 / 1048576 }' "$SCALE_CGROUP/memory.max_usage_in_bytes")
  failcnt=$(cat "$SCALE_CGROUP/memory.failcnt")
  report_header
  echo "memory:  server in a cgroup v1 memory cgroup limited to $SCALE_MEM_MB MB (page cache included): peak $peak MB during the runs, limit reached $failcnt times"
  echo "data:    past months of $SCALE_MONTH_ROWS archive rows each (invoices of 11 columns), one partition per month;"
  echo "         archive of 1 month ($SCALE_MONTH_ROWS rows) vs $SCALE_MONTHS months ($((SCALE_MONTHS * SCALE_MONTH_ROWS)) rows), the oldest month shared; on disk: $SCALE_SIZES"
  echo "         1.0 design: the extension writing into one table with both indexes (the archive's only partition) holding the same rows"
  echo "         archives built in $SCALE_SETUP_SECONDS s; $ROUNDS round(s) of deletes, $SCALE_PURGE_ROUNDS of purges, alternating, medians"
  echo
  echo "Deletes: pgbench -c 2 -j 2 -T $DURATION -M prepared, synchronous_commit = off, DELETE ... WHERE invoice_no = random on $SCALE_OLTP_ROWS rows; the current partition empty at the start of each run (TPS, higher is better)"
  BASE_HEAD="/1.1 1M" print_table scale_del TPS 0 "${SCALE_DELETE_CONTENDERS[@]}"
  echo
  echo "Purge: the oldest month ($SCALE_MONTH_ROWS rows) expired; 1.1: CALL deleted_record_purge(older_than => ...), the month rebuilt before each run; 1.0 design: one DELETE ... WHERE deleted_at < cutoff, one run (microseconds per row removed, lower is better)"
  BASE_HEAD="/1.1 1M" COUNT_HEADS="expired removed" print_table scale_purge us/row 3 "${SCALE_PURGE_CONTENDERS[@]}" "${SCALE_V10_PURGE[@]}"
  echo
  echo "Lookups: $SCALE_LOOKUP_MONTHS past monthly partitions present (1 or $SCALE_MONTHS full of rows, the others empty) plus the current, coming and DEFAULT ones; cold start (server restarted, page cache dropped), then one session that first runs each lookup on other rows (ms, lower is better)"
  echo "  restore_transaction of a 10-row transaction (a real restore; rows restored)"
  COUNT_HEADS="deleted restored" BASE_HEAD="/1.1 1M" print_table scale_tx ms 1 ext1 ext8
  echo "  one object's history: table_name = ... AND object_id = ... (rows found)"
  COUNT_HEADS="wanted found" BASE_HEAD="/1.1 1M" print_table scale_obj ms 1 ext1 ext8
  echo "  dry-run restore of 1,000 archive ids of the oldest month (on_conflict => skip; rows examined)"
  COUNT_HEADS="ids rows" BASE_HEAD="/1.1 1M" print_table scale_ids ms 1 ext1 ext8
  echo "  rows of one table in a one-hour window of the oldest month: table_name = ... AND id >= uuid7_floor(t1) AND id < uuid7_floor(t2) (rows expected, found)"
  COUNT_HEADS="expected found" BASE_HEAD="/1.1 1M" print_table scale_win ms 1 ext1 ext8
  echo "  erasure of 100 archive ids of the oldest month: deleted_record_erase(ids, reason), rolled back after each run (ids, rows erased)"
  COUNT_HEADS="ids erased" BASE_HEAD="/1.1 1M" print_table scale_erase ms 1 ext1 ext8
  echo
  echo "Ratios (median over rounds of the ratio within each round; 1.0 purge: its single runs):"
  echo "  deletes cost per delete at $((SCALE_MONTHS * SCALE_MONTH_ROWS)) / at $SCALE_MONTH_ROWS rows (TPS ratio): 1.1 $del_ext  1.0 design $del_v10"
  echo "  purge   cost per expired row at $((SCALE_MONTHS * SCALE_MONTH_ROWS)) / at $SCALE_MONTH_ROWS rows:          1.1 $purge_ext  1.0 design $purge_v10"
  echo
  echo "Targets:"
  target "scale: per-delete cost 8M / 1M archive" "$del_ext" "<=" 1.25
  target "scale: purge cost per expired row 8M / 1M archive" "$purge_ext" "<=" 1.25
  target "lookup: restore_transaction (10 rows) 8M / 1M" "$tx" "<=" 1.25
  target "lookup: object history 8M / 1M" "$obj" "<=" 1.25
  target "lookup: dry-run restore of 1,000 ids 8M / 1M" "$ids" "<=" 1.25
  target "lookup: one table's rows in a time window 8M / 1M" "$win" "<=" 1.25
  target "lookup: erasure of 100 ids 8M / 1M" "$erase" "<=" 1.25
  for k in ext1 ext8; do
    target "lookup: restore_transaction (10 rows) at ${k#ext}M, ms" "$(median "${RESULT[scale_tx:$k]}")" "<=" 50
    target "lookup: object history at ${k#ext}M, ms" "$(median "${RESULT[scale_obj:$k]}")" "<=" 50
    target "lookup: dry-run restore of 1,000 ids at ${k#ext}M, ms" "$(median "${RESULT[scale_ids:$k]}")" "<=" 50
    target "lookup: one table's rows in a time window at ${k#ext}M, ms" "$(median "${RESULT[scale_win:$k]}")" "<=" 50
    target "lookup: erasure of 100 ids at ${k#ext}M, ms" "$(median "${RESULT[scale_erase:$k]}")" "<=" 50
  done
}

# scale_main runs the scale benchmark on its own cluster and prints its report.
scale_main() {
  local need_mb free_mb c n i order
  need_mb=$(( (2 * SCALE_MONTHS + 3) * SCALE_MONTH_ROWS * 700 / 1000000 + 3000 ))
  free_mb=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
  [ "$free_mb" -ge "$need_mb" ] || die "scale: needs about $need_mb MB free under /tmp, $free_mb MB are"
  work=$(mktemp -d /tmp/deleted_record_bench.XXXXXX)   # global: the EXIT trap removes it
  chmod 755 "$work"
  log "scale: work directory $work"
  trap 'cluster_stop; scale_cgroup_remove; rm -rf "$work"' EXIT
  scale_cgroup_create
  CLUSTER_SETTINGS=("shared_buffers = 64MB" "max_wal_size = 2GB" "checkpoint_timeout = 1h" "autovacuum = off" "jit = off")
  # The archives are built with wal_level = minimal (new tables filled without WAL), then the
  # server restarts with the default wal_level = replica for the runs.
  cluster_start "$work/cluster" "${CLUSTER_SETTINGS[@]}" "wal_level = minimal" "max_wal_senders = 0"
  scale_server_restart
  scale_setup
  SCALE_SIZES=$(scale_sizes)
  sql -c "ALTER SYSTEM SET wal_level = replica" -c "ALTER SYSTEM SET max_wal_senders = 10"
  scale_server_restart
  [ "$(sql -c 'SHOW wal_level')" = replica ] || die "scale: wal_level is not replica for the runs"
  CLUSTER_SETTINGS+=("wal_level = replica (minimal while the archives were built)" "memory cgroup of ${SCALE_MEM_MB} MB")
  echo 0 | as_root tee "$SCALE_CGROUP/memory.max_usage_in_bytes" >/dev/null
  LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
  # Each round starts one contender later than the last, so that no contender always follows
  # the same one (a run's cleanup, the 1.0 design's VACUUM above all, leaves the cache to the next).
  n=${#SCALE_DELETE_CONTENDERS[@]}
  for round in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do scale_delete_run "${SCALE_DELETE_CONTENDERS[(round - 1 + i) % n]}"; done
  done
  for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=(ext1 ext8); else order=(ext8 ext1); fi
    for c in "${order[@]}"; do scale_lookup_run "$c"; done
  done
  scale_sql scale_ext -c "SELECT scale.drop_lookup_months($SCALE_LOOKUP_MONTHS)" >/dev/null
  for round in $(seq "$SCALE_PURGE_ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=(ext1 ext8); else order=(ext8 ext1); fi
    for c in "${order[@]}"; do scale_purge_run "$c"; done
  done
  for c in "${SCALE_V10_PURGE[@]}"; do scale_v10_purge_run "$c"; done
  scale_report
}
