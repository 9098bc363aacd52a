#!/usr/bin/env bash
# Schemathesis over /openapi.json of a running Soma (SPEC §13.6), the way CI runs it:
#
#   bash scripts/schemathesis.sh            # starts its own server (embedded PGlite, scripted model)
#   SOMA_SCHEMATHESIS_EXAMPLES=50 bash scripts/schemathesis.sh
#
# Installs the pinned Schemathesis from PyPI into an ignored virtualenv under .cache/ (once; later
# runs reuse it), starts `soma serve` on a free loopback port with a scripted model and an admin
# token, seeds one tenant, capsule, conversation and turn, then runs every check twice: with the
# tenant's API key and with the admin token. Exits non-zero on any failure — a 5xx, a response that
# does not match its schema, an undocumented status, a schema-valid request refused, a schema-invalid
# one accepted, 404 instead of 405. Reports: .cache/schemathesis/report-<run>/ (JUnit and NDJSON).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VERSION=4.32.5
EXAMPLES="${SOMA_SCHEMATHESIS_EXAMPLES:-10}"
SEED="${SOMA_SCHEMATHESIS_SEED:-1414}"
# Every phase, fuzzing included, each bounded by EXAMPLES per operation. (Fuzzing once grew past 20 GB
# on `pattern: ^[^\u0000]*$` with `maxLength: 100000`; the OpenAPI now declares "no NUL" as
# `not: {pattern: "\u0000"}`, see src/entry/http/schema-kit.ts.)
PHASES="${SOMA_SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}"
# A ceiling on Schemathesis' address space (MB): a generator that runs away again fails this run
# (a MemoryError or abort, so a failure) instead of taking the shared machine's memory with it.
MEMORY_MB="${SOMA_SCHEMATHESIS_MEMORY_MB:-4096}"
ADMIN_TOKEN="schemathesis-admin-token-0123456789"
STATE="$ROOT/.cache/schemathesis"
RUN="$STATE/run"

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

# ---- the pinned Schemathesis, in its own virtualenv ---------------------------------------------
# Python 3.12 or newer when there is one: on 3.11, Hypothesis' parallel workers can trip CPython's
# "AST constructor recursion depth mismatch" (a runtime error, not a finding), so 3.11 runs one worker.
python=""
for candidate in python3.13 python3.12 "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/"3.1[23]*/bin/python3 | tr ' ' '\n' | tail -n 1)" python3; do
  [[ -n "$candidate" ]] || continue
  if "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 1)' >/dev/null 2>&1; then
    python="$(command -v "$candidate" || echo "$candidate")"
    break
  fi
done
[[ -n "$python" ]] || fail "python3 (3.9 or newer, with venv) is needed to install Schemathesis"
WORKERS=2
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || WORKERS=1
VENV="$STATE/venv-$VERSION-$("$python" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $VERSION\$"; then
  log "installing schemathesis==$VERSION into $VENV"
  rm -rf "$VENV"
  mkdir -p "$STATE"
  "$python" -m venv "$VENV" || fail "cannot create a virtualenv with $python (install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" || fail "pip install schemathesis==$VERSION failed"
fi
"$VENV/bin/schemathesis" --version
log "Python $("$VENV/bin/python" --version 2>&1 | cut -d' ' -f2), $WORKERS worker(s)"

# ---- a Soma server of its own --------------------------------------------------------------------
rm -rf "$RUN"
mkdir -p "$RUN"
cat >"$RUN/script.json" <<'JSON'
{"turns": [
  {"match": "tool", "iterations": [{"text": "Let me compute.", "tool_calls": [{"name": "calculator", "args": {"expression": "6*7"}}]}, {"text": "It is 42.", "logprobs": [-0.01], "final": true}]},
  {"iterations": [{"text": "Noted.", "logprobs": [-0.05, -0.02], "final": true}]}
]}
JSON

SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

SOMA_MODEL="scripted:$RUN/script.json" SOMA_ALLOW_SCRIPTED_MODELS=true SOMA_DATA_DIR="$RUN/data" \
  SOMA_ADMIN_TOKEN="$ADMIN_TOKEN" SOMA_LOG_LEVEL=info DATABASE_URL='' KAFKA_BROKERS='' OPA_URL='' SOMA_BRAIN_URL='' \
  node bin/soma.mjs serve --host 127.0.0.1 --port 0 --no-pull >"$RUN/server.log" 2>&1 &
SERVER_PID=$!

