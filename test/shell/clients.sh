#!/usr/bin/env bash
# clients: the archive as real application stacks see it. Knex and Sequelize (node-postgres),
# Django, SQLAlchemy + Alembic and ActiveRecord 6.1 each run several concurrent workers through
# pgbouncer in transaction mode, setting the deletion context the stack's natural way (the recipes
# in test/clients/RECIPES.md, whose code is the code these tests run), and check: each worker's
# context reaches exactly its own archive rows; ORM-side cascades share one xact_id; a missing
# context (require_context) is the ORM's own exception with SQLSTATE 55000; xact_id reads as an
# integer without unknown-type warnings; the import off soft deletion runs under require_context
# with only its actor and reason expressions (no session context); deleted_record_stats filters by
# table name in the ORM's own query; the schema tools (inspectdb, Alembic autogenerate, Rails'
# structure.sql) and test runners (test database creation, flush/TRUNCATE cleaners) get along with
# the extension; and that numbers in `data` are exact only when read as text or typed columns.
# CLIENTS_ONLY="knex django ..." runs only some stacks (default: all).
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"
# Debian's nodejs brings no npm (NodeSource's does): ask for Debian's npm only when there is none.
ensure_prereqs python3-django python3-sqlalchemy python3-alembic python3-psycopg2 ruby-activerecord ruby-pg nodejs \
  $(command -v npm >/dev/null || echo npm)

# Under valgrind (scripts/test.sh --valgrind) five application stacks would take far too long; the
# server paths they use are those of pooler.sh, which does run there.
if [ -n "${VALGRIND_LOG_DIR:-}" ]; then
  ok "# SKIP the client stacks under valgrind (too slow); pooler.sh covers their server paths"
  tap_done; exit
fi

CLIENTS=$REPO_ROOT/test/clients
PY=/usr/bin/python3             # Debian's python and ruby: they find the Debian packages above
RUBY=/usr/bin/ruby
STACKS=${CLIENTS_ONLY:-knex sequelize django sqlalchemy rails}
export WORKERS=6 TXNS=8 PER_TXN=2   # per stack: workers, transactions per worker, rows per transaction
export ROWS=$((TXNS * PER_TXN + 4)) # rows each worker owns (4 must survive)
POOL=3                              # pgbouncer server connections per database (< WORKERS: shared)
wants() { [[ " $STACKS " == *" $1 "* ]]; }

# npm packages live outside the checkout, keyed by the lock file: npm ci only when it changed.
npm_deps() {
  local cache lock_sum
  if [ "$(id -u)" -eq 0 ]; then cache=/var/cache/deleted_record/npm; else cache=${XDG_CACHE_HOME:-$HOME/.cache}/deleted_record/npm; fi
  lock_sum=$(cat "$CLIENTS/node/package.json" "$CLIENTS/node/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$cache/.installed" 2>/dev/null)" != "$lock_sum" ]; then
    log "installing npm packages into $cache"
    mkdir -p "$cache" && cp "$CLIENTS/node/package.json" "$CLIENTS/node/package-lock.json" "$cache/" &&
      (cd "$cache" && npm ci --no-audit --no-fund --cache "$cache/.npm" >"$cache/npm-ci.log" 2>&1) ||
      { cat "$cache/npm-ci.log" >&2; return 1; }
    echo "$lock_sum" >"$cache/.installed"
  fi
  export NODE_PATH=$cache/node_modules
}
if wants knex || wants sequelize; then
  if npm_deps; then ok "npm packages (pg, knex@3, sequelize@6) installed from package-lock.json"
  else not_ok "npm packages (pg, knex@3, sequelize@6) installed from package-lock.json: Knex and Sequelize not run"
    STACKS=${STACKS//knex/}; STACKS=${STACKS//sequelize/}
  fi
fi

bouncer_pid=
stop_bouncer() {
  if [ -n "$bouncer_pid" ]; then
    as_server_user kill "$bouncer_pid" 2>/dev/null
    local i; for i in $(seq 50); do kill -0 "$bouncer_pid" 2>/dev/null || break; sleep 0.1; done
    bouncer_pid=
  fi
}
on_exit() { stop_bouncer; }
start_own_cluster clients

# The applications' role owns its tables and is no superuser; the DBA (postgres) creates the
# extension, lets the role read the archive, and makes a missing context an error.
APP_DBS="knex_app sequelize_app django_app sqla_app rails_app"
q -c "CREATE ROLE app LOGIN CREATEDB; CREATE ROLE counsel LOGIN" >/dev/null || die "setup failed"
for db in $APP_DBS; do
  createdb -O app "$db" || die "createdb $db failed"
  q "$db" >/dev/null <<SQL || die "setup of $db failed"
-- recipe: sql-dba
CREATE EXTENSION deleted_record;
GRANT SELECT ON deleted_record TO app;
-- end recipe
-- recipe: sql-dba-grants
-- The application reads the archive's statistics; legal holds and erasure are for counsel.
GRANT SELECT ON deleted_record_stats TO app;
GRANT EXECUTE ON FUNCTION deleted_record_stats_report(integer) TO app;
GRANT EXECUTE ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz),
                          deleted_record_release(text), deleted_record_erase(uuid[], text) TO counsel;
