#!/usr/bin/env bash
# Schema-driven API fuzzing: schemathesis runs against a real edgepub server generated from its
# own OpenAPI document, once on SQLite and once on Postgres, and fails on any finding.
#
#   bash scripts/fuzz.sh            (after scripts/services.sh; scripts/test.sh runs it)
#
# Checks: every schemathesis check (positive_data_acceptance is off for the few operations whose
# refusal depends on stored state: see scripts/schemathesis.toml), in the examples, coverage and
# fuzzing phases, then the stateful phase along the document's links; each run is bounded by
# FUZZ_MAX_EXAMPLES (default 40) examples per operation. Before each run, `fixtures` makes a
# project with pages, targets, datasources, a release, a job, a schedule, previews, webhook
# secrets, endpoints and a delivery, and a token; their ids are fixed parameters of the
# operations that take them (scripts/schemathesis.toml), so every operation reaches real data.
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

# api METHOD PATH [BODY]: the JSON answer of a request that must succeed.
api() {
    curl -fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${3:+--data "$3"}
}
# field NAME: a top-level (or `a.b` nested) field of the JSON on stdin.
field() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"
}

# Makes one of every kind of resource, so that every operation taking an id is fuzzed against
# one that exists (ids the fuzzer makes up only ever reach the 404), and exports the ids that
# scripts/schemathesis.toml passes as fixed parameters. What a DELETE (or revoke) takes is a
# resource of its own, so deleting it leaves the others in place for the operations after it.
fixtures() {
    local project page job
    project=$(api POST /api/projects '{"name": "Fuzz site", "slug": "fuzz-site"}')
    export FUZZ_PROJECT FUZZ_DOOMED_PROJECT FUZZ_PAGE FUZZ_DOOMED_PAGE FUZZ_TARGET FUZZ_DOOMED_TARGET \
        FUZZ_DATASOURCE FUZZ_DOOMED_DATASOURCE FUZZ_JOB FUZZ_RELEASE FUZZ_SCHEDULE FUZZ_PREVIEW \
        FUZZ_DOOMED_PREVIEW FUZZ_PREVIEW_TOKEN FUZZ_SECRET FUZZ_ENDPOINT \
        FUZZ_DOOMED_ENDPOINT FUZZ_DELIVERY FUZZ_TOKEN_ID
    FUZZ_PROJECT=$(field id <<<"$project")
    FUZZ_DOOMED_PROJECT=$(api POST /api/projects '{"name": "Fuzz doomed", "slug": "fuzz-doomed"}' | field id)
    local p=/api/projects/$FUZZ_PROJECT
    page=$(api POST "$p/pages" '{"slug": "fuzz-a", "name": "A", "is_homepage": true, "layout_data": {"content": [{"type": "Text", "id": "t1", "props": {"text": "hi"}}], "root": {}}}')
    FUZZ_PAGE=$(field id <<<"$page")
    FUZZ_DOOMED_PAGE=$(api POST "$p/pages" '{"slug": "fuzz-b", "name": "B"}' | field id)
    FUZZ_TARGET=$(api GET "$p/targets" | field 0.id)
    FUZZ_DOOMED_TARGET=$(api POST "$p/targets" '{"kind": "local", "name": "doomed", "path": "fuzz-site/doomed.db"}' | field id)
    local ds='{"type": "supabase", "name": "NAME", "url": "https://abc.supabase.co", "anon_key": "anon-public-key"}'
    FUZZ_DATASOURCE=$(api POST "$p/datasources" "${ds/NAME/main}" | field id)
    FUZZ_DOOMED_DATASOURCE=$(api POST "$p/datasources" "${ds/NAME/doomed}" | field id)
    FUZZ_JOB=$(api POST "$p/publish" '{}' | field job_id)
    for _ in $(seq 300); do
        job=$(api GET "/api/publish-jobs/$FUZZ_JOB")
        [[ $(field state <<<"$job") =~ ^(succeeded|partial|failed)$ ]] && break
        sleep 0.1
    done
    FUZZ_RELEASE=$(api GET "$p/releases" | field items.0.id)
    FUZZ_SCHEDULE=$(api POST "$p/schedules" '{"at": "2099-01-01T00:00:00Z", "action": "publish"}' | field id)
    local preview
    preview=$(api POST "/api/pages/$FUZZ_PAGE/preview" '{}')
    FUZZ_PREVIEW=$(field id <<<"$preview")
    FUZZ_PREVIEW_TOKEN=$(field token <<<"$preview")
    FUZZ_DOOMED_PREVIEW=$(api POST "/api/pages/$FUZZ_PAGE/preview" '{}' | field id)
    FUZZ_SECRET=$(api POST "$p/webhook-secrets" | field id)
    FUZZ_ENDPOINT=$(api POST "$p/webhook-endpoints" '{"url": "https://hooks.example.com/fuzz/a"}' | field id)
    FUZZ_DOOMED_ENDPOINT=$(api POST "$p/webhook-endpoints" '{"url": "https://hooks.example.com/fuzz/b"}' | field id)
    FUZZ_DELIVERY=$(api POST "/api/webhook-endpoints/$FUZZ_ENDPOINT/test" | field id)
    FUZZ_TOKEN_ID=$(api POST /api/tokens '{"name": "fuzz-doomed", "scopes": ["publish"]}' | field id)
}

# fuzz NAME DATABASE_URL
fuzz() {
    local name=$1 url=$2 p
    p=$(port)
    mkdir -p "$WORK/$name"
    # Rate limits off, so the fixed project's publishes reach their bodies instead of a 429;
    # a short test timeout, so fuzzed cache and target addresses fail fast.
    DATABASE_URL=$url EDGEPUB_DATA_DIR=$WORK/$name EDGEPUB_LISTEN=127.0.0.1:$p EDGEPUB_ADMIN_TOKEN=$TOKEN \
        EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE=0 EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE=0 \
        EDGEPUB_TEST_TIMEOUT_SECS=1 EDGEPUB_TARGET_ATTEMPTS=1 EDGEPUB_TARGET_TIMEOUT_SECS=2 \
        EDGEPUB_LOG=error "$BIN" serve >"$WORK/$name.log" 2>&1 &
    PID=$!
    BASE=http://127.0.0.1:$p
    for _ in $(seq 100); do curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break; sleep 0.1; done
    fixtures
    log "$name: schemathesis against $BASE (project $FUZZ_PROJECT)"
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
