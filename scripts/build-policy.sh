#!/usr/bin/env bash
# Compiles the shipped Rego policy (policy/soma) to WebAssembly for the embedded policy engine.
#   scripts/build-policy.sh            rebuild policy/soma/tools.wasm
#   scripts/build-policy.sh OUT.wasm   write the compiled policy elsewhere (used by check-policy.sh)
# The opa binary comes from $OPA_BIN, else scripts/opa.sh (the pinned version). The compiled bytes
# depend on the OPA version, so commit only what the pinned OPA builds (check-policy.sh compares bytes).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_opa() {
  if [[ -n "${OPA_BIN:-}" ]]; then echo "$OPA_BIN"; return; fi
  local found
  found="$("$SCRIPTS_DIR/opa.sh" | tail -n 1)" || die "scripts/opa.sh could not provide opa"
  [[ -x "$found" ]] || die "scripts/opa.sh printed '$found', which is not an executable"
  echo "$found"
}

OPA="$(find_opa)"
OUT="${1:-$REPO_ROOT/policy/soma/tools.wasm}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log "compiling policy/soma with $("$OPA" version | head -n 1)"
# Build from the repository root with a relative path: the WASM embeds the source paths, so an
# absolute path would make the bytes depend on where the clone lives.
cd "$REPO_ROOT"
"$OPA" check policy/soma
"$OPA" build -t wasm -e soma/tools/allow -e soma/tools/reason -o "$WORK/bundle.tar.gz" policy/soma
tar -xzOPf "$WORK/bundle.tar.gz" /policy.wasm >"$WORK/policy.wasm"
install -m 0644 "$WORK/policy.wasm" "$OUT"
log "wrote $OUT"
echo "$OUT"
