#!/usr/bin/env bash
# Benchmarks edgepub over HTTP and prints one table. It measures; it asserts nothing on timing.
#
#   a. full publish of 1,000 pages (~20 KB each) to the local pages.db target, against the
#      sqlite3 CLI inserting the same rows in one transaction;
#   b. publishing one changed page in a 100-page and a 10,000-page project (page endpoint),
#      and a full incremental project publish after one change, side by side (medians of three),
#      with the control database's growth per release;
#   c. draft saves (PUT ~20 KB with If-Match) under wrk, one page and one connection per thread;
#   e. the cache: priming every page key of the LARGE project (~20 KB values) into Redis over
#      TCP through the outbox, next to redis-benchmark -P 64 SET of the same size and count
#      (as the issue gives it: one key overwritten; and with -r: a fresh key per SET, as
#      priming writes), and publish -> visible (one changed page; prime: new value in Redis, invalidate: key
#      gone), p50/p99 over BENCH_VISIBLE_RUNS publishes;
#   d. the 1,000 pages of (a) written to a local tursodb over Hrana, next to the same pages
#      written to a second local pages.db in the same run (both already compiled, so both
#      times are the write alone), with HTTP requests made and bytes sent.
#   f. the largest page the limits allow: peak RSS of saving, compiling (once, twice at once)
#      and publishing it, next to the idle server;
#   g. one changed page in a FULL_PAGES project, from the publish call until a push edge
#      (a strict stand-in on loopback, `edgepub-bench edge`) serves it, p50/p99;
#   v. one continuous verification pass over a LARGE_PAGES project (scripts/bench_verify.sh):
#      its duration and peak RSS, next to the sqlite3 CLI reading the same rows, and page reads'
#      latency while it runs.
#   s. the soak (scripts/soak.sh; not in the default set: SOAK_SECS, default 1800): mixed
#      saves, publishes, cache steps and webhook deliveries on a private Postgres and Redis,
#      each restarted once in the middle.
#
# Rows carry the issue's goal labels: P1 = a, P2 = b (page endpoint), P4 = c, P5 = d,
# P6 = the memory note of a, P7 = g; a summary of those goals follows the table.
#
# Each scenario gets a fresh server process and data directory under one temp directory,
# removed on exit; in b the server is also restarted (same data) before each timed phase, so
# its peak RSS is that phase's own and not memory the allocator kept from the setup. Each
# server runs under an address-space cap (see BENCH_SERVER_MEM_GB). Everything listens on
# 127.0.0.1 only. Takes about 4 minutes on 2 cores (plus the build).
#
# Knobs (environment): BENCH_FULL_PAGES (1000), BENCH_SMALL_PAGES (100), BENCH_LARGE_PAGES
# (10000), BENCH_WRK_THREADS (2), BENCH_WRK_SECS (10), BENCH_CONCURRENCY (32),
# BENCH_BATCH (1000: projects larger than this get their untimed first publish as partial
# publishes of this many pages), BENCH_SERVER_MEM_GB (12: address-space cap of each server, so
# a runaway publish aborts the server instead of exhausting the machine), BENCH_SKIP_BUILD=1 to
# use the binaries already in target/release, BENCH_ONLY="a b c d e f g v" (default; the
# letters to run: d runs with a, e needs b; f = the largest page the limits allow; g = P7;
# v = a verification pass; s = the soak, only when named).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
FULL_PAGES=${BENCH_FULL_PAGES:-1000}
SMALL_PAGES=${BENCH_SMALL_PAGES:-100}
LARGE_PAGES=${BENCH_LARGE_PAGES:-10000}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_SECS=${BENCH_WRK_SECS:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
BATCH=${BENCH_BATCH:-1000}
MEM_GB=${BENCH_SERVER_MEM_GB:-12}
ONLY=" ${BENCH_ONLY:-a b c d e f g v} "
want() { [[ $ONLY == *" $1 "* ]]; }
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SERVER_BIN=$TARGET_DIR/release/edgepub
BENCH_BIN=$TARGET_DIR/release/edgepub-bench

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl sqlite3 awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } \
        || die "wrk is missing and could not be installed"
fi

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release --bins"
    cargo build --release --bins >&2
fi
[[ -x $SERVER_BIN && -x $BENCH_BIN ]] || die "missing $SERVER_BIN or $BENCH_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepub-bench.XXXXXX")
TOKEN="bench-admin-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export EDGEPUB_BENCH_TOKEN=$TOKEN
SERVER_PID=""
SAMPLER_PID=""
BASE=""

