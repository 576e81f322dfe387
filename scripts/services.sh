#!/usr/bin/env bash
# Start (or reuse) the local test infrastructure for edgepub, idempotently.
#
#   bash scripts/services.sh            # start everything, print `export ...` lines on stdout
#   source scripts/services.sh          # same, and export the variables into the current shell
#   eval "$(bash scripts/services.sh)"  # same effect as sourcing
#
# What it provides (all on 127.0.0.1 only):
#   - PostgreSQL 15 cluster "main" on 5432, loopback logins set to `trust`
#   - Redis standalone on 16379
#   - Redis master on 16380 + redis-sentinel on 26380 (master name `edgepub-master`, quorum 1)
#   - Redis Cluster of three masters on 17001, 17002, 17003
#   - a Python virtualenv with schemathesis, openapi-spec-validator and playwright (which drives
#     Debian's `chromium`, installed from apt: `playwright install` cannot download browsers here)
#   - node_modules with the `tursodb` binary (npm `turso`), `@upstash/redis`, the Standard
#     Webhooks reference library (`standardwebhooks`) and `axe-core` (the console's a11y check)
#
# Running it again reuses whatever is already answering. Log lines go to stderr, prefixed
# `[services]`; the environment is printed to stdout and written to $EDGEPUB_SERVICES_DIR/env
# (default /tmp/edgepub-services/env), which can be sourced.

# ---------------------------------------------------------------------------------------------
# Sourced: do the work in a child bash (so `set -euo pipefail` and `exit` never leak into the
# caller's shell), then import the env file it wrote.
# ---------------------------------------------------------------------------------------------
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    _edgepub_services_self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
    if bash "$_edgepub_services_self" "$@" >/dev/null; then
        # shellcheck disable=SC1091
        . "${EDGEPUB_SERVICES_DIR:-/tmp/edgepub-services}/env"
        unset _edgepub_services_self
        return 0
    else
        printf '[services] ERROR: %s failed; see the messages above\n' "$_edgepub_services_self" >&2
        unset _edgepub_services_self
        return 1
    fi
fi

set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
RUN_DIR="${EDGEPUB_SERVICES_DIR:-/tmp/edgepub-services}"
ENV_FILE="$RUN_DIR/env"

PG_VERSION=15
PG_CLUSTER=main
PG_PORT=5432
PG_HBA="/etc/postgresql/$PG_VERSION/$PG_CLUSTER/pg_hba.conf"

REDIS_STANDALONE_PORT=16379
SENTINEL_MASTER_PORT=16380
SENTINEL_PORT=26380
SENTINEL_MASTER_NAME=edgepub-master
CLUSTER_PORTS=(17001 17002 17003)

START_SECONDS=$SECONDS

log() { printf '[services] %s\n' "$*" >&2; }
die() {
    printf '[services] ERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command as root: directly when we are root, else via passwordless sudo.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root for: $* (run as root or configure passwordless sudo)"
    fi
}

apt_install() {
    log "apt-get install $* (this can take a minute)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 9>&- ||
        die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "$@" >&2 9>&- ||
        die "apt-get install $* failed"
}

# wait_until <seconds> <description> <command...>: poll every 0.2s until the command succeeds.
wait_until() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

mkdir -p "$RUN_DIR"

# Serialise concurrent runs (e.g. two terminals or parallel CI steps on one machine).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/lock"
    flock -w 900 9 || die "could not take $RUN_DIR/lock within 900s (another services.sh stuck?)"
fi
# Every command that may leave a daemon behind (apt postinst, pg_ctlcluster, redis-server) is run
# with `9>&-`, otherwise the daemon inherits the lock fd and holds the lock forever.

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
pg_ready() {
    [[ "$(PGCONNECT_TIMEOUT=3 psql -X -w -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -tAc 'select 1' </dev/null 2>/dev/null)" == 1 ]]
}

# True when a loopback `host all all` line (127.0.0.1/32 or ::1/128) uses a method other than trust.
pg_hba_needs_trust() {
    # shellcheck disable=SC2016 # awk fields, not shell expansions
    as_root awk '$1 == "host" && $2 == "all" && $3 == "all" &&
        ($4 == "127.0.0.1/32" || $4 == "::1/128") && $5 != "trust" { found = 1 }
        END { exit !found }' "$PG_HBA"
}

