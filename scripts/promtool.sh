#!/usr/bin/env bash
# promtool, to check the Prometheus alert rules (ops/prometheus/alerts.yml). Debian ships it in
# the prometheus package; installed only when promtool is missing. Prints promtool's path last.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v promtool >/dev/null; then
  log "installing promtool (Debian package prometheus)"
  apt_install prometheus   # without starting the Prometheus server it ships
fi
command -v promtool >/dev/null || die "prometheus is installed but promtool is not on PATH"
command -v promtool
