#!/usr/bin/env bash
# promtool, to check the Prometheus alert rules (ops/prometheus/alerts.yml). Debian ships it in
# the prometheus package; installed only when promtool is missing. Prints promtool's path last.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v promtool >/dev/null; then
  log "installing promtool (Debian package prometheus)"
  # policy-rc.d exit 101: install the package without starting a Prometheus server.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
  apt_install prometheus
fi
command -v promtool >/dev/null || die "prometheus is installed but promtool is not on PATH"
command -v promtool
