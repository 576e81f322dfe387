#!/usr/bin/env bash
# The soak: SOAK_SECS (default 1800) of mixed load on Postgres (draft saves with If-Match, a
# publish every 2 s, each with a Redis prime step and webhook deliveries to a local receiver,
# job-list reads), driven by `edgepub-bench soak`, with one Postgres restart (at 40% of the
# time: stopped `-m fast`, so clients are cut off mid-query, down SOAK_PG_DOWN_SECS) and one
# Redis restart (at 60%: SHUTDOWN, down SOAK_REDIS_DOWN_SECS) in the middle.
#
# Postgres and Redis are PRIVATE instances this script starts (initdb into a temp directory,
# redis-server with its own directory, free loopback ports) and removes on exit, so the
# restarts disturb nothing else on the machine (not the shared services of scripts/services.sh).
#
# Prints: requests, answers by status (by route when not 2xx), the server's RSS at the start,
# the middle and the end of the load (and after the checks), every job's end state and cache
# step, the webhook events received, whether every acknowledged save is still in its page's
# history, and Postgres's own count of jobs, cache operations and deliveries by state.
#
# Run alone (`bash scripts/soak.sh`) or from scripts/bench.sh (BENCH_ONLY containing `s`).
# Knobs: SOAK_SECS (1800), SOAK_PG_DOWN_SECS (5), SOAK_REDIS_DOWN_SECS (5), SOAK_PAGES (16),
# SOAK_SAVERS (4), SOAK_SKIP_BUILD=1 (use target/release as built), SOAK_SERVER_MEM_GB (4).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${SOAK_SECS:-1800}
PG_DOWN=${SOAK_PG_DOWN_SECS:-5}
REDIS_DOWN=${SOAK_REDIS_DOWN_SECS:-5}
MEM_GB=${SOAK_SERVER_MEM_GB:-4}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SERVER_BIN=$TARGET_DIR/release/edgepub
BENCH_BIN=$TARGET_DIR/release/edgepub-bench

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl redis-server redis-cli psql awk; do
    command -v "$tool" >/dev/null || die "$tool is required (scripts/services.sh installs it)"
done
PG_BIN=${EDGEPUB_TEST_PG_BIN:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
[[ -x $PG_BIN/initdb ]] || die "no initdb under /usr/lib/postgresql/*/bin (set EDGEPUB_TEST_PG_BIN)"

if [[ ${SOAK_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release --bins"
    cargo build --release --bins >&2
fi
[[ -x $SERVER_BIN && -x $BENCH_BIN ]] || die "missing $SERVER_BIN or $BENCH_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepub-soak.XXXXXX")
# Postgres's own directory: it must be the postgres user's when we are root.
PGDIR=$(mktemp -d /tmp/edgepub-soak-pg.XXXXXX)
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $EUID -ne 0 ]] || chown postgres:postgres "$PGDIR"
SERVER_PID="" DRIVER_PID="" SAMPLER_PID="" REDIS_PID=""

free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}
pg_ctl() { as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" "$@"; }
pg_up() {
    pg_ctl -w -t 60 -l "$PGDIR/log" -o "-p $PG_PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >/dev/null
}
redis_up() {
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save '' \
        --appendonly yes --appendfsync everysec >>"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do
        [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return
        sleep 0.1
    done
    die "the private Redis did not start"
}
cleanup() {
    for pid in $DRIVER_PID $SAMPLER_PID; do kill "$pid" 2>/dev/null || true; done
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -z $REDIS_PID ]] || kill "$REDIS_PID" 2>/dev/null || true
    pg_ctl -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK" "$PGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG_PORT=$(free_port)
log "private Postgres on 127.0.0.1:$PG_PORT ($PGDIR)"
as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust --no-sync >"$PGDIR/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$PGDIR/initdb.log")"
pg_up
PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
log "private Redis on 127.0.0.1:$REDIS_PORT"
redis_up

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
TOKEN="soak-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(
    ulimit -v $((MEM_GB * 1024 * 1024))
    DATABASE_URL=$PG_URL EDGEPUB_DATA_DIR=$WORK/data EDGEPUB_LISTEN=127.0.0.1:$PORT \
        EDGEPUB_ADMIN_TOKEN=$TOKEN EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE=0 \
        EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE=0 EDGEPUB_PAGE_HISTORY_LIMIT=10000000 \
        exec "$SERVER_BIN" serve >>"$WORK/server.out" 2>>"$WORK/server.log"
) &
SERVER_PID=$!
for _ in $(seq 300); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; die "server exited"; }
    sleep 0.1