setup_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ ! -d /etc/postgresql/$PG_VERSION/$PG_CLUSTER ]]; then
        log "PostgreSQL $PG_VERSION cluster '$PG_CLUSTER' not found; installing postgresql-$PG_VERSION"
        apt_install "postgresql-$PG_VERSION" "postgresql-client-$PG_VERSION"
        [[ -d /etc/postgresql/$PG_VERSION/$PG_CLUSTER ]] ||
            as_root pg_createcluster "$PG_VERSION" "$PG_CLUSTER" >&2 9>&- ||
            die "could not create PostgreSQL cluster $PG_VERSION/$PG_CLUSTER"
    fi
    command -v psql >/dev/null 2>&1 || apt_install "postgresql-client-$PG_VERSION"

    local hba_changed=0
    if pg_hba_needs_trust; then
        log "pg_hba.conf: switching loopback 'host all all' lines (127.0.0.1/32, ::1/128) to trust"
        as_root cp -p "$PG_HBA" "$PG_HBA.edgepub.bak"
        as_root sed -i -E \
            's#^([[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[^[:space:]]+[[:space:]]*$#\1trust#' \
            "$PG_HBA"
        pg_hba_needs_trust && die "failed to switch $PG_HBA to trust (backup in $PG_HBA.edgepub.bak)"
        hba_changed=1
    fi

    if as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; then
        if ((hba_changed)); then
            log "PostgreSQL $PG_VERSION/$PG_CLUSTER running; reloading for pg_hba.conf change"
            as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" reload >&2 9>&- ||
                die "pg_ctlcluster reload failed"
        else
            log "PostgreSQL $PG_VERSION/$PG_CLUSTER already running"
        fi
    else
        log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
        as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start >&2 9>&- || {
            as_root tail -n 30 "/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log" >&2 || true
            die "could not start PostgreSQL $PG_VERSION/$PG_CLUSTER (log above)"
        }
    fi

    if ! wait_until 60 "psql -h 127.0.0.1 -U postgres (no password)" pg_ready; then
        PGCONNECT_TIMEOUT=3 psql -X -w -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'select 1' >&2 || true
        die "PostgreSQL is not accepting passwordless loopback logins on 127.0.0.1:$PG_PORT (check $PG_HBA)"
    fi
    log "PostgreSQL ready: postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
install_redis() {
    if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 &&
        command -v redis-sentinel >/dev/null 2>&1; then
        return 0
    fi
    log "redis-server/redis-cli/redis-sentinel missing; installing from apt"
    apt_install redis-server redis-tools redis-sentinel
    command -v redis-server >/dev/null 2>&1 || die "redis-server still missing after apt-get install"
}

# The test suite reads published pages.db files with the sqlite3 CLI, as an independent reader.
install_sqlite3() {
    command -v sqlite3 >/dev/null 2>&1 || apt_install sqlite3
}

# The console's browser tests drive Debian's Chromium (Playwright cannot download its own here).
install_chromium() {
    [[ -x /usr/bin/chromium ]] || apt_install chromium
}

rcli() {
    local port=$1
    shift
    # timeout: something that accepts but never answers must not hang us.
    timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" </dev/null 2>/dev/null | tr -d '\r'
}

