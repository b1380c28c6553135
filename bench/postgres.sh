#!/usr/bin/env bash
# W-list and W-create on PostgreSQL (issue 7), measured with wrk: taskgate as one instance, then as
# three instances on one database (three wrk processes at once, one per instance, the connections
# split between them; req/s summed, latencies the worst instance's), and the original FastAPI +
# SQLModel design's W-list in the same run, as the baseline of the ratio. Then, with the three
# instances' caches warm, an exactness check: write through one instance, read through each of the
# others at once, EXACT_ROUNDS times; any stale read fails the run.
#
#   bench/postgres.sh
#
# Environment knobs (all optional):
#   TASKGATE_BIN       use this binary instead of building it with `cargo build --release`
#   DURATION           wrk duration per workload            (default 10s)
#   WARMUP             an unmeasured run of each workload first (default 2s; 0: none); it opens
#                      the connection pools, and its non-2xx are logged, not fatal
#   THREADS            wrk threads (one instance, and the original)   (default 2)
#   CONNECTIONS        wrk connections in all; split over three instances (default 32)
#   INSTANCES          instances in the multi-instance runs (default 3)
#   EXACT_ROUNDS       writes in the exactness check, each read through every other instance
#                      (default 200; creates and completion changes alternate)
#   SERVER_LOG         taskgate's RUST_LOG                  (default info: the access log is on)
#   DB_CONNECTIONS     TASKGATE_DB_MAX_CONNECTIONS per instance (default: taskgate's, 16)
#   ORIGINAL_WORKERS   uvicorn workers of the original      (default 1)
#   WRK_TIMEOUT        wrk --timeout                        (default 10s)
#   SKIP_ORIGINAL=1    do not run the original (no Python needed; no ratio)
#   STRICT=1           exit non-zero when a target is missed (correctness failures always do)
#   KEEP_TMP=1         keep the temp dir (servers' logs, wrk output) and say where
#   PORT               first port to try                    (default 18080; free ones are probed)
#   PG_HOST PG_PORT PG_USER PG_ADMIN_DB   PostgreSQL, trust auth (default 127.0.0.1 5432 postgres test)
#
# See bench/README.md for the workloads, the targets and the headline figures, bench/RESULTS.md
# for every measurement.
set -euo pipefail

BENCH_NAME=postgres
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
INSTANCES="${INSTANCES:-3}"
EXACT_ROUNDS="${EXACT_ROUNDS:-200}"
SERVER_LOG="${SERVER_LOG:-info}"
ORIGINAL_WORKERS="${ORIGINAL_WORKERS:-1}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
SKIP_ORIGINAL="${SKIP_ORIGINAL:-0}"
STRICT="${STRICT:-0}"
SEED_TASKS=20
BENCH_USER="bench-user"
EXACT_USER="exact-user"

