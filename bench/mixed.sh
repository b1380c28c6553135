#!/usr/bin/env bash
# The mixed workload (issue 7), measured with wrk on taskgate (SQLite and PostgreSQL) and on the
# original FastAPI + SQLModel design (bench/original, PostgreSQL) in one run: USERS users with
# SEED_TASKS tasks each, seeded through the API; every request a random user's list (80 %),
# create (10 %) or completion toggle (10 %) of one of that user's tasks.
#
#   bench/mixed.sh [mixed]      # one wrk, -t$THREADS -c$CONNECTIONS, the 80/10/10 mix
#   bench/mixed.sh split        # reads (list only) and writes (create + toggle, half each) as two
#                               # wrk processes of SPLIT_CONNECTIONS connections: reads alone,
#                               # writes alone, then both at once against the same server
#   TARGETS=sqlite bench/mixed.sh split     # only taskgate on SQLite (no PostgreSQL, no Python)
#   bench/mixed.sh rate         # the original at its limit (wrk, as in mixed), then taskgate at
#                               # fixed offered rates (RATES, default 60x the original's req/s)
#                               # from bench/loadgen.rs, an open-loop generator that times each
#                               # request from when it was due: latency at a given load, not the
#                               # queue a closed-loop wrk builds at saturation
#
# After every wrk run each user's X-Total-Count (taskgate) or row count (the original) must equal
# SEED_TASKS plus the creates wrk was answered 201 for (counted per user by mixed.lua), and taskgate
# must have answered no non-2xx; otherwise the run fails.
#
# Environment knobs (all optional):
#   TARGETS            which servers, in this order       (default "sqlite postgres original")
#                        sqlite    taskgate, DATABASE_URL=sqlite://… (synchronous=$SYNC)
#                        postgres  taskgate on a throw-away PostgreSQL database
#                        original  bench/original (uvicorn) on a throw-away PostgreSQL database
#   TASKGATE_BIN       use this binary instead of building it with `cargo build --release`
#   DURATION           wrk duration per run                (default 10s)
#   WARMUP             an unmeasured run of the same mix first, per target (default 2s; 0: none);
#                      it opens the connection pools and fills the caches, and its non-2xx are
#                      logged, not fatal
#   THREADS            wrk threads (mixed)                  (default 2)
#   CONNECTIONS        wrk connections (mixed)              (default 32)
#   SPLIT_CONNECTIONS  connections of each wrk (split)      (default 16; one thread each)
#   SPLIT_ROUNDS       times the both-at-once phase runs (split), on the same server (default 1)
#   MIX                list,create,toggle percentages       (default 80,10,10)
#   USERS              users                                (default 500)
#   SEED_TASKS         tasks seeded per user                (default 20)
#   SEED_JOBS          users seeded at once                 (default 8)
#   SYNC               TASKGATE_SQLITE_SYNCHRONOUS          (default full)
#   SERVER_LOG         taskgate's RUST_LOG                  (default info: the access log is on)
#   ORIGINAL_WORKERS   uvicorn workers of the original      (default 1)
#   WRK_TIMEOUT        wrk --timeout                        (default 10s)
#   METRICS=1          taskgate serves Prometheus metrics on another port; per phase the script
#                      reports the list cache's hit rate and the largest SQLite writer queue seen
#                      (sampled every 0.1 s). Off by default: the figures are measured without it
#   RATES              rate mode: offered loads, each "N" req/s or "Nx" (N times the original's
#                      req/s in this run; needs the original in TARGETS) (default "60x")
#   RATE_CONNECTIONS   rate mode: connections of the generator (default 32)
#   GENERATOR          mixed mode's load generator: wrk (default; mixed.lua) or loadgen
#                      (bench/loadgen.rs --rate max: closed-loop like wrk, with THREADS threads and
#                      CONNECTIONS connections, but without mixed.lua's response() hook, which costs
#                      wrk a third of the two cores here; used for every target, the original too)
#   LOADGEN_BIN        rate mode and GENERATOR=loadgen: use this build of bench/loadgen.rs
#   STRICT=1           exit non-zero when a target is missed (mixed and rate modes; correctness failures always do)
#   KEEP_TMP=1         keep the temp dir (servers' logs, wrk output, seed files) and say where
#   PORT               first port to try                    (default 18080; free ones are probed)
#   PG_HOST PG_PORT PG_USER PG_ADMIN_DB   PostgreSQL, trust auth (default 127.0.0.1 5432 postgres test)
#
# See bench/README.md for the targets and the headline figures, bench/RESULTS.md for every
# measurement.
set -euo pipefail

