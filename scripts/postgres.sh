#!/usr/bin/env bash
# PostgreSQL for the test suite: Debian's server, a private cluster under .cache/postgres,
# listening on 127.0.0.1 at a port of its own per checkout (42000–42499, see checkout_port in lib.sh).
#
#   scripts/postgres.sh start   install if needed, init once, start, ensure role + database; prints the URL last
#   scripts/postgres.sh stop    stop the cluster (data is kept)
#   scripts/postgres.sh url     print the URL
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="$(checkout_port 42000)"
PG_USER=soma
PG_PASSWORD=soma
PG_DB=soma_test
PG_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
PG_DIR="$CACHE_DIR/postgres"

pg_bin_dir() {
  local dir
  dir="$(printf "%s\n" /usr/lib/postgresql/*/bin | grep -v "\*" | sort -V | tail -n 1 || true)"
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

install_postgres() {
  if pg_bin_dir >/dev/null; then return; fi
  log "installing PostgreSQL from Debian's packages"
  apt_install postgresql
  pg_bin_dir >/dev/null || die "PostgreSQL installed but no initdb under /usr/lib/postgresql/*/bin"
}

# From / so the postgres user never needs access to the caller's working directory.
as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# The cluster must be reachable by the postgres user. A clone under a private directory (such as
# /root) is not, so fall back to a per-clone directory under /var/lib/postgresql.
choose_data_dir() {
  mkdir -p "$PG_DIR"
  chown postgres:postgres "$PG_DIR"
  if as_postgres test -w "$PG_DIR"; then
    DATA_DIR="$PG_DIR/data"
  else
    local key
    key="$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-12)"
    DATA_DIR="/var/lib/postgresql/soma-test-$key/data"
    log "$PG_DIR is not reachable by user postgres; using $DATA_DIR"
    mkdir -p "$(dirname "$DATA_DIR")"
    chown postgres:postgres "$(dirname "$DATA_DIR")"
  fi
  LOG_FILE="$(dirname "$DATA_DIR")/postgres.log"
}

init_cluster() {
  if [[ -f "$DATA_DIR/PG_VERSION" ]]; then return; fi
  log "creating cluster in $DATA_DIR"
  rm -rf "$DATA_DIR"
  as_postgres "$BIN/initdb" -D "$DATA_DIR" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >&2
  echo "include 'soma-test.conf'" >>"$DATA_DIR/postgresql.conf"
}

# Rewritten on every start, so a changed setting here takes effect on the next start.
write_config() {
  cat >"$DATA_DIR/soma-test.conf" <<CONF
# Written by scripts/postgres.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '/tmp'
max_connections = 200
password_encryption = 'scram-sha-256'
CONF
  chown postgres:postgres "$DATA_DIR/soma-test.conf"
}

is_running() {
  as_postgres "$BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

ensure_role_and_database() {
  local psql=("$BIN/psql" -h /tmp -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -X)
  as_postgres "${psql[@]}" >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB') \gexec
SQL
}

start() {
  install_postgres
  BIN="$(pg_bin_dir)"
  choose_data_dir
  init_cluster
  write_config
  if is_running; then
    log "already running ($DATA_DIR)"
  else
    if port_open 127.0.0.1 "$PG_PORT"; then
      die "port $PG_PORT is taken by another process"
    fi
    log "starting on 127.0.0.1:$PG_PORT (log: $LOG_FILE)"
    touch "$LOG_FILE" && chown postgres:postgres "$LOG_FILE"
    as_postgres "$BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t 120 >&2 ||
      { tail -n 30 "$LOG_FILE" >&2; die "PostgreSQL did not start"; }
  fi
  ensure_role_and_database
  echo "$PG_URL"
}

stop() {
  BIN="$(pg_bin_dir)" || { log "PostgreSQL is not installed"; return 0; }
  choose_data_dir
  if [[ -f "$DATA_DIR/PG_VERSION" ]] && is_running; then
    as_postgres "$BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 120 >&2
  else
    log "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$PG_URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
