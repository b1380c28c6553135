#!/usr/bin/env bash
# Load benchmark for taskgate, measured with wrk: the /healthz floor, W-list and W-create, and in
# the same run a bare axum server (bench/bare.rs, no middleware) answering /healthz and a page of
# exactly W-list's size, so the cost of taskgate's middleware (access log at info included) is a
# ratio measured side by side.
#
#   bench/run.sh [hs256]        # the default mode: HS256 tokens signed with BETTER_AUTH_SECRET
#   bench/run.sh eddsa          # an EdDSA token from a real Better Auth server (tests/interop),
#                               # verified through its JWKS; needs node 20+ and PostgreSQL
#
# Environment knobs (all optional):
#   TASKGATE_BIN   use this binary instead of building it with `cargo build --release`
#   BARE_BIN       use this bare server instead of building it (`--example bare`)
#   DURATION       wrk duration per workload            (default 10s)
#   THREADS        wrk threads                          (default 2)
#   CONNECTIONS    wrk connections                      (default 32)
#   ROUNDS         rounds of the taskgate/bare pairs, alternating which goes first (default 2)
#   SYNC           TASKGATE_SQLITE_SYNCHRONOUS          (default full)
#   SERVER_LOG     taskgate's RUST_LOG                  (default info: the access log is on)
#   PORT           port taskgate listens on             (default: first free port from 18080)
#   BARE_PORT      port the bare server listens on      (default: first free port after PORT)
#   STRICT=1       exit non-zero when a target is missed (correctness failures always do)
#
# See bench/README.md for what each workload is, the targets and the headline figures, and
# bench/RESULTS.md for every measurement.
set -euo pipefail

MODE="${1:-hs256}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
SYNC="${SYNC:-full}"
ROUNDS="${ROUNDS:-2}"
SERVER_LOG="${SERVER_LOG:-info}"
STRICT="${STRICT:-0}"
BENCH_USER="bench-user" # eddsa mode replaces it with the Better Auth user id (the token's sub)
SEED_TASKS=20
FASTAPI_REQS=650 # the old FastAPI design's W-list figure, req/s

BENCH_NAME=bench
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# die, log, stop_pid, port_in_use, target_dir, to_ms and admin_psql (and PG_HOST, PG_PORT, PG_USER,
# PG_ADMIN_DB); its temp dir and cleanup (bench_init) are not used here.
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# --- prerequisites -----------------------------------------------------------------------------
command -v wrk >/dev/null 2>&1 || die "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null 2>&1 || die "curl is not installed; install it with: apt-get install -y curl"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, not '$ROUNDS'"
# Each round runs four workloads (bare and taskgate /healthz, bare /page and W-list); W-create once.
WRK_RUNS=$((4 * ROUNDS + 1))

# --- eddsa mode: Better Auth and PostgreSQL ----------------------------------------------------
INTEROP_DIR="$REPO_DIR/tests/interop"
# PostgreSQL (lib.sh's PG_* settings) must let `postgres` create databases without a password, as
# tests/interop needs.

