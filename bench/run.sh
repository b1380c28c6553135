#!/usr/bin/env bash
# Load benchmark for taskgate: the /healthz floor, W-list and W-create, measured with wrk.
#
#   bench/run.sh [hs256]        # the default mode: HS256 tokens signed with BETTER_AUTH_SECRET
#   bench/run.sh eddsa          # an EdDSA token from a real Better Auth server (tests/interop),
#                               # verified through its JWKS; needs node 20+ and PostgreSQL
#
# Environment knobs (all optional):
#   TASKGATE_BIN   use this binary instead of running `cargo build --release`
#   DURATION       wrk duration per workload            (default 10s)
#   THREADS        wrk threads                          (default 2)
#   CONNECTIONS    wrk connections                      (default 32)
#   SYNC           TASKGATE_SQLITE_SYNCHRONOUS          (default full)
#   PORT           port to listen on                    (default: first free port from 18080)
#   STRICT=1       exit non-zero when a target is missed (correctness failures always do)
#
# See bench/README.md for what each workload is and the targets.
set -euo pipefail

MODE="${1:-hs256}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
SYNC="${SYNC:-full}"
STRICT="${STRICT:-0}"
BENCH_USER="bench-user" # eddsa mode replaces it with the Better Auth user id (the token's sub)
SEED_TASKS=20
FASTAPI_REQS=650 # the old FastAPI design's W-list figure, req/s

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

die() {
    echo "bench: FAIL: $*" >&2
    exit 1
}
log() { echo "bench: $*" >&2; }

# --- prerequisites -----------------------------------------------------------------------------
command -v wrk >/dev/null 2>&1 || die "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null 2>&1 || die "curl is not installed; install it with: apt-get install -y curl"

# --- eddsa mode: Better Auth and PostgreSQL ----------------------------------------------------
INTEROP_DIR="$REPO_DIR/tests/interop"
# PostgreSQL that lets `postgres` create databases without a password (as tests/interop needs);
# PG_ADMIN_DB is only connected to for CREATE/DROP DATABASE.
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
PG_ADMIN_DB=test
admin_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_ADMIN_DB" "$@"; }

# --- temp dir and cleanup ----------------------------------------------------------------------
TMP="$(mktemp -d -t taskgate-bench.XXXXXX)"
SERVER_PID=""
BA_PID=""     # the Better Auth node process (eddsa)
BA_DB=""      # its throw-away PostgreSQL database (eddsa)
# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 5 s; reaps it.
stop_pid() {
    kill -0 "$1" 2>/dev/null || return 0
    kill "$1" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local status=$?
    trap - INT TERM
    if [[ -n "$SERVER_PID" ]]; then
        stop_pid "$SERVER_PID"
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
if [[ -n "${TASKGATE_BIN:-}" ]]; then
    BIN="$TASKGATE_BIN"
else
    log "cargo build --release"
    (cd "$REPO_DIR" && cargo build --release) >&2
    BIN="$REPO_DIR/target/release/taskgate"
fi
[[ -x "$BIN" ]] || die "no executable at $BIN"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

# --- port ----------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
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

# --- environment shared by the server and the token command --------------------------------------
# Both run with $TMP as the working directory so that a .env in the repo cannot leak in.
export TASKGATE_LISTEN="127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$TMP/bench.db"
export TASKGATE_SQLITE_SYNCHRONOUS="$SYNC"
export RUST_LOG=warn
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

    # The token is not refreshed: it must outlive the three wrk runs (plus start-up and checks).
    local d need
    d="$(to_seconds "$DURATION")"
    [[ "$d" != NaN ]] || die "cannot read DURATION=$DURATION"
    need=$((3 * d + 60))
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
(cd "$TMP" && exec "$BIN" serve) >"$TMP/server.log" 2>&1 &
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

# --- wrk -----------------------------------------------------------------------------------------
# to_ms VALUE: wrk's latency ("812.00us", "1.23ms", "2.01s", "1.00m") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        else if (u == "h") n *= 3600000; else if (u != "ms") { print "NaN"; exit }
        printf "%.3f", n }'
}

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
    P50[$name]="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
    P99[$name]="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
    REQS[$name]="$(awk '/requests in/ { print $1 }' "$out")"
    [[ -n "${RPS[$name]}" && "${P50[$name]}" != NaN && "${P99[$name]}" != NaN ]] ||
        die "$name: could not parse the wrk output"
}

run_wrk floor "$BASE/healthz"
run_wrk W-list "$TASKS_URL" -s "$BENCH_DIR/list.lua"
listed="$(count_tasks)"
[[ "$listed" -eq "$SEED_TASKS" ]] || die "after W-list the list has $listed tasks, not $SEED_TASKS"
run_wrk W-create "$TASKS_URL" -s "$BENCH_DIR/create.lua"
total="$(total_tasks)"
created=$((total - SEED_TASKS))
((created >= ${REQS[W-create]})) ||
    die "W-create: wrk counted ${REQS[W-create]} requests but only $created tasks were stored"

# --- peak RSS, then the report ---------------------------------------------------------------------
hwm_kb="$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")"
rss_mb="$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"

pct_floor="$(awk -v a="${RPS[W-list]}" -v b="${RPS[floor]}" 'BEGIN { printf "%.1f", 100 * a / b }')"
x_fastapi="$(awk -v a="${RPS[W-list]}" -v b="$FASTAPI_REQS" 'BEGIN { printf "%.1f", a / b }')"

verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
v_pct="$(verdict "$pct_floor >= 40")"
v_list="$(verdict "${RPS[W-list]} >= 32500")"
v_lp99="$(verdict "${P99[W-list]} < 5")"
v_create="$(verdict "${RPS[W-create]} >= 5000")"
v_rss="$(verdict "$rss_mb < 40")"
MISSED=0
for v in "$v_pct" "$v_list" "$v_lp99" "$v_create" "$v_rss"; do [[ "$v" == PASS ]] || MISSED=1; done

commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
echo
echo "taskgate bench: mode=$MODE synchronous=$SYNC wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), server and wrk on one machine, commit $commit"
echo
printf '| %-9s | %9s | %9s | %9s |\n' workload "req/s" "p50 (ms)" "p99 (ms)"
printf '|%s|%s|%s|%s|\n' ----------- ----------- ----------- -----------
for w in floor W-list W-create; do
    printf '| %-9s | %9s | %9s | %9s |\n' "$w" "${RPS[$w]}" "${P50[$w]}" "${P99[$w]}"
done
echo
line() { printf '%-26s %-14s %-34s %s\n' "$@"; }
line "W-list / floor:" "$pct_floor %" "(target >= 40 %)" "$v_pct"
line "W-list / $FASTAPI_REQS req/s:" "${x_fastapi}x" "(target >= 50x = 32,500 req/s)" "$v_list"
line "W-list p99:" "${P99[W-list]} ms" "(target < 5 ms)" "$v_lp99"
line "W-create (sync=$SYNC):" "${RPS[W-create]} req/s" "(target >= 5,000 req/s with full)" "$v_create"
line "server peak RSS (VmHWM):" "$rss_mb MB" "(target < 40 MB)" "$v_rss"
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
