#!/usr/bin/env bash
# privileges: who may call each SQL entry point of the extension, and that nothing a caller
# plants runs with more rights than the caller's (issue 15, finding 1 and "a privilege test suite").
#
# Roles: priv_none (no grant at all), priv_granted (exactly the grants the README documents:
# SELECT on the archive, EXECUTE on erase, mask, purge and its step, prepare_partitions, the
# cluster_* versions, hold and release, SELECT on deleted_record_stats and EXECUTE on its
# function), priv_owner (owns the attached table public.t_owned, may create in public: its typed
# view), and the superuser
# running the test. Each role owns a schema evil_<role> holding shadowing operators (uuid = uuid,
# text = text, bigint <= integer, ...), functions (unnest, now, set_config, ...) and aggregates
# (count(*), count(x), string_agg): each one, when it runs, counts itself in public.planted_any
# and, when it runs under another identity than the session's (as the extension owner, say), in
# public.planted_elevated and tries ALTER ROLE <caller> SUPERUSER.
#
# Every row of ENTRY_POINTS runs as each role twice: with search_path = evil_<role>, public,
# pg_catalog, and with pg_temp first (the session has temporary tables named like the
# extension's, with a trap trigger, and an operator in pg_temp). Checked: the outcome (ok, or
# the exact SQLSTATE: 42501 where denied), that planted_elevated never moved, and that the role
# is not superuser. The table is data: add a row for a new entry point.
#
# Then finding 11: prepare_partitions is not executable by PUBLIC, and a period set by an
# ordinary session (before and after the library loads) does not change the partitions attach
# makes; after ALTER EXTENSION UPDATE from 1.1 and from 1.0 the coming periods have partitions.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

start_own_cluster privileges
DB=priv
createdb "$DB" || die "createdb $DB failed"

