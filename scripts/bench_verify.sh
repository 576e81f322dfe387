# Scenario v of scripts/bench.sh (sourced by it; uses its helpers): one continuous verification
# pass over a LARGE_PAGES project on a local pages.db, next to the sqlite3 CLI reading the same
# rows. Reported: the pass's own duration (as the server records it), the server's peak RSS
# during the pass against its RSS just before, and the latency of page reads made while the
# pass runs against the same reads before it (the pass must not stall other work).

# v_reads SECONDS OUT: GET one page every 50 ms for SECONDS, each request's time (s) to OUT.
v_reads() {
    local until=$((EPOCHSECONDS + $1))
    : >"$2"
    while ((EPOCHSECONDS < until)); do
        curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
            "$BASE/api/pages/$V_PAGE" >>"$2" 2>/dev/null || echo "error" >>"$2"
        sleep 0.05
    done
}
# v_pct FILE P: the P-th percentile of FILE's times, in ms (and the count of errors).
v_pct() {
    { grep -v error "$1" || true; } | sort -n | awk -v p="$2" '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
        printf "%.1f", a[i] * 1000 }'
}

bench_v() {
    local n=$LARGE_PAGES ids body pass dur peak before_kb base_s base_kb errors
    start_server v
    ids=$WORK/v/ids.txt
    seed --project site --pages "$n" --ids "$ids"
    split -l "$BATCH" "$ids" "$WORK/v/batch."
    for batch in "$WORK/v"/batch.*; do
        local args=(--project site)
        ((n <= BATCH)) || args+=(--pages "$(paste -sd, "$batch")")
        run_publish "${args[@]}" || die "v: first publish failed: $FAIL"
    done
    V_PAGE=$(sed -n "$((n / 2 + 1))p" "$ids")
    # Restarted so the pass's peak is its own, not memory kept from seeding and publishing.
    stop_server
    start_server v
    sleep 2
    v_reads 5 "$WORK/v/reads.idle"
    before_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
    reset_peak
    start_sampler
    # The shortest interval: the first pass is due 60 s after the save.
    curl -fsS -o /dev/null -X PUT "$BASE/api/projects/site/settings/verification" \
        -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        -d '{"interval_secs": 60, "repair": "off"}' || die "v: setting the schedule failed"
    v_reads 55 /dev/null
    # Reads while the pass is due and runs, until its result is recorded.
    v_reads 600 "$WORK/v/reads.pass" &
    local reader=$!
    for _ in $(seq 1200); do
        body=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/projects/site/verification")
        pass=$(sed -n 's/.*"last":{[^}]*"pass":\([0-9]*\).*/\1/p' <<<"$body")
        [[ -n $pass ]] && break
        sleep 0.5
    done
    kill "$reader" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
    stop_sampler
    peak=$(peak_mb)
    [[ -n ${pass:-} ]] || { NOTES+=("v: no pass recorded within 10 minutes"); stop_server; return; }
    dur=$(sed -n 's/.*"duration_ms":\([0-9]*\).*/\1/p' <<<"$body")
    errors=$(grep -c error "$WORK/v/reads.pass" || true)
    # Baseline: the sqlite3 CLI reading every row of the same file (what the pass reads, without
    # comparing), its wall time and peak RSS.
    local db=$WORK/v/data/sites/site/pages.db
    read -r base_s base_kb < <(/usr/bin/time -f '%e %M' sqlite3 "$db" \
        'SELECT * FROM published_pages;' 2>&1 >/dev/null | tail -n 1)
    row "v. one verification pass (drift check, local pages.db)" "$n" \
        "$(awk -v ms="$dur" 'BEGIN { printf "%.2f", ms / 1000 }') s" "$(rate "$n" "$(awk -v ms="$dur" 'BEGIN { print ms / 1000 }')")" \
        "$peak" "$base_s s" "$(ratio "$(awk -v ms="$dur" 'BEGIN { print ms / 1000 }')" "$base_s")"
    NOTES+=("v: pass $pass: $(sed -n 's/.*"summary":"\([^"]*\)".*/\1/p' <<<"$body"); server RSS before the pass\
 $(awk -v kb="$before_kb" 'BEGIN { printf "%.0f MB", kb / 1024 }'), peak during it $peak;\
 pages.db $(du -k "$db" | cut -f1) KB; baseline = sqlite3 CLI SELECT * of every row: $base_s s, peak RSS\
 $(awk -v kb="$base_kb" 'BEGIN { printf "%.0f MB", kb / 1024 }')")
    NOTES+=("v: GET /api/pages/{id} every 50 ms: idle p50 $(v_pct "$WORK/v/reads.idle" 50) ms,\
 p99 $(v_pct "$WORK/v/reads.idle" 99) ms ($(wc -l <"$WORK/v/reads.idle") reads); while the pass was due and ran\
 p50 $(v_pct "$WORK/v/reads.pass" 50) ms, p99 $(v_pct "$WORK/v/reads.pass" 99) ms, max $(v_pct "$WORK/v/reads.pass" 100) ms\
 ($(wc -l <"$WORK/v/reads.pass") reads, $errors errors)")
    stop_server
}
