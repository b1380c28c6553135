# shellcheck shell=bash
# Shared by bench/mixed.sh, bench/postgres.sh and bench/run.sh (sourced, not run): the temp dir and its cleanup,
# ports, the taskgate binary, throw-away PostgreSQL databases, servers (taskgate on SQLite or
# PostgreSQL, the original FastAPI design), tokens, seeding and wrk parsing.
#
# The sourcing script sets BENCH_NAME (its name in messages) and BENCH_DIR before sourcing, and
# calls bench_init after its knobs are read.

die() {
    echo "$BENCH_NAME: FAIL: $*" >&2
    exit 1
}
log() { echo "$BENCH_NAME: $*" >&2; }

REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
VENV="$BENCH_DIR/.venv"

# PostgreSQL that lets `postgres` create databases without a password; PG_ADMIN_DB is only
# connected to for CREATE/DROP DATABASE.
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PG_ADMIN_DB="${PG_ADMIN_DB:-test}"
admin_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_ADMIN_DB" "$@"; }
db_psql() { # db_psql DB [psql args...]
    local db="$1"
    shift
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$db" "$@"
}

# --- temp dir, servers and databases, cleaned up on exit -----------------------------------------
TMP=""
SERVER_PIDS=() # every server this run started
SERVER_LOG_FILES=() # and its log, same index
DATABASES=()   # every PostgreSQL database this run created
BG_PIDS=()     # wrk and samplers running in the background (removed once waited for)

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

# stop_servers: stop every server started so far (between targets, and at exit).
stop_servers() {
    local i
    for i in "${!SERVER_PIDS[@]}"; do
        stop_pid "${SERVER_PIDS[$i]}"
    done
    SERVER_PIDS=()
    SERVER_LOG_FILES=()
}

drop_databases() {
    local db
    for db in "${DATABASES[@]}"; do
        # WITH (FORCE) ends any connection a killed server left behind (PostgreSQL 13+).
        admin_psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
            echo "$BENCH_NAME: could not drop the PostgreSQL database $db; drop it by hand" >&2
    done
    DATABASES=()
}

# show_error_answers: the servers' log lines of answers that were not 2xx (first ones, and a count
# per status), to say why a run saw non-2xx.
show_error_answers() {
    local f
    for f in "${SERVER_LOG_FILES[@]}"; do
        grep -E 'status=[45][0-9][0-9]|WARN|ERROR' "$f" >"$TMP/errors.txt" || continue
        echo "$BENCH_NAME: ${f##*/}: $(grep -oE 'status=[45][0-9][0-9]' "$TMP/errors.txt" | sort | uniq -c | xargs) ; first lines:" >&2
        head -n 5 "$TMP/errors.txt" >&2
    done
}

# bg_started PID / bg_waited PID: track background processes (wrk, samplers), so a failure stops
# them too.
bg_started() { BG_PIDS+=("$1"); }
bg_waited() {
    local i
    for i in "${!BG_PIDS[@]}"; do
        [[ "${BG_PIDS[$i]}" != "$1" ]] || unset 'BG_PIDS[i]'
    done
}

bench_cleanup() {
    local status=$? i
    trap - INT TERM
    for i in "${BG_PIDS[@]}"; do
        stop_pid "$i"
    done
    if [[ $status -ne 0 ]]; then
        show_error_answers
        for i in "${!SERVER_LOG_FILES[@]}"; do
            if [[ -s "${SERVER_LOG_FILES[$i]}" ]]; then
                echo "$BENCH_NAME: last lines of ${SERVER_LOG_FILES[$i]##*/}:" >&2
                tail -n 15 "${SERVER_LOG_FILES[$i]}" >&2 || true
            fi
        done
    fi
    stop_servers
    drop_databases
    if [[ -n "$TMP" && "${KEEP_TMP:-0}" == 1 ]]; then
        echo "$BENCH_NAME: KEEP_TMP=1: logs, wrk output and seed files kept in $TMP" >&2
    elif [[ -n "$TMP" ]]; then
        rm -rf "$TMP"
    fi
    exit "$status"
}

