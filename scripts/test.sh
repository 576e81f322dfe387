#!/usr/bin/env bash
# One command to install what is missing and run every check edgepub has:
#
#   bash scripts/test.sh [extra args for the test runner]
#
# 1. starts/reuses the test services (scripts/services.sh) and exports EDGEPUB_TEST_*
# 2. the layer check (scripts/layers.py, with its self-test), cargo fmt --check, cargo clippy -D warnings, the API fuzzer (scripts/fuzz.sh), the
#    OpenAPI validator and the TypeScript client's build and flow (scripts/client.sh), the
#    operator console in a real Chromium (scripts/console.sh), then the
#    tests (cargo nextest if installed, else cargo test). Every step runs even if an earlier one failed; the exit status is
#    non-zero if any step failed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TOTAL_START=$SECONDS
FAILED=()

header() { printf '\n==> [test] %s\n' "$*" >&2; }

# run_step <name> <command...>: run a step, record failure instead of stopping.
run_step() {
    local name=$1 start=$SECONDS rc=0
    shift
    header "$name: $*"
    "$@" || rc=$?
    if ((rc == 0)); then
        printf '==> [test] %s: ok (%ss)\n' "$name" "$((SECONDS - start))" >&2
    else
        printf '==> [test] %s: FAILED with exit code %s (%ss)\n' "$name" "$rc" "$((SECONDS - start))" >&2
        FAILED+=("$name")
    fi
}

header "services (scripts/services.sh)"
# shellcheck source=scripts/services.sh
source "$REPO_ROOT/scripts/services.sh" || {
    printf '==> [test] services failed to start; not running any checks\n' >&2
    exit 1
}

header "rust toolchain"
command -v cargo >/dev/null 2>&1 ||
    { printf '==> [test] cargo not found; install Rust via https://rustup.rs and rerun\n' >&2; exit 1; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
        rustup component add rustfmt clippy || true
    else
        printf '==> [test] rustfmt/clippy missing and rustup not found; those steps will fail\n' >&2
    fi
fi
cargo --version >&2
if cargo nextest --version >/dev/null 2>&1; then
    TEST_RUNNER="nextest"
else
    TEST_RUNNER="cargo-test"
fi

run_step "layers" bash -c 'python3 scripts/layers.py --self-test && python3 scripts/layers.py'
run_step "fmt" cargo fmt --all -- --check
run_step "clippy" cargo clippy --all-targets -- -D warnings
run_step "fuzz (schemathesis)" bash scripts/fuzz.sh
run_step "client (OpenAPI validity, TypeScript client, builder flow)" bash scripts/client.sh
run_step "console (type check, Playwright in Chromium on SQLite and Postgres)" bash scripts/console.sh
if [[ $TEST_RUNNER == nextest ]]; then
    run_step "tests (nextest)" cargo nextest run --no-fail-fast "$@"
else
    run_step "tests (cargo test)" cargo test --no-fail-fast "$@"
fi

printf '\n' >&2
if ((${#FAILED[@]})); then
    printf '==> [test] FAILED steps: %s (total %ss)\n' "${FAILED[*]}" "$((SECONDS - TOTAL_START))" >&2
    exit 1
fi
printf '==> [test] all steps passed (total %ss)\n' "$((SECONDS - TOTAL_START))" >&2
