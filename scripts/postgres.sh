#!/usr/bin/env bash
# The PostgreSQL the test suite's second run uses: Debian's cluster, started
# with pg_ctlcluster on 127.0.0.1 only, plus a role (CREATEDB, for
# pytest-django's test_ database) and a database for it. The role's password
# is generated once into $VAR_DIR/postgres_password (mode 0600).
#   usage: scripts/postgres.sh start|url|stop
#   start: cluster up, role and database exist
#   url:   print the DATABASE_URL to use
#   stop:  stop the cluster, only if `start` was the one that started it
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_config

PG_USER="${TEST_PG_USER:-stackato_dash}"
PG_DB="${TEST_PG_DB:-stackato_dash}"
pwfile="$VAR_DIR/postgres_password"
started="$RUN_DIR/postgres.started"

command -v pg_lsclusters >/dev/null || die "PostgreSQL is not installed (scripts/install.sh postgresql)"

# The first cluster Debian knows ("15 main" on a fresh bookworm), created if
# the package's postinst did not (it skips that in some setups).
cluster() { pg_lsclusters -h | head -n 1; }
if [ -z "$(cluster)" ]; then
    ver="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
    pg_createcluster "$ver" main >/dev/null || die "pg_createcluster $ver main failed"
fi
read -r ver name port status _ < <(cluster)

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$port" "$@"; }

case "${1:-}" in
start)
    if [ "$status" != online ]; then
        port_free 127.0.0.1 "$port" "PostgreSQL cluster $ver/$name"
        # The socket directory lives on /run, which is empty after a boot.
        install -d -o postgres -g postgres -m 2775 /var/run/postgresql
        # Loopback only, whatever the cluster's postgresql.conf says.
        out="$(pg_ctlcluster "$ver" "$name" start -- -o "-c listen_addresses=127.0.0.1" 2>&1)" \
            || die "pg_ctlcluster $ver $name start failed: ${out##*$'\n'}"
        touch "$started"
        say "PostgreSQL $ver/$name started on 127.0.0.1:$port"
    fi
    if [ ! -s "$pwfile" ]; then
        (umask 077 && "$PY" -c 'import secrets; print(secrets.token_hex(16))' >"$pwfile")
    fi
    # Idempotent: create the role and database once, reset the password to
    # the stored one every time (the file may be new, the role old).
    psql_admin -d postgres -v user="$PG_USER" -v db="$PG_DB" -v pw="$(cat "$pwfile")" <<'SQL' || die "could not create PostgreSQL role/database $PG_USER/$PG_DB"
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') AS no_role \gset
\if :no_role
CREATE ROLE :"user" LOGIN CREATEDB;
\endif
ALTER ROLE :"user" PASSWORD :'pw';
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS no_db \gset
\if :no_db
CREATE DATABASE :"db" OWNER :"user";
\endif
SQL
    ;;
url)
    [ -s "$pwfile" ] || die "no $pwfile yet; run: $0 start"
    echo "postgres://$PG_USER:$(cat "$pwfile")@127.0.0.1:$port/$PG_DB"
    ;;
stop)
    if [ -e "$started" ] && [ "$status" = online ]; then
        pg_ctlcluster "$ver" "$name" stop || die "pg_ctlcluster $ver $name stop failed"
        say "PostgreSQL $ver/$name stopped"
    fi
    rm -f "$started"
    ;;
*)
    die "usage: $0 start|url|stop"
    ;;
esac