GRANT SELECT ON deleted_record_holds, deleted_record TO counsel;
-- end recipe
ALTER DATABASE $db SET deleted_record.require_context = 'actor_and_reason';
-- Which server backend ran each worker transaction (not attached): proves connections were shared.
CREATE TABLE txlog (worker int NOT NULL, pid int NOT NULL);
ALTER TABLE txlog OWNER TO app;
SQL
done

# A template with the extension, for databases the app role creates itself (test databases).
q >/dev/null <<'SQL' || die "template setup failed"
-- recipe: sql-test-template
CREATE DATABASE deleted_record_template IS_TEMPLATE true;
\c deleted_record_template
CREATE EXTENSION deleted_record;
GRANT SELECT ON deleted_record TO app;
-- end recipe
SQL

# pgbouncer in transaction mode, as the server's OS user, POOL server connections per database.
# start_bouncer PORT: starts it on PORT; fails when it does not come up (the port was taken, say).
bdir=$tmp/pgbouncer
mkdir -p "$bdir"
printf '"postgres" ""\n"app" ""\n"counsel" ""\n' >"$bdir/userlist.txt"
start_bouncer() {
  rm -f "$bdir/pgbouncer.pid"
  {
    echo "[databases]"
    for db in $APP_DBS; do echo "$db = host=127.0.0.1 port=$PGPORT dbname=$db pool_size=$POOL"; done
    cat <<EOF
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $1
unix_socket_dir =
auth_type = trust
auth_file = $bdir/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 200
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
EOF
  } >"$bdir/pgbouncer.ini"
  chown -R "$(server_user)" "$bdir"
  as_server_user /usr/sbin/pgbouncer -d -q "$bdir/pgbouncer.ini" 2>>"$bdir/start.log" || return 1
  local i
  for i in $(seq 100); do [ -s "$bdir/pgbouncer.pid" ] && break; sleep 0.1; done
  bouncer_pid=$(cat "$bdir/pgbouncer.pid" 2>/dev/null)
  [ -n "$bouncer_pid" ] || return 1
  for i in $(seq 100); do
    psql -X -qAt -h 127.0.0.1 -p "$1" -U app -d knex_app -c 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
export BOUNCER_PORT
for attempt in 1 2 3; do
  BOUNCER_PORT=$(free_port)
  start_bouncer "$BOUNCER_PORT" && break
  stop_bouncer
done
[ -n "$bouncer_pid" ] || { cat "$bdir/start.log" "$bdir/pgbouncer.log" >&2; die "pgbouncer did not start"; }
check "pgbouncer (transaction mode) accepts the app role" "1" \
  "$(psql -X -qAt -h 127.0.0.1 -p "$BOUNCER_PORT" -U app -d knex_app -c 'SELECT 1' 2>&1)"

# What every client program gets: where the server and the pooler are, and a scratch directory.
export DIRECT_PORT=$PGPORT WORK=$tmp

# run_client NAME COMMAND...: runs a client test program. Its lines "ok - …" and "not ok - …"
# become numbered checks, "# …" lines are passed on; a program that dies is one failed check.
run_client() {
  local name=$1 rc line; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "$name: ${line#ok - }" ;;
      "not ok - "*) not_ok "$name: ${line#not ok - }" ;;
      "#"*) echo "$line" ;;
    esac
  done <"$tmp/$name.out"
  if [ "$rc" -ne 0 ]; then
    not_ok "$name: the test program ran to its end (exit status $rc)"
    tail -25 "$tmp/$name.err" | sed 's/^/#   /'
  fi
}

