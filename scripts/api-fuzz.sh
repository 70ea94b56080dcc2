#!/usr/bin/env bash
# Schema-driven fuzzing of the HTTP API: schemathesis (PyPI) against a live `tts-server serve --demo` on
# SQLite in a temporary directory, with every check on (schemathesis 4's default; the documented
# per-operation exceptions are in .ci/schemathesis.toml) and 100 examples per operation. Fails on any
# failure (a contract mismatch or a 5xx). Used by .ci/run; see DEVELOPERS.md.
#
#   bash scripts/api-fuzz.sh [extra schemathesis options]
#
# schemathesis lives in a virtualenv under the target directory (installed from PyPI when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
target_dir=${CARGO_TARGET_DIR:-target}
venv="$target_dir/schemathesis-venv"
st="$venv/bin/schemathesis"

if ! "$st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The workspace's features, as `cargo test --workspace --all-features` builds them: CI then links the
# server from what its test step compiled instead of compiling the adapters again for other features.
cargo build -q --workspace --all-features --bin tts-server
server_bin="$target_dir/debug/tts-server"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
password="fuzz-pass-123"
metrics_token="fuzz-metrics-token-0123456789"
export TTS_FUZZ_METRICS_TOKEN="$metrics_token"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Limits high enough that the fuzzer measures the contract, not the throttle (429 stays documented).
TTS_DATABASE_URL="sqlite://$work/tts.db" \
TTS_DATA_DIR="$work/data" \
TTS_DEMO_PASSWORD="$password" \
TTS_RATE_LIMIT_TOKEN=100000/minute \
TTS_RATE_LIMIT_CREATE_TICKET=100000/minute \
TTS_RATE_LIMIT_DEFAULT=100000/minute \
TTS_METRICS_TOKEN="$metrics_token" \
TTS_LOG=${TTS_LOG:-warn} \
  "$server_bin" serve --demo --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  if curl -fs "$base/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; echo "the server did not start" >&2; exit 1; fi
  sleep 0.2
done

token=$(curl -fs -X POST "$base/api/v1/users/token/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin@demo.tts.example\", \"password\": \"$password\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access"])')

# A task for the /tasks/{id}/... operations (nothing in the API creates one directly): the demo employee
# opens a ticket, allocation gives its first step to the admin.
employee=$(curl -fs -X POST "$base/api/v1/users/token/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"employee@demo.tts.example\", \"password\": \"$password\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access"])')
curl -fs -o /dev/null -X POST "$base/tickets/" -H "Authorization: Bearer $employee" -H 'Content-Type: application/json' \
  -d '{"subject": "Fuzzing target", "category": "Technical Support", "priority": "high"}'
export TTS_FUZZ_TASK_ID=""
for _ in $(seq 1 100); do
  TTS_FUZZ_TASK_ID=$(curl -fs "$base/tasks/?open=true" -H "Authorization: Bearer $token" |
    python3 -c 'import sys, json; r = json.load(sys.stdin)["results"]; print(r[0]["task_id"] if r else "")')
  if [ -n "$TTS_FUZZ_TASK_ID" ]; then break; fi
  sleep 0.2
done
if [ -z "$TTS_FUZZ_TASK_ID" ]; then echo "no task was allocated to the demo admin" >&2; exit 1; fi
# And a ticket of the employee's for the /tickets/{id}/... operations (their ids are numbers, which the
# fuzzer cannot guess), distinct from the task's so withdrawing it leaves the task alone.
export TTS_FUZZ_TICKET_ID
TTS_FUZZ_TICKET_ID=$(curl -fs -X POST "$base/tickets/" -H "Authorization: Bearer $employee" \
  -H 'Content-Type: application/json' -d '{"subject": "Fuzzing target 2", "category": "Technical Support"}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')

# The fuzzer must not end its own session: logout gets a session of its own (ended by the first call,
# 401 after), and the operations that end a user's sessions (profile changes, role memberships) get a
# user of their own. Otherwise every later operation would only see 401 and test nothing.
export TTS_FUZZ_TOKEN="$token"
TTS_FUZZ_LOGOUT_TOKEN=$(curl -fs -X POST "$base/api/v1/users/token/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin@demo.tts.example\", \"password\": \"$password\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access"])')
export TTS_FUZZ_LOGOUT_TOKEN
TTS_FUZZ_USER_ID=$(curl -fs -X POST "$base/api/v1/users/" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d "{\"email\": \"fuzz.target@example.com\", \"full_name\": \"Fuzz Target\", \"password\": \"$password\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
export TTS_FUZZ_USER_ID

start=$(date +%s)
status=0
"$st" --config-file .ci/schemathesis.toml run "$base/api/openapi.json" \
  --max-examples 100 \
  --workers 2 \
  --exclude-path /ws/ \
  --no-color \
  "$@" || status=$?
echo "schemathesis took $(( $(date +%s) - start )) s"
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---"
  tail -n 50 "$work/server.log"
fi
exit "$status"