# ENTRY_POINTS: name|priv_none|priv_granted|priv_owner|superuser|SQL. Outcome: ok, a SQLSTATE,
# or - (not run for that role). Tables are qualified: with pg_temp first, an unqualified
# deleted_record would be the session's temporary trap. Functions are not: they resolve through
# the hostile search_path as an application's calls would.
ENTRY_POINTS=$(cat <<'ROWS'
detach|42501|42501|ok|ok|SELECT deleted_record_detach('public.t_owned')
attach|42501|42501|ok|ok|SELECT deleted_record_attach('public.t_owned')
attached view|ok|ok|ok|ok|SELECT count(*) FROM public.deleted_record_attached
set_context|ok|ok|ok|ok|BEGIN; SELECT deleted_record_set_context('actor', 'reason'); COMMIT;
delete from an attached table (the writer)|ok|ok|ok|ok|DELETE FROM public.t_owned WHERE id = (SELECT min(id) FROM public.t_owned)
restore (marks as the owner)|42501|ok|42501|ok|SELECT count(*) FROM deleted_record_restore(ARRAY(SELECT id FROM public.deleted_record WHERE table_name = 't_owned' AND restored_at IS NULL ORDER BY id LIMIT 1))
purge|42501|ok|42501|ok|CALL deleted_record_purge(older_than => '100 years')
erase|42501|ok|42501|ok|SELECT deleted_record_erase(ARRAY(SELECT id FROM public.deleted_record WHERE table_name = 't_owned' ORDER BY id DESC LIMIT 2), 'privileges test')
mask|42501|ok|42501|ok|SELECT deleted_record_mask('alice@example.com')
prepare_partitions|42501|ok|42501|ok|SELECT deleted_record_prepare_partitions(1)
prepare_coming_partitions|ok|ok|ok|ok|SELECT deleted_record_prepare_coming_partitions()
uuid7|ok|ok|ok|ok|SELECT deleted_record_uuid7() IS NOT NULL
uuid7_floor, uuid7_time|ok|ok|ok|ok|SELECT deleted_record_uuid7_time(deleted_record_uuid7_floor(now())) IS NOT NULL
cluster (this server's archive without Citus)|42501|ok|42501|ok|SELECT count(*) FROM deleted_record_cluster()
cluster_restore (needs Citus)|0A000|0A000|0A000|0A000|SELECT count(*) FROM deleted_record_cluster_restore('{}'::uuid[])
cluster_erase (needs Citus)|42501|0A000|42501|0A000|SELECT count(*) FROM deleted_record_cluster_erase('{}'::uuid[], 'x')
cluster_purge (needs Citus)|42501|0A000|42501|0A000|SELECT count(*) FROM deleted_record_cluster_purge()
read the archive|42501|ok|42501|ok|SELECT count(*) FROM public.deleted_record
read a partition directly|42501|42501|42501|ok|SELECT count(*) FROM public.deleted_record_default
write the archive|42501|42501|42501|-|INSERT INTO public.deleted_record (id, data, table_name, schema_name) VALUES (deleted_record_uuid7(), '{}', 'x', 'y')
read the secret|42501|42501|42501|ok|SELECT count(*) FROM public.deleted_record_secret
read the erasure tombstones|42501|42501|42501|ok|SELECT count(*) FROM public.deleted_record_erasure
read the partition bookkeeping|42501|42501|42501|ok|SELECT count(*) FROM public.deleted_record_partition_tables
typed view of a table (its owner makes it)|42501|42501|ok|ok|SELECT deleted_record_view('public.t_owned') IS NOT NULL
read the typed view (what reading the archive needs)|42501|ok|42501|ok|SELECT count(*) FROM public.t_owned_deleted
stats|42501|ok|42501|ok|SELECT count(*) FROM public.deleted_record_stats
stats' function, directly|42501|ok|42501|ok|SELECT count(*) FROM deleted_record_stats_report()
progress view|ok|ok|ok|ok|SELECT count(*) FROM public.deleted_record_progress
report_progress (the caller's own backend)|ok|ok|ok|ok|SELECT deleted_record_report_progress('test', 1, 2, now())
hold and release a legal hold|42501|ok|42501|ok|SELECT deleted_record_hold('priv-hold', 'privileges test', for_table => 'public.t_owned'); SELECT deleted_record_release('priv-hold')
read the legal holds|42501|42501|42501|ok|SELECT count(*) FROM public.deleted_record_holds
import soft-deleted rows (stamps them as the owner)|42501|42501|ok|ok|INSERT INTO public.t_soft (gone, gone_at) VALUES (true, '2025-01-01 00:00+00'), (false, NULL); CALL deleted_record_import('public.t_soft', 'gone', deleted_at => 'gone_at', actor => '''importer''')
import_batch called directly|42501|42501|ok|ok|SELECT deleted_record_import_batch('public.t_soft', 'gone', NULL, NULL, NULL, 10)
manage_attach called directly (attach's merge and DDL)|42501|42501|ok|ok|SELECT deleted_record_manage_attach('public.t_owned', NULL, NULL, NULL, NULL)
exists_now (one read-only query, run as the caller)|ok|ok|ok|ok|SELECT deleted_record_exists_now('SELECT 1')
exists_now reads only what the caller may|42501|ok|42501|ok|SELECT deleted_record_exists_now('SELECT FROM public.deleted_record')
typed_value_ok (converts as the reader)|ok|ok|ok|ok|SELECT deleted_record_typed_value_ok('1', 'integer')
typed_view_since (where a new typed view starts)|ok|ok|ok|ok|SELECT deleted_record_typed_view_since('public.t_owned', NULL) IS NULL
attachments listing|ok|ok|ok|ok|SELECT count(*) >= 0 FROM deleted_record_attachments()
hold_rule (internal)|42501|42501|42501|ok|SELECT deleted_record_hold_rule('d') IS NOT NULL
cluster_run without Citus (internal: pg_dist_node is missing)|42P01|42P01|42P01|42P01|SELECT count(*) FROM deleted_record_cluster_run('privileges test', ARRAY['SELECT 1'])
cluster_begin without Citus (internal)|0A000|0A000|0A000|0A000|SELECT deleted_record_cluster_begin('privileges test', 'x') IS NOT NULL
cluster_may (internal: runs its node query as the caller)|ok|ok|ok|ok|SELECT deleted_record_cluster_may('privileges test', 'erase', 'SELECT ARRAY[0], ARRAY[''t'']', 'SELECT true', 'x') = ARRAY[0]
ROWS
)
ROLES=(priv_none priv_granted priv_owner superuser)

q "$DB" >/dev/null <<'SQL' || die "setup failed"
SET client_min_messages = warning;
CREATE EXTENSION deleted_record;
CREATE ROLE priv_none;
CREATE ROLE priv_granted;
CREATE ROLE priv_owner;
-- The documented grants (README, Security), and prepare_partitions, which the DBA grants.
GRANT SELECT ON deleted_record TO priv_granted;
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text), deleted_record_mask(text),
      deleted_record_purge_step(interval, integer, regclass[]), deleted_record_prepare_partitions(integer),
      deleted_record_cluster_erase(uuid[], text), deleted_record_cluster_purge(interval, integer),
      deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz), deleted_record_release(text) TO priv_granted;
GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO priv_granted;
-- deleted_record_stats, as the README grants it (What the archive holds).
GRANT SELECT ON deleted_record_stats TO priv_granted;
GRANT EXECUTE ON FUNCTION deleted_record_stats_report(integer) TO priv_granted;
-- The owner of an attached table makes its typed view beside it.
GRANT CREATE ON SCHEMA public TO priv_owner;
CREATE TABLE t_owned (id int PRIMARY KEY, label text);
ALTER TABLE t_owned OWNER TO priv_owner;
GRANT SELECT, INSERT, DELETE ON t_owned TO PUBLIC;
SELECT deleted_record_attach('t_owned');
INSERT INTO t_owned SELECT g, 'row ' || g FROM generate_series(1, 200) g;
DELETE FROM t_owned WHERE id > 150;
-- A soft-deleting table of priv_owner's, for the import (rows are added by each run).
CREATE TABLE t_soft (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, gone boolean NOT NULL, gone_at timestamptz);
ALTER TABLE t_soft OWNER TO priv_owner;
GRANT SELECT, INSERT, DELETE ON t_soft TO PUBLIC;
GRANT USAGE ON SEQUENCE t_soft_id_seq TO PUBLIC;
SELECT deleted_record_attach('t_soft');
-- What planted objects report to.
CREATE SEQUENCE planted_any;
CREATE SEQUENCE planted_elevated;
GRANT USAGE ON SEQUENCE planted_any, planted_elevated TO PUBLIC;
CREATE SCHEMA evil_priv_none AUTHORIZATION priv_none;
CREATE SCHEMA evil_priv_granted AUTHORIZATION priv_granted;
CREATE SCHEMA evil_priv_owner AUTHORIZATION priv_owner;
CREATE SCHEMA evil_superuser;
SQL

# plant_sql SCHEMA: the shadowing objects, made by the schema's owner.
plant_sql() {
  local s=$1
  cat <<SQL
CREATE FUNCTION $s.spy(what text) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN
  PERFORM pg_catalog.nextval('public.planted_any');
  IF current_user OPERATOR(pg_catalog.<>) session_user THEN
    PERFORM pg_catalog.nextval('public.planted_elevated');
    BEGIN
      EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', session_user);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END IF;
END \$f\$;
SQL
  # operator left right builtin result
  while read -r op left right builtin result; do
    local fn="op_$(printf '%s' "$op$left$right" | md5sum | cut -c1-10)"
    cat <<SQL
CREATE FUNCTION $s.$fn($left, $right) RETURNS $result LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('$left $op $right'); RETURN pg_catalog.$builtin(\$1, \$2); END \$f\$;
CREATE OPERATOR $s.$op (LEFTARG = $left, RIGHTARG = $right, FUNCTION = $s.$fn);
SQL
  done <<'OPS'
= uuid uuid uuid_eq boolean
< uuid uuid uuid_lt boolean
>= uuid uuid uuid_ge boolean
= text text texteq boolean
<> text text textne boolean
= name name nameeq boolean
<> name name namene boolean
= oid oid oideq boolean
= bigint bigint int8eq boolean
= integer integer int4eq boolean
<= bigint integer int84le boolean
<= integer integer int4le boolean
+ bigint bigint int8pl bigint
+ integer integer int4pl integer
< timestamptz timestamptz timestamptz_lt boolean
<= timestamptz timestamptz timestamptz_le boolean
- timestamptz interval timestamptz_mi_interval timestamptz
|| text text textcat text
OPS
  cat <<SQL
CREATE FUNCTION $s.count_star(bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('count(*)'); RETURN \$1 OPERATOR(pg_catalog.+) 1; END \$f\$;
CREATE AGGREGATE $s.count(*) (SFUNC = $s.count_star, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION $s.count_any(bigint, anyelement) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('count(x)'); RETURN \$1 OPERATOR(pg_catalog.+) 1; END \$f\$;
CREATE AGGREGATE $s.count(anyelement) (SFUNC = $s.count_any, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION $s.string_agg_step(text, text, text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('string_agg'); RETURN pg_catalog.concat(\$1, \$3, \$2); END \$f\$;
CREATE AGGREGATE $s.string_agg(text, text) (SFUNC = $s.string_agg_step, STYPE = text);
CREATE FUNCTION $s.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('unnest'); RETURN QUERY SELECT pg_catalog.unnest(\$1); END \$f\$;
CREATE FUNCTION $s.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('now'); RETURN pg_catalog.now(); END \$f\$;
CREATE FUNCTION $s.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('set_config'); RETURN pg_catalog.set_config(\$1, \$2, \$3); END \$f\$;
CREATE FUNCTION $s.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('current_setting'); RETURN pg_catalog.current_setting(\$1, \$2); END \$f\$;
CREATE FUNCTION $s.lower(text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('lower'); RETURN pg_catalog.lower(\$1); END \$f\$;
CREATE FUNCTION $s.length(text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('length'); RETURN pg_catalog.length(\$1); END \$f\$;
CREATE FUNCTION $s.to_regclass(text) RETURNS regclass LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('to_regclass'); RETURN pg_catalog.to_regclass(\$1); END \$f\$;
CREATE FUNCTION $s.uuid_text(uuid) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$
BEGIN PERFORM $s.spy('cast uuid -> text'); RETURN pg_catalog.textin(pg_catalog.uuid_out(\$1)); END \$f\$;
SQL
}

# as_role ROLE: the SQL that makes the session ROLE's (nothing for the superuser).
as_role() { [ "$1" = superuser ] || echo "SET SESSION AUTHORIZATION $1;"; }

for role in "${ROLES[@]}"; do
  out=$( { as_role "$role"; plant_sql "evil_$role"; } | q "$DB" 2>&1 )
  check "$role plants its shadowing operators, functions and aggregates" "0" "$?"
  [ -z "$out" ] || sed 's/^/#   /' <<<"$out"
done
check "the planted objects are live: the caller's own unqualified '=' runs them" "t" \
  "$(q "$DB" -c "SET search_path = evil_priv_none, public, pg_catalog" -c "SELECT 'a'::text = 'a'" >/dev/null
     q "$DB" -c "SELECT last_value >= 1 AND is_called FROM planted_any")"
# A cast between built-in types cannot be planted by an ordinary role (it must own a type), so
# casts cannot capture owner-side statements; only a superuser could.
check "an ordinary role cannot plant a cast from uuid to text (42501)" "42501" \
  "$(q "$DB" -v VERBOSITY=sqlstate -c "SET SESSION AUTHORIZATION priv_granted" \
       -c "CREATE CAST (uuid AS text) WITH FUNCTION evil_priv_granted.uuid_text(uuid)" 2>&1 | grep -o '^ERROR: *[0-9A-Z]\{5\}$' | grep -o '[0-9A-Z]\{5\}$' | head -1)"

# temp_prelude ROLE: temporary look-alikes of the extension's tables, with a trap, and an
# operator in pg_temp (never searched for operators, which this proves for our statements).
temp_prelude() {
  cat <<SQL
CREATE TEMP TABLE deleted_record (id uuid, data jsonb, table_name text, schema_name text, object_id text,
                                  deleted_at timestamptz, restored_at timestamptz, restored_by text);
CREATE TEMP TABLE deleted_record_erasure (archive_id uuid, table_name text, schema_name text, object_id text,
                                         deleted_at timestamptz, erased_at timestamptz, erased_by text, reason text);
CREATE FUNCTION pg_temp.trap() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM evil_$1.spy('temporary ' || TG_TABLE_NAME); RETURN NULL; END \$f\$;
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.deleted_record FOR EACH ROW EXECUTE FUNCTION pg_temp.trap();
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.deleted_record_erasure FOR EACH ROW EXECUTE FUNCTION pg_temp.trap();
CREATE OPERATOR pg_temp.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil_$1.op_$(printf '%s' "=uuiduuid" | md5sum | cut -c1-10));
SET search_path = pg_temp, evil_$1, public, pg_catalog;
SQL
}

# outcome ROLE VARIANT SQL: ok, or the SQLSTATE of the first error.
outcome() {
  local role=$1 variant=$2 sql=$3 out rc
  out=$( { as_role "$role"
           if [ "$variant" = temp ]; then temp_prelude "$role"
           else echo "SET search_path = evil_$role, public, pg_catalog;"; fi
           echo "$sql"; } | psql -X -qAt -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$DB" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 0 ]; then echo ok; else grep -o 'ERROR:  [0-9A-Z]\{5\}' <<<"$out" | head -1 | cut -c9-; fi
}

elevated() { q "$DB" -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM planted_elevated"; }
superusers() { q "$DB" -c "SELECT coalesce(string_agg(rolname, ',' ORDER BY rolname), 'none') FROM pg_roles WHERE rolname LIKE 'priv\_%' AND rolsuper"; }

while IFS='|' read -r name e_none e_granted e_owner e_super sql; do
  expected=("$e_none" "$e_granted" "$e_owner" "$e_super")
  for i in "${!ROLES[@]}"; do
    role=${ROLES[$i]}; want=${expected[$i]}
    [ "$want" = - ] && continue
    for variant in schema temp; do
      before=$(elevated)
      got=$(outcome "$role" "$variant" "$sql")
      check "$name as $role ($variant first in search_path): $want" "$want" "$got"
      check "$name as $role ($variant first): nothing planted ran with more rights than $role" \
        "$before|none" "$(elevated)|$(superusers)"
    done
  done
done <<<"$ENTRY_POINTS"

check "after every entry point: the archive's look-alike temp tables were never written (trap silent)" "0" \
  "$(elevated)"
check "the imports moved every soft-deleted row (8 runs of one), each archived with its own time and actor" "0|8|8|8" \
  "$(q "$DB" -c "SELECT (SELECT count(*) FROM t_soft WHERE gone) || '|' || count(*) || '|' ||
                        count(*) FILTER (WHERE actor = 'importer' AND deleted_at = '2025-01-01 00:00+00') || '|' ||
                        (SELECT count(*) FROM t_soft WHERE NOT gone)
                   FROM deleted_record WHERE table_name = 't_soft'")"

# The writer runs a DBA's code as the owner when the archive has an expression index (or
# defaults, checks): here a plpgsql function whose unqualified '=' a deleter's search_path could
# capture. The writer pins search_path then, so a deleter's planted '=' never runs as the owner.
q "$DB" >/dev/null <<'SQL' || die "expression index setup failed"
CREATE FUNCTION public.dba_tag(d jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN RETURN CASE WHEN d->>'label' = 'row 1' THEN 'first' ELSE 'other' END; END $f$;
CREATE INDEX deleted_record_dba_tag ON deleted_record (public.dba_tag(data));
SQL
for role in priv_none priv_owner; do
  for variant in schema temp; do
    before=$(elevated)
    check "with a DBA's expression index on the archive, a delete by $role ($variant first) archives" "ok" \
      "$(outcome "$role" "$variant" "DELETE FROM public.t_owned WHERE id = (SELECT max(id) FROM public.t_owned)")"
    check "with a DBA's expression index on the archive: nothing $role planted ran as the owner ($variant first)" \
      "$before|none" "$(elevated)|$(superusers)"
  done
done

# --- Finding 11: the partition period is the DBA's ---------------------------------------------
q postgres -c "CREATE DATABASE period" >/dev/null || die "createdb period failed"
q period >/dev/null <<'SQL' || die "period setup failed"
SET client_min_messages = warning;
CREATE EXTENSION deleted_record;
CREATE TABLE weekly_wanted (id int PRIMARY KEY);
ALTER TABLE weekly_wanted OWNER TO priv_owner;
CREATE TABLE weekly_wanted_2 (id int PRIMARY KEY);
ALTER TABLE weekly_wanted_2 OWNER TO priv_owner;
SQL
PARTITION_SPANS="SELECT coalesce(string_agg(DISTINCT CASE WHEN hi - lo BETWEEN 27 AND 32 THEN 'month' WHEN hi - lo = 7 THEN 'week'
                                                       WHEN hi - lo = 1 THEN 'day' ELSE (hi - lo)::text END, ','), 'none')
  FROM (SELECT to_date(substring(relname, 16, 8), 'YYYYMMDD') AS lo, to_date(substring(relname, 25, 8), 'YYYYMMDD') AS hi
          FROM pg_class WHERE relname ~ '^deleted_record_[0-9]{8}_[0-9]{8}$' AND relkind = 'r') p"
check "finding 11: PUBLIC may not execute deleted_record_prepare_partitions" "f" \
  "$(q period -c "SELECT has_function_privilege('public', 'deleted_record_prepare_partitions(integer)', 'EXECUTE')")"
check "finding 11: a table owner calling deleted_record_prepare_partitions gets 42501" "42501" \
  "$(q period -v VERBOSITY=sqlstate -c "SET SESSION AUTHORIZATION priv_owner" \
       -c "SELECT deleted_record_prepare_partitions(20)" 2>&1 | grep -o '^ERROR: *[0-9A-Z]\{5\}$' | grep -o '[0-9A-Z]\{5\}$' | head -1)"
out=$(q period -c "SET SESSION AUTHORIZATION priv_owner" -c "SET deleted_record.partition_period = 'week'" \
        -c "SELECT deleted_record_attach('weekly_wanted')" 2>&1)
rc=$?
check "finding 11: a table owner who set the period to 'week' before the library loaded attaches" "0" "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
check "finding 11: the partitions attach made are monthly (the DBA's period), not weekly" "month" \
  "$(q period -c "$PARTITION_SPANS")"
check "finding 11: once the library is loaded, an ordinary role cannot set the period (42501)" "42501" \
  "$(q period -v VERBOSITY=sqlstate -c "SET SESSION AUTHORIZATION priv_owner" -c "SELECT deleted_record_uuid7()" \
       -c "SET deleted_record.partition_period = 'week'" 2>&1 | grep -o '^ERROR: *[0-9A-Z]\{5\}$' | grep -o '[0-9A-Z]\{5\}$' | head -1)"
check "finding 11: an ordinary role cannot make the period its login default (ALTER ROLE ... SET: 42501)" "42501" \
  "$(q period -v VERBOSITY=sqlstate -c "SET SESSION AUTHORIZATION priv_owner" \
       -c "ALTER ROLE priv_owner SET deleted_record.partition_period = 'week'" 2>&1 | grep -o '^ERROR: *[0-9A-Z]\{5\}$' | grep -o '[0-9A-Z]\{5\}$' | head -1)"
q period -c "SET SESSION AUTHORIZATION priv_owner" -c "SELECT deleted_record_uuid7()" \
  -c "SELECT set_config('deleted_record.partition_period', 'day', false)" \
  -c "SELECT deleted_record_attach('weekly_wanted_2')" >/dev/null 2>&1
check "finding 11: after the library loaded, set_config by an ordinary role changes no period either" "month" \
  "$(q period -c "$PARTITION_SPANS")"

# The control: the DBA's choice is obeyed (ALTER DATABASE ... SET, read by a table owner's attach).
q postgres -c "CREATE DATABASE period_dba" -c "ALTER DATABASE period_dba SET deleted_record.partition_period = 'week'" >/dev/null \
  || die "createdb period_dba failed"
q period_dba -c "SET client_min_messages = warning" -c "CREATE EXTENSION deleted_record" \
  -c "CREATE TABLE t (id int PRIMARY KEY)" -c "ALTER TABLE t OWNER TO priv_owner" >/dev/null || die "period_dba setup failed"
q period_dba -c "SET SESSION AUTHORIZATION priv_owner" -c "SELECT deleted_record_attach('t')" >/dev/null 2>&1
check "finding 11 (control): the DBA's period (ALTER DATABASE ... SET 'week') is obeyed by a table owner's attach" "week" \
  "$(q period_dba -c "$PARTITION_SPANS")"

# After ALTER EXTENSION UPDATE, the coming periods have partitions (installs from 1.0 had none),
# and they are no members of the extension (pg_dump dumps them with their rows).
# (From 1.0, the partition the 1.0 archive became runs to the end of the update's period.)
COMING="SELECT count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
         WHERE i.inhparent = 'deleted_record'::regclass
           AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([0-9a-f-]+)''\\)'))[1]::uuid
               > deleted_record_uuid7_floor(now())
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
for from in 1.1 1.0; do
  db="upd_${from/./_}"
  q postgres -c "CREATE DATABASE $db" >/dev/null || die "createdb $db failed"
  out=$(q "$db" -c "CREATE EXTENSION deleted_record VERSION '$from'" -c "ALTER EXTENSION deleted_record UPDATE" 2>&1)
  rc=$?
  check "finding 11: $from installs and updates to the default version" "0" "$rc"
  [ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
  check "finding 11: after the update from $from the current period and the next three have partitions (not the DEFAULT), outside the extension" "4" \
    "$(q "$db" -c "$COMING")"
done

tap_done