# --- temp dir and cleanup ----------------------------------------------------------------------
TMP="$(mktemp -d -t taskgate-bench.XXXXXX)"
SERVER_PID=""
BARE_PID=""   # the bare axum server
BA_PID=""     # the Better Auth node process (eddsa)
BA_DB=""      # its throw-away PostgreSQL database (eddsa)
cleanup() {
    local status=$?
    trap - INT TERM
    if [[ -n "$SERVER_PID" ]]; then
        stop_pid "$SERVER_PID"
    fi
    if [[ -n "$BARE_PID" ]]; then
        stop_pid "$BARE_PID"
    fi
    if [[ -n "$BA_PID" ]]; then
        stop_pid "$BA_PID"
    fi
    if [[ -n "$BA_DB" ]]; then
        # WITH (FORCE) ends any connection a killed Better Auth left behind (PostgreSQL 13+).
        admin_psql -c "DROP DATABASE IF EXISTS $BA_DB WITH (FORCE)" >/dev/null 2>&1 ||
            echo "bench: could not drop the PostgreSQL database $BA_DB; drop it by hand" >&2
    fi
    if [[ $status -ne 0 && -s "$TMP/server.log" ]]; then
        echo "bench: last lines of the server log:" >&2
        tail -n 20 "$TMP/server.log" >&2 || true
    fi
    if [[ $status -ne 0 && -s "$TMP/bare.log" ]]; then
        echo "bench: last lines of the bare server's log:" >&2
        tail -n 20 "$TMP/bare.log" >&2 || true
    fi
    if [[ $status -ne 0 && -s "$TMP/ba.log" ]]; then
        echo "bench: last lines of the Better Auth log:" >&2
        tail -n 20 "$TMP/ba.log" >&2 || true
    fi
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ---------------------------------------------------------------------------------------
# Both binaries come from one cargo invocation, so they share the release profile and dependencies.
build_args=()
[[ -n "${TASKGATE_BIN:-}" ]] || build_args+=(--bin taskgate)
[[ -n "${BARE_BIN:-}" ]] || build_args+=(--example bare)
if ((${#build_args[@]} > 0)); then
    log "cargo build --release ${build_args[*]}"
    (cd "$REPO_DIR" && cargo build --release "${build_args[@]}") >&2
    target_dir="$(target_dir)"
fi
BIN="${TASKGATE_BIN:-$target_dir/release/taskgate}"
BARE="${BARE_BIN:-$target_dir/release/examples/bare}"
[[ -x "$BIN" ]] || die "no executable at $BIN"
[[ -x "$BARE" ]] || die "no executable at $BARE"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
BARE="$(cd "$(dirname "$BARE")" && pwd)/$(basename "$BARE")"

# --- port ----------------------------------------------------------------------------------------
if [[ -z "${PORT:-}" ]]; then
    PORT=18080
    while port_in_use "$PORT"; do
        PORT=$((PORT + 1))
        ((PORT < 18180)) || die "no free port in 18080-18179; set PORT"
    done
elif port_in_use "$PORT"; then
    die "port $PORT is already in use"
fi
BASE="http://127.0.0.1:$PORT"
if [[ -z "${BARE_PORT:-}" ]]; then
    BARE_PORT=$((PORT + 1))
    while port_in_use "$BARE_PORT"; do
        BARE_PORT=$((BARE_PORT + 1))
        ((BARE_PORT < PORT + 100)) || die "no free port in $((PORT + 1))-$((PORT + 99)); set BARE_PORT"
    done
elif port_in_use "$BARE_PORT"; then
    die "port $BARE_PORT is already in use"
fi
[[ "$BARE_PORT" != "$PORT" ]] || die "PORT and BARE_PORT must differ"
BARE_BASE="http://127.0.0.1:$BARE_PORT"

# --- environment shared by the server and the token command --------------------------------------
# Both run with $TMP as the working directory so that a .env in the repo cannot leak in.
export TASKGATE_LISTEN="127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$TMP/bench.db"
export TASKGATE_SQLITE_SYNCHRONOUS="$SYNC"
# W-create puts tens of thousands of tasks on one user: lift the per-user cap (default 10,000).
export TASKGATE_MAX_TASKS_PER_USER=100000000
export RUST_LOG=warn # for `taskgate token`, whose stdout is the token; serve gets $SERVER_LOG
unset TASKGATE_JWT_ISSUER TASKGATE_JWT_AUDIENCE TASKGATE_JWT_LEEWAY TASKGATE_JWKS_URL TASKGATE_JWKS_ISSUERS

taskgate() { (cd "$TMP" && "$BIN" "$@"); }

# to_seconds DURATION: wrk's -d value ("10s", "2m", "1h", "30") in whole seconds.
to_seconds() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "m") n *= 60; else if (u == "h") n *= 3600; else if (u != "s" && u != "") { print "NaN"; exit }
        printf "%d", n + 0.999 }'
}

# setup_better_auth: start tests/interop/ba-server.mjs (Better Auth + jwt plugin, EdDSA) on a
# throw-away PostgreSQL database, sign a user up, fetch its access token (GET /api/auth/token),
# and point taskgate at Better Auth's JWKS. Sets TOKEN and BENCH_USER (the token's sub).
setup_better_auth() {
    command -v node >/dev/null 2>&1 || die "node is not installed (eddsa mode needs Node 20+)"
    command -v psql >/dev/null 2>&1 ||
        die "psql is not installed (eddsa mode needs PostgreSQL); install it with: apt-get install -y postgresql-client"
    local node_major
    node_major="$(node -p 'process.versions.node.split(".")[0]')"
    ((node_major >= 20)) || die "eddsa mode needs Node 20+, found $(node --version)"

    if [[ ! -d "$INTEROP_DIR/node_modules" ]]; then
        command -v npm >/dev/null 2>&1 || die "$INTEROP_DIR/node_modules is missing and npm is not installed"
        log "tests/interop/node_modules is missing: running npm ci in tests/interop"
        (cd "$INTEROP_DIR" && npm ci --no-audit --no-fund) >&2 || die "npm ci in tests/interop failed"
    fi

    # A throw-away database, dropped by cleanup (set first, so an interrupted CREATE is dropped too).
    BA_DB="taskgate_bench_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    admin_psql -c "CREATE DATABASE $BA_DB" >/dev/null 2>"$TMP/psql.err" ||
        die "CREATE DATABASE on postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_ADMIN_DB failed: $(head -c 300 "$TMP/psql.err")"
    log "created PostgreSQL database $BA_DB"

    # Better Auth's secret only signs its own cookies here; taskgate never sees it.
    local ba_secret
    ba_secret="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
    (cd "$INTEROP_DIR" &&
        BA_DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$BA_DB" BETTER_AUTH_SECRET="$ba_secret" \
            exec node ba-server.mjs EdDSA) </dev/null >"$TMP/ba.out" 2>"$TMP/ba.log" &
    BA_PID=$!

    local ba_base=""
    for _ in $(seq 1 300); do
        kill -0 "$BA_PID" 2>/dev/null || { cat "$TMP/ba.out" >>"$TMP/ba.log"; die "ba-server.mjs exited during start-up"; }
        ba_base="$(sed -n 's/^{"ready":true,"baseURL":"\([^"]*\)".*/\1/p' "$TMP/ba.out" | head -n 1)"
        [[ -n "$ba_base" ]] && break
        sleep 0.1
    done
    [[ -n "$ba_base" ]] || die "ba-server.mjs printed no ready line within 30 s"
    log "Better Auth (EdDSA) is ready at $ba_base"

    # Sign a user up (a cookie-less POST must carry a trusted Origin; the base URL is one).
    local email code cookie
    email="bench-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')@example.com"
    code="$(curl -s -D "$TMP/signup.headers" -o "$TMP/signup.out" -w '%{http_code}' \
        -X POST "$ba_base/api/auth/sign-up/email" -H "Origin: $ba_base" -H 'Content-Type: application/json' \
        --data "{\"name\":\"bench\",\"email\":\"$email\",\"password\":\"correct horse battery staple\"}")" ||
        die "sign-up request to Better Auth failed"
    [[ "$code" == 200 ]] || die "Better Auth sign-up answered $code: $(head -c 300 "$TMP/signup.out")"
    cookie="$(tr -d '\r' <"$TMP/signup.headers" |
        sed -n 's/^[Ss]et-[Cc]ookie: *\(better-auth\.session_token=[^;]*\).*/\1/p' | head -n 1)"
    [[ -n "$cookie" ]] || die "Better Auth sign-up set no better-auth.session_token cookie"

    code="$(curl -s -o "$TMP/token.out" -w '%{http_code}' "$ba_base/api/auth/token" -H "Cookie: $cookie")" ||
        die "token request to Better Auth failed"
    [[ "$code" == 200 ]] || die "GET /api/auth/token answered $code: $(head -c 300 "$TMP/token.out")"

    # Check the token is what this mode is about, and read sub and the seconds it has left.
    local parsed sub ttl
    parsed="$(node -e '
        const fs = require("fs");
        const [tokenFile, signupFile, base] = process.argv.slice(1);
        const fail = (msg) => { console.error(msg); process.exit(1); };
        const token = JSON.parse(fs.readFileSync(tokenFile, "utf8")).token;
        if (typeof token !== "string" || token.split(".").length !== 3) fail("no JWT in the /api/auth/token answer");
        const seg = (s) => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
        const [header, claims] = token.split(".").slice(0, 2).map(seg);
        const userId = JSON.parse(fs.readFileSync(signupFile, "utf8")).user?.id;
        if (header.alg !== "EdDSA") fail(`token alg is ${header.alg}, not EdDSA`);
        if (claims.sub !== userId) fail(`token sub ${claims.sub} is not the signed-up user ${userId}`);
        if (claims.iss !== base || claims.aud !== base) fail(`token iss/aud ${claims.iss}/${claims.aud}, expected ${base}`);
        if (!/^[A-Za-z0-9_-]+$/.test(claims.sub)) fail(`sub ${claims.sub} is not safe in a URL path`);
        console.log(`${token} ${claims.sub} ${claims.exp - Math.floor(Date.now() / 1000)}`);
    ' "$TMP/token.out" "$TMP/signup.out" "$ba_base" 2>"$TMP/token.err")" ||
        die "Better Auth token check: $(cat "$TMP/token.err")"
    read -r TOKEN sub ttl <<<"$parsed"

    # The token is not refreshed: it must outlive all the wrk runs (plus start-up and checks).
    local d need
    d="$(to_seconds "$DURATION")"
    [[ "$d" != NaN ]] || die "cannot read DURATION=$DURATION"
    need=$((WRK_RUNS * d + 60))
    ((ttl >= need)) || die "the Better Auth token expires in $ttl s, but this run needs about $need s; lower DURATION"

    code="$(curl -s -o "$TMP/jwks.out" -w '%{http_code}' "$ba_base/api/auth/jwks")" || code=none
    [[ "$code" == 200 ]] || die "GET $ba_base/api/auth/jwks answered $code"

    BENCH_USER="$sub"
    log "Better Auth user $BENCH_USER, EdDSA token valid for $ttl s"
    unset BETTER_AUTH_SECRET # JWKS only: the shared secret must not be what verifies the token
    export TASKGATE_JWKS_URL="$ba_base/api/auth/jwks"
    export TASKGATE_JWT_ISSUER="$ba_base"
    export TASKGATE_JWT_AUDIENCE="$ba_base"
}

# setup_auth MODE: export whatever the server needs to verify tokens for MODE, and set TOKEN to a
# bearer token for $BENCH_USER. Runs before the server starts.
setup_auth() {
    case "$1" in
        hs256)
            BETTER_AUTH_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" # 64 chars
            export BETTER_AUTH_SECRET
            TOKEN="$(taskgate token --user "$BENCH_USER" --ttl 3600)" || die "taskgate token failed"
            ;;
        eddsa)
            setup_better_auth
            ;;
        *)
            die "unknown mode '$1' (expected: hs256 or eddsa)"
            ;;
    esac
    [[ -n "$TOKEN" ]] || die "empty token for mode $1"
    export TOKEN # read by bench/list.lua and bench/create.lua
}