BENCH_NAME=mixed
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

MODE="${1:-mixed}"
TARGETS="${TARGETS:-sqlite postgres original}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
SPLIT_CONNECTIONS="${SPLIT_CONNECTIONS:-16}"
SPLIT_ROUNDS="${SPLIT_ROUNDS:-1}"
MIX="${MIX:-80,10,10}"
USERS="${USERS:-500}"
SEED_TASKS="${SEED_TASKS:-20}"
SEED_JOBS="${SEED_JOBS:-8}"
SYNC="${SYNC:-full}"
SERVER_LOG="${SERVER_LOG:-info}"
ORIGINAL_WORKERS="${ORIGINAL_WORKERS:-1}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
STRICT="${STRICT:-0}"
TOKEN_TTL=86400

RATES="${RATES:-60x}"
RATE_CONNECTIONS="${RATE_CONNECTIONS:-32}"
GENERATOR="${GENERATOR:-wrk}"
[[ "$GENERATOR" == wrk || "$GENERATOR" == loadgen ]] || die "GENERATOR must be wrk or loadgen, not '$GENERATOR'"

case "$MODE" in
    mixed | split) ;;
    rate)
        for r in $RATES; do
            [[ "$r" =~ ^[1-9][0-9]*x?$ ]] || die "RATES: '$r' is neither N (req/s) nor Nx (times the original)"
            [[ "$r" != *x || " $TARGETS " == *" original "* ]] ||
                die "RATES: '$r' is relative to the original, which is not in TARGETS"
        done
        # The original sets the scale for "Nx" rates, so it runs first.
        if [[ " $TARGETS " == *" original "* ]]; then
            TARGETS="original $(echo " $TARGETS " | sed 's/ original / /')"
        fi
        ;;
    *) die "unknown mode '$MODE' (mixed, split or rate)" ;;
esac
for t in $TARGETS; do
    case "$t" in
        sqlite | postgres | original) ;;
        *) die "unknown target '$t' in TARGETS (sqlite, postgres, original)" ;;
    esac