done
log "server $SERVER_PID on $BASE"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null; }
mb() { awk -v kb="${1:-0}" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

"$BENCH_BIN" soak --base "$BASE" --token "$TOKEN" --secs "$SECS" --redis "redis://127.0.0.1:$REDIS_PORT" \
    --pages "${SOAK_PAGES:-16}" --savers "${SOAK_SAVERS:-4}" --started-file "$WORK/started" \
    >"$WORK/report.txt" 2>"$WORK/driver.log" &
DRIVER_PID=$!
for _ in $(seq 600); do
    [[ -f $WORK/started ]] && break
    kill -0 "$DRIVER_PID" 2>/dev/null || { cat "$WORK/driver.log" >&2; die "the driver exited during setup"; }
    sleep 0.1
done
[[ -f $WORK/started ]] || die "the driver never started its load"
T0=$EPOCHSECONDS
RSS_START=$(rss_kb)
# RSS every 10 s, for the trend.
while kb=$(rss_kb) && [[ -n $kb ]]; do
    echo "$((EPOCHSECONDS - T0)) $kb" >>"$WORK/rss.txt"
    sleep 10
done &
SAMPLER_PID=$!
at() { local wait=$((T0 + $1 - EPOCHSECONDS)); ((wait <= 0)) || sleep "$wait"; }
log "load started; RSS $(mb "$RSS_START")"

at $((SECS * 40 / 100))
log "Postgres: stop (-m fast) for ${PG_DOWN} s"
pg_ctl -w -m fast stop >/dev/null
PG_STOPPED=$EPOCHSECONDS
sleep "$PG_DOWN"
pg_up
log "Postgres: up again after $((EPOCHSECONDS - PG_STOPPED)) s"

at $((SECS / 2))
RSS_MIDDLE=$(rss_kb)
log "middle: RSS $(mb "$RSS_MIDDLE")"

at $((SECS * 60 / 100))
log "Redis: SHUTDOWN for ${REDIS_DOWN} s"
redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_STOPPED=$EPOCHSECONDS
sleep "$REDIS_DOWN"
redis_up
log "Redis: up again after $((EPOCHSECONDS - REDIS_STOPPED)) s"

at "$SECS"
RSS_END=$(rss_kb)
log "load over: RSS $(mb "$RSS_END"); the driver checks jobs, events and saves"
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
RSS_AFTER=$(rss_kb)
kill -0 "$SERVER_PID" 2>/dev/null || log "the server is gone: $(tail -n 3 "$WORK/server.log")"

q() { psql -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -F ' ' -R ', ' -c "$1" 2>&1; }
echo "== soak: ${SECS} s of load on a private Postgres and Redis (Postgres down ${PG_DOWN} s at 40%, Redis down ${REDIS_DOWN} s at 60%) =="
cat "$WORK/report.txt"
[[ $status == 0 ]] || { echo "driver failed (exit $status):"; tail -n 20 "$WORK/driver.log"; }
echo "server RSS: start $(mb "$RSS_START"), middle $(mb "$RSS_MIDDLE"), end of load $(mb "$RSS_END"), after the checks $(mb "$RSS_AFTER")"
echo "RSS every 10 s (s kB): $(paste -sd' ' "$WORK/rss.txt" | awk '{ for (i = 1; i <= NF; i += 2) printf "%s:%s ", $i, $(i + 1) }')"
echo "postgres: publish_jobs by state: $(q 'SELECT state, count(*) FROM publish_jobs GROUP BY state ORDER BY 1')"
echo "postgres: cache_outbox by state: $(q 'SELECT state, count(*) FROM cache_outbox GROUP BY state ORDER BY 1')"
echo "postgres: webhook_deliveries by state: $(q 'SELECT state, count(*) FROM webhook_deliveries GROUP BY state ORDER BY 1')"
echo "server log: $(grep -c ' ERROR ' "$WORK/server.log" || true) ERROR lines, $(grep -c ' WARN ' "$WORK/server.log" || true) WARN lines; panics: $(grep -c 'panicked' "$WORK/server.log" || true)"
grep -E ' ERROR |panicked' "$WORK/server.log" | sed 's/^/  /' | cut -c1-300 | sort | uniq -c | sort -rn | head -n 10 || true
exit "$status"