setup_auth "$MODE"
TASKS_URL="$BASE/api/$BENCH_USER/tasks"

# --- start the server ----------------------------------------------------------------------------
# As in production, the log goes to a file (not a terminal, so no ANSI colours) at $SERVER_LOG,
# by default info: every request writes its access-log line while it is measured.
(cd "$TMP" && RUST_LOG="$SERVER_LOG" exec "$BIN" serve) </dev/null >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
    code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.1
done
[[ "${code:-}" == 200 ]] || die "GET /healthz did not answer 200 within 30 s (last: ${code:-none})"

# --- seed and verify -----------------------------------------------------------------------------
auth_header="Authorization: Bearer $TOKEN"
for i in $(seq 1 "$SEED_TASKS"); do
    code="$(curl -s -o "$TMP/seed.out" -w '%{http_code}' -X POST "$TASKS_URL" \
        -H "$auth_header" -H 'Content-Type: application/json' \
        --data "{\"title\":\"task $i\",\"description\":\"seeded task number $i for W-list\"}")"
    [[ "$code" == 201 ]] || die "seeding task $i: POST answered $code: $(head -c 300 "$TMP/seed.out")"
done

# count_tasks: echo the number of tasks in one GET of the list (the default page, 100).
count_tasks() {
    local code
    code="$(curl -s -o "$TMP/list.out" -w '%{http_code}' "$TASKS_URL" -H "$auth_header")"
    [[ "$code" == 200 ]] || die "GET $TASKS_URL answered $code: $(head -c 300 "$TMP/list.out")"
    grep -o '"id":' "$TMP/list.out" | wc -l
}
# total_tasks: echo X-Total-Count.
total_tasks() {
    curl -s -D - -o /dev/null "$TASKS_URL" -H "$auth_header" |
        tr -d '\r' | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }'
}
listed="$(count_tasks)"
[[ "$listed" -eq "$SEED_TASKS" ]] || die "W-list check: expected $SEED_TASKS tasks, the list has $listed"
log "seeded $SEED_TASKS tasks; GET /api/$BENCH_USER/tasks returns $listed"