done
[[ -n "${TARGETS// /}" ]] || die "TARGETS is empty"
for knob in THREADS CONNECTIONS SPLIT_CONNECTIONS SPLIT_ROUNDS RATE_CONNECTIONS USERS SEED_TASKS SEED_JOBS ORIGINAL_WORKERS; do
    [[ "${!knob}" =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive whole number, not '${!knob}'"
done
[[ "$MIX" =~ ^[0-9]+,[0-9]+,[0-9]+$ ]] || die "MIX must be LIST,CREATE,TOGGLE percentages, not '$MIX'"
IFS=, read -r mix_list mix_create mix_toggle <<<"$MIX"
((mix_list + mix_create + mix_toggle == 100)) || die "MIX must sum to 100, not $MIX"

command -v wrk >/dev/null 2>&1 || die "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null 2>&1 || die "curl is not installed; install it with: apt-get install -y curl"

bench_init
find_taskgate
[[ "$MODE" != rate && "$GENERATOR" != loadgen ]] || find_loadgen
if [[ " $TARGETS " == *" postgres "* || " $TARGETS " == *" original "* ]]; then
    require_postgres
fi
[[ " $TARGETS " != *" original "* ]] || find_original

# One secret for every server: taskgate verifies HS256 tokens with it, and so does the original.
BETTER_AUTH_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export BETTER_AUTH_SECRET
export TASKGATE_SQLITE_SYNCHRONOUS="$SYNC"
export RUST_LOG=warn # for `taskgate token`; servers get $SERVER_LOG
unset TASKGATE_JWT_ISSUER TASKGATE_JWT_AUDIENCE TASKGATE_JWT_LEEWAY TASKGATE_JWKS_URL TASKGATE_JWKS_ISSUERS

TOKENS="$TMP/tokens.txt"
log "minting $USERS HS256 tokens with taskgate token"
mint_tokens "$USERS" "$TOKENS"

# --- wrk -------------------------------------------------------------------------------------------
declare -A RPS P50 P99 NON2XX SOCKET STATUSES HIT_RATE QUEUE_MAX OFFERED
ROWS=() # "target/phase", in the order measured

# start_wrk KEY BASE USERS_FILE MIX THREADS CONNECTIONS: start wrk in the background; sets WRK_PID.
start_wrk() {
    local key="$1" base="$2" users="$3" mix="$4" threads="$5" connections="$6"
    local duration="$DURATION"
    [[ "$key" != */warm-up ]] || duration="$WARMUP"
    log "wrk $key: -t$threads -c$connections -d$duration, mix $mix (list,create,toggle %)"
    USERS_FILE="$users" MIX="$mix" COUNTS_FILE="$TMP/counts-${key//\//-}.txt" \
        wrk -t"$threads" -c"$connections" -d"$duration" --timeout "$WRK_TIMEOUT" --latency \
        -s "$BENCH_DIR/mixed.lua" "$base" >"$TMP/wrk-${key//\//-}.txt" 2>&1 &
    WRK_PID=$!
    bg_started "$WRK_PID"
}

# start_loadgen KEY BASE USERS_FILE RATE CONNECTIONS [THREADS]: start bench/loadgen.rs at RATE
# req/s (max: closed-loop), the mix $MIX, in the background; sets WRK_PID. Its output and counts
# file are wrk's and mixed.lua's, so finish_wrk reads them.
start_loadgen() {
    local key="$1" base="$2" users="$3" rate="$4" connections="$5" threads="${6:-1}"
    local duration="$DURATION"
    [[ "$key" != */warm-up ]] || duration="$WARMUP"
    log "loadgen $key: $rate req/s offered over $connections connections ($threads threads) for $duration, mix $MIX"
    "$LOADGEN" --url "$base" --users "$users" --counts "$TMP/counts-${key//\//-}.txt" --mix "$MIX" \
        --rate "$rate" --connections "$connections" --threads "$threads" --duration "${duration%s}" \
        --timeout "${WRK_TIMEOUT%s}" >"$TMP/wrk-${key//\//-}.txt" 2>&1 &
    WRK_PID=$!
    bg_started "$WRK_PID"
    [[ "$rate" == max ]] || OFFERED[$key]="$rate"
}

# start_mixed KEY BASE USERS_FILE: mixed mode's closed-loop run with $GENERATOR; sets WRK_PID.
start_mixed() {
    if [[ "$GENERATOR" == loadgen ]]; then
        start_loadgen "$1" "$2" "$3" max "$CONNECTIONS" "$THREADS"
    else
        start_wrk "$1" "$2" "$3" "$MIX" "$THREADS" "$CONNECTIONS"
    fi
}

# finish_wrk KEY PID EXPECTED: wait for wrk, record its figures, add its 201s to EXPECTED.
finish_wrk() {
    local key="$1" pid="$2" expected="$3" file="$TMP/wrk-${1//\//-}.txt" counts="$TMP/counts-${1//\//-}.txt"
    wait "$pid" || { bg_waited "$pid"; cat "$file" >&2; die "wrk failed for $key"; }
    bg_waited "$pid"
    sed 's/^/    /' "$file" >&2
    [[ -s "$counts" ]] || die "$key: mixed.lua wrote no counts"
    parse_wrk "$file"
    RPS[$key]="$W_RPS"
    P50[$key]="$W_P50"
    P99[$key]="$W_P99"
    NON2XX[$key]="$W_NON2XX"
    SOCKET[$key]="$W_SOCKET"
    STATUSES[$key]="$(status_summary "$counts")"
    [[ "$key" == */warm-up ]] || ROWS+=("$key")
    log "$key: ${W_RPS} req/s, p50 ${W_P50} ms, p99 ${W_P99} ms, statuses ${STATUSES[$key]}"
    local unparsed
    unparsed="$(awk '$1 == "unparsed_201" { print $2 }' "$counts")"
    [[ "$unparsed" == 0 ]] || die "$key: $unparsed answers 201 named no user_id"
    add_created "$expected" "$counts"
}

# phase_begin: with METRICS=1 (taskgate targets), note the list cache's counters and start sampling
# the writer queue.
phase_begin() {
    [[ -n "$METRICS_BASE" ]] || return 0
    hits_before="$(metric "$METRICS_BASE" taskgate_list_cache_hits_total)"
    misses_before="$(metric "$METRICS_BASE" taskgate_list_cache_misses_total)"
    sample_writer_queue "$METRICS_BASE" "$TMP/queue-max.txt" &
    sampler_pid=$!
    bg_started "$sampler_pid"
}
# phase_end KEY...: record the list cache's hit rate and the writer queue's maximum for the phase.
phase_end() {
    [[ -n "$METRICS_BASE" ]] || return 0
    stop_pid "$sampler_pid"
    bg_waited "$sampler_pid"
    local hits misses key
    hits=$(($(metric "$METRICS_BASE" taskgate_list_cache_hits_total) - hits_before))
    misses=$(($(metric "$METRICS_BASE" taskgate_list_cache_misses_total) - misses_before))
    for key in "$@"; do
        HIT_RATE[$key]="$(awk -v h="$hits" -v m="$misses" 'BEGIN { if (h + m == 0) print "-"; else printf "%.1f %%", 100 * h / (h + m) }')"
        QUEUE_MAX[$key]="$(cat "$TMP/queue-max.txt")"
    done
}

# check_run TARGET SLACK KEY... : the correctness checks after a wrk run (or two at once) on TARGET;
# SLACK is the number of connections (requests wrk may leave in flight when it stops).
check_run() {
    local target="$1" slack="$2" key
    shift 2
    if [[ "$target" == original ]]; then
        original_totals "$TARGET_DB" "$TMP/actual.txt"
    else
        taskgate_totals "$TARGET_BASE" "$TOKENS" "$TMP/actual.txt"
    fi
    for key in "$@"; do
        slack=$((slack + ${SOCKET[$key]})) # a timed-out create may still have been made
    done
    check_totals "${*:-$target seeding}" "$TMP/expected-$target.txt" "$TMP/actual.txt" "$slack"
    for key in "$@"; do
        if [[ "$key" == */warm-up ]] && ((${NON2XX[$key]} + ${SOCKET[$key]} > 0)); then
            log "WARNING: $key (not measured): ${NON2XX[$key]} non-2xx (${STATUSES[$key]}), ${SOCKET[$key]} socket errors"
            show_error_answers
        elif [[ "$target" != original ]] && ((${NON2XX[$key]} + ${SOCKET[$key]} > 0)); then
            die "$key: taskgate answered ${NON2XX[$key]} non-2xx (${STATUSES[$key]}), ${SOCKET[$key]} socket errors"
        fi
    done
    log "${*:-$target seeding}: no create answered 201 is missing ($SURPLUS more tasks, cut off in flight)"
}

# --- one target at a time --------------------------------------------------------------------------
for target in $TARGETS; do
    TARGET_DB=""
    METRICS_BASE="" # start_taskgate sets it with METRICS=1
    case "$target" in
        sqlite)
            start_taskgate "taskgate-sqlite" "sqlite://$TMP/mixed.db"
            ;;
        postgres)
            create_database
            TARGET_DB="$CREATED_DB"
            start_taskgate "taskgate-postgres" "postgres://$PG_USER@$PG_HOST:$PG_PORT/$TARGET_DB"
            ;;
        original)
            create_database
            TARGET_DB="$CREATED_DB"
            start_original "original" "$TARGET_DB"
            ;;
    esac
    TARGET_BASE="$SERVER_BASE"
    users="$TMP/users-$target.txt"
    started=$SECONDS
    seed "$TARGET_BASE" "$TOKENS" "$users"
    log "$target: seeded $USERS users x $SEED_TASKS tasks through the API in $((SECONDS - started)) s"
    awk -v n="$SEED_TASKS" '{ print $1, n }' "$TOKENS" >"$TMP/expected-$target.txt"
    check_run "$target" 0
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        start_mixed "$target/warm-up" "$TARGET_BASE" "$users"
        finish_wrk "$target/warm-up" "$WRK_PID" "$TMP/expected-$target.txt"
        check_run "$target" "$CONNECTIONS" "$target/warm-up"
    fi

    if [[ "$MODE" == mixed || ("$MODE" == rate && "$target" == original) ]]; then
        phase_begin
        start_mixed "$target/mixed" "$TARGET_BASE" "$users"
        finish_wrk "$target/mixed" "$WRK_PID" "$TMP/expected-$target.txt"
        phase_end "$target/mixed"
        check_run "$target" "$CONNECTIONS" "$target/mixed"
    elif [[ "$MODE" == rate ]]; then
        for r in $RATES; do
            rate="$r"
            [[ "$r" != *x ]] || rate="$(awk -v n="${r%x}" -v o="${RPS[original/mixed]}" 'BEGIN { printf "%.0f", n * o }')"
            key="$target/@$r"
            phase_begin
            start_loadgen "$key" "$TARGET_BASE" "$users" "$rate" "$RATE_CONNECTIONS"
            finish_wrk "$key" "$WRK_PID" "$TMP/expected-$target.txt"
            phase_end "$key"
            check_run "$target" "$RATE_CONNECTIONS" "$key"
        done
    else
        # Reads alone, writes alone, then both at once: the issue's stall shows in the last.
        phase_begin
        start_wrk "$target/reads-alone" "$TARGET_BASE" "$users" 100,0,0 1 "$SPLIT_CONNECTIONS"
        finish_wrk "$target/reads-alone" "$WRK_PID" "$TMP/expected-$target.txt"
        phase_end "$target/reads-alone"
        check_run "$target" "$SPLIT_CONNECTIONS" "$target/reads-alone"
        phase_begin
        start_wrk "$target/writes-alone" "$TARGET_BASE" "$users" 0,50,50 1 "$SPLIT_CONNECTIONS"
        finish_wrk "$target/writes-alone" "$WRK_PID" "$TMP/expected-$target.txt"
        phase_end "$target/writes-alone"
        check_run "$target" "$SPLIT_CONNECTIONS" "$target/writes-alone"
        # The stall comes and goes, so the beside phase can be repeated (SPLIT_ROUNDS) on one server.
        for ((round = 1; round <= SPLIT_ROUNDS; round++)); do
            suffix=""
            ((round == 1)) || suffix="#$round"
            reads_key="$target/reads-beside$suffix" writes_key="$target/writes-beside$suffix"
            phase_begin
            start_wrk "$reads_key" "$TARGET_BASE" "$users" 100,0,0 1 "$SPLIT_CONNECTIONS"
            reads_pid=$WRK_PID
            start_wrk "$writes_key" "$TARGET_BASE" "$users" 0,50,50 1 "$SPLIT_CONNECTIONS"
            writes_pid=$WRK_PID
            finish_wrk "$reads_key" "$reads_pid" "$TMP/expected-$target.txt"
            finish_wrk "$writes_key" "$writes_pid" "$TMP/expected-$target.txt"
            phase_end "$reads_key" "$writes_key"
            check_run "$target" $((2 * SPLIT_CONNECTIONS)) "$reads_key" "$writes_key"
        done
    fi
    stop_servers
    drop_databases