# check_workers STACK DB TABLE: the workers of STACK deleted their own rows of TABLE through the
# pooler; every archived row carries its own worker's context, none is missing, and the workers'
# transactions shared the pooler's server connections.
check_workers() {
  local stack=$1 db=$2 table=$3 deleted=$((WORKERS * TXNS * PER_TXN))
  check "$stack: $WORKERS workers deleted $deleted of their rows through pgbouncer, no other row" \
    "$((WORKERS * ROWS - deleted))" "$(q "$db" -c "SELECT count(*) FROM $table WHERE worker > 0")"
  check "$stack: archived rows = deleted rows, each once, none of them still live" "$deleted|$deleted|0" \
    "$(q "$db" -c "SELECT count(*), count(DISTINCT object_id),
                          count(*) FILTER (WHERE EXISTS (SELECT FROM $table t WHERE t.id::text = d.object_id))
                     FROM deleted_record d WHERE table_name = '$table' AND (data->>'worker')::int > 0")"
  check "$stack: every archived row carries its own worker's actor, reason and metadata, no other's" "0" \
    "$(q "$db" -c "SELECT count(*) FROM deleted_record WHERE table_name = '$table' AND (data->>'worker')::int > 0
                      AND (actor IS DISTINCT FROM '$stack-worker-' || (data->>'worker')
                           OR reason IS DISTINCT FROM 'cleanup by $stack worker ' || (data->>'worker')
                           OR metadata IS DISTINCT FROM jsonb_build_object('stack', '$stack', 'worker', (data->>'worker')::int))")"
  check "$stack: the $((WORKERS * TXNS)) worker transactions ran on at most $POOL shared server connections" "$((WORKERS * TXNS))|t|t" \
    "$(q "$db" -c "SELECT count(*), count(DISTINCT pid) <= $POOL,
                          EXISTS (SELECT FROM txlog a JOIN txlog b USING (pid) WHERE a.worker <> b.worker) FROM txlog")"
}

# RECIPES.md shows exactly the code these tests run.
run_client recipes env PYTHONDONTWRITEBYTECODE=1 "$PY" "$CLIENTS/check_recipes.py"

if wants knex; then
  log "knex"
  run_client knex node "$CLIENTS/node/knex_test.js"
  check_workers knex knex_app invoice
fi
if wants sequelize; then
  log "sequelize"
  run_client sequelize node "$CLIENTS/node/sequelize_test.js"
  check_workers sequelize sequelize_app invoices
fi

