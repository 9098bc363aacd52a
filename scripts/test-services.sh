#!/usr/bin/env bash
# Starts every real service the test suite uses and prints `export` lines for the test run:
#
#   eval "$(scripts/test-services.sh)"        # start (default): PostgreSQL, Kafka, OPA binary
#   scripts/test-services.sh stop             # stop PostgreSQL and Kafka, every broker instance too (data is kept)
#
# The OPA build (minutes when cold) runs in the background while the servers start.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

last_line() {
  tail -n 1 "$1"
}

start() {
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT

  bash "$SCRIPTS_DIR/opa.sh" >"$tmp/opa" &
  local opa_pid=$!

  bash "$SCRIPTS_DIR/postgres.sh" start >"$tmp/postgres"
  bash "$SCRIPTS_DIR/kafka.sh" start >"$tmp/kafka"
  wait "$opa_pid" || die "building OPA failed"

  printf 'export SOMA_TEST_DATABASE_URL=%q\n' "$(last_line "$tmp/postgres")"
  printf 'export SOMA_TEST_KAFKA_BROKERS=%q\n' "$(last_line "$tmp/kafka")"
  printf 'export SOMA_TEST_OPA_BIN=%q\n' "$(last_line "$tmp/opa")"
}

stop() {
  local status=0
  bash "$SCRIPTS_DIR/kafka.sh" stop-all || status=1
  bash "$SCRIPTS_DIR/postgres.sh" stop || status=1
  return "$status"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
