#!/usr/bin/env bash
# Debian's Chromium for the Studio's browser tests (test/web, driven by playwright-core; never a
# browser build of Playwright's own). Installs the package when it is missing; prints its path last.
#
#   export SOMA_TEST_CHROMIUM="$(bash scripts/chromium.sh | tail -n 1)"
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_chromium() {
  local candidate
  for candidate in "${SOMA_TEST_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! chromium_bin="$(find_chromium)"; then
  log "installing Chromium from Debian's packages"
  apt_install chromium || die "installing the chromium package failed"
  chromium_bin="$(find_chromium)" || die "the chromium package is installed but no chromium binary was found"
fi
log "$("$chromium_bin" --version 2>/dev/null || echo "chromium at $chromium_bin")"
echo "$chromium_bin"
