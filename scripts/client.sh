#!/usr/bin/env bash
# The API as a client sees it: the OpenAPI document is valid, the TypeScript client
# (clients/typescript, @edgepub/client) is generated from the committed document and builds
# under `tsc --strict`, the README's example compiles, and a builder's flow passes against a
# running edgepub, once on SQLite and once on Postgres.
#
#   bash scripts/client.sh          (after scripts/services.sh; scripts/test.sh runs it)
#
# Fails when openapi/openapi.json or clients/typescript/src/schema.d.ts is stale (an API change
# that was not regenerated), when either document (committed or served) is not valid OpenAPI,
# or when a typed call or the flow fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
VALIDATOR=${EDGEPUB_TEST_SPEC_VALIDATOR:-}
[[ -n $VALIDATOR ]] || VALIDATOR=$(dirname "${EDGEPUB_TEST_SCHEMATHESIS:?run scripts/services.sh first}")/openapi-spec-validator
[[ -x $VALIDATOR ]] || { echo "[client] $VALIDATOR missing: run scripts/services.sh" >&2; exit 1; }
PG=${EDGEPUB_TEST_PG_URL:?run scripts/services.sh first}
BIN=${CARGO_TARGET_DIR:-target}/debug/edgepub
PKG=$REPO/clients/typescript
TOKEN="client-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepub-client.XXXXXX")
PID=""
DB=""
cleanup() {
    [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [[ -n $DB ]] && psql "$PG" -q -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    rm -rf "$WORK" "$PKG/test/readme-example.ts"
}
trap cleanup EXIT
log() { printf '[client] %s\n' "$*" >&2; }

cargo build -q --bin edgepub
"$BIN" openapi >"$WORK/openapi.json"
cmp -s "$WORK/openapi.json" openapi/openapi.json || {
    log "openapi/openapi.json is stale: run \`cargo run -- openapi > openapi/openapi.json\` and commit it"
    exit 1
}
"$VALIDATOR" openapi/openapi.json >&2

# `npm ci` only when the lock file changed since the last install (it empties node_modules).
stamp=$PKG/node_modules/.edgepub-lock
if ! cmp -s "$PKG/package-lock.json" "$stamp" 2>/dev/null; then
    log "npm ci in clients/typescript"
    (cd "$PKG" && npm ci --no-audit --no-fund </dev/null >&2)
    cp "$PKG/package-lock.json" "$stamp"
fi

(cd "$PKG" && node scripts/generate.mjs --check)
# The README's example, compiled with the package (as `@edgepub/client`).
awk '/<!-- readme-example:start -->/{on=1; next} /<!-- readme-example:end -->/{on=0} on && !/^```/' \
    README.md >"$PKG/test/readme-example.ts"
[[ -s $PKG/test/readme-example.ts ]] || { log "README has no readme-example block"; exit 1; }
(cd "$PKG" && rm -rf dist && npx tsc -p tsconfig.json --noEmit --strict && npx tsc -p tsconfig.json)
log "types current; tsc --strict passes (client, tests, README example)"

port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# flow NAME DATABASE_URL
flow() {
    local name=$1 url=$2 p
    p=$(port)
    mkdir -p "$WORK/$name"
    DATABASE_URL=$url EDGEPUB_DATA_DIR=$WORK/$name EDGEPUB_LISTEN=127.0.0.1:$p EDGEPUB_ADMIN_TOKEN=$TOKEN \
        EDGEPUB_LOG=warn "$BIN" serve >"$WORK/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 150); do curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz" 2>/dev/null && break; sleep 0.1; done
    curl -fsS "http://127.0.0.1:$p/openapi.json" -o "$WORK/served.json"
    "$VALIDATOR" "$WORK/served.json" >&2
    log "$name: builder flow against http://127.0.0.1:$p"
    local rc=0
    (cd "$PKG" && EDGEPUB_URL="http://127.0.0.1:$p" EDGEPUB_TOKEN=$TOKEN node --test dist/test/*.test.js) || rc=$?
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    if ((rc != 0)); then
        log "$name: flow failed (server log: $(tail -n 20 "$WORK/$name.log"))"
        return "$rc"
    fi
}

flow sqlite "sqlite://$WORK/sqlite/edgepub.db"
DB="edgepub_client_$$"
psql "$PG" -q -c "CREATE DATABASE $DB" >/dev/null
flow postgres "${PG%/*}/$DB"
log "client flow passes on SQLite and Postgres"