stop_sampler() {
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=""
    fi
}
stop_server() {
    stop_sampler
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
# Helpers (tursodb, the edge stand-in) a scenario started; stopped however the script ends.
HELPER_PIDS=()
cleanup() {
    stop_server
    for pid in "${HELPER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: one nothing answers on.
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

# start_server NAME: a server with its own data directory $WORK/NAME/data (kept across a
# restart with the same NAME).
start_server() {
    local dir=$WORK/$1 port
    mkdir -p "$dir"
    port=$(free_port)
    BASE=http://127.0.0.1:$port
    (
        ulimit -v $((MEM_GB * 1024 * 1024))
        EDGEPUB_DATA_DIR=$dir/data EDGEPUB_LISTEN=127.0.0.1:$port EDGEPUB_ADMIN_TOKEN=$TOKEN \
            EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE=0 EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE=0 \
            exec "$SERVER_BIN" serve >>"$dir/server.out" 2>>"$dir/server.log"
    ) &
    SERVER_PID=$!
    SERVER_LOG=$dir/server.log
    for _ in $(seq 300); do
        if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then
            log "$1: server $SERVER_PID on $BASE"
            return
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$dir/server.log" >&2; die "server exited"; }
        sleep 0.1
    done
    die "server did not become healthy"
}

bench() { "$BENCH_BIN" "$1" --base "$BASE" "${@:2}"; }
# kv KEY LINE: the value of KEY=value in LINE.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
# Peak RSS of the server (VmHWM): reset it to the current RSS, read it back. A sampler keeps
# the last value in a file during publishes, for when the server dies in one.
reset_peak() {
    echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
    rm -f "$WORK/peak.kb"
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
start_sampler() {
    local pid=$SERVER_PID
    while kb=$(hwm_kb "$pid") && [[ -n $kb ]]; do
        echo "$kb" >"$WORK/peak.tmp" && mv "$WORK/peak.tmp" "$WORK/peak.kb"
        sleep 0.2
    done &
    SAMPLER_PID=$!
}
peak_mb() {
    local kb
    kb=$(hwm_kb "$SERVER_PID") || true
    [[ -n $kb ]] || kb=$(cat "$WORK/peak.kb" 2>/dev/null) || true
    awk -v kb="${kb:-0}" 'BEGIN { if (kb > 0) printf "%.0f MB", kb / 1024; else print "?" }'
}
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { n += 0; s += 0; if (s > 0) printf "%.1f", n / s; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; if (a > 0 && b > 0) printf "%.1fx", a / b; else print "-" }'; }

ROWS=()
NOTES=()
row() {
    local IFS=$'\t'
    ROWS+=("$*")
    log "row: $*"
}
# --- the issue's goals (P1..P7): one line each, with the same-run baseline and ratio ------
GOALS=()
# goal LABEL WORK MEASURED BASELINE RATIO GOAL PEAK MET: one goal line for the summary.
goal() {
    local IFS=$'\t'
    GOALS+=("$*")
}
# met VALUE LIMIT [ge]: "yes" when VALUE <= LIMIT (or >= with ge), "no", or "-" without a value.
met() {
    awk -v v="${1%x}" -v l="$2" -v op="${3:-le}" 'BEGIN {
        if (v == "" || v == "-" || v + 0 != v) { print "-"; exit }
        ok = (op == "ge") ? (v + 0 >= l) : (v + 0 <= l); print ok ? "yes" : "no" }'
}
print_goals() {
    ((${#GOALS[@]})) || return 0
    echo
    echo "Goals (each against its same-run baseline):"
    {
        printf 'goal\twork\tmeasured\tbaseline (same run)\tratio\tgoal\tpeak RSS\tmet\n'
        printf '%s\n' "${GOALS[@]}"
    } | awk -F'\t' '
        { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; f = NF }
        END {
            for (r = 1; r <= n; r++) {
                line = ""
                for (i = 1; i <= f; i++) line = line (i > 1 ? " | " : "") sprintf("%-" w[i] "s", cell[r, i])
                print line
            }
        }'
}

# run_publish ARGS...: one publish; its stdout line into PUB, the server's peak RSS into PEAK.
# On failure it returns 1 with the reason in FAIL (and notes a server that died).
run_publish() {
    local ok=1 status=0
    reset_peak
    start_sampler
    PUB=$(bench publish "$@" 2>"$WORK/publish.err") || ok=0
    stop_sampler
    PEAK=$(peak_mb)
    if ((ok)); then
        log "$PUB"
        return 0
    fi
    FAIL=$(grep -m 1 . "$WORK/publish.err")
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        wait "$SERVER_PID" || status=$?
        SERVER_PID=""
        FAIL="server died, exit status $status ($(grep -m 1 -E 'memory allocation|panicked|abort' "$SERVER_LOG" \
            || grep . "$SERVER_LOG" | tail -n 1)); client: $FAIL"
    fi
    log "publish failed: $FAIL"
    return 1
}
seed() {
    reset_peak
    SEED=$(bench seed --concurrency "$CONCURRENCY" "$@")
    PEAK=$(peak_mb)
    log "$SEED"
}

# --- a. full publish of FULL_PAGES pages vs the sqlite3 CLI ---------------------------------
if want a; then
    start_server a
    sleep 2
    a_idle_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
    seed --project full --pages "$FULL_PAGES"
    row "seed: POST pages, $CONCURRENCY in flight" "$FULL_PAGES" "$(kv wall_s "$SEED") s" \
        "$(kv pages_per_s "$SEED")" "$PEAK" "-" "-"
    NOTES+=("average page body: $(kv avg_body_bytes "$SEED") bytes of JSON")
    db=$WORK/a/data/sites/full/pages.db
    if run_publish --project full; then
        a_done=$EPOCHSECONDS
        a_peak=$PEAK
        a_wall=$(kv wall_s "$PUB")
        [[ $(kv upserted "$PUB") == "$FULL_PAGES" ]] || die "expected $FULL_PAGES upserts: $PUB"
        sqlite3 "$db" ".schema published_pages" >"$WORK/a/schema.sql"
        {
            echo "PRAGMA synchronous=NORMAL;"
            echo "BEGIN;"
            sqlite3 "$db" ".mode insert published_pages" "SELECT * FROM published_pages;"
            echo "COMMIT;"
        } >"$WORK/a/rows.sql"
        { echo "PRAGMA journal_mode=WAL;"; cat "$WORK/a/schema.sql"; } | sqlite3 "$WORK/a/baseline.db" >/dev/null
        t0=$(now)
        sqlite3 "$WORK/a/baseline.db" <"$WORK/a/rows.sql"
        a_base=$(since "$t0")
        copied=$(sqlite3 "$WORK/a/baseline.db" "SELECT count(*) FROM published_pages;")
        [[ $copied == "$FULL_PAGES" ]] || die "baseline holds $copied rows"
        # Memory that returns (P6): the server's RSS a minute after the job, against its idle RSS
        # plus the drafts' bytes, and the peak against the drafts' bytes.
        sleep $((a_done + 60 - EPOCHSECONDS > 0 ? a_done + 60 - EPOCHSECONDS : 0))
        a_after_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
        NOTES+=("$(awk -v idle="$a_idle_kb" -v after="$a_after_kb" -v peak="${a_peak% MB}" \
            -v drafts="$(($(kv avg_body_bytes "$SEED") * FULL_PAGES))" 'BEGIN {
                d = drafts / 1048576; i = idle / 1024; a = after / 1024
                printf "a: memory: idle %.1f MB before seeding; drafts %.1f MB; peak %s MB = %.1fx the drafts;", i, d, peak, peak / d
                printf " RSS 60 s after the job %.1f MB = %.2fx (idle + drafts)", a, a / (i + d) }')")
        row "P1 (a). full publish, local target (API)" "$FULL_PAGES" "$a_wall s" "$(rate "$FULL_PAGES" "$a_wall")" \
            "$PEAK" "$a_base s" "$(ratio "$a_wall" "$a_base")"
        goal P1 "full publish, $FULL_PAGES pages -> local pages.db" "$a_wall s" "sqlite3 CLI, same rows: $a_base s" \
            "$(ratio "$a_wall" "$a_base")" "<= 2x" "$a_peak" "$(met "$(ratio "$a_wall" "$a_base")" 2)"
        a_drafts_mb=$(awk -v b="$(($(kv avg_body_bytes "$SEED") * FULL_PAGES))" 'BEGIN { printf "%.1f", b / 1048576 }')
        goal P6 "peak RSS during P1" "$a_peak" "the drafts: $a_drafts_mb MB" "$(ratio "${a_peak% MB}" "$a_drafts_mb")" \
            "<= 3x" "$a_peak" "$(met "$(ratio "${a_peak% MB}" "$a_drafts_mb")" 3)"
        NOTES+=("a: job compile_ms=$(kv compile_ms "$PUB") write_ms=$(kv write_ms "$PUB") total_ms=$(kv total_ms "$PUB");\
 pages.db $(du -k "$db" | cut -f1) KB; rows.sql $(du -k "$WORK/a/rows.sql" | cut -f1) KB;\
 baseline = sqlite3 CLI, same schema and indexes, WAL, synchronous=NORMAL, one BEGIN/COMMIT")
    else
        row "P1 (a). full publish, local target (API)" "$FULL_PAGES" "FAILED" "-" "$PEAK" "-" "-"
        goal P1 "full publish, $FULL_PAGES pages -> local pages.db" FAILED - - "<= 2x" "$PEAK" no
        NOTES+=("a: full publish failed: $FAIL")
    fi
    # --- d. the same pages to Turso (Hrana over HTTP) vs to a fresh local file ------------------
    # The tursodb that scripts/services.sh installed (its env file names it), else this tree's.
    TURSODB=${EDGEPUB_TEST_TURSODB:-node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb}
    add_target() {
        curl -fsS -X POST "$BASE/api/projects/full/targets" -H "Authorization: Bearer $TOKEN" \
            -H 'content-type: application/json' -d "$1" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' | head -n 1
    }
    if [[ -n ${a_wall:-} && -x $TURSODB ]] && want d; then
        tport=$(free_port)
        "$TURSODB" "$WORK/a/turso.db" --sync-server "127.0.0.1:$tport" >"$WORK/a/turso.log" 2>&1 &
        TURSO_PID=$!
        HELPER_PIDS+=("$TURSO_PID")
        for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null && break; sleep 0.1; done
        local2=$(add_target '{"kind": "local", "name": "second-file", "path": "full/second/pages.db"}')
        turso=$(add_target "{\"kind\": \"turso\", \"name\": \"turso\", \"url\": \"http://127.0.0.1:$tport\", \"token\": \"unused\"}")
        if run_publish --project full --targets "$local2"; then
            d_local=$(kv wall_s "$PUB")
            NOTES+=("d local: $PUB")
            # CPU seconds (user + system) of a process so far: where P5's time goes.
            cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
            t_cpu0=$(cpu_s "$TURSO_PID") s_cpu0=$(cpu_s "$SERVER_PID")
            if run_publish --project full --targets "$turso"; then
                d_turso=$(kv wall_s "$PUB")
                t_cpu=$(awk -v a="$t_cpu0" -v b="$(cpu_s "$TURSO_PID")" 'BEGIN { printf "%.2f", b - a }')
                s_cpu=$(awk -v a="$s_cpu0" -v b="$(cpu_s "$SERVER_PID")" 'BEGIN { printf "%.2f", b - a }')
                NOTES+=("d: CPU during the Turso publish: tursodb $t_cpu s (one connection: its floor is $(ratio "$t_cpu" "$d_local") the baseline), edgepub $s_cpu s")
                row "P5 (d). same pages to Turso, local tursodb (API)" "$FULL_PAGES" "$d_turso s" \
                    "$(rate "$FULL_PAGES" "$d_turso")" "$PEAK" "$d_local s" "$(ratio "$d_turso" "$d_local")"
                goal P5 "the $FULL_PAGES pages to a local tursodb" "$d_turso s" "a second local pages.db: $d_local s" \
                    "$(ratio "$d_turso" "$d_local")" "<= 2x" "$PEAK" "$(met "$(ratio "$d_turso" "$d_local")" 2)"
                NOTES+=("d turso: $PUB")
                NOTES+=("d: baseline = the same pages written to a second local pages.db in this run;\
 Turso: $(kv requests "$PUB") HTTP requests, $(kv bytes_sent "$PUB") bytes sent\
 (limit EDGEPUB_TURSO_MAX_REQUEST_BYTES, default 8 MiB, per request)")
            else
                row "P5 (d). same pages to Turso, local tursodb (API)" "$FULL_PAGES" "FAILED" "-" "$PEAK" "$d_local s" "-"
                goal P5 "the $FULL_PAGES pages to a local tursodb" FAILED "$d_local s" - "<= 2x" "$PEAK" no
                NOTES+=("d: Turso publish failed: $FAIL")
            fi
        fi
        kill "$TURSO_PID" 2>/dev/null || true
        wait "$TURSO_PID" 2>/dev/null || true
    else
        NOTES+=("d: skipped (no tursodb at $TURSODB: run scripts/services.sh, or (a) failed)")
    fi
    stop_server
fi

# --- b. one changed page: SMALL_PAGES vs LARGE_PAGES ----------------------------------------
if want b; then
    # B[<phase>_<pages>] holds "<seconds> s" or FAILED; B[<phase>_peak_<pages>] the peak RSS.
    declare -A B
    # Bytes of the control database (pages in use, WAL included, as a reader sees it).
    db_bytes() {
        sqlite3 "$WORK/b$1/data/edgepub.db" "PRAGMA page_count; PRAGMA page_size;" | paste -sd' ' |
            awk '{ print $1 * $2 }'
    }
    # b_phase PHASE N LINE: three timed publishes, each after touching the page on line LINE+i
    # of the ids (`one`: that page's publish endpoint; `inc`: the whole project), each upserting
    # exactly one page; B gets the median time, the highest peak and the control database's
    # growth per release.
    b_phase() {
        local phase=$1 n=$2 line=$3 walls=() i page before peak=0
        B[${phase}_peak_$n]=- B[${phase}_$n]=FAILED
        before=$(db_bytes "$n")
        for i in 0 1 2; do
            page=$(sed -n "$((line + i))p" "$WORK/b$n/ids.txt")
            bench touch --page "$page" >/dev/null
            local args=(--project "site$n")
            [[ $phase == one ]] && args+=(--page "$page")
            if ! run_publish "${args[@]}"; then
                NOTES+=("b$n $phase: FAILED: $FAIL")
                return
            fi
            [[ $(kv upserted "$PUB") == 1 ]] || die "expected 1 upsert: $PUB"
            walls+=("$(kv wall_s "$PUB")")
            peak=$(awk -v a="$peak" -v b="${PEAK% MB}" 'BEGIN { print (b > a ? b : a) }')
            NOTES+=("b$n $phase $((i + 1))/3: $PUB")
        done
        B[${phase}_$n]="$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p) s" B[${phase}_peak_$n]="$peak MB"
        B[${phase}_grow_$n]=$(awk -v a="$before" -v b="$(db_bytes "$n")" 'BEGIN { printf "%.0f KB", (b - a) / 3 / 1024 }')
    }
    for n in "$SMALL_PAGES" "$LARGE_PAGES"; do
        start_server "b$n"
        ids=$WORK/b$n/ids.txt
        seed --project "site$n" --pages "$n" --ids "$ids"
        B[seed_$n]="$(kv wall_s "$SEED") s" B[seed_peak_$n]=$PEAK
        # Untimed setup (timed anyway, for the record): one full publish, or partial publishes of
        # BATCH pages when the project is larger than that.
        t0=$(now) peak=0
        split -l "$BATCH" "$ids" "$WORK/b$n/batch."
        for batch in "$WORK/b$n"/batch.*; do
            args=(--project "site$n")
            ((n <= BATCH)) || args+=(--pages "$(paste -sd, "$batch")")
            run_publish "${args[@]}" || die "first publish of site$n failed: $FAIL"
            peak=$(awk -v a="$peak" -v b="${PEAK% MB}" 'BEGIN { print (b > a ? b : a) }')
        done
        B[full_$n]="$(since "$t0") s" B[full_peak_$n]="$peak MB"
        ((n <= BATCH)) || NOTES+=("b$n: first publish done as $(((n + BATCH - 1) / BATCH)) partial publishes of $BATCH pages")
        NOTES+=("b$n: server RSS after the first publish, idle: $(awk '/^VmRSS/ { printf "%.0f MB", $2 / 1024 }' \
            "/proc/$SERVER_PID/status") (restarted before each timed phase, so peaks are that phase's own)")
        stop_server
        start_server "b$n"
        b_phase one "$n" "$((n / 2 + 1))"
        stop_server
        start_server "b$n"
        b_phase inc "$n" "$((n / 3 + 1))"
        stop_server
    done
    s=$SMALL_PAGES l=$LARGE_PAGES
    pair() { echo "${B[${1}_$s]} / ${B[${1}_$l]}"; }
    rates() { echo "$(rate "$s" "${B[${1}_$s]}") / $(rate "$l" "${B[${1}_$l]}")"; }
    row "b. seed: POST pages, $CONCURRENCY in flight" "$s / $l" "$(pair seed)" "$(rates seed)" \
        "$(pair seed_peak)" "${B[seed_$s]}" "$(ratio "${B[seed_$l]}" "${B[seed_$s]}")"
    row "b. first publish of all pages (setup)" "$s / $l" "$(pair full)" "$(rates full)" \
        "$(pair full_peak)" "${B[full_$s]}" "$(ratio "${B[full_$l]}" "${B[full_$s]}")"
    row "P2 (b). 1 changed page: POST /pages/{id}/publish" "$s / $l" "$(pair one)" "-" \
        "$(pair one_peak)" "${B[one_$s]}" "$(ratio "${B[one_$l]}" "${B[one_$s]}")"
    goal P2 "1 changed page, page endpoint, $l-page project" "${B[one_$l]}" "the same at $s pages: ${B[one_$s]}" \
        "$(ratio "${B[one_$l]}" "${B[one_$s]}")" "<= 1.5x" "${B[one_peak_$l]}" \
        "$(met "$(ratio "${B[one_$l]}" "${B[one_$s]}")" 1.5)"
    row "b. 1 changed page: full incremental publish" "$s / $l" "$(pair inc)" "$(rates inc)" \
        "$(pair inc_peak)" "${B[inc_$s]}" "$(ratio "${B[inc_$l]}" "${B[inc_$s]}")"
    row "b. control database growth per release (1 changed page, page endpoint / project)" "$s / $l" \
        "$(pair one_grow) ; $(pair inc_grow)" "-" "-" "-" "-"
fi

# --- e. the cache: prime every key, and publish -> visible ----------------------------------
if want e && want b; then
    RUNS=${BENCH_VISIBLE_RUNS:-20}
    if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
        rport=$(free_port)
        redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
        REDIS_PID=$!
        for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
        n=$LARGE_PAGES
        start_server "b$n"
        cache_mode() {
            curl -fsS -o /dev/null -X PUT "$BASE/api/projects/site$n/settings/cache" -H "Authorization: Bearer $TOKEN" \
                -H 'content-type: application/json' \
                -d "{\"redis_type\": \"tcp\", \"redis_url\": \"redis://127.0.0.1:$rport\", \"redis_enabled\": true, \"cache_mode\": \"$1\", \"cache_ttl_page\": 600}"
        }
        cache_mode prime
        reset_peak
        PRIME=$(bench prime --project "site$n") || PRIME=""
        PEAK=$(peak_mb)
        size=$(redis-cli -p "$rport" --no-auth-warning strlen "page:$(curl -fsS -H "Authorization: Bearer $TOKEN" \
            "$BASE/api/pages/$(head -n1 "$WORK/b$n/ids.txt")" | sed -n 's/.*"slug":"\([^"]*\)".*/\1/p')")
        size=${size:-20000}
        # The issue's command SETs one key (`key:__rand_int__`) n times, so Redis reuses one
        # allocation; priming writes n distinct keys. `-r` with a keyspace far larger than n
        # makes every SET a fresh key too: the same work as priming. Both are reported.
        rb() {
            redis-benchmark -h 127.0.0.1 -p "$rport" -P 64 -t set -d "$size" -n "$n" "$@" --csv 2>/dev/null |
                grep -m1 '^"SET"' | awk -F'","' '{ print $2 }' || true
        }
        rb_rate=$(rb)
        rbd_rate=$(rb -r 1000000000)
        if [[ -n $PRIME ]]; then
            keys=$(kv keys "$PRIME") prime_s=$(kv drain_s "$PRIME") prime_rate=$(kv keys_per_s "$PRIME")
            base_s=$(awk -v n="$keys" -v r="$rb_rate" 'BEGIN { if (r > 0) printf "%.3f", n / r; else print "-" }')
            based_s=$(awk -v n="$keys" -v r="$rbd_rate" 'BEGIN { if (r > 0) printf "%.3f", n / r; else print "-" }')
            row "e. prime every page key (outbox drain, Redis TCP)" "$keys keys" "$prime_s s" "$prime_rate keys/s" "$PEAK" \
                "$base_s s" "$(ratio "$prime_s" "$base_s")"
            row "e. the same, next to redis-benchmark SETting distinct keys (-r)" "$keys keys" "$prime_s s" \
                "$prime_rate keys/s" "-" "$based_s s" "$(ratio "$prime_s" "$based_s")"
            NOTES+=("e: $PRIME (wall_s includes the drift check and repair job before the drain);\
 baseline: redis-benchmark -P 64 -t set -d $size -n $n: $rb_rate SET/s (one key, overwritten n times);\
 with -r 1000000000 (a fresh key per SET, as priming writes): $rbd_rate SET/s (value size = a primed page key)")
        else
            NOTES+=("e: priming failed")
        fi
        # The drift check right after priming: every row of the local pages.db compared with
        # the release's compiled pages, and every page key read back.
        reset_peak
        if DRIFT=$(bench drift --project "site$n"); then
            row "e. drift check: every row of the pages.db and every page key" "$n pages" \
                "$(kv wall_s "$DRIFT") s" "-" "$(peak_mb)" "-" "-"
            NOTES+=("e drift: $DRIFT")
        else
            NOTES+=("e drift: failed")
        fi
        mid=$(sed -n "$((n / 2 + 1))p" "$WORK/b$n/ids.txt")
        for mode in prime invalidate; do
            cache_mode "$mode"
            if VIS=$(bench visible --project "site$n" --page "$mid" --redis "redis://127.0.0.1:$rport" \
                --mode "$mode" --runs "$RUNS"); then
                row "e. publish -> visible in Redis ($mode), 1 page of $n" "$RUNS runs" \
                    "p50 $(kv p50_ms "$VIS") ms" "-" "-" "p99 $(kv p99_ms "$VIS") ms" "-"
                NOTES+=("e $mode: $VIS")
            else
                NOTES+=("e $mode: failed")
            fi
        done
        stop_server
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    else
        NOTES+=("e: skipped (redis-server / redis-benchmark missing: run scripts/services.sh)")
    fi
fi

# --- c. draft saves under wrk ---------------------------------------------------------------
if want c; then
    start_server c
    sleep 2
    IDLE=$(awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVER_PID/status")
    NOTES+=("c: idle RSS of a fresh server (2 s after it answered /healthz): $IDLE")
    seed --project saves --pages "$WRK_THREADS" --ids "$WORK/c/ids.txt" --bodies "$WORK/c"
    cat >"$WORK/c/save.lua" <<'LUA'
-- Each thread owns one page and saves it with PUT + If-Match, taking the next version from
-- the ETag of the previous response.
local threads, n = {}, 0

function setup(thread)
  local dir = os.getenv("BENCH_DIR")
  local ids = {}
  for line in io.lines(dir .. "/ids.txt") do ids[#ids + 1] = line end
  local f = assert(io.open(dir .. "/body-" .. n .. ".json", "rb"))
  n = n + 1
  local id = assert(ids[n], "fewer pages than threads")
  thread:set("page_id", id) -- one value only: set() takes the top of the stack
  thread:set("body", f:read("*a"))
  f:close()
  thread:set("token", os.getenv("EDGEPUB_BENCH_TOKEN"))
  thread:set("version", "1")
  thread:set("bad", 0)
  threads[#threads + 1] = thread
end

function request()
  return wrk.format("PUT", "/api/pages/" .. page_id, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["If-Match"] = '"' .. version .. '"',
  }, body)
end

function response(status, headers, resp)
  if status >= 200 and status < 300 then
    local etag = headers["etag"] or headers["ETag"] or headers["Etag"]
    if etag then version = etag:gsub('"', "") end
  else
    bad = bad + 1
    local current = resp and resp:match('"current_version"%s*:%s*(%d+)')
    if current then version = current end
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + (tonumber(t:get("bad")) or 0) end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "wrk requests=%d secs=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad_total,
    e.connect + e.read + e.write + e.timeout))
end
LUA
    reset_peak
    BENCH_DIR=$WORK/c wrk -t "$WRK_THREADS" -c "$WRK_THREADS" -d "${WRK_SECS}s" --timeout 10s \
        -s "$WORK/c/save.lua" "$BASE" >"$WORK/c/wrk.out"
    PEAK=$(peak_mb)
    cat "$WORK/c/wrk.out" >&2
    WRK=$(grep '^wrk ' "$WORK/c/wrk.out") || die "wrk printed no summary"
    # The ceiling: GET /healthz (no database, no body) with the same threads and connections.
    cat >"$WORK/c/health.lua" <<'LUA'
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("wrk requests=%d secs=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
LUA
    wrk -t "$WRK_THREADS" -c "$WRK_THREADS" -d "${WRK_SECS}s" --timeout 10s -s "$WORK/c/health.lua" \
        "$BASE/healthz" >"$WORK/c/health.out" || true
    HEALTH=$(grep '^wrk ' "$WORK/c/health.out") || HEALTH=""
    final=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/pages/$(head -n1 "$WORK/c/ids.txt")" \
        | sed -n 's/.*"version":\([0-9]*\).*/\1/p')
    row "P4 (c). draft save PUT ~20 KB, If-Match (wrk)" "$WRK_THREADS" "$(kv secs "$WRK") s" "$(kv rps "$WRK")" \
        "$PEAK" "GET /healthz: $(kv rps "$HEALTH")/s" "$(ratio "$(kv rps "$HEALTH")" "$(kv rps "$WRK")")"
    c_met=no
    [[ $(met "$(kv rps "$WRK")" 3000 ge) == yes && $(met "$(kv p99_ms "$WRK")" 10) == yes ]] && c_met=yes
    goal P4 "draft saves, PUT ~20 KB, If-Match, wrk $WRK_THREADS conns" \
        "$(kv rps "$WRK")/s, p99 $(kv p99_ms "$WRK") ms" "GET /healthz: $(kv rps "$HEALTH")/s" \
        "$(ratio "$(kv rps "$HEALTH")" "$(kv rps "$WRK")")" ">= 3,000/s, p99 <= 10 ms" "$PEAK" "$c_met"
    NOTES+=("c: ceiling, GET /healthz under the same wrk: $HEALTH")
    NOTES+=("c: wrk -t$WRK_THREADS -c$WRK_THREADS: p50 $(kv p50_ms "$WRK") ms, p99 $(kv p99_ms "$WRK") ms,\
 max $(kv max_ms "$WRK") ms, $(kv rps "$WRK") saves/s, non-2xx $(kv non2xx "$WRK"),\
 socket errors $(kv socket_errors "$WRK"); first page now at version $final")
    stop_server
fi

# --- f. the largest page the limits allow: memory of saving, compiling, publishing it -------
# One page with EDGEPUB_MAX_COMPONENTS components, a chain EDGEPUB_MAX_DEPTH deep and a layout
# just under EDGEPUB_MAX_PAGE_BYTES (the server's defaults unless those are set here too).
if want f; then
    start_server f
    idle_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
    mb() { awk -v kb="$1" 'BEGIN { printf "%.0f MB", kb / 1024 }'; }
    # grown PEAK: how far this step's peak RSS rose above idle, per byte of layout.
    grown() { awk -v p="${PEAK% MB}" -v i="$idle_kb" -v b="$1" 'BEGIN { if (p + 0 > 0 && b > 0) printf "%.0fx", (p * 1024 - i) * 1024 / b; else print "-" }'; }
    reset_peak
    LIMIT=$(bench limit-page --project limit --id-file "$WORK/f/page.id" \
        --components "${EDGEPUB_MAX_COMPONENTS:-5000}" --depth "${EDGEPUB_MAX_DEPTH:-32}" \
        --bytes "${EDGEPUB_MAX_PAGE_BYTES:-1048576}") || die "saving the largest page failed"
    PEAK=$(peak_mb)
    log "$LIMIT"
    page=$(cat "$WORK/f/page.id") lb=$(kv layout_bytes "$LIMIT")
    shape="1 ($(kv components "$LIMIT") comp., depth $(kv depth "$LIMIT"), $((lb / 1024)) KB)"
    row "f. largest allowed page: save (POST)" "$shape" "$(kv save_s "$LIMIT") s" "-" "$PEAK" "idle $(mb "$idle_kb")" "$(grown "$lb")"
    reset_peak
    start_sampler
    COMPILE=$(bench compile --project limit --page "$page") || COMPILE="FAILED"
    stop_sampler
    PEAK=$(peak_mb)
    row "f. largest allowed page: compile (dry run)" "$shape" "$(kv wall_s "$COMPILE") s" "-" "$PEAK" "idle $(mb "$idle_kb")" "$(grown "$lb")"
    reset_peak
    start_sampler
    t0=$(now)
    bench compile --project limit --page "$page" >"$WORK/f/c1.out" 2>&1 &
    c1=$!
    bench compile --project limit --page "$page" >"$WORK/f/c2.out" 2>&1 || COMPILE="FAILED"
    wait "$c1" || COMPILE="FAILED"
    both=$(since "$t0")
    stop_sampler
    PEAK=$(peak_mb)
    row "f. largest allowed page: 2 compiles at once" "$shape" "$both s" "-" "$PEAK" "idle $(mb "$idle_kb")" "$(grown "$lb")"
    if run_publish --project limit; then
        row "f. largest allowed page: publish (local target)" "$shape" "$(kv wall_s "$PUB") s" "-" "$PEAK" \
            "idle $(mb "$idle_kb")" "$(grown "$lb")"
        NOTES+=("f publish: $PUB")
    else
        row "f. largest allowed page: publish (local target)" "$shape" "FAILED" "-" "$PEAK" "idle $(mb "$idle_kb")" "-"
        NOTES+=("f: publish failed: $FAIL")
    fi
    NOTES+=("f: $LIMIT; server RSS at the end, idle: $(awk '/^VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$SERVER_PID/status");\
 baseline = the server's RSS when idle before the save; ratio = (peak - idle) / layout bytes")
    [[ $COMPILE != FAILED ]] || NOTES+=("f: a compile failed: $(cat "$WORK/f/c1.out" "$WORK/f/c2.out" | grep -m1 .)")
    stop_server
fi

# --- g. P7: one changed page -> served by a push edge (stand-in on loopback) ----------------
# A FULL_PAGES project with a push-edge target: `edgepub-bench edge` answers like the real
# edge (contract section 4) and serves what it holds at /:slug. Timed: from the publish call
# until GET /:slug on the edge shows the change, over BENCH_VISIBLE_RUNS publishes. Baseline:
# the edge's own share, the same page POSTed straight to its import and read back.
p7_edge() {
    local runs=${BENCH_VISIBLE_RUNS:-20} eport key edge_pid target vis mid
    start_server g
    seed --project edge --pages "$FULL_PAGES" --ids "$WORK/g/ids.txt"
    eport=$(free_port)
    key="bench-edge-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    EDGEPUB_BENCH_EDGE_KEY=$key "$BENCH_BIN" edge --listen "127.0.0.1:$eport" >"$WORK/g/edge.log" 2>&1 &
    edge_pid=$!
    HELPER_PIDS+=("$edge_pid")
    for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$eport/api/health" 2>/dev/null && break; sleep 0.1; done
    target=$(curl -fsS -X POST "$BASE/api/projects/edge/targets" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' \
        -d "{\"kind\": \"edge\", \"name\": \"push-edge\", \"url\": \"http://127.0.0.1:$eport\", \"token\": \"$key\"}" |
        sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p' | head -n 1)
    [[ -n $target ]] || die "adding the edge target failed"
    # Untimed setup: every page pushed to the edge (and written to the local target).
    if ! run_publish --project edge; then
        row "P7 (g). 1 changed page of $FULL_PAGES: publish -> served by a push edge" "$FULL_PAGES" "FAILED" "-" \
            "$PEAK" "-" "-"
        NOTES+=("P7: first publish failed: $FAIL")
        kill "$edge_pid" 2>/dev/null || true
        wait "$edge_pid" 2>/dev/null || true
        stop_server
        return
    fi
    NOTES+=("P7 setup (every page to the local target and the edge): $PUB")
    mid=$(sed -n "$((FULL_PAGES / 2 + 1))p" "$WORK/g/ids.txt")
    reset_peak
    start_sampler
    if vis=$(bench edge-visible --page "$mid" --edge "http://127.0.0.1:$eport" --key "$key" --runs "$runs"); then
        stop_sampler
        log "$vis"
        row "P7 (g). 1 changed page of $FULL_PAGES: publish -> served by a push edge" "1 of $FULL_PAGES" \
            "p50 $(kv p50_ms "$vis") ms" "-" "$(peak_mb)" "direct import + read: $(kv direct_p50_ms "$vis") ms" \
            "$(ratio "$(kv p50_ms "$vis")" "$(kv direct_p50_ms "$vis")")"
        NOTES+=("P7: $vis (goal: p50 <= 100 ms; baseline = the same page POSTed straight to the edge's import, then read at /:slug)")
        goal P7 "1 changed page of $FULL_PAGES: publish call -> served by a push edge" \
            "p50 $(kv p50_ms "$vis") ms, p99 $(kv p99_ms "$vis") ms" "direct import + read: p50 $(kv direct_p50_ms "$vis") ms" \
            "$(ratio "$(kv p50_ms "$vis")" "$(kv direct_p50_ms "$vis")")" "p50 <= 100 ms" "$(peak_mb)" \
            "$(met "$(kv p50_ms "$vis")" 100)"
    else
        stop_sampler
        row "P7 (g). 1 changed page of $FULL_PAGES: publish -> served by a push edge" "1 of $FULL_PAGES" "FAILED" "-" \
            "$(peak_mb)" "-" "-"
        NOTES+=("P7: edge-visible failed")
    fi
    kill "$edge_pid" 2>/dev/null || true
    wait "$edge_pid" 2>/dev/null || true
    stop_server
}
if want g; then
    p7_edge
fi

# --- v. one continuous verification pass over a LARGE_PAGES project --------------------------
if want v; then
    # shellcheck source=scripts/bench_verify.sh
    . scripts/bench_verify.sh
    bench_v
fi

# --- s. the soak: its own report, printed as it ends ----------------------------------------
if want s; then
    SOAK_SKIP_BUILD=1 bash scripts/soak.sh || NOTES+=("s: the soak failed (exit $?)")
fi

# --- the table ------------------------------------------------------------------------------
{
    printf 'scenario\tpages\twall time\tpages/s\tpeak RSS\tbaseline time\tratio\n'
    printf '%s\n' "${ROWS[@]}"
} | awk -F'\t' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; f = NF }
    END {
        for (r = 1; r <= n; r++) {
            line = ""
            for (i = 1; i <= f; i++) line = line (i > 1 ? " | " : "") sprintf("%-" w[i] "s", cell[r, i])
            print line
            if (r > 1) continue
            line = ""
            for (i = 1; i <= f; i++) { d = ""; while (length(d) < w[i]) d = d "-"; line = line (i > 1 ? "-|-" : "") d }
            print line
        }
    }'
echo
if want b; then
    echo "b rows: \"$s / $l\" cells are the $s-page and the $l-page project; baseline = the $s-page time, ratio = $l / $s."
    echo "pages/s in b = pages of the project / wall time; peak RSS = server VmHWM during the phase."
fi
printf '%s\n' "${NOTES[@]}"
print_goals