# --- the access log is on --------------------------------------------------------------------------
# The comparison with the bare server is about taskgate as deployed, access log included: check
# that a request really writes a line naming its request id (waiting, in case the writer buffers).
log_probe="bench-log-probe-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
curl -s -o /dev/null -H "X-Request-Id: $log_probe" "$BASE/healthz" || die "GET /healthz failed"
access_logged=no
for _ in $(seq 1 50); do
    grep -q "$log_probe" "$TMP/server.log" && { access_logged=yes; break; }
    sleep 0.1
done
if [[ "$access_logged" == no && "$SERVER_LOG" == info ]]; then
    die "taskgate wrote no log line for a request (request id $log_probe) with RUST_LOG=info"
fi
log "taskgate access log (RUST_LOG=$SERVER_LOG): $( [[ $access_logged == yes ]] && echo on || echo off), to $TMP/server.log"

# --- the bare server, answering exactly W-list's body size -------------------------------------------
# response_bytes URL [curl args...]: echo "BODY HEADERS STATUS" for one GET, in bytes.
response_bytes() {
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{size_download} %{size_header} %{http_code}\n' "$@" "$url" ||
        die "GET $url failed"
}
read -r LIST_BYTES LIST_HEADER_BYTES code < <(response_bytes "$TASKS_URL" -H "$auth_header")
[[ "$code" == 200 ]] || die "GET $TASKS_URL answered $code"
read -r HEALTH_BYTES HEALTH_HEADER_BYTES code < <(response_bytes "$BASE/healthz")
[[ "$code" == 200 ]] || die "GET $BASE/healthz answered $code"

