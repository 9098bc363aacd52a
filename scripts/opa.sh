#!/usr/bin/env bash
# The OPA command-line binary for the policy tests, built from source with the Go toolchain
# (`go install` through the Go module proxy) into .cache/bin. Prints the binary's path last.
# Skips the build when .cache/bin/opa already reports the pinned version.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPA_VERSION=v1.22.2
BIN_DIR="$CACHE_DIR/bin"
OPA_BIN="$BIN_DIR/opa"

installed_version() {
  [[ -x "$OPA_BIN" ]] && "$OPA_BIN" version 2>/dev/null | awk '/^Version:/ { print "v" $2 }'
}

if [[ "$(installed_version || true)" != "$OPA_VERSION" ]]; then
  command -v go >/dev/null || die "go is required to build OPA"
  log "building OPA $OPA_VERSION with go install (a few minutes the first time)"
  mkdir -p "$BIN_DIR"
  # Module downloads are cached under .cache/go; the compile cache stays Go's own (shared by clones).
  GOBIN="$BIN_DIR" GOMODCACHE="$CACHE_DIR/go/mod" GOFLAGS="${GOFLAGS:-} -modcacherw" CGO_ENABLED=0 \
    go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2
  [[ "$(installed_version || true)" == "$OPA_VERSION" ]] ||
    die "built $OPA_BIN but it does not report version $OPA_VERSION"
fi
echo "$OPA_BIN"
