#!/usr/bin/env bash
# pg_cron: the purge scheduled exactly as the README shows it (its postgresql.conf lines, then
# CREATE EXTENSION pg_cron and cron.schedule of CALL deleted_record_purge(), read from README.md;
# only the daily schedule becomes every minute) runs under pg_cron and removes what is past its table's retention:
# expired rows in a hand-made past partition (which is dropped) and in the DEFAULT partition go,
# recent rows and other tables' rows stay. A job run by a non-superuser role granted only EXECUTE
# on deleted_record_purge and deleted_record_purge_step works too; roles without those grants get
# failed runs with the permission error. One cluster of its own with pg_cron preloaded; every job
# runs at the same minute boundary, so the test waits about a minute.
# pg_cron comes from Debian's postgresql-15-cron; for 18 no pg_cron source can be fetched here
# (the archive lists pg-cron but serves none of its files), so:
# Runs on PostgreSQL: 15
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

# The README's setup: the fenced block of postgresql.conf lines and the sql block marked
# "<!-- not run here: needs pg_cron ... test/shell/pg_cron.sh ... -->" right after it.
readme_part() {
  python3 - "$REPO_ROOT/README.md" "$1" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
mark = next(i for i, l in enumerate(lines) if l.startswith("<!-- not run here:") and "test/shell/pg_cron.sh" in l)
if sys.argv[2] == "sql":
    end = next(j for j in range(mark + 2, len(lines)) if lines[j].startswith("```"))
    print("\n".join(lines[mark + 2:end]))
else:
    close = max(j for j in range(mark) if lines[j] == "```")
    opening = max(j for j in range(close) if lines[j].startswith("```"))
    print("\n".join(lines[opening + 1:close]))
PY
}
README_CONF=$(readme_part conf) || die "README: no postgresql.conf block before the pg_cron block"
README_SQL=$(readme_part sql) || die "README: no pg_cron sql block"
CRONDB=$(sed -n "s/^cron.database_name *= *'\([^']*\)'.*/\1/p" <<<"$README_CONF")
[ -n "$CRONDB" ] || die "README: its postgresql.conf lines set no cron.database_name"
# The daily schedule, once, becomes every minute; nothing else changes.
[ "$(grep -o "'17 3 \* \* \*'" <<<"$README_SQL" | wc -l)" = 1 ] || die "README: the pg_cron block has no single '17 3 * * *' schedule"
README_SQL=${README_SQL/"'17 3 * * *'"/"'* * * * *'"}
WAIT=90                         # seconds the scheduled runs may take to appear and finish

# pg_cron: Debian packages it for the packaged majors; other majors get it with the cached source
# build (scripts/lib/pg_build.sh). A server without it is a failure, not a skip.
if pg_is_packaged "$PG_MAJOR"; then ensure_prereqs "postgresql-$PG_MAJOR-cron"; fi
cron_lib="$("$PG_CONFIG" --pkglibdir)/pg_cron.so"
cron_control="$("$PG_CONFIG" --sharedir)/extension/pg_cron.control"
if [ ! -f "$cron_lib" ] || [ ! -f "$cron_control" ]; then
  not_ok "pg_cron is installed for PostgreSQL $(pg_version) ($PGBIN)"
  echo "#   missing: $([ -f "$cron_lib" ] || echo "$cron_lib ")$([ -f "$cron_control" ] || echo "$cron_control")"
  if ! pg_is_packaged "$PG_MAJOR" && [ -n "${PG_PREFIX:-}" ]; then
    echo "#   build stamp of $PG_PREFIX:"
    sed 's/^/#     /' "$PG_PREFIX/$PG_BUILD_STAMP" 2>/dev/null
    echo "#   scripts/lib/pg_build.sh did not build pg_cron into the cached server; it tries again a day after"
    echo "#   the stamp, or at once with DELETED_RECORD_PG_CRON_SOURCE=<pg_cron source tarball>"
  fi
  tap_done
  exit 1
fi

# pg_cron runs each job through a connection of its own: to 127.0.0.1, where the cluster listens
# (its default, localhost, may resolve to ::1 first).
mapfile -t conf_lines < <(grep -v '^ *$' <<<"$README_CONF")
start_own_cluster pg_cron "${conf_lines[@]}" "cron.host = '127.0.0.1'"
check "the README's postgresql.conf lines are in effect (pg_cron preloaded, cron.database_name = '$CRONDB')" \
  "pg_cron|$CRONDB" "$(q -c "SELECT current_setting('shared_preload_libraries') || '|' || current_setting('cron.database_name')")"

q >/dev/null <<SQL || die "setup failed"
CREATE DATABASE $CRONDB;  -- the README job's database
CREATE DATABASE app2;   -- the non-superuser's job purges here
CREATE DATABASE app3;   -- the jobs of roles without the grants point here: nothing may change
CREATE ROLE purger LOGIN;
CREATE ROLE nogrant LOGIN;
CREATE ROLE halfgrant LOGIN;
SQL