done

# --- the report --------------------------------------------------------------------------------------
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
echo
if [[ "$MODE" == rate ]]; then
    echo "taskgate mixed workload at fixed offered rates (after a $WARMUP warm-up): $USERS users x $SEED_TASKS tasks, mix $MIX (list,create,toggle %), bench/loadgen.rs over $RATE_CONNECTIONS connections for $DURATION, latency timed from when each request was due; the original at its limit with wrk -t$THREADS -c$CONNECTIONS"
elif [[ "$MODE" == mixed ]]; then
    generator="wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    [[ "$GENERATOR" != loadgen ]] || generator="bench/loadgen.rs --rate max (closed-loop), $THREADS threads, $CONNECTIONS connections, $DURATION"
    echo "taskgate mixed workload (after a $WARMUP warm-up): $USERS users x $SEED_TASKS tasks, mix $MIX (list,create,toggle %), $generator"
else
    echo "taskgate mixed workload, split (after a $WARMUP warm-up of the mix): reads (list) and writes (create/toggle 50/50), wrk -t1 -c$SPLIT_CONNECTIONS -d$DURATION each; $USERS users x $SEED_TASKS tasks"
fi
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), servers and wrk on one machine, commit $commit"
echo "taskgate: RUST_LOG=$SERVER_LOG, SQLite synchronous=$SYNC; original: $ORIGINAL_WORKERS uvicorn worker(s), access log on"
echo
row() { printf '| %-26s | %8s | %8s | %9s | %9s | %7s | %6s | %-34s | %11s |\n' "$@"; }
row "target / phase" "offered" "req/s" "p50 (ms)" "p99 (ms)" "non-2xx" "socket" "statuses" "x original"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------------------- ---------- ---------- ----------- ----------- --------- -------- ------------------------------------ -------------
for key in "${ROWS[@]}"; do
    phase="${key#*/}"
    # Rate phases compare with the original at its limit.
    [[ "$phase" != @* ]] || phase=mixed
    ratio="-"
    if [[ -n "${RPS[original/$phase]:-}" && "${key%%/*}" != original ]]; then
        ratio="$(awk -v a="${RPS[$key]}" -v b="${RPS[original/$phase]}" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')"
    fi
    row "$key" "${OFFERED[$key]:-max}" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "${NON2XX[$key]}" "${SOCKET[$key]}" "${STATUSES[$key]}" "$ratio"
