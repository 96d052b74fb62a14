#!/usr/bin/env bash
# Scale-out pieces on real servers, all on 127.0.0.1 with Debian's packages (docs/scaling.md):
#
#   primary  PostgreSQL 15 cluster, port $PRIMARY_PORT (5441), wal_level=replica, pg_stat_statements
#   standby  a hot standby streaming from it (pg_basebackup -R), port $STANDBY_PORT (5442)
#   pooler   PgBouncer in pool_mode=transaction in front of the primary, port $POOLER_PORT (6432);
#            its database "${DB}_pooled_single" is database ${DB}_pooled with a pool of ONE
#            server connection (every client of the pooled check shares one server session)
#
# Usage (as root; the servers run as the postgres user; nothing touches the system cluster):
#   bench/scaleout.sh up        # create (if missing) and start all three; idempotent
#   bench/scaleout.sh app       # roles, migrate, seed_demo, run_daily_jobs on the primary (idempotent)
#   bench/scaleout.sh check     # bench/scaleout_check.py replica, then pooler: PASS/FAIL lines
#   bench/scaleout.sh env       # the variables the checks use (eval "$(bench/scaleout.sh env)")
#   bench/scaleout.sh status    # what runs
#   bench/scaleout.sh down      # stop all three (data kept)
#   bench/scaleout.sh teardown  # stop and delete everything under $SCALEOUT_DIR
#   bench/scaleout.sh all       # up, app, check
#
# Not part of `make test` (it installs a package, starts three servers and seeds a database:
# a few minutes). Trust authentication on 127.0.0.1 only: a throwaway local setup.
set -euo pipefail

SCALEOUT_DIR=${SCALEOUT_DIR:-/var/tmp/backoffice-scaleout}
PRIMARY_PORT=${PRIMARY_PORT:-5441}
STANDBY_PORT=${STANDBY_PORT:-5442}
POOLER_PORT=${POOLER_PORT:-6432}
DB=${SCALEOUT_DB:-scaleout}
OWNER=scaleout_owner
RUNTIME=scaleout_runtime
PGBIN=/usr/lib/postgresql/15/bin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python

as_pg() { runuser -u postgres -- "$@"; }
psql_at() { psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -At "$@"; }