# make_archive DB: an attached table with a retention of 30 days (invoice), one without a
# retention (audit_log), and archive rows made by hand: expired invoice rows in a past month's
# partition made by hand (only invoice rows: the purge drops it) and in the DEFAULT partition,
# recent invoice rows, old rows of audit_log and of a table that is no longer attached. Also
# real deletes (rows in the current month's partition).
make_archive() {
  q "$1" >/dev/null <<'SQL'
CREATE EXTENSION deleted_record;
CREATE TABLE invoice (id int PRIMARY KEY, amount numeric);
CREATE TABLE audit_log (id int PRIMARY KEY, line text);
SELECT deleted_record_attach('invoice', retention => '30 days');
SELECT deleted_record_attach('audit_log');
-- Retention applies to the rows an attachment archived; the rows made below by hand predate
-- these attaches, so the attachments are registered from the beginning of time (as the update
-- from 1.1 registers the tables attached then).
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000'
 WHERE schema_name = 'public' AND table_name IN ('invoice', 'audit_log');
INSERT INTO invoice SELECT g, g * 1.5 FROM generate_series(1, 50) g;
DELETE FROM invoice WHERE id <= 20;
-- The month four months ago (UTC), as its own partition, named as the extension names its own.
CREATE TABLE old_month AS
SELECT a, a + interval '1 month' AS b,
       format('deleted_record_%s_%s', to_char(a AT TIME ZONE 'UTC', 'YYYYMMDD'),
              to_char((a + interval '1 month') AT TIME ZONE 'UTC', 'YYYYMMDD')) AS name
  FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC' - interval '4 months') AT TIME ZONE 'UTC' AS a) s;
DO $$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM old_month;
  EXECUTE format('CREATE TABLE %I PARTITION OF deleted_record FOR VALUES FROM (%L) TO (%L)',
                 m.name, deleted_record_uuid7_floor(m.a), deleted_record_uuid7_floor(m.b));
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', m.name);
END $$;
CREATE FUNCTION pg_temp.old_rows(tbl text, at timestamptz, n int, first int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(deleted_record_uuid7_floor(at)::text PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g), at, at, g::text, tbl, 'public'
    FROM generate_series(first, first + n - 1) g $$;
SELECT pg_temp.old_rows('invoice', (SELECT a FROM old_month) + interval '10 days', 300, 1000);  -- old partition
SELECT pg_temp.old_rows('invoice', now() - interval '60 days', 300, 2000);    -- DEFAULT, expired
SELECT pg_temp.old_rows('invoice', now() - interval '20 days', 40, 3000);     -- within the retention
SELECT pg_temp.old_rows('audit_log', now() - interval '60 days', 30, 4000);   -- no retention: forever
SELECT pg_temp.old_rows('gone', now() - interval '60 days', 10, 5000);        -- not attached: kept
SQL
}
export PGDATABASE=$CRONDB   # q without a database: the README's
for db in "$CRONDB" app2 app3; do make_archive "$db" || die "setup of $db failed"; done
q app2 >/dev/null <<'SQL' || die "grants failed"
GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO purger;
GRANT EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) TO purger;
SQL
q app3 >/dev/null <<'SQL' || die "grants failed"
GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO halfgrant;  -- not the step
SQL

OLD=$(q -c "SELECT name FROM old_month")
# archive_state DB: where the rows are, as one line to compare.
archive_state() {
  q "$1" -c "SELECT concat_ws(' ',
    'invoice_expired=' || count(*) FILTER (WHERE table_name = 'invoice' AND deleted_at < now() - interval '30 days'),
    'invoice_recent=' || count(*) FILTER (WHERE table_name = 'invoice' AND deleted_at >= now() - interval '30 days'),
    'audit_log=' || count(*) FILTER (WHERE table_name = 'audit_log'),
    'gone=' || count(*) FILTER (WHERE table_name = 'gone'),
    'in_default=' || count(*) FILTER (WHERE tableoid = 'deleted_record_default'::regclass),
    'old_partition=' || CASE WHEN to_regclass('$OLD') IS NULL THEN 'dropped'
                             ELSE 'present, ' || count(*) FILTER (WHERE tableoid = to_regclass('$OLD')) || ' rows' END,
    'bookkeeping=' || (SELECT count(*) FROM deleted_record_partition_tables WHERE partition_name = '$OLD'))
    FROM deleted_record"
}
BEFORE="invoice_expired=600 invoice_recent=60 audit_log=30 gone=10 in_default=$(q -c "SELECT count(*) FROM deleted_record_default") old_partition=present, 300 rows bookkeeping=0"
for db in "$CRONDB" app2 app3; do
  check "$db: the archive holds 600 expired invoice rows (300 in $OLD), 60 recent ones and other tables' rows" \
    "$BEFORE" "$(archive_state "$db")"
done