(cd "$TMP" && BARE_PAGE_BYTES="$LIST_BYTES" exec "$BARE" "127.0.0.1:$BARE_PORT") \
    </dev/null >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
for _ in $(seq 1 300); do
    kill -0 "$BARE_PID" 2>/dev/null || die "the bare server exited during start-up"
    code="$(curl -s -o /dev/null -w '%{http_code}' "$BARE_BASE/healthz" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.1
done
[[ "${code:-}" == 200 ]] || die "the bare server's /healthz did not answer 200 within 30 s (last: ${code:-none})"

# The pairs must do equal work on the wire: same bodies (byte for byte for /healthz, same size for
# the page). The headers differ, and that difference is part of what the middleware costs.
read -r BARE_PAGE_BYTES BARE_PAGE_HEADER_BYTES code < <(response_bytes "$BARE_BASE/page")
[[ "$code" == 200 ]] || die "the bare server's /page answered $code"
((BARE_PAGE_BYTES == LIST_BYTES)) ||
    die "the bare server's page is $BARE_PAGE_BYTES bytes, W-list's is $LIST_BYTES"
read -r _ BARE_HEALTH_HEADER_BYTES _ < <(response_bytes "$BARE_BASE/healthz")
[[ "$(curl -s "$BARE_BASE/healthz")" == "$(curl -s "$BASE/healthz")" ]] ||
    die "the bare server's /healthz body differs from taskgate's"
log "bare server on $BARE_BASE: /page is $BARE_PAGE_BYTES bytes, as W-list; /healthz $HEALTH_BYTES bytes, as taskgate's"

