#!/usr/bin/env bash
# Schema-driven API fuzzing: schemathesis runs against a real edgepub server generated from its
# own OpenAPI document, once on SQLite and once on Postgres, and fails on any finding.
#
#   bash scripts/fuzz.sh            (after scripts/services.sh; scripts/test.sh runs it)
#
# Checks: every schemathesis check (positive_data_acceptance is off for the few operations whose
# refusal depends on stored state: see scripts/schemathesis.toml), in the examples, coverage and
# fuzzing phases, then the stateful phase along the document's links; each run is bounded by
# FUZZ_MAX_EXAMPLES (default 40) examples per operation (about a minute per database).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ST=${EDGEPUB_TEST_SCHEMATHESIS:?run scripts/services.sh first (it installs schemathesis)}
PG=${EDGEPUB_TEST_PG_URL:?run scripts/services.sh first}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-40}
BIN=${CARGO_TARGET_DIR:-target}/debug/edgepub
TOKEN="fuzz-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepub-fuzz.XXXXXX")
PID=""
DB=""
cleanup() {
    [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [[ -n $DB ]] && psql "$PG" -q -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[fuzz] %s\n' "$*" >&2; }

cargo build -q --bin edgepub
port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# fuzz NAME DATABASE_URL
fuzz() {
    local name=$1 url=$2 p
    p=$(port)
    mkdir -p "$WORK/$name"
    DATABASE_URL=$url EDGEPUB_DATA_DIR=$WORK/$name EDGEPUB_LISTEN=127.0.0.1:$p EDGEPUB_ADMIN_TOKEN=$TOKEN \
        EDGEPUB_LOG=error "$BIN" serve >"$WORK/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz" 2>/dev/null && break; sleep 0.1; done
    log "$name: schemathesis against http://127.0.0.1:$p"
    local rc=0
    "$ST" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$p/openapi.json" \
        -H "Authorization: Bearer $TOKEN" \
        --max-examples "$MAX_EXAMPLES" --workers 1 --seed 1 || rc=$?
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    if ((rc != 0)); then
        log "$name: findings (server log: $(tail -n 5 "$WORK/$name.log" | tr '\n' ' '))"
        return "$rc"
    fi
}

fuzz sqlite "sqlite://$WORK/sqlite/edgepub.db"
DB="edgepub_fuzz_$$"
psql "$PG" -q -c "CREATE DATABASE $DB" >/dev/null
fuzz postgres "${PG%/*}/$DB"
log "no findings on SQLite or Postgres"