done
echo "(offered: the open-loop rate, req/s; max: closed-loop, as fast as the server answers)"
echo "(statuses: as counted by mixed.lua; socket: wrk's connect/read/write errors and timeouts)"
if [[ "${METRICS:-0}" == 1 ]]; then
    echo
    echo "server metrics (METRICS=1), per phase (the two beside phases share one server):"
    for key in "${ROWS[@]}"; do
        [[ -n "${HIT_RATE[$key]:-}" ]] || continue
        printf '  %-26s list cache hits %8s, SQLite writer queue at most %s (sampled every 0.1 s)\n' \
            "$key" "${HIT_RATE[$key]}" "${QUEUE_MAX[$key]}"
    done
fi
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
MISSED=0
if [[ "$MODE" == mixed && -n "${RPS[sqlite/mixed]:-}" ]]; then
    echo
    if [[ -n "${RPS[original/mixed]:-}" ]]; then
        x="$(awk -v a="${RPS[sqlite/mixed]}" -v b="${RPS[original/mixed]}" 'BEGIN { printf "%.1f", a / b }')"
        v="$(verdict "$x >= 60")"
        [[ "$v" == PASS ]] || MISSED=1
        echo "SQLite / original: ${x}x (target >= 60x) $v"
    fi
    v="$(verdict "${P99[sqlite/mixed]} < 5")"
    [[ "$v" == PASS ]] || MISSED=1
    echo "SQLite p99: ${P99[sqlite/mixed]} ms (target < 5 ms) $v"