port=""
for _ in $(seq 1 600); do
  port="$(grep -o '"port":[0-9]*' "$RUN/server.log" 2>/dev/null | head -n 1 | cut -d: -f2 || true)"
  [[ -n "$port" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$RUN/server.log" >&2; fail "soma serve exited before listening"; }
  sleep 0.1
done
[[ -n "$port" ]] || fail "soma serve did not listen within 60 s (log: $RUN/server.log)"
BASE="http://127.0.0.1:$port"
log "Soma at $BASE (log: $RUN/server.log)"

# ---- data for the operations that need existing ids ----------------------------------------------
api() { # METHOD PATH TOKEN [BODY]
  curl --silent --show-error --fail-with-body -X "$1" -H "authorization: Bearer $3" -H 'content-type: application/json' ${4:+--data "$4"} "$BASE$2"
}
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v===undefined)process.exit(1);console.log(v)})' "$1"; }

TENANT_KEY="$(api POST /v1/admin/tenants "$ADMIN_TOKEN" '{"name":"schemathesis"}' | field api_key)"
CAPSULE="$(api POST /v1/capsules "$TENANT_KEY" '{"name":"fuzzed","system_prompt":"You answer briefly.","tools":[{"name":"calculator"}]}' | field id)"
CONVERSATION="$(api POST /v1/conversations "$TENANT_KEY" "{\"capsule_id\":\"$CAPSULE\"}" | field id)"
TURN="$(api POST "/v1/conversations/$CONVERSATION/messages" "$TENANT_KEY" '{"content":"use a tool: what is 6*7?"}' | field turn_id)"
api POST "/v1/conversations/$CONVERSATION/messages" "$TENANT_KEY" '{"content":"remember this"}' >/dev/null
TENANT="$(api GET /v1/capsules "$TENANT_KEY" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).capsules[0].tenant_id))')"
log "seeded tenant $TENANT, capsule $CAPSULE, conversation $CONVERSATION, turn $TURN"

# Known ids for path and body parameters, so operations reach their logic instead of 404 only.
cat >"$RUN/schemathesis.toml" <<TOML
# Generated by scripts/schemathesis.sh for one run.
seed = $SEED
max-failures = 100
workers = $WORKERS

[generation]
max-examples = $EXAMPLES

[checks]
enabled = true

[parameters]
"path.turn_id" = "$TURN"
"query.capsule_id" = "$CAPSULE"

# A schema-invalid body may also be refused as too large (the 1 MB limit answers before the schema).
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

[[operations]]
include-path-regex = '^/v1/capsules/\\{id\\}'
parameters = { "path.id" = "$CAPSULE" }

[[operations]]
include-path-regex = '^/v1/(conversations|trace/conversation)/\\{id\\}'
parameters = { "path.id" = "$CONVERSATION" }

[[operations]]
include-path-regex = '^/v1/admin/tenants/\\{id\\}'
parameters = { "path.id" = "$TENANT" }

# Rules no JSON Schema keyword can state (a tool listed twice, rlm_min_iterations above
# rlm_max_iterations, a learning bound above its maximum, a model the server cannot run) are 422:
# a schema-valid request may get it on these operations only.
[[operations]]
include-name = "POST /v1/capsules"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-name = "PATCH /v1/capsules/{id}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-name = "POST /v1/conversations/{id}/messages"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "413", "422", "429"]

# Its 404 names a learning point (a turn) the capsule has none of, not a missing capsule.
[[operations]]
include-name = "POST /v1/capsules/{id}/learning/rollback"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-name = "POST /v1/turns/{turn_id}/replay"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

# A dataset's items are checked beyond their JSON shape (a regex must compile, a number item needs a
# numeric expected value, configurations follow their grammar, a judge item needs the operator's
# judge model): such a refusal is a 400 naming the item, which the declared shape cannot foresee.
[[operations]]
include-name = "POST /v1/evals"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
TOML

status=0
run() { # NAME TOKEN OPERATIONS...
  local name="$1" token="$2"
  shift 2
  log "run '$name': every check, phases $PHASES, at most $EXAMPLES examples per operation, seed $SEED, address space ≤ $MEMORY_MB MB"
  (
    ulimit -v $((MEMORY_MB * 1024))
    exec "$VENV/bin/schemathesis" --config-file "$RUN/schemathesis.toml" run "$BASE/openapi.json" \
      --header "Authorization: Bearer $token" "$@" \
      --report junit,ndjson --report-dir "$STATE/report-$name" \
      --suppress-health-check too_slow \
      --phases "$PHASES" \
      --warnings off
  ) || status=1
}
cd "$RUN" # Hypothesis keeps its example database in the working folder
# Each credential on the operations it opens (the other side only answers 401, which 'ignored_auth'
# already checks without credentials).
run tenant "$TENANT_KEY" --exclude-path-regex '^/v1/admin/'
run admin "$ADMIN_TOKEN" --include-path-regex '^/v1/admin/'

if grep -q '"level":50' "$RUN/server.log"; then
  log "the server logged errors during the run:"
  grep '"level":50' "$RUN/server.log" | head -n 20 >&2
fi
[[ $status -eq 0 ]] && log "no failures in either run" || log "failures found (reports in $STATE/report-*)"
exit "$status"