# Schedule every job within the same minute, so that they all run at its end.
sec=$(date +%S)
if [ "$((10#$sec))" -ge 50 ]; then sleep $((61 - 10#$sec)); fi
scheduled_at=$SECONDS
echo "# the README's block, as run:"; sed 's/^/#   /' <<<"$README_SQL"
q <<<"$README_SQL" >/dev/null || die "the README's pg_cron block failed"
q -1 >/dev/null <<'SQL' || die "cron.schedule_in_database failed"
SELECT cron.schedule_in_database('purge_as_purger', '* * * * *', 'CALL deleted_record_purge()', 'app2', 'purger');
SELECT cron.schedule_in_database('purge_as_nogrant', '* * * * *', 'CALL deleted_record_purge()', 'app3', 'nogrant');
SELECT cron.schedule_in_database('purge_as_halfgrant', '* * * * *', 'CALL deleted_record_purge()', 'app3', 'halfgrant');
SQL
check "four jobs are scheduled, as their roles, in their databases" \
  "deleted_record_purge $CRONDB postgres,purge_as_halfgrant app3 halfgrant,purge_as_nogrant app3 nogrant,purge_as_purger app2 purger" \
  "$(q -c "SELECT string_agg(concat_ws(' ', jobname, database, username), ',' ORDER BY jobname) FROM cron.job")"

# first_run JOB: "status|return message" of the job's first finished run, if any.
first_run() {
  q -c "SELECT d.status || '|' || coalesce(d.return_message, '') FROM cron.job_run_details d JOIN cron.job j USING (jobid)
         WHERE j.jobname = '$1' AND d.status IN ('succeeded', 'failed') ORDER BY d.runid LIMIT 1"
}
deadline=$((scheduled_at + WAIT))
while [ "$SECONDS" -lt "$deadline" ]; do
  done_jobs=$(q -c "SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")
  [ "$done_jobs" = 4 ] && break
  sleep 1
done
echo "# runs finished $((SECONDS - scheduled_at)) s after scheduling"
q -c "SELECT cron.alter_job(jobid, active => false) FROM cron.job" >/dev/null   # no further runs while checking
echo "# runs:"
q -c "SELECT concat_ws(' | ', j.jobname, d.username, d.database, d.status, replace(d.return_message, E'\n', ' '),
                       d.end_time - d.start_time)
        FROM cron.job_run_details d JOIN cron.job j USING (jobid) ORDER BY d.runid" | sed 's/^/#   /'

# The README job ran as the superuser in cron.database_name: expired rows gone, the old partition
# dropped, everything else kept.
check "the README job's first run succeeded (as pg_cron reports a CALL: '1 row')" \
  "succeeded|1 row" "$(first_run deleted_record_purge)"
check "$CRONDB: expired invoice rows are gone; recent invoice rows and other tables' rows stay" \
  "invoice_expired=0 invoice_recent=60 audit_log=30 gone=10" "$(archive_state "$CRONDB" | sed 's/ in_default=.*//')"
check "$CRONDB: $OLD was dropped (and its bookkeeping row with it), the DEFAULT partition kept only other tables' and recent rows (at least 40)" \
  "old_partition=dropped bookkeeping=0 default_kept=t" \
  "$(archive_state "$CRONDB" | sed 's/.* old_partition=/old_partition=/') default_kept=$(q -c "SELECT count(*) = count(*) FILTER (WHERE table_name <> 'invoice' OR deleted_at >= now() - interval '30 days') AND count(*) >= 40 FROM deleted_record_default")"
check "$CRONDB: rows archived by real deletes stay where the writer put them (current month's partition)" \
  "20" "$(q -c "SELECT count(*) FROM deleted_record WHERE table_name = 'invoice' AND object_id::int <= 20
                   AND tableoid <> 'deleted_record_default'::regclass")"

# The non-superuser with the two EXECUTE grants.
check "purger is an ordinary role: no superuser, no privilege on the archive" "f|f|f" \
  "$(q app2 -c "SELECT rolsuper, has_table_privilege('purger', 'deleted_record', 'SELECT'),
                       has_table_privilege('purger', 'deleted_record', 'DELETE') FROM pg_roles WHERE rolname = 'purger'")"
check "the job of the role granted EXECUTE on deleted_record_purge and deleted_record_purge_step succeeded" \
  "succeeded|1 row" "$(first_run purge_as_purger)"
check "app2 (purged by that role): expired rows gone, $OLD dropped, the rest kept" \
  "invoice_expired=0 invoice_recent=60 audit_log=30 gone=10 old_partition=dropped bookkeeping=0" \
  "$(archive_state app2 | sed 's/ in_default=[0-9]*//')"

# Roles without the grants.
r=$(first_run purge_as_nogrant)
if [[ "$r" == "failed|"*"permission denied for procedure deleted_record_purge"* ]]; then
  ok "a role without the grants: the run failed with 'permission denied for procedure deleted_record_purge'"
else
  not_ok "a role without the grants: the run failed with 'permission denied for procedure deleted_record_purge'"; echo "#   got: $r"
fi
r=$(first_run purge_as_halfgrant)
if [[ "$r" == "failed|"*"permission denied to purge the archive"*"GRANT EXECUTE ON PROCEDURE"* ]]; then
  ok "a role granted only the procedure: the run failed with 'permission denied to purge the archive' and the GRANT hint"
else
  not_ok "a role granted only the procedure: the run failed with 'permission denied to purge the archive' and the GRANT hint"; echo "#   got: $r"
fi
check "app3 (only the failing roles' jobs): nothing was removed" "$BEFORE" "$(archive_state app3)"

tap_done
