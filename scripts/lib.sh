# shellcheck shell=bash disable=SC2034  # sourced; the variables are used by the scripts
# Shared helpers for the test-service scripts. Sourced, never run on its own.
# Every script resolves paths from its own location, so they work in any clone.

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
CACHE_DIR="${SOMA_CACHE_DIR:-$REPO_ROOT/.cache}"

# log MESSAGE... — progress goes to stderr so stdout stays machine-readable
# (the last line a script prints on stdout is its result).
log() {
  printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# port_open HOST PORT — true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_until SECONDS DESCRIPTION COMMAND... — retry COMMAND every 0.2 s until it succeeds.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# apt_install PACKAGE... — install Debian packages, refreshing the index only when the install
# fails without it (a fresh machine has no index). Services the packages ship are not started:
# a policy-rc.d that denies starts is put in place for the install when there is none.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d created=0 status=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# Temporary, from the soma test scripts: start no services.\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created=1
  fi
  if ! apt-get install -y -q --no-install-recommends "$@" >&2; then
    apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "$@" >&2 || status=$?
  fi
  if ((created)); then rm -f "$policy"; fi
  return "$status"
}

# checkout_port BASE — a port for this checkout's test services: BASE plus an offset (0–499, in
# steps of 2 so a service may also use port+1) derived from the checkout's path, so two clones on
# one machine never share a PostgreSQL or Kafka. SOMA_TEST_PORT_OFFSET overrides the offset.
checkout_port() {
  local offset
  if [[ -n "${SOMA_TEST_PORT_OFFSET:-}" ]]; then
    offset="$SOMA_TEST_PORT_OFFSET"
  else
    offset=$((16#$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-6) % 250 * 2))
  fi
  echo $(($1 + offset))
}

# instance_port BASE NAME — a port for a further, named service instance of this checkout (e.g. a second
# Kafka broker a test stops and restarts): BASE plus an offset (0–1998, in steps of 2 so the instance may
# also use port+1) derived from the checkout's path and NAME, so it meets neither another instance nor
# another checkout's. Use a BASE range no checkout_port service uses.
instance_port() {
  local offset
  offset=$((16#$(printf '%s\0%s' "$REPO_ROOT" "$2" | sha1sum | cut -c1-6) % 1000 * 2))
  echo $(($1 + offset))
}