# bench_init: make the temp dir and install the traps.
bench_init() {
    TMP="$(mktemp -d -t "taskgate-$BENCH_NAME.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# create_database: create a throw-away database, dropped at exit; sets CREATED_DB to its name.
# (Not echoed: `$(create_database)` would run in a subshell and lose DATABASES.)
create_database() {
    local db
    db="taskgate_bench_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    DATABASES+=("$db") # first, so an interrupted CREATE is dropped too
    admin_psql -c "CREATE DATABASE $db" >/dev/null 2>"$TMP/psql.err" ||
        die "CREATE DATABASE on postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_ADMIN_DB failed: $(head -c 300 "$TMP/psql.err")"
    # shellcheck disable=SC2034 # read by the sourcing script
    CREATED_DB="$db"
}

require_postgres() {
    command -v psql >/dev/null 2>&1 ||
        die "psql is not installed (PostgreSQL targets need it); install it with: apt-get install -y postgresql-client"
    admin_psql -c 'SELECT 1' >/dev/null 2>"$TMP/psql.err" ||
        die "cannot reach PostgreSQL as postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_ADMIN_DB: $(head -c 300 "$TMP/psql.err")"
}

# --- the taskgate binary ---------------------------------------------------------------------------
# target_dir: cargo's target directory (CARGO_TARGET_DIR or a cargo config may move target/).
target_dir() {
    local dir
    dir="$(cd "$REPO_DIR" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    [[ -n "$dir" ]] || die "cannot read the target directory from cargo metadata"
    echo "$dir"
}

# find_taskgate: set BIN to $TASKGATE_BIN, or build it with `cargo build --release --bin taskgate`.
find_taskgate() {
    if [[ -z "${TASKGATE_BIN:-}" ]]; then
        log "cargo build --release --locked --bin taskgate"
        (cd "$REPO_DIR" && cargo build --release --locked --bin taskgate) >&2
        BIN="$(target_dir)/release/taskgate"
    else
        BIN="$TASKGATE_BIN"
    fi
    # taskgate warns about every TASKGATE_ variable it does not know.
    unset TASKGATE_BIN
    [[ -x "$BIN" ]] || die "no executable at $BIN"
    BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
}

# find_loadgen: set LOADGEN to bench/loadgen.rs built in release mode (or to $LOADGEN_BIN).
find_loadgen() {
    if [[ -z "${LOADGEN_BIN:-}" ]]; then
        log "cargo build --release --locked --example loadgen"
        (cd "$REPO_DIR" && cargo build --release --locked --example loadgen) >&2
        LOADGEN="$(target_dir)/release/examples/loadgen"
    else
        LOADGEN="$LOADGEN_BIN"
    fi
    [[ -x "$LOADGEN" ]] || die "no executable at $LOADGEN"
}

# find_original: make sure bench/.venv holds the original design's stack (bench/original/setup.sh).
find_original() {
    if [[ ! -x "$VENV/bin/uvicorn" ]]; then
        log "bench/.venv is missing: running bench/original/setup.sh (needs PyPI)"
        "$BENCH_DIR/original/setup.sh" || die "bench/original/setup.sh failed"
    fi
}

# --- ports -----------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT="${PORT:-18080}"
# free_port: set FREE_PORT to the first free port from NEXT_PORT on, and move NEXT_PORT past it.
free_port() {
    local limit=$((NEXT_PORT + 200))
    while port_in_use "$NEXT_PORT"; do
        NEXT_PORT=$((NEXT_PORT + 1))
        ((NEXT_PORT < limit)) || die "no free port below $limit; set PORT"
    done
    FREE_PORT="$NEXT_PORT"
    NEXT_PORT=$((NEXT_PORT + 1))
}

# wait_healthy NAME PID URL: wait up to 30 s for URL to answer 200 while PID lives.
wait_healthy() {
    local name="$1" pid="$2" url="$3" code=""
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
        code="$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)"
        [[ "$code" == 200 ]] && return 0
        sleep 0.1
    done
    die "$name: GET $url did not answer 200 within 30 s (last: ${code:-none})"
}

# --- servers ---------------------------------------------------------------------------------------
# Servers run with $TMP as the working directory, so that a .env in the repo cannot leak in.
# start_taskgate NAME DATABASE_URL: start taskgate on a free port; sets SERVER_BASE, and with
# METRICS=1 METRICS_BASE (its Prometheus listener, on another free port; else empty).
start_taskgate() {
    local name="$1" url="$2" pid port extra_env=()
    free_port
    port="$FREE_PORT"
    METRICS_BASE=""
    if [[ "${METRICS:-0}" == 1 ]]; then
        free_port
        # shellcheck disable=SC2034 # read by the sourcing script
        METRICS_BASE="http://127.0.0.1:$FREE_PORT"
        extra_env+=("TASKGATE_METRICS_LISTEN=127.0.0.1:$FREE_PORT")
    fi
    (cd "$TMP" && exec env TASKGATE_LISTEN="127.0.0.1:$port" DATABASE_URL="$url" RUST_LOG="$SERVER_LOG" \
        "${extra_env[@]}" "$BIN" serve) </dev/null >"$TMP/$name.log" 2>&1 &
    pid=$!
    SERVER_PIDS+=("$pid")
    SERVER_LOG_FILES+=("$TMP/$name.log")
    SERVER_BASE="http://127.0.0.1:$port"
    wait_healthy "$name" "$pid" "$SERVER_BASE/healthz"
    log "$name is up at $SERVER_BASE (pid $pid)"
}

# start_original NAME DB: start the original design (uvicorn, ORIGINAL_WORKERS workers) on database
# DB; sets SERVER_BASE.
start_original() {
    local name="$1" db="$2" pid url
    url="postgresql+psycopg://$PG_USER@$PG_HOST:$PG_PORT/$db"
    free_port
    # The tables first, once: several workers starting on an empty database would race to make them.
    (cd "$BENCH_DIR/original" && DATABASE_URL="$url" exec "$VENV/bin/python" app.py) </dev/null \
        >"$TMP/$name-tables.log" 2>&1 || die "$name: creating the tables failed: $(tail -n 5 "$TMP/$name-tables.log")"
    (cd "$BENCH_DIR/original" &&
        DATABASE_URL="$url" \
            exec "$VENV/bin/uvicorn" app:app --host 127.0.0.1 --port "$FREE_PORT" \
            --workers "$ORIGINAL_WORKERS") </dev/null >"$TMP/$name.log" 2>&1 &
    pid=$!
    SERVER_PIDS+=("$pid")
    SERVER_LOG_FILES+=("$TMP/$name.log")
    SERVER_BASE="http://127.0.0.1:$FREE_PORT"
    wait_healthy "$name" "$pid" "$SERVER_BASE/health"
    log "$name is up at $SERVER_BASE (pid $pid, $ORIGINAL_WORKERS uvicorn worker(s))"
}

# --- tokens and seeding ----------------------------------------------------------------------------
# mint_tokens COUNT FILE: write "USER TOKEN" lines for users u1..uCOUNT, HS256 with BETTER_AUTH_SECRET
# (the same tokens work on taskgate and on the original).
mint_tokens() {
    local count="$1" file="$2"
    # shellcheck disable=SC2016 # $1 and $BIN expand in the child shell
    seq 1 "$count" | xargs -P 4 -I{} sh -c 'cd "$2" && printf "u%s %s\n" "$1" "$("$3" token --user "u$1" --ttl "$4")"' \
        _ {} "$TMP" "$BIN" "$TOKEN_TTL" >"$file" || die "taskgate token failed"
    [[ "$(awk 'NF == 2' "$file" | wc -l)" -eq "$count" ]] || die "minted $(wc -l <"$file") tokens, expected $count"
}

# seed_one BASE TASKS USER TOKEN: create TASKS tasks for USER in one curl (one connection), and
# print "USER TOKEN ID..."; exits non-zero unless every create answered 201.
seed_one() {
    local base="$1" tasks="$2" user="$3" token="$4" urls=() out ids
    for _ in $(seq 1 "$tasks"); do urls+=("$base/api/$user/tasks"); done
    out="$(curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data '{"title":"seeded task","description":"seeded for the mixed workload"}' \
        -w '\n@status %{http_code}\n' "${urls[@]}")" || { echo "seeding $user: curl failed" >&2; return 1; }
    if [[ "$(grep -c '^@status 201$' <<<"$out")" -ne "$tasks" ]]; then
        echo "seeding $user: not every create answered 201: $(grep -v '^@status 201$' <<<"$out" | head -c 300)" >&2
        return 1
    fi
    # taskgate's ids are quoted UUIDs, the original's are integers.
    ids="$(grep -o '"id":"\?[0-9a-fA-F-]*' <<<"$out" | sed 's/^"id":"\?//' | tr '\n' ' ')"
    echo "$user $token $ids"
}
export -f seed_one

# seed BASE TOKENS_FILE USERS_FILE: give every user SEED_TASKS tasks through the API, SEED_JOBS
# users at a time, and write the users file mixed.lua reads.
seed() {
    local base="$1" tokens="$2" users="$3"
    # shellcheck disable=SC2016 # expanded by the child bash
    xargs -P "$SEED_JOBS" -L 1 bash -c 'seed_one "$0" "$1" "$2" "$3"' "$base" "$SEED_TASKS" \
        <"$tokens" >"$users" 2>"$TMP/seed.err" ||
        die "seeding through $base failed: $(head -c 500 "$TMP/seed.err")"
    local bad
    bad="$(awk -v n="$SEED_TASKS" 'NF != n + 2' "$users" | wc -l)"
    [[ "$bad" -eq 0 && "$(wc -l <"$users")" -eq "$(wc -l <"$tokens")" ]] ||
        die "seeding through $base: $bad users have not $SEED_TASKS task ids"
}

# --- counts, for the correctness checks ------------------------------------------------------------
# taskgate_totals BASE TOKENS_FILE OUT: write "USER X-Total-Count" for every user, one curl with
# one connection for all of them.
taskgate_totals() {
    local base="$1" tokens="$2" out="$3" user token sep=""
    while read -r user token; do
        # `next` separates the requests' options; after the last it would make curl want a URL.
        printf '%surl = "%s/api/%s/tasks?limit=1"\nheader = "Authorization: Bearer %s"\n' "$sep" "$base" "$user" "$token"
        printf 'output = "/dev/null"\nwrite-out = "%s %%{http_code} %%header{x-total-count}\\n"\n' "$user"
        sep=$'next\n'
    done <"$tokens" >"$TMP/totals.curl"
    curl -s -K "$TMP/totals.curl" >"$out.raw" || die "reading X-Total-Count through $base failed"
    awk '$2 != 200 { bad = bad " " $1 ":" $2 } END { if (bad != "") { print "not 200:" bad; exit 1 } }' \
        "$out.raw" >&2 || die "reading X-Total-Count through $base: some lists did not answer 200"
    awk '{ print $1, $3 }' "$out.raw" >"$out"
}

# original_totals DB OUT: write "USER COUNT" for every user from the original's table.
original_totals() {
    db_psql "$1" -F ' ' -c 'SELECT user_id, count(*) FROM tasks GROUP BY user_id' >"$2" ||
        die "counting the original's tasks failed"
}

# check_totals NAME EXPECTED ACTUAL SLACK: no user may have fewer tasks than expected (a create
# answered 201 and lost), and at most SLACK more in all: when wrk stops it drops the requests still
# in flight, at most one per connection, and the server may complete them unseen. Then EXPECTED
# becomes ACTUAL, so the next run starts from what the server really holds. Sets SURPLUS.
check_totals() {
    local name="$1" expected="$2" actual="$3" slack="$4" wrong
    wrong="$(awk -v slack="$slack" 'NR == FNR { want[$1] = $2; next } { got[$1] = $2 }
        END {
            for (u in want) {
                if (!(u in got) || got[u] < want[u]) { n++; if (n <= 5) printf " %s: expected %s, found %s;", u, want[u], (u in got ? got[u] : "none") }
                else surplus += got[u] - want[u]
            }
            for (u in got) if (!(u in want)) { n++; if (n <= 5) printf " %s: unexpected user;", u }
            if (n) printf " (%d users with lost or unexpected tasks)", n
            else if (surplus > slack) printf " %d more tasks than creates answered 201, more than the %d requests wrk can leave in flight", surplus, slack
        }' "$expected" "$actual")"
    [[ -z "$wrong" ]] || die "$name: task counts are wrong after the run:$wrong"
    # shellcheck disable=SC2034 # read by the sourcing script
    SURPLUS="$(awk 'NR == FNR { want[$1] = $2; next } { s += $2 - want[$1] } END { print s + 0 }' "$expected" "$actual")"
    cp "$actual" "$expected"
}

# add_created EXPECTED COUNTS: add the 201s mixed.lua counted per user to the expected totals.
add_created() {
    local expected="$1" counts="$2"
    awk 'NR == FNR { if ($1 == "created") add[$2] = $3; next } { print $1, $2 + add[$1] }' \
        "$counts" "$expected" >"$expected.next" && mv "$expected.next" "$expected"
}

# --- wrk -------------------------------------------------------------------------------------------
# to_ms VALUE [DECIMALS]: wrk's latency ("812.00us", "1.23ms", "2.01s", "1.00m") in milliseconds,
# with DECIMALS (default 2) decimals.
to_ms() {
    awk -v v="$1" -v d="${2:-2}" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        else if (u == "h") n *= 3600000; else if (u != "ms") { print "NaN"; exit }
        printf "%.*f", d, n }'
}