redis_pong() { [[ "$(rcli "$1" ping)" == PONG ]]; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

redis_log_tail() {
    local f=$1
    [[ -f $f ]] && tail -n 20 "$f" >&2
    return 0
}

# start_redis <label> <port> [extra redis-server args...]
start_redis() {
    local label=$1 port=$2
    shift 2
    if redis_pong "$port"; then
        log "redis $label on 127.0.0.1:$port already running"
        return 0
    fi
    port_open "$port" && die "127.0.0.1:$port is in use by something that does not answer Redis PING;" \
        "stop it and rerun"
    local dir="$RUN_DIR/redis-$port"
    mkdir -p "$dir"
    log "starting redis $label on 127.0.0.1:$port (dir $dir)"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
        --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --save "" --appendonly no "$@" </dev/null >&2 9>&- || {
        redis_log_tail "$dir/redis.log"
        die "redis-server $label on port $port failed to start"
    }
    wait_until 20 "redis $label on port $port" redis_pong "$port" || {
        redis_log_tail "$dir/redis.log"
        die "redis $label on port $port does not answer PING (is the port taken by something else?)"
    }
}

sentinel_master_ok() {
    [[ "$(rcli "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER_NAME" | paste -sd' ')" == "127.0.0.1 $SENTINEL_MASTER_PORT" ]]
}
sentinel_quorum_ok() { [[ "$(rcli "$SENTINEL_PORT" sentinel ckquorum "$SENTINEL_MASTER_NAME")" == OK* ]]; }

start_sentinel() {
    start_redis "sentinel-master" "$SENTINEL_MASTER_PORT"

    local dir="$RUN_DIR/sentinel-$SENTINEL_PORT"
    if redis_pong "$SENTINEL_PORT"; then
        log "redis-sentinel on 127.0.0.1:$SENTINEL_PORT already running"
        if [[ -z "$(rcli "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER_NAME")" ]]; then
            log "sentinel does not monitor $SENTINEL_MASTER_NAME yet; adding it"
            rcli "$SENTINEL_PORT" sentinel monitor "$SENTINEL_MASTER_NAME" 127.0.0.1 "$SENTINEL_MASTER_PORT" 1 >/dev/null
        fi
    else
        port_open "$SENTINEL_PORT" && die "127.0.0.1:$SENTINEL_PORT is in use by something that does not" \
            "answer PING; stop it and rerun"
        mkdir -p "$dir"
        # Sentinel rewrites its config file at runtime, so write a fresh one on every cold start.
        cat >"$dir/sentinel.conf" <<EOF
bind 127.0.0.1
port $SENTINEL_PORT
daemonize yes
pidfile $dir/sentinel.pid
logfile $dir/sentinel.log
dir $dir
sentinel monitor $SENTINEL_MASTER_NAME 127.0.0.1 $SENTINEL_MASTER_PORT 1
sentinel down-after-milliseconds $SENTINEL_MASTER_NAME 5000
sentinel failover-timeout $SENTINEL_MASTER_NAME 10000
sentinel parallel-syncs $SENTINEL_MASTER_NAME 1
EOF
        log "starting redis-sentinel on 127.0.0.1:$SENTINEL_PORT monitoring $SENTINEL_MASTER_NAME (127.0.0.1:$SENTINEL_MASTER_PORT)"
        redis-sentinel "$dir/sentinel.conf" </dev/null >&2 9>&- || {
            redis_log_tail "$dir/sentinel.log"
            die "redis-sentinel on port $SENTINEL_PORT failed to start"
        }
        wait_until 20 "redis-sentinel on port $SENTINEL_PORT" redis_pong "$SENTINEL_PORT" || {
            redis_log_tail "$dir/sentinel.log"
            die "redis-sentinel on port $SENTINEL_PORT does not answer PING"
        }
    fi

    sentinel_master_ok || die "sentinel on $SENTINEL_PORT reports master '$SENTINEL_MASTER_NAME' at" \
        "'$(rcli "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER_NAME" | paste -sd' ')'," \
        "expected 127.0.0.1 $SENTINEL_MASTER_PORT (stop it and rerun)"
    wait_until 20 "sentinel quorum for $SENTINEL_MASTER_NAME" sentinel_quorum_ok || {
        redis_log_tail "$dir/sentinel.log"
        die "sentinel ckquorum $SENTINEL_MASTER_NAME is not OK"
    }
    log "sentinel ready: $SENTINEL_MASTER_NAME -> 127.0.0.1:$SENTINEL_MASTER_PORT"
}

cluster_field() { rcli "$1" cluster info | sed -n "s/^$2://p"; }
cluster_node_ok() { [[ "$(cluster_field "$1" cluster_state)" == ok ]]; }
cluster_all_ok() {
    local p
    for p in "${CLUSTER_PORTS[@]}"; do
        cluster_node_ok "$p" || return 1
        [[ "$(cluster_field "$p" cluster_known_nodes)" == "${#CLUSTER_PORTS[@]}" ]] || return 1
    done
}

start_cluster() {
    local p
    for p in "${CLUSTER_PORTS[@]}"; do
        start_redis "cluster-node" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-node-timeout 5000
    done

    if cluster_all_ok; then
        log "redis cluster on ${CLUSTER_PORTS[*]} already formed (cluster_state:ok)"
        return 0
    fi

    # Nodes restarted from an existing nodes.conf need a moment to gossip back to `ok`.
    local any_slots=0
    for p in "${CLUSTER_PORTS[@]}"; do
        [[ "$(cluster_field "$p" cluster_slots_assigned)" == 0 ]] || any_slots=1
        [[ "$(cluster_field "$p" cluster_known_nodes)" == 1 ]] || any_slots=1
    done
    if ((any_slots)); then
        log "redis cluster partially configured; waiting for it to converge"
        if wait_until 15 "redis cluster to converge" cluster_all_ok; then
            log "redis cluster converged (cluster_state:ok)"
            return 0
        fi
        log "redis cluster did not converge; resetting all nodes and recreating it"
        for p in "${CLUSTER_PORTS[@]}"; do
            rcli "$p" flushall >/dev/null
            rcli "$p" cluster reset hard >/dev/null
        done
    fi

    local addrs=()
    for p in "${CLUSTER_PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    log "creating redis cluster: ${addrs[*]}"
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes </dev/null >"$RUN_DIR/cluster-create.log" 2>&1 || {
        cat "$RUN_DIR/cluster-create.log" >&2
        die "redis-cli --cluster create failed"
    }
    wait_until 30 "redis cluster_state:ok on all nodes" cluster_all_ok || {
        for p in "${CLUSTER_PORTS[@]}"; do
            printf '[services] node %s: %s\n' "$p" "$(rcli "$p" cluster info | head -n 3 | paste -sd' ')" >&2
        done
        die "redis cluster did not reach cluster_state:ok"
    }
    log "redis cluster ready (cluster_state:ok)"
}

# ---------------------------------------------------------------------------------------------
# Node tooling (tursodb, @upstash/redis)
# ---------------------------------------------------------------------------------------------
NODE_MODULES="$REPO_ROOT/node_modules"
turso_pkg() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo cli-linux-x64-gnu ;;
        Linux-aarch64 | Linux-arm64) echo cli-linux-arm64-gnu ;;
        Darwin-arm64) echo cli-darwin-arm64 ;;
        Darwin-x86_64) echo cli-darwin-x64 ;;
        *) die "no tursodb binary package for $(uname -s)-$(uname -m)" ;;
    esac
}

