#!/usr/bin/env bash
# `make test`: everything the test suite needs, from a fresh Debian 12 machine to a summary.
#   1. apt-get install redis-server, postgresql, chromium, fonts-noto-cjk (only what is missing)
#   2. the venv (make venv: requirements-dev.lock, hashes checked) and compiled translations
#   3. ruff check + ruff format --check, then bandit (high severity) and pip-audit
#   4. a throwaway redis-server and PostgreSQL cluster on free ports, stopped at exit
#   5. pytest on SQLite (browser tests included) and on PostgreSQL (browser tests excluded), side by side
# Arguments go to both pytest runs: scripts/test.sh -k api -x
# Exits non-zero if any step fails; the services are stopped whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
PYTEST_ARGS=("$@")
# A hung test must not eat CI's time budget: SIGINT makes pytest print where it hung.
RUN_TIMEOUT=${HOTLINE_TEST_TIMEOUT:-30m}

STEPS=()
FAILED=0
log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
record() { # record NAME STATUS SECONDS
    STEPS+=("$(printf '%-34s %-5s %5ss' "$1" "$2" "$3")")
    if [ "$2" = FAIL ]; then FAILED=1; fi
}

# Whatever happens from here on: stop the services, remove their files, print the summary.
SERVICES=""
PGDIR=""
PGBIN=""
REDIS_PIDFILE=""
as_pg() { # run a PostgreSQL binary as the user that owns the cluster
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$PGDIR" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

cleanup() {
    set +e
    if [ -n "$PGDIR" ] && [ -f "$PGDIR/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" stop -m immediate > /dev/null
    fi
    if [ -n "$REDIS_PIDFILE" ] && [ -s "$REDIS_PIDFILE" ]; then
        local pid tries=0
        pid=$(cat "$REDIS_PIDFILE")
        kill "$pid" 2> /dev/null
        while kill -0 "$pid" 2> /dev/null && [ $tries -lt 50 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        kill -9 "$pid" 2> /dev/null
    fi
    [ -n "$PGDIR" ] && rm -rf "$PGDIR"
    [ -n "$SERVICES" ] && rm -rf "$SERVICES"
    rmdir "$ROOT/.test-services" 2> /dev/null
    return 0
}
finish() {
    local code=$?
    cleanup
    log "summary"
    if [ ${#STEPS[@]} -gt 0 ]; then printf '%s\n' "${STEPS[@]}"; fi
    if [ $code -ne 0 ]; then
        [ $FAILED -eq 0 ] && printf '(stopped early: see the error above)\n'
        printf '\nmake test: FAILED\n'
    else
        printf '\nmake test: all passed\n'
    fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. system packages ---------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo > /dev/null; then
    SUDO=(sudo)
else
    SUDO=()
fi

install_packages() {
    local started=$SECONDS missing=() package
    for package in redis-server postgresql chromium fonts-noto-cjk; do
        dpkg-query -W -f='${Status}' "$package" 2> /dev/null | grep -q "ok installed" || missing+=("$package")
    done
    if ! command -v python3 > /dev/null; then
        missing+=(python3 python3-venv)
    elif ! python3 -c "import ensurepip, venv" 2> /dev/null; then
        missing+=(python3-venv) # Debian splits venv's pip bootstrap out of python3
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        record "system packages (already there)" ok $((SECONDS - started))
        return
    fi
    log "installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        echo "need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    local apt_log
    apt_log=$(mktemp)
    # Quiet, but show the whole output when apt fails.
    if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } > "$apt_log" 2>&1; then
        cat "$apt_log" >&2
        rm -f "$apt_log"
        echo "apt-get failed" >&2
        exit 1
    fi
    rm -f "$apt_log"
    record "system packages (installed ${#missing[@]})" ok $((SECONDS - started))
}
install_packages

# --- 2. venv and translations -----------------------------------------------------------
started=$SECONDS
log "venv"
make --no-print-directory venv
record "venv" ok $((SECONDS - started))
started=$SECONDS
log "translations"
# A broken catalog is reported, and the tests still run (the old .mo files, if any, stay).
if make --no-print-directory translations; then
    record "translations" ok $((SECONDS - started))
else
    record "translations" FAIL $((SECONDS - started))
fi

# --- 3. lint (a failure is reported, and the tests still run) --------------------------
started=$SECONDS
log "ruff check, ruff format --check"
if "$BIN/ruff" check . && "$BIN/ruff" format --check .; then
    record "lint (ruff)" ok $((SECONDS - started))
else
    record "lint (ruff)" FAIL $((SECONDS - started))
fi

# --- 3b. security checks (a failure is reported, and the tests still run) -------------
# bandit: high-severity findings fail (-lll); lower ones are for people to read (`bandit -r hotline`).
started=$SECONDS
log "bandit (high severity)"
if "$BIN/bandit" -r hotline workers config.py -lll -q; then
    record "bandit" ok $((SECONDS - started))
else
    record "bandit" FAIL $((SECONDS - started))
fi
# pip-audit: a known vulnerability fails; an unreachable vulnerability service is a warning.
started=$SECONDS
log "pip-audit (requirements.lock: what production installs)"
if "$BIN/python" scripts/audit_dependencies.py -r requirements.lock; then
    record "pip-audit" ok $((SECONDS - started))
else
    record "pip-audit" FAIL $((SECONDS - started))
fi

# --- 4. services ------------------------------------------------------------------------
mkdir -p "$ROOT/.test-services"
SERVICES=$(mktemp -d "$ROOT/.test-services/run-XXXXXX")

free_port() { # the first port from $1 that nothing listens on or holds
    "$BIN/python" - "$1" << 'EOF'
import socket, sys
start = int(sys.argv[1])
for port in range(start, start + 500):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    sys.exit("no free port")
EOF
}

start_redis() {
    local port=6390 attempt pid
    REDIS_PIDFILE=$SERVICES/redis.pid
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$port")
        rm -f "$REDIS_PIDFILE"
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
            --pidfile "$REDIS_PIDFILE" --logfile "$SERVICES/redis.log" --dir "$SERVICES"
        # With the port taken, a new server fails silently: make sure the one answering is ours.
        for _ in $(seq 1 50); do
            if [ -s "$REDIS_PIDFILE" ] && redis-cli -p "$port" ping 2> /dev/null | grep -q PONG; then
                pid=$(redis-cli -p "$port" info server | tr -d '\r' | sed -n 's/^process_id://p')
                if [ "$pid" = "$(cat "$REDIS_PIDFILE")" ]; then
                    REDIS_PORT=$port
                    return 0
                fi
                break
            fi
            sleep 0.1
        done
        echo "redis-server on port $port did not start (attempt $attempt); log:" >&2
        tail -5 "$SERVICES/redis.log" >&2 || true
        port=$((port + 1))
    done
    return 1
}

start_postgres() {
    local port=5440 attempt
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PGDIR=$(mktemp -d /tmp/hotline-pg-XXXXXX) # postgres must own it: not under a root-only path
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDIR"; fi
    if ! as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 > "$PGDIR/initdb.log" 2>&1; then
        cat "$PGDIR/initdb.log" >&2
        return 1
    fi
    # autovacuum off: tests empty their tables with DELETE, and a vacuum between two tests would
    # let new rows fill the old ones' space, so that a query without ORDER BY changed its order.
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$port")
        if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 30 start \
            -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off" \
            > /dev/null; then
            "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U app hotline_test
            PG_PORT=$port
            return 0
        fi
        echo "PostgreSQL on port $port did not start (attempt $attempt); log:" >&2
        tail -5 "$PGDIR/postgres.log" >&2 || true
        port=$((port + 1))
    done
    return 1
}

started=$SECONDS
log "starting redis-server and PostgreSQL"
if ! start_redis; then
    record "redis-server" FAIL $((SECONDS - started))
    exit 1
fi
echo "redis-server on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PIDFILE"))"
if ! start_postgres; then
    record "PostgreSQL" FAIL $((SECONDS - started))
    exit 1
fi
echo "PostgreSQL on 127.0.0.1:$PG_PORT ($PGDIR)"
record "services (redis, postgresql)" ok $((SECONDS - started))

# --- 5. the test suite, twice ----------------------------------------------------------
run_pytest() { # run_pytest NAME [env arguments] COMMAND...
    local name=$1 code=0
    shift
    local started=$SECONDS
    log "pytest on $name"
    timeout --foreground --signal=INT --kill-after=60 "$RUN_TIMEOUT" env "$@" || code=$?
    record_pytest "$name" $code $((SECONDS - started))
}
record_pytest() { # record_pytest NAME EXIT_CODE SECONDS
    if [ "$2" -eq 0 ]; then
        record "pytest $1" ok "$3"
    elif [ "$2" -eq 5 ] && [ ${#PYTEST_ARGS[@]} -gt 0 ]; then
        record "pytest $1 (none selected)" ok "$3" # ARGS filtered them all out
    else
        [ "$2" -eq 124 ] && echo "pytest on $1 timed out after $RUN_TIMEOUT" >&2
        record "pytest $1 (exit $2)" FAIL "$3"
    fi
}

# PostgreSQL-only tests belong to the second run; browser tests to the first (one is enough).
SQLITE_RUN=(-u TEST_DATABASE_URL HOTLINE_REQUIRE_SERVICES=1
    TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    "$BIN/pytest" -m "not postgres" --basetemp="$SERVICES/tmp-sqlite" "${PYTEST_ARGS[@]}")
POSTGRES_RUN=(HOTLINE_REQUIRE_SERVICES=1
    TEST_DATABASE_URL="postgresql+psycopg://app@127.0.0.1:$PG_PORT/hotline_test"
    TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
    "$BIN/pytest" -m "not browser" --basetemp="$SERVICES/tmp-postgresql" "${PYTEST_ARGS[@]}")

run_logged() { # run_logged LOG [env arguments] COMMAND...: exit code and seconds go to LOG.rc
    local out=$1 code=0 started=$SECONDS
    shift
    timeout --signal=INT --kill-after=60 "$RUN_TIMEOUT" env "$@" > "$out" 2>&1 < /dev/null || code=$?
    echo "$code $((SECONDS - started))" > "$out.rc"
}

if [ "${HOTLINE_TEST_SERIAL:-}" = 1 ]; then
    run_pytest sqlite "${SQLITE_RUN[@]}"
    run_pytest postgresql "${POSTGRES_RUN[@]}"
else
    # Side by side: each run waits on its database, Redis, workers and the browser part of the
    # time, so two of them fill two cores better than one after the other. Each writes its own
    # log, printed when both are done (HOTLINE_TEST_SERIAL=1 runs them one after the other).
    log "pytest on SQLite and on PostgreSQL, side by side"
    run_logged "$SERVICES/pytest-sqlite.log" "${SQLITE_RUN[@]}" &
    sqlite_pid=$!
    run_logged "$SERVICES/pytest-postgresql.log" "${POSTGRES_RUN[@]}" &
    postgres_pid=$!
    wait $sqlite_pid $postgres_pid || true
    for name in sqlite postgresql; do
        log "pytest on $name"
        cat "$SERVICES/pytest-$name.log"
        read -r code seconds < "$SERVICES/pytest-$name.log.rc" || { code=1; seconds=0; }
        record_pytest "$name" "$code" "$seconds"
    done
fi

exit $FAILED