running() { as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

primary_up() {
    local data=$SCALEOUT_DIR/primary
    if [ ! -s "$data/PG_VERSION" ]; then
        as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$data/postgresql.conf" <<EOF
# --- bench/scaleout.sh
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SCALEOUT_DIR'
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
shared_buffers = 128MB
logging_collector = on
log_directory = 'log'
EOF
        echo "host replication all 127.0.0.1/32 trust" >>"$data/pg_hba.conf"
    fi
    running "$data" || as_pg "$PGBIN/pg_ctl" -D "$data" -l "$SCALEOUT_DIR/primary.log" -w start >/dev/null
    psql_at -p "$PRIMARY_PORT" -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

standby_up() {
    local data=$SCALEOUT_DIR/standby
    if [ ! -s "$data/PG_VERSION" ]; then
        # A copy of the primary, with standby.signal and primary_conninfo written (-R).
        as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" -R -X stream -c fast
        cat >>"$data/postgresql.conf" <<EOF
# --- the standby's own settings (bench/scaleout.sh)
port = $STANDBY_PORT
EOF
    fi
    running "$data" || as_pg "$PGBIN/pg_ctl" -D "$data" -l "$SCALEOUT_DIR/standby.log" -w start >/dev/null
}

pooler_up() {
    local dir=$SCALEOUT_DIR/pgbouncer
    as_pg mkdir -p "$dir"
    as_pg tee "$dir/pgbouncer.ini" >/dev/null <<EOF
[databases]
; the pooled check's database with ONE server connection: every client shares one session
${DB}_pooled_single = host=127.0.0.1 port=$PRIMARY_PORT dbname=${DB}_pooled pool_size=1
; any other name: that database on the primary
* = host=127.0.0.1 port=$PRIMARY_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $POOLER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 10
max_client_conn = 200
; No ignore_startup_parameters: a client sending options=-c jit=off is refused, as a
; stock PgBouncer does (the settings send none with DATABASE_POOLER=pgbouncer).
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    # trust: the names must still be listed (no passwords: the server trusts 127.0.0.1).
    printf '"%s" ""\n' postgres "$OWNER" "$RUNTIME" backoffice_test_owner backoffice_test_runtime |
        as_pg tee "$dir/userlist.txt" >/dev/null
    if [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
        kill -HUP "$(cat "$dir/pgbouncer.pid")" # reload the configuration
    else
        as_pg pgbouncer -d "$dir/pgbouncer.ini"
        sleep 1
    fi
}

up() {
    command -v pgbouncer >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y pgbouncer >/dev/null
    mkdir -p "$SCALEOUT_DIR" && chown postgres:postgres "$SCALEOUT_DIR"
    primary_up
    standby_up
    pooler_up
    status
}

env_vars() {
    local runtime=postgres://$RUNTIME@127.0.0.1
    cat <<EOF
export DEBUG=true
export DATABASE_URL=$runtime:$PRIMARY_PORT/$DB
export DATABASE_OWNER_URL=postgres://$OWNER@127.0.0.1:$PRIMARY_PORT/$DB
export DATABASE_REPLICA_URL=$runtime:$STANDBY_PORT/$DB
export SCALEOUT_POOLER_URL=$runtime:$POOLER_PORT/$DB
export SCALEOUT_SINGLE_URL=$runtime:$POOLER_PORT/${DB}_pooled_single
export SCALEOUT_PRIMARY_ADMIN_URL=postgres://postgres@127.0.0.1:$PRIMARY_PORT/$DB
export SCALEOUT_STANDBY_ADMIN_URL=postgres://postgres@127.0.0.1:$STANDBY_PORT/$DB
export SCALEOUT_POOLER_ADMIN_URL=postgres://postgres@127.0.0.1:$POOLER_PORT/pgbouncer
EOF
}

app() {
    eval "$(env_vars)"
    if [ -z "$(psql_at -p "$PRIMARY_PORT" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
        psql_at -p "$PRIMARY_PORT" -d postgres -c "CREATE DATABASE $DB" >/dev/null
    fi
    cd "$ROOT"
    "$PY" manage.py create_db_roles --admin-url "$SCALEOUT_PRIMARY_ADMIN_URL"
    "$PY" manage.py migrate --noinput -v 0
    psql_at -p "$PRIMARY_PORT" -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    if [ -z "$(psql_at -p "$PRIMARY_PORT" -d "$DB" -c "SELECT 1 FROM auth_user WHERE username = 'analyst'")" ]; then
        "$PY" manage.py seed_demo
    fi
}

status() {
    for node in primary standby; do
        if running "$SCALEOUT_DIR/$node"; then echo "$node: running"; else echo "$node: stopped"; fi
    done
    if [ -f "$SCALEOUT_DIR/pgbouncer/pgbouncer.pid" ] && kill -0 "$(cat "$SCALEOUT_DIR/pgbouncer/pgbouncer.pid")" 2>/dev/null; then
        echo "pgbouncer: running (pid $(cat "$SCALEOUT_DIR/pgbouncer/pgbouncer.pid"))"
    else
        echo "pgbouncer: stopped"
    fi
    if running "$SCALEOUT_DIR/standby"; then
        psql_at -p "$PRIMARY_PORT" -d postgres -c \
            "SELECT 'replication: ' || application_name || ' ' || state || ', replay lag ' || coalesce(replay_lag::text, '0') FROM pg_stat_replication"
    fi
}

down() {
    local pidfile=$SCALEOUT_DIR/pgbouncer/pgbouncer.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill "$(cat "$pidfile")"; fi
    for node in standby primary; do
        if running "$SCALEOUT_DIR/$node"; then as_pg "$PGBIN/pg_ctl" -D "$SCALEOUT_DIR/$node" -m fast -w stop >/dev/null; fi
    done
    status
}

fresh_db() { # $1: database name; created empty, owned by the owner role, migrated (directly)
    psql_at -p "$PRIMARY_PORT" -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
    DATABASE_URL=postgres://$RUNTIME@127.0.0.1:$PRIMARY_PORT/$1 DATABASE_OWNER_URL=postgres://$OWNER@127.0.0.1:$PRIMARY_PORT/$1 \
        sh -c "'$PY' manage.py create_db_roles --admin-url postgres://postgres@127.0.0.1:$PRIMARY_PORT/$1 >/dev/null &&
               '$PY' manage.py migrate --noinput -v 0"
}

check() {
    eval "$(env_vars)"
    cd "$ROOT"
    local failed=0
    "$PY" bench/scaleout_check.py replica || failed=1
    # A fresh database that seed_demo fills through PgBouncer; migrations (DDL) go direct, as the owner.
    fresh_db "${DB}_pooled"
    # The web process and the jobs' work through PgBouncer (one server connection); the jobs'
    # advisory lock on a direct connection.
    DATABASE_URL=$SCALEOUT_SINGLE_URL DATABASE_POOLER=pgbouncer \
        DATABASE_DIRECT_URL=postgres://$RUNTIME@127.0.0.1:$PRIMARY_PORT/${DB}_pooled \
        DATABASE_OWNER_URL=postgres://$OWNER@127.0.0.1:$PRIMARY_PORT/${DB}_pooled \
        DATABASE_REPLICA_URL= "$PY" bench/scaleout_check.py pooler || failed=1
    return $failed
}

case ${1:-} in
up) up ;;
app) app ;;
check) check ;;
env) env_vars ;;
status) status ;;
down) down ;;
teardown) down && rm -rf "$SCALEOUT_DIR" && echo "removed $SCALEOUT_DIR" ;;
all) up && app && check ;;
*) sed -n '2,21p' "$0" >&2 && exit 2 ;;
esac