# --- wrk -----------------------------------------------------------------------------------------
declare -A RPS P50 P99 REQS
run_wrk() { # run_wrk NAME URL [wrk args...]
    local name="$1" url="$2" out="$TMP/wrk-$1.txt"
    shift 2
    log "wrk $name: -t$THREADS -c$CONNECTIONS -d$DURATION $url"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed for $name"; }
    sed 's/^/    /' "$out" >&2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        die "$name: wrk saw error responses ($(grep 'Non-2xx or 3xx responses' "$out" | xargs))"
    fi
    if grep -q 'Socket errors' "$out"; then
        die "$name: wrk saw socket errors ($(grep 'Socket errors' "$out" | xargs))"
    fi
    RPS[$name]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")"
    P50[$name]="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")" 3)"
    P99[$name]="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")" 3)"
    REQS[$name]="$(awk '/requests in/ { print $1 }' "$out")"
    [[ -n "${RPS[$name]}" && "${P50[$name]}" != NaN && "${P99[$name]}" != NaN ]] ||
        die "$name: could not parse the wrk output"
}

# The four workloads compared with the bare server. All send the same wrk parameters; the page
# workloads send the same bearer token (list.lua) so the requests differ only in their path.
wl_bare_healthz() { run_wrk "bare-healthz.$1" "$BARE_BASE/healthz"; }
wl_floor() { run_wrk "floor.$1" "$BASE/healthz"; }
wl_bare_page() { run_wrk "bare-page.$1" "$BARE_BASE/page" -s "$BENCH_DIR/list.lua"; }
wl_list() { run_wrk "W-list.$1" "$TASKS_URL" -s "$BENCH_DIR/list.lua"; }

# Each pair runs back to back, and the order inside a pair alternates from round to round, so a
# drift of this shared VM's speed during the run does not favour one side.
for round in $(seq 1 "$ROUNDS"); do
    if ((round % 2 == 1)); then
        wl_bare_healthz "$round"
        wl_floor "$round"
        wl_bare_page "$round"
        wl_list "$round"
    else
        wl_floor "$round"
        wl_bare_healthz "$round"
        wl_list "$round"
        wl_bare_page "$round"
    fi
done
listed="$(count_tasks)"
[[ "$listed" -eq "$SEED_TASKS" ]] || die "after W-list the list has $listed tasks, not $SEED_TASKS"

# Over the rounds: req/s is the mean (every run lasts DURATION), latencies the worst round's.
for w in bare-healthz floor bare-page W-list; do
    RPS[$w]=0
    P50[$w]=0
    P99[$w]=0
    for round in $(seq 1 "$ROUNDS"); do
        RPS[$w]=$((${RPS[$w]} + ${RPS[$w.$round]}))
        P50[$w]="$(awk -v a="${P50[$w]}" -v b="${P50[$w.$round]}" 'BEGIN { printf "%.3f", (b > a ? b : a) }')"
        P99[$w]="$(awk -v a="${P99[$w]}" -v b="${P99[$w.$round]}" 'BEGIN { printf "%.3f", (b > a ? b : a) }')"
    done
    RPS[$w]=$(((${RPS[$w]} + ROUNDS / 2) / ROUNDS))
done

run_wrk W-create "$TASKS_URL" -s "$BENCH_DIR/create.lua"
total="$(total_tasks)"
created=$((total - SEED_TASKS))
((created >= ${REQS[W-create]})) ||
    die "W-create: wrk counted ${REQS[W-create]} requests but only $created tasks were stored"

# --- peak RSS, then the report ---------------------------------------------------------------------
hwm_kb="$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")"
rss_mb="$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
log_mb="$(awk -v b="$(stat -c %s "$TMP/server.log")" 'BEGIN { printf "%.1f", b / 1048576 }')"

percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
pct_floor="$(percent "${RPS[W-list]}" "${RPS[floor]}")"
x_fastapi="$(awk -v a="${RPS[W-list]}" -v b="$FASTAPI_REQS" 'BEGIN { printf "%.1f", a / b }')"
pct_bare_health="$(percent "${RPS[floor]}" "${RPS[bare-healthz]}")"
pct_bare_page="$(percent "${RPS[W-list]}" "${RPS[bare-page]}")"
tg_p99="$(awk -v a="${P99[floor]}" -v b="${P99[W-list]}" 'BEGIN { printf "%.3f", (b > a ? b : a) }')"

verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
v_bare_health="$(verdict "$pct_bare_health >= 80")"
v_bare_page="$(verdict "$pct_bare_page >= 70")"
v_tg_p99="$(verdict "$tg_p99 <= 3")"
v_pct="$(verdict "$pct_floor >= 40")"
v_list="$(verdict "${RPS[W-list]} >= 32500")"
v_lp99="$(verdict "${P99[W-list]} < 5")"
v_create="$(verdict "${RPS[W-create]} >= 5000")"
v_rss="$(verdict "$rss_mb < 40")"
MISSED=0
for v in "$v_bare_health" "$v_bare_page" "$v_tg_p99" "$v_pct" "$v_list" "$v_lp99" "$v_create" "$v_rss"; do
    [[ "$v" == PASS ]] || MISSED=1
done

commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
echo
echo "taskgate bench: mode=$MODE synchronous=$SYNC wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS round(s)"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), server and wrk on one machine, commit $commit"
echo "taskgate log: RUST_LOG=$SERVER_LOG, format ${TASKGATE_LOG_FORMAT:-text}, to a file ($log_mb MB written)"
echo
row() { printf '| %-13s | %-5s | %9s | %9s | %9s | %15s |\n' "$@"; }
bytes() { echo "$(($1 + $2)) ($2)"; } # bytes HEADERS BODY
row workload round "req/s" "p50 (ms)" "p99 (ms)" "bytes (body)"
printf '|%s|%s|%s|%s|%s|%s|\n' --------------- ------- ----------- ----------- ----------- -----------------
for w in bare-healthz floor bare-page W-list; do
    case "$w" in
        bare-healthz) b="$(bytes "$BARE_HEALTH_HEADER_BYTES" "$HEALTH_BYTES")" ;;
        floor) b="$(bytes "$HEALTH_HEADER_BYTES" "$HEALTH_BYTES")" ;;
        bare-page) b="$(bytes "$BARE_PAGE_HEADER_BYTES" "$BARE_PAGE_BYTES")" ;;
        W-list) b="$(bytes "$LIST_HEADER_BYTES" "$LIST_BYTES")" ;;
    esac
    if ((ROUNDS > 1)); then
        for round in $(seq 1 "$ROUNDS"); do
            row "$w" "$round" "${RPS[$w.$round]}" "${P50[$w.$round]}" "${P99[$w.$round]}" "$b"
        done
        row "$w" "all" "${RPS[$w]}" "${P50[$w]}" "${P99[$w]}" "$b"
    else
        row "$w" 1 "${RPS[$w]}" "${P50[$w]}" "${P99[$w]}" "$b"
    fi
done
row W-create 1 "${RPS[W-create]}" "${P50[W-create]}" "${P99[W-create]}" ""
echo "(floor is taskgate's /healthz; 'all' rows: mean req/s, worst round's p50/p99; bytes: one response, headers included)"
echo
line() { printf '%-34s %-14s %-36s %s\n' "$@"; }
line "taskgate /healthz / bare /healthz:" "$pct_bare_health %" "(target >= 80 %)" "$v_bare_health"
line "W-list / bare /page ($LIST_BYTES B):" "$pct_bare_page %" "(target >= 70 %)" "$v_bare_page"
line "taskgate p99 (/healthz, W-list):" "$tg_p99 ms" "(target <= 3 ms at -c$CONNECTIONS)" "$v_tg_p99"
line "W-list / floor:" "$pct_floor %" "(target >= 40 %)" "$v_pct"
line "W-list / $FASTAPI_REQS req/s:" "${x_fastapi}x" "(target >= 50x = 32,500 req/s)" "$v_list"
line "W-list p99:" "${P99[W-list]} ms" "(target < 5 ms)" "$v_lp99"
line "W-create (sync=$SYNC):" "${RPS[W-create]} req/s" "(target >= 5,000 req/s with full)" "$v_create"
line "server peak RSS (VmHWM):" "$rss_mb MB" "(target < 40 MB)" "$v_rss"
if ((ROUNDS > 1)); then
    # The spread of the per-round ratios shows how much this run's figures moved with the VM.
    for round in $(seq 1 "$ROUNDS"); do
        echo "round $round: /healthz $(percent "${RPS[floor.$round]}" "${RPS[bare-healthz.$round]}") %," \
            "W-list $(percent "${RPS[W-list.$round]}" "${RPS[bare-page.$round]}") % of bare"
    done
fi
if [[ "$SERVER_LOG" != info ]]; then
    echo "note: the bare-server targets are defined with taskgate's access log on (RUST_LOG=info)"
fi
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