for knob in THREADS CONNECTIONS INSTANCES EXACT_ROUNDS ORIGINAL_WORKERS; do
    [[ "${!knob}" =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive whole number, not '${!knob}'"
done
((INSTANCES >= 2)) || die "INSTANCES must be at least 2 (the exactness check reads through another instance)"
((CONNECTIONS >= INSTANCES)) || die "CONNECTIONS ($CONNECTIONS) must be at least INSTANCES ($INSTANCES)"
if [[ -n "${DB_CONNECTIONS:-}" ]]; then
    [[ "$DB_CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "DB_CONNECTIONS must be a positive whole number"
    export TASKGATE_DB_MAX_CONNECTIONS="$DB_CONNECTIONS"
fi

command -v wrk >/dev/null 2>&1 || die "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null 2>&1 || die "curl is not installed; install it with: apt-get install -y curl"
command -v jq >/dev/null 2>&1 || die "jq is not installed; install it with: apt-get install -y jq"

bench_init
find_taskgate
require_postgres
[[ "$SKIP_ORIGINAL" == 1 ]] || find_original

BETTER_AUTH_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export BETTER_AUTH_SECRET
# W-create puts tens of thousands of tasks on one user: lift the per-user cap (default 10,000).
export TASKGATE_MAX_TASKS_PER_USER=100000000
export RUST_LOG=warn # for `taskgate token`; servers get $SERVER_LOG
unset TASKGATE_JWT_ISSUER TASKGATE_JWT_AUDIENCE TASKGATE_JWT_LEEWAY TASKGATE_JWKS_URL TASKGATE_JWKS_ISSUERS

taskgate_cmd() { (cd "$TMP" && "$BIN" "$@"); }
TOKEN="$(taskgate_cmd token --user "$BENCH_USER" --ttl 86400)" || die "taskgate token failed"
EXACT_TOKEN="$(taskgate_cmd token --user "$EXACT_USER" --ttl 86400)" || die "taskgate token failed"
export TOKEN # list.lua and create.lua read it

# seed_user BASE USER TOKEN: SEED_TASKS tasks through the API; echoes their ids.
seed_user() {
    local line
    line="$(seed_one "$1" "$SEED_TASKS" "$2" "$3")" || die "seeding $2 through $1 failed"
    echo "${line#"$2 $3 "}"
}
# total_count BASE USER TOKEN: X-Total-Count of USER's list.
total_count() {
    local code
    code="$(curl -s -D "$TMP/total.headers" -o /dev/null -w '%{http_code}' "$1/api/$2/tasks?limit=1" \
        -H "Authorization: Bearer $3")" || die "GET $1/api/$2/tasks failed"
    [[ "$code" == 200 ]] || die "GET $1/api/$2/tasks answered $code"
    tr -d '\r' <"$TMP/total.headers" | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }'
}

# --- wrk -------------------------------------------------------------------------------------------
declare -A RPS P50 P99 REQS
ROWS=()

# wrk_start NAME URL THREADS CONNECTIONS SCRIPT: wrk in the background; sets WRK_PID.
wrk_start() {
    local duration="$DURATION"
    [[ "$1" != *warm-up* ]] || duration="$WARMUP"
    log "wrk $1: -t$3 -c$4 -d$duration $2 ($(basename "$5"))"
    wrk -t"$3" -c"$4" -d"$duration" --timeout "$WRK_TIMEOUT" --latency -s "$5" "$2" >"$TMP/wrk-$1.txt" 2>&1 &
    WRK_PID=$!
    bg_started "$WRK_PID"
}
# wrk_finish NAME PID: wait, fail on errors, record the figures.
wrk_finish() {
    local name="$1" out="$TMP/wrk-$1.txt"
    wait "$2" || { bg_waited "$2"; cat "$out" >&2; die "wrk failed for $name"; }
    bg_waited "$2"
    sed 's/^/    /' "$out" >&2
    parse_wrk "$out"
    if [[ "$name" == *warm-up* ]]; then
        if ((W_NON2XX + W_SOCKET > 0)); then
            log "WARNING: $name (not measured): $W_NON2XX non-2xx, $W_SOCKET socket errors"
            show_error_answers
        fi
        return 0
    fi
    ((W_NON2XX == 0)) || die "$name: $W_NON2XX non-2xx responses"
    ((W_SOCKET == 0)) || die "$name: $W_SOCKET socket errors"
    RPS[$name]="$W_RPS"
    P50[$name]="$W_P50"
    P99[$name]="$W_P99"
    REQS[$name]="$W_REQS"
}

# measure NAME SCRIPT BASE...: one wrk per base URL at once (the connections split between them),
# the figures summed (req/s, requests) or the worst (p50, p99) under NAME. A warm-up run first.
measure() {
    local name="$1" script="$2"
    shift 2
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        wrk_all "$name warm-up" "$script" "$@"
    fi
    wrk_all "$name" "$script" "$@"
    ROWS+=("$name")
    log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p99 ${P99[$name]} ms"
}
wrk_all() {
    local name="$1" script="$2" n i conns threads pids=() bases
    shift 2
    bases=("$@")
    n=$#
    for ((i = 0; i < n; i++)); do
        if ((n == 1)); then
            conns="$CONNECTIONS" threads="$THREADS"
        else
            # 32 over 3: 11, 11, 10
            conns=$((CONNECTIONS / n + (i < CONNECTIONS % n ? 1 : 0))) threads=1
        fi
        wrk_start "$name.$i" "${bases[$i]}/api/$BENCH_USER/tasks" "$threads" "$conns" "$script"
        pids+=("$WRK_PID")
    done
    RPS[$name]=0 P50[$name]=0 P99[$name]=0 REQS[$name]=0
    for ((i = 0; i < n; i++)); do
        wrk_finish "$name.$i" "${pids[$i]}"
        [[ "$name" != *warm-up* ]] || continue
        RPS[$name]=$((${RPS[$name]} + ${RPS[$name.$i]}))
        REQS[$name]=$((${REQS[$name]} + ${REQS[$name.$i]}))
        P50[$name]="$(awk -v a="${P50[$name]}" -v b="${P50[$name.$i]}" 'BEGIN { printf "%.2f", (b > a ? b : a) }')"
        P99[$name]="$(awk -v a="${P99[$name]}" -v b="${P99[$name.$i]}" 'BEGIN { printf "%.2f", (b > a ? b : a) }')"
    done
}

# --- the original design: W-list ------------------------------------------------------------------
if [[ "$SKIP_ORIGINAL" != 1 ]]; then
    create_database
    start_original original "$CREATED_DB"
    seed_user "$SERVER_BASE" "$BENCH_USER" "$TOKEN" >/dev/null
    measure "original W-list" "$BENCH_DIR/list.lua" "$SERVER_BASE"
    stop_servers
    drop_databases
fi

# --- taskgate, one instance ------------------------------------------------------------------------
create_database
DB_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$CREATED_DB"
start_taskgate "taskgate-1" "$DB_URL"
seed_user "$SERVER_BASE" "$BENCH_USER" "$TOKEN" >/dev/null
measure "1 instance W-list" "$BENCH_DIR/list.lua" "$SERVER_BASE"
[[ "$(total_count "$SERVER_BASE" "$BENCH_USER" "$TOKEN")" == "$SEED_TASKS" ]] || die "W-list changed the task count"
measure "1 instance W-create" "$BENCH_DIR/create.lua" "$SERVER_BASE"
total="$(total_count "$SERVER_BASE" "$BENCH_USER" "$TOKEN")"
((total - SEED_TASKS >= ${REQS[1 instance W-create]})) ||
    die "1 instance W-create: wrk counted ${REQS[1 instance W-create]} creates but only $((total - SEED_TASKS)) were stored"
stop_servers
drop_databases

# --- taskgate, INSTANCES instances on one database, started at once on an empty database -----------
create_database
DB_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$CREATED_DB"
BASES=()
for ((i = 1; i <= INSTANCES; i++)); do
    free_port
    (cd "$TMP" && TASKGATE_LISTEN="127.0.0.1:$FREE_PORT" DATABASE_URL="$DB_URL" RUST_LOG="$SERVER_LOG" \
        exec "$BIN" serve) </dev/null >"$TMP/taskgate-$i.log" 2>&1 &
    SERVER_PIDS+=("$!")
    SERVER_LOG_FILES+=("$TMP/taskgate-$i.log")
    BASES+=("http://127.0.0.1:$FREE_PORT")
done
for ((i = 0; i < INSTANCES; i++)); do
    wait_healthy "taskgate-$((i + 1))" "${SERVER_PIDS[$i]}" "${BASES[$i]}/healthz"
done
log "$INSTANCES instances up on one database: ${BASES[*]}"
seed_user "${BASES[0]}" "$BENCH_USER" "$TOKEN" >/dev/null
measure "$INSTANCES instances W-list" "$BENCH_DIR/list.lua" "${BASES[@]}"
for base in "${BASES[@]}"; do
    [[ "$(total_count "$base" "$BENCH_USER" "$TOKEN")" == "$SEED_TASKS" ]] || die "W-list changed the task count ($base)"
done
measure "$INSTANCES instances W-create" "$BENCH_DIR/create.lua" "${BASES[@]}"
total="$(total_count "${BASES[0]}" "$BENCH_USER" "$TOKEN")"
((total - SEED_TASKS >= ${REQS[$INSTANCES instances W-create]})) ||
    die "$INSTANCES instances W-create: wrk counted ${REQS[$INSTANCES instances W-create]} creates but only $((total - SEED_TASKS)) were stored"
for base in "${BASES[@]}"; do
    t="$(total_count "$base" "$BENCH_USER" "$TOKEN")"
    [[ "$t" == "$total" ]] || die "after W-create $base reports X-Total-Count $t, ${BASES[0]} reported $total"
done
log "every instance reports X-Total-Count $total after W-create"

# --- exactness across instances, caches warm -------------------------------------------------------
# Round r writes through instance r mod INSTANCES (even rounds create a task, odd rounds set the
# completion of one task to the round's value) and then reads the list through every other instance
# in the same curl run, so each read is sent only after the write was answered. Every read must show
# the write: X-Total-Count one up after a create, the task's `completed` after a change.
EXACT_IDS="$(seed_user "${BASES[0]}" "$EXACT_USER" "$EXACT_TOKEN")"
read -r EXACT_TASK _ <<<"$EXACT_IDS"
EXACT_DIR="$TMP/exact"
mkdir -p "$EXACT_DIR"
exact_auth="Authorization: Bearer $EXACT_TOKEN"
# curl_entry LINE...: one request of the curl config; `next` separates it from the one before
# (a `next` after the last request would make curl want another URL).
curl_sep=""
curl_entry() {
    printf '%s' "$curl_sep"
    printf '%s\n' "$@"
    curl_sep=$'next\n'
}
{
    # Warm every instance's cache for this user first.
    for base in "${BASES[@]}"; do
        curl_entry "url = \"$base/api/$EXACT_USER/tasks?limit=500\"" "header = \"$exact_auth\"" \
            'output = "/dev/null"' 'write-out = "warm %{http_code}\n"'
    done
    for ((r = 0; r < EXACT_ROUNDS; r++)); do
        w=$((r % INSTANCES))
        if ((r % 2 == 0)); then
            curl_entry "url = \"${BASES[$w]}/api/$EXACT_USER/tasks\"" 'request = "POST"' \
                "header = \"$exact_auth\"" 'header = "Content-Type: application/json"' \
                "data = \"{\\\"title\\\":\\\"exact $r\\\"}\"" 'output = "/dev/null"' \
                "write-out = \"write $r %{http_code}\\n\""
        else
            completed=$([[ $(((r / 2) % 2)) == 0 ]] && echo true || echo false)
            curl_entry "url = \"${BASES[$w]}/api/$EXACT_USER/tasks/$EXACT_TASK/complete\"" 'request = "PATCH"' \
                "header = \"$exact_auth\"" 'header = "Content-Type: application/json"' \
                "data = \"{\\\"completed\\\":$completed}\"" 'output = "/dev/null"' \
                "write-out = \"write $r %{http_code}\\n\""
        fi
        for ((i = 0; i < INSTANCES; i++)); do
            ((i != w)) || continue
            curl_entry "url = \"${BASES[$i]}/api/$EXACT_USER/tasks?limit=500\"" "header = \"$exact_auth\"" \
                "output = \"$EXACT_DIR/$r-$i.json\"" \
                "write-out = \"read $r $i %{http_code} %header{x-total-count}\\n\""
        done
    done
} >"$TMP/exact.curl"
started=$SECONDS
curl -s -K "$TMP/exact.curl" >"$TMP/exact.out" || die "the exactness run's curl failed"
awk '$1 == "warm" && $2 != 200 { exit 1 }' "$TMP/exact.out" || die "exactness: a warming read did not answer 200"
stale=0
expected_total=$SEED_TASKS
expected_completed=false
reads=0
while read -r kind r a b c; do
    case "$kind" in
        write)
            if ((r % 2 == 0)); then
                [[ "$a" == 201 ]] || die "exactness round $r: the create answered $a"
                expected_total=$((expected_total + 1))
            else
                [[ "$a" == 200 ]] || die "exactness round $r: the completion change answered $a"
                expected_completed=$([[ $(((r / 2) % 2)) == 0 ]] && echo true || echo false)
            fi
            ;;
        read)
            reads=$((reads + 1))
            [[ "$b" == 200 ]] || die "exactness round $r: the read through ${BASES[$a]} answered $b"
            seen_completed="$(jq -r --arg id "$EXACT_TASK" '.[] | select(.id == $id) | .completed' "$EXACT_DIR/$r-$a.json")"
            if [[ "$c" != "$expected_total" || "$seen_completed" != "$expected_completed" ]]; then
                stale=$((stale + 1))
                log "STALE: round $r, read through ${BASES[$a]}: X-Total-Count $c (expected $expected_total), completed $seen_completed (expected $expected_completed)"
            fi
            ;;
    esac
done <"$TMP/exact.out"
((reads == EXACT_ROUNDS * (INSTANCES - 1))) || die "exactness: $reads reads answered, expected $((EXACT_ROUNDS * (INSTANCES - 1)))"
((stale == 0)) || die "exactness: $stale of $reads reads through another instance were stale"
log "exactness: $EXACT_ROUNDS writes, $reads reads through the other instances in $((SECONDS - started)) s, none stale"
stop_servers
drop_databases

# --- the report --------------------------------------------------------------------------------------
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
echo
echo "taskgate on PostgreSQL: W-list (GET, $SEED_TASKS tasks) and W-create, wrk -c$CONNECTIONS -d$DURATION after a $WARMUP warm-up" \
    "(one instance: -t$THREADS; $INSTANCES instances: one wrk -t1 each, connections split)"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), PostgreSQL, servers and wrk on one machine, commit $commit"
