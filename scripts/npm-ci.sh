#!/usr/bin/env bash
# `npm ci` as CI runs it, in the current folder (the project): installs exactly the committed
# package-lock.json, tolerating only optional foreign-platform packages the registry serves today
# but did not serve when the lock was written. Fails when the lock is out of date with package.json.
#
#   bash scripts/npm-ci.sh
#
# package.json's allowScripts decides which dependencies may run install scripts (npm ci and
# npm install both honour it). Tested by test/ci/npm-ci.test.ts against a local registry.
set -euo pipefail

complete_lock="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/complete-lock.mjs"

fail() {
  echo "ci: $*" >&2
  exit 1
}

mkdir -p .cache
if ! npm ci --no-audit --no-fund 2>&1 | tee .cache/npm-ci.log; then
  # The registry may serve optional packages for other platforms (Windows, macOS, other CPUs) that
  # it did not serve when the lock was written; npm then calls the lock out of sync. Such drift is
  # completed in a copy of the lock (scripts/complete-lock.mjs writes only foreign-platform optional
  # entries, which npm never installs here) and the committed lock is put back afterwards. Anything
  # else missing or invalid means the lock is out of date with package.json: CI fails.
  grep -q 'can only install packages when your package.json and package-lock.json' .cache/npm-ci.log ||
    fail "npm ci failed"
  cp package-lock.json .cache/package-lock.committed.json
  node "$complete_lock" package-lock.json || fail "completing the lock failed"
  if ! npm ci --no-audit --no-fund; then
    cp .cache/package-lock.committed.json package-lock.json
    fail "npm ci rejects the committed lock for more than optional foreign-platform packages: the lock is out of date"
  fi
  cp .cache/package-lock.committed.json package-lock.json
  echo "ci: the registry now serves optional foreign-platform packages the lock does not list; installed from the completed copy"
fi
git diff --quiet -- package.json package-lock.json || fail "installing changed package.json or package-lock.json"