setup_node() {
    local pkg tursodb
    pkg="$(turso_pkg)"
    tursodb="$NODE_MODULES/@tursodatabase/$pkg/tursodb"
    if [[ -x $tursodb && -d $NODE_MODULES/@upstash/redis && -d $NODE_MODULES/standardwebhooks &&
        -f $NODE_MODULES/axe-core/axe.min.js ]]; then
        log "node_modules already has tursodb, @upstash/redis, standardwebhooks and axe-core"
    else
        command -v npm >/dev/null 2>&1 ||
            die "npm not found; install Node.js 20+ (with npm) and rerun"
        # Not `npm ci`: turso@0.6.0 lists per-platform optional packages that are not all published,
        # so the lock file cannot name them and `npm ci` rejects it as out of sync. `--no-save`
        # still installs the versions pinned in package-lock.json but never rewrites it.
        log "npm install --no-save in $REPO_ROOT"
        (cd "$REPO_ROOT" && npm install --no-save --no-audit --no-fund --include=dev --include=optional \
            </dev/null >&2) || die "npm install failed in $REPO_ROOT"
        [[ -x $tursodb ]] || die "tursodb not found at $tursodb after npm install" \
            "(npm did not install @tursodatabase/$pkg@0.6.0; it may not be published for this platform)"
        [[ -d $NODE_MODULES/@upstash/redis ]] || die "@upstash/redis missing from $NODE_MODULES after npm install"
        [[ -d $NODE_MODULES/standardwebhooks ]] || die "standardwebhooks missing from $NODE_MODULES after npm install"
        [[ -f $NODE_MODULES/axe-core/axe.min.js ]] || die "axe-core missing from $NODE_MODULES after npm install"
    fi
    "$tursodb" --help >/dev/null 2>&1 || die "$tursodb exists but does not run on this machine"
    TURSODB="$tursodb"
}