echo "taskgate: RUST_LOG=$SERVER_LOG, TASKGATE_DB_MAX_CONNECTIONS=${TASKGATE_DB_MAX_CONNECTIONS:-16 (default)}; original: $ORIGINAL_WORKERS uvicorn worker(s)"
echo
row() { printf '| %-28s | %8s | %9s | %9s | %11s |\n' "$@"; }
row "workload" "req/s" "p50 (ms)" "p99 (ms)" "x original"
printf '|%s|%s|%s|%s|%s|\n' ------------------------------ ---------- ----------- ----------- -------------
for name in "${ROWS[@]}"; do
    ratio="-"
    if [[ "$name" == *W-list && "$name" != original* && -n "${RPS[original W-list]:-}" ]]; then
        ratio="$(awk -v a="${RPS[$name]}" -v b="${RPS[original W-list]}" 'BEGIN { printf "%.1fx", a / b }')"
    fi
    row "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "$ratio"
done
echo "($INSTANCES instances: req/s summed over the instances, p50/p99 the worst instance's)"
echo "exactness: $EXACT_ROUNDS writes through one instance, each read at once through the $((INSTANCES - 1)) others: 0 stale of $reads"
MISSED=0
if [[ -n "${RPS[original W-list]:-}" ]]; then
    echo
    for name in "1 instance W-list" "$INSTANCES instances W-list"; do
        x="$(awk -v a="${RPS[$name]}" -v b="${RPS[original W-list]}" 'BEGIN { printf "%.1f", a / b }')"
        if awk -v x="$x" -v p="${P99[$name]}" 'BEGIN { exit !(x >= 50 && p < 5) }'; then v=PASS; else v=MISS MISSED=1; fi
        echo "$name: ${x}x the original, p99 ${P99[$name]} ms (target >= 50x with p99 < 5 ms) $v"
    done
fi
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