# parse_wrk FILE: set W_RPS, W_P50, W_P99, W_REQS, W_NON2XX, W_SOCKET (socket errors, summed).
parse_wrk() {
    local out="$1"
    W_RPS="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")"
    W_P50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
    W_P99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
    W_REQS="$(awk '/requests in/ { print $1 }' "$out")"
    W_NON2XX="$(awk '/Non-2xx or 3xx responses/ { print $NF }' "$out")"
    W_NON2XX="${W_NON2XX:-0}"
    W_SOCKET="$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")"
    W_SOCKET="${W_SOCKET:-0}"
    [[ -n "$W_RPS" && -n "$W_REQS" && "$W_P50" != NaN && "$W_P99" != NaN ]] ||
        die "could not parse the wrk output in $out"
}

# status_summary COUNTS: "201:n 200:n ..." from a mixed.lua counts file.
status_summary() {
    awk '$1 == "status" { printf "%s%s:%s", sep, $2, $3; sep = " " }' "$1"
}

# --- server metrics (METRICS=1) --------------------------------------------------------------------
# metric BASE NAME: the value of an unlabelled metric (0 when taskgate has not reported it yet).
metric() {
    curl -s --max-time 2 "$1/metrics" | awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}

# sample_writer_queue BASE FILE: until killed, read taskgate_db_writer_queue every 0.1 s and keep
# the largest value seen in FILE (started in the background).
sample_writer_queue() {
    local base="$1" file="$2" max=0 v
    echo 0 >"$file"
    while :; do
        v="$(metric "$base" taskgate_db_writer_queue)"
        if ((v > max)); then
            max=$v
            echo "$max" >"$file"
        fi
        sleep 0.1
    done
}
