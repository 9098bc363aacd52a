#!/usr/bin/env bash
# Fails when policy/soma/tools.wasm is not what the Rego sources compile to (a .rego changed
# without running scripts/build-policy.sh). Rebuilds into a temporary file and compares bytes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMMITTED="$REPO_ROOT/policy/soma/tools.wasm"
[[ -f "$COMMITTED" ]] || die "$COMMITTED is missing: run scripts/build-policy.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$SCRIPTS_DIR/build-policy.sh" "$WORK/tools.wasm" >/dev/null
if ! cmp -s "$COMMITTED" "$WORK/tools.wasm"; then
  die "policy/soma/tools.wasm is stale: the Rego in policy/soma compiles to different bytes; run scripts/build-policy.sh"
fi
log "policy/soma/tools.wasm is up to date"