fi
if [[ "$MODE" == rate ]]; then
    echo
    for key in "${ROWS[@]}"; do
        [[ "$key" == sqlite/@* ]] || continue
        # The load counts as carried when at least 99 % of what was offered was answered.
        carried="${RPS[$key]} >= 0.99 * ${OFFERED[$key]}"
        line="SQLite at ${key#sqlite/@}: ${OFFERED[$key]} req/s offered, ${RPS[$key]} answered ($(verdict "$carried") for >= 99 %), p99 ${P99[$key]} ms (target < 5 ms)"
        x=""
        if [[ -n "${RPS[original/mixed]:-}" ]]; then
            x="$(awk -v a="${RPS[$key]}" -v b="${RPS[original/mixed]}" 'BEGIN { printf "%.1f", a / b }')"
            line="$line, ${x}x the original (target >= 60x)"
        fi
        v="$(verdict "$carried && ${P99[$key]} < 5${x:+ && $x >= 60}")"
        [[ "$v" == PASS ]] || MISSED=1
        echo "$line $v"
    done
fi
if [[ "$MODE" == split ]]; then
    echo
    for target in $TARGETS; do
        for ((round = 1; round <= SPLIT_ROUNDS; round++)); do
            suffix=""
            ((round == 1)) || suffix="#$round"
            wb="${P99[$target/writes-beside$suffix]}" wa="${P99[$target/writes-alone]}"
            rb="${P99[$target/reads-beside$suffix]}" ra="${P99[$target/reads-alone]}"
            # The stall of issue 7: writes much slower beside the reads than alone.
            echo "$target${suffix:+ (beside round $round)}: writes' p99 beside the reads $wb ms, alone $wa ms" \
                "($(awk -v a="$wb" -v b="$wa" 'BEGIN { printf "%.1f", a / b }')x); reads' p99 beside the writes $rb ms, alone $ra ms"
        done
    done
fi
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