if wants django; then
  log "django"
  # dj ARGS: manage.py of the shop project, directly on the server as the app role unless the
  # environment says otherwise (DJANGO_PORT, DJANGO_DB, DJANGO_USER, DJANGO_TEST_TEMPLATE).
  dj() { (cd "$tmp" && PYTHONDONTWRITEBYTECODE=1 DJANGO_PORT=${DJANGO_PORT:-$PGPORT} "$PY" "$CLIENTS/django/manage.py" "$@"); }
  # The DBA made the extension: the migration's CREATE EXTENSION IF NOT EXISTS is a no-op for the app.
  # Up to the soft-deleting Ticket model: check_django.py fills it, then migrates on (the import).
  dj migrate shop 0004 -v 0 >"$tmp/django-migrate.log" 2>&1 || { cat "$tmp/django-migrate.log" >&2; not_ok "django: migrate"; }
  run_client django env DJANGO_PORT="$BOUNCER_PORT" PYTHONDONTWRITEBYTECODE=1 "$PY" "$CLIENTS/django/check_django.py"
  check_workers django django_app shop_invoice

  # manage.py flush empties the tables with TRUNCATE: under the default policy that archives every
  # row; after the test runner's re-attach with on_truncate => 'ignore' it archives nothing.
  createdb -O app django_flush && q django_flush -c "CREATE EXTENSION deleted_record" >/dev/null &&
    DJANGO_DB=django_flush dj migrate -v 0 || die "django_flush setup failed"
  flushed() {
    q django_flush -c "INSERT INTO shop_customer (name) SELECT 'c' || i FROM generate_series(1, 20) i" &&
      DJANGO_DB=django_flush dj flush --noinput &&
      q django_flush -c "SELECT (SELECT count(*) FROM shop_customer), (SELECT count(*) FROM deleted_record)"
  }
  check "django: manage.py flush under the default policy archives all 20 rows (what tests must avoid)" "0|20" "$(flushed 2>&1)"
  DJANGO_DB=django_flush dj shell -c "from shop.test_runner import ignore_truncate; ignore_truncate('default')" \
    >"$tmp/django-ignore.log" 2>&1 || sed 's/^/#   /' "$tmp/django-ignore.log"
  check "django: after the test runner's ignore_truncate, manage.py flush archives nothing" "0|20" "$(flushed 2>&1)"

  # Test database creation: the migration creates the extension only as a superuser; the app role
  # needs a template with the extension (DATABASES TEST TEMPLATE, the recipe).
  dj_test() { DJANGO_USER=$1 DJANGO_TEST_TEMPLATE=$2 dj test shop --noinput -v 1 >"$tmp/django-test-$1.log" 2>&1; }
  dj_test postgres ""
  rc=$?
  check "django: manage.py test as a superuser (migration creates the extension in the test database)" \
    "0|Ran 4 tests|OK" "$rc|$(grep -o 'Ran 4 tests' "$tmp/django-test-postgres.log")|$(grep -x OK "$tmp/django-test-postgres.log")"
  [ "$rc" -eq 0 ] || tail -30 "$tmp/django-test-postgres.log" | sed 's/^/#   /'
  dj_test app ""
  check "django: manage.py test as the app role from template1 fails: only superusers create the extension" \
    "1|yes" "$?|$(grep -q 'permission denied to create extension "deleted_record"' "$tmp/django-test-app.log" && echo yes)"
  dj_test app deleted_record_template
  rc=$?
  check "django: manage.py test as the app role with TEST TEMPLATE deleted_record_template (the recipe)" \
    "0|Ran 4 tests|OK" "$rc|$(grep -o 'Ran 4 tests' "$tmp/django-test-app.log")|$(grep -x OK "$tmp/django-test-app.log")"
  [ "$rc" -eq 0 ] || tail -30 "$tmp/django-test-app.log" | sed 's/^/#   /'
fi

if wants sqlalchemy; then
  log "sqlalchemy"
  createdb -O app sqla_test && q sqla_test -c "CREATE EXTENSION deleted_record; GRANT SELECT ON deleted_record TO app" >/dev/null ||
    die "sqla_test setup failed"
  run_client sqlalchemy env PYTHONDONTWRITEBYTECODE=1 "$PY" "$CLIENTS/sqlalchemy/check_sqlalchemy.py"
  check_workers sqlalchemy sqla_app invoice
fi

if wants rails; then
  log "rails"
  run_client rails "$RUBY" "$CLIENTS/rails/check_rails.rb"
  check_workers rails rails_app invoices
fi

stop_bouncer
tap_done
