#!/usr/bin/env bash
# The operator console (/console) as an operator sees it: its JavaScript type-checks against the
# API's generated types (clients/typescript/src/schema.d.ts, so an API change that breaks the
# console fails here), then Playwright drives Debian's Chromium through every scenario against a
# real edgepub on SQLite, and through the publish scenario on Postgres.
#
#   bash scripts/console.sh          (after scripts/services.sh; scripts/test.sh runs it)
#
# Screenshots of every main view land in target/console-screenshots/ (git-ignored).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
PG=${EDGEPUB_TEST_PG_URL:?run scripts/services.sh first}
VENV=${EDGEPUB_TEST_VENV:-$(dirname "${EDGEPUB_TEST_SCHEMATHESIS:?run scripts/services.sh first}")/..}
PYTHON=$VENV/bin/python
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
AXE=${EDGEPUB_TEST_NODE_MODULES:-$REPO/node_modules}/axe-core/axe.min.js
[[ -f $AXE ]] || AXE=$REPO/node_modules/axe-core/axe.min.js
BIN=${CARGO_TARGET_DIR:-target}/debug/edgepub
PKG=$REPO/clients/typescript
SHOTS=${CARGO_TARGET_DIR:-$REPO/target}/console-screenshots
TOKEN="console-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepub-console.XXXXXX")
PID=""
DB=""
cleanup() {
    [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [[ -n $DB ]] && psql "$PG" -q -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[console] %s\n' "$*" >&2; }

for need in "$PYTHON" "$CHROMIUM" "$AXE"; do
    [[ -e $need ]] || { log "$need missing: run scripts/services.sh"; exit 1; }
done
"$PYTHON" -c 'import playwright' 2>/dev/null || { log "playwright missing from $VENV: run scripts/services.sh"; exit 1; }

stamp=$PKG/node_modules/.edgepub-lock
if ! cmp -s "$PKG/package-lock.json" "$stamp" 2>/dev/null; then
    log "npm ci in clients/typescript (for tsc)"
    (cd "$PKG" && npm ci --no-audit --no-fund </dev/null >&2)
    cp "$PKG/package-lock.json" "$stamp"
fi
"$PKG/node_modules/.bin/tsc" -p console/tsconfig.json
log "console/*.js type-check against the API's types"

cargo build -q --bin edgepub
rm -rf "$SHOTS"

port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run NAME DATABASE_URL [test args...]
run() {
    local name=$1 url=$2 p
    shift 2
    p=$(port)
    mkdir -p "$WORK/$name"
    DATABASE_URL=$url EDGEPUB_DATA_DIR=$WORK/$name EDGEPUB_LISTEN=127.0.0.1:$p EDGEPUB_ADMIN_TOKEN=$TOKEN \
        EDGEPUB_LOG=warn "$BIN" serve >"$WORK/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 150); do curl -fsS -o /dev/null "http://127.0.0.1:$p/healthz" 2>/dev/null && break; sleep 0.1; done
    log "$name: browser scenarios against http://127.0.0.1:$p/console"
    local rc=0
    CHROMIUM=$CHROMIUM "$PYTHON" console/test/browser_test.py --url "http://127.0.0.1:$p" --token "$TOKEN" \
        --data-dir "$WORK/$name" --shots "$SHOTS" --axe "$AXE" --label "$name" "$@" || rc=$?
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    if ((rc != 0)); then
        log "$name: failed (server log: $(tail -n 20 "$WORK/$name.log"))"
        return "$rc"
    fi
}

run sqlite "sqlite://$WORK/sqlite/edgepub.db" --redis-url "${EDGEPUB_TEST_REDIS_URL:?run scripts/services.sh first}" \
    --tursodb "${EDGEPUB_TEST_TURSODB:?run scripts/services.sh first}"
DB="edgepub_console_$$"
psql "$PG" -q -c "CREATE DATABASE $DB" >/dev/null
run postgres "${PG%/*}/$DB" --only-publish
log "console passes on SQLite and Postgres; screenshots in $SHOTS"