# ---------------------------------------------------------------------------------------------
# Python tooling, in a virtualenv of its own: schemathesis (the schema-driven API fuzzer) and
# openapi-spec-validator (is the document valid OpenAPI)
# ---------------------------------------------------------------------------------------------
SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
PLAYWRIGHT_VERSION=1.65.3
setup_python() {
    local venv="$RUN_DIR/venv"
    if [[ -x $venv/bin/st ]] && "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
        log "schemathesis $SCHEMATHESIS_VERSION already in $venv"
    else
        command -v python3 >/dev/null 2>&1 || die "python3 not found; install Python 3.9+ and rerun"
        log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
        python3 -m venv "$venv" >&2 || die "python3 -m venv failed (install python3-venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
            die "pip install schemathesis failed"
    fi
    if [[ "$("$venv/bin/pip" show openapi-spec-validator 2>/dev/null | sed -n 's/^Version: //p')" == "$SPEC_VALIDATOR_VERSION" ]]; then
        log "openapi-spec-validator $SPEC_VALIDATOR_VERSION already in $venv"
    else
        log "installing openapi-spec-validator $SPEC_VALIDATOR_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "openapi-spec-validator==$SPEC_VALIDATOR_VERSION" >&2 || die "pip install openapi-spec-validator failed"
    fi
    if [[ "$("$venv/bin/pip" show playwright 2>/dev/null | sed -n 's/^Version: //p')" == "$PLAYWRIGHT_VERSION" ]]; then
        log "playwright $PLAYWRIGHT_VERSION already in $venv"
    else
        log "installing playwright $PLAYWRIGHT_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION" >&2 ||
            die "pip install playwright failed"
    fi
    SCHEMATHESIS="$venv/bin/st"
    SPEC_VALIDATOR="$venv/bin/openapi-spec-validator"
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
setup_postgres
install_redis
install_sqlite3
install_chromium
start_redis "standalone" "$REDIS_STANDALONE_PORT"
start_sentinel
start_cluster
setup_node
setup_python

cluster_nodes=""
for p in "${CLUSTER_PORTS[@]}"; do cluster_nodes+="${cluster_nodes:+,}redis://127.0.0.1:$p"; done

# Single-quoted values: valid for bash/sh `source`, and easy for dotenv-style readers to parse.
write_env() {
    echo "# written by scripts/services.sh; source this file"
    while (($#)); do
        printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"
        shift 2
    done
}
env_tmp="$(mktemp "$RUN_DIR/env.XXXXXX")"
write_env \
    EDGEPUB_TEST_PG_URL "postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    EDGEPUB_TEST_REDIS_URL "redis://127.0.0.1:$REDIS_STANDALONE_PORT" \
    EDGEPUB_TEST_SENTINEL_URL "redis+sentinel://127.0.0.1:$SENTINEL_PORT/$SENTINEL_MASTER_NAME" \
    EDGEPUB_TEST_CLUSTER_NODES "$cluster_nodes" \
    EDGEPUB_TEST_TURSODB "$TURSODB" \
    EDGEPUB_TEST_NODE_MODULES "$NODE_MODULES" \
    EDGEPUB_TEST_SCHEMATHESIS "$SCHEMATHESIS" \
    EDGEPUB_TEST_SPEC_VALIDATOR "$SPEC_VALIDATOR" >"$env_tmp"
chmod 0644 "$env_tmp"
mv -f "$env_tmp" "$ENV_FILE"

log "all services ready in $((SECONDS - START_SECONDS))s; environment written to $ENV_FILE:"
grep '^export ' "$ENV_FILE" | sed 's/^/[services]   /' >&2
# stdout: machine-readable, so `eval "$(bash scripts/services.sh)"` works.
grep '^export ' "$ENV_FILE"
