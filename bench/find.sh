#!/usr/bin/env bash
# Finding tasks among many (issue 21): one user with TASKS (100,000) tasks, seeded through the API
# (bench/find.awk: 30 % completed, 20 tags with 0-3 per task, priorities mixed, half with a due date
# over today ± 1 year, some timed in three zones, titles from word lists), then the first page
# (the default limit, 100) of eight query shapes, each measured with wrk at CONNECTIONS (4)
# connections for DURATION, with taskgate's list-page cache off (TASKGATE_LIST_CACHE_MB=0: every
# request runs the query) and on (the default: what a client polling the same list hits), on
# SQLite and PostgreSQL, each on a database of its own made for the run and removed after it.
#
#   bench/find.sh                                # both targets, cache off and on, every shape
#   TARGETS=sqlite CACHE=off bench/find.sh       # only SQLite, only with the cache off
#   SHAPES="search overdue" bench/find.sh        # only these shapes
#
# The shapes (query parameters of GET /api/find-user/tasks):
#   tag          tag=work                            the most common tag (about 29 % of the tasks)
#   tag-open     tag=work&completed=false
#   high-by-due  priority=high&sort=due&order=asc
#   overdue      overdue=true&tz=Europe/Berlin
#   search       q=rep%20cli                         two word prefixes (report/repair, client)
#   date-range   due_from=TODAY&due_to=TODAY+29      the next 30 days
#   by-title     sort=title&order=asc
#   default      (none)                              W-list's request: newest first
# Before a shape is measured its first page is read once and checked: 200, X-Total-Count equal to
# what find.awk counted while making the tasks (for overdue: within the band the hour of a due
# near today leaves open), and every task on the page matches the filter and is in the order asked.
#
# Environment knobs (all optional):
#   TARGETS        sqlite and/or postgres, in this order        (default "sqlite postgres")
#   CACHE          off and/or on: TASKGATE_LIST_CACHE_MB 0 or the default (default "off on")
#   SHAPES         which shapes, in this order                  (default: all eight, as above)
#   TASKS          tasks of the one user                        (default 100000)
#   DURATION       wrk duration per shape                       (default 10s)
#   WARMUP         an unmeasured wrk run of the shape first     (default 2s; 0: none)
#   THREADS        wrk threads                                  (default 1)
#   CONNECTIONS    wrk connections                              (default 4)
#   ROUNDS         times the shapes are measured on each server (default 1; rows #2, #3, ...)
#   SEED_JOBS      curl processes seeding at once, one connection each (default 8)
#   SEED           find.awk's random seed                       (default 21)
#   SYNC           TASKGATE_SQLITE_SYNCHRONOUS                  (default full)
#   SERVER_LOG     taskgate's RUST_LOG                          (default info: the access log is on)
#   STRICT=1       exit non-zero when a p99 target is missed (correctness failures always do)
#   KEEP_TMP=1     keep the temp dir (the SQLite file, logs, wrk output) and say where
#   KEEP_DB=1      keep the PostgreSQL database (for EXPLAIN) and say its name
#   PORT           first port to try                            (default 18080; free ones are probed)
#   TASKGATE_BIN   use this binary instead of `cargo build --release --bin taskgate`
#   PG_HOST PG_PORT PG_USER PG_ADMIN_DB   PostgreSQL, trust auth (default 127.0.0.1 5432 postgres test)
#
# Targets (issue 21): first page p99 under 10 ms for each shape on SQLite, under 20 ms on
# PostgreSQL, at 4 connections. See bench/README.md; the figures are in bench/RESULTS.md.
set -euo pipefail

BENCH_NAME="find"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

ALL_SHAPES="tag tag-open high-by-due overdue search date-range by-title default"
TARGETS="${TARGETS:-sqlite postgres}"
CACHE="${CACHE:-off on}"
SHAPES="${SHAPES:-$ALL_SHAPES}"
TASKS="${TASKS:-100000}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-4}"
ROUNDS="${ROUNDS:-1}"
SEED_JOBS="${SEED_JOBS:-8}"
SEED="${SEED:-21}"
SYNC="${SYNC:-full}"
SERVER_LOG="${SERVER_LOG:-info}"
STRICT="${STRICT:-0}"
KEEP_DB="${KEEP_DB:-0}"
FIND_USER="find-user"
declare -A TARGET_MS=([sqlite]=10 [postgres]=20)

for t in $TARGETS; do
    [[ "$t" == sqlite || "$t" == postgres ]] || die "unknown target '$t' in TARGETS (sqlite, postgres)"
done
[[ -n "${TARGETS// /}" ]] || die "TARGETS is empty"
for c in $CACHE; do
    [[ "$c" == off || "$c" == on ]] || die "unknown CACHE '$c' (off, on)"
done
for s in $SHAPES; do
    [[ " $ALL_SHAPES " == *" $s "* ]] || die "unknown shape '$s' in SHAPES ($ALL_SHAPES)"
done
for knob in TASKS THREADS CONNECTIONS ROUNDS SEED_JOBS SEED; do
    [[ "${!knob}" =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive whole number, not '${!knob}'"
done
((THREADS <= CONNECTIONS)) || die "THREADS ($THREADS) must not exceed CONNECTIONS ($CONNECTIONS)"

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed; install it with: apt-get install -y $tool"
done

bench_init
find_taskgate
[[ " $TARGETS " != *" postgres "* ]] || require_postgres
if [[ "$KEEP_DB" == 1 ]]; then
    # Forget the databases before lib.sh's cleanup drops them.
    keep_databases() {
        local db
        for db in "${DATABASES[@]}"; do log "KEEP_DB=1: kept the PostgreSQL database $db; drop it by hand"; done
        DATABASES=()
    }
    trap 'status=$?; keep_databases; (exit "$status"); bench_cleanup' EXIT
fi

BETTER_AUTH_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export BETTER_AUTH_SECRET
export TASKGATE_SQLITE_SYNCHRONOUS="$SYNC"
export TASKGATE_MAX_TASKS_PER_USER=$((TASKS > 10000 ? TASKS : 10000))
export RUST_LOG=warn # for `taskgate token`; servers get $SERVER_LOG
unset TASKGATE_JWT_ISSUER TASKGATE_JWT_AUDIENCE TASKGATE_JWT_LEEWAY TASKGATE_JWKS_URL TASKGATE_JWKS_ISSUERS TASKGATE_LIST_CACHE_MB
TOKEN="$(cd "$TMP" && "$BIN" token --user "$FIND_USER" --ttl 86400)" || die "taskgate token failed"
AUTH="Authorization: Bearer $TOKEN"

# The dues are spread around the day the run starts (UTC); the date range is its next 30 days.
TODAY=$(($(date -u +%s) / 86400))
RANGE_FROM="$(date -u -d "@$((TODAY * 86400))" +%F)"
RANGE_TO="$(date -u -d "@$(((TODAY + 29) * 86400))" +%F)"
declare -A QUERY=(
    [tag]="tag=work"
    [tag-open]="tag=work&completed=false"
    [high-by-due]="priority=high&sort=due&order=asc"
    [overdue]="overdue=true&tz=Europe/Berlin"
    [search]="q=rep%20cli"
    [date-range]="due_from=$RANGE_FROM&due_to=$RANGE_TO"
    [by-title]="sort=title&order=asc"
    [default]=""
)
# What every task of a shape's first page must satisfy (jq, on the array of tasks). A due sorts by
# its instant: `at` for a timed due, 00:00 UTC of the date for an all-day one.
DUE_KEY='(if .due == null then "~" else (.due.at // (.due.date + "T00:00:00Z")) end)'
TOMORROW="$(date -u -d "@$(((TODAY + 1) * 86400))" +%F)"
declare -A CHECK=(
    [tag]='all(.tags | map(ascii_downcase) | index("work") != null)'
    [tag-open]='all((.tags | map(ascii_downcase) | index("work") != null) and .completed == false)'
    [high-by-due]="all(.priority == \"high\") and ([.[] | $DUE_KEY] | . == sort)"
    [overdue]="all(.completed == false and .due != null and .due.date <= \"$TOMORROW\")"
    [search]='all((.title + " " + (.description // "")) | ascii_downcase | test("\\brep") and test("\\bcli"))'
    [date-range]="all(.due != null and .due.date >= \"$RANGE_FROM\" and .due.date <= \"$RANGE_TO\")"
    [by-title]='([.[].title | ascii_downcase] | . == sort)'
    [default]='true'
)
shape_url() { # shape_url BASE SHAPE
    local q="${QUERY[$2]}"
    echo "$1/api/$FIND_USER/tasks${q:+?$q}"
}

# --- seeding ---------------------------------------------------------------------------------------
# seed_tasks BASE: TASKS tasks through POST /api/find-user/tasks, SEED_JOBS curl processes at once
# (one keep-alive connection each); every create must answer 201. Writes $TMP/expected.txt.
seed_tasks() {
    local base="$1" started i pids=() bad
    rm -f "$TMP"/seed-*.curl "$TMP"/seed-*.out
    awk -v tasks="$TASKS" -v jobs="$SEED_JOBS" -v seed="$SEED" -v today="$TODAY" \
        -v url="$base/api/$FIND_USER/tasks" -v token="$TOKEN" -v out="$TMP" \
        -f "$BENCH_DIR/find.awk" >"$TMP/expected.txt" || die "find.awk failed"
    started=$(date +%s.%N)
    for ((i = 0; i < SEED_JOBS && i < TASKS; i++)); do
        curl -s -K "$TMP/seed-$i.curl" >"$TMP/seed-$i.out" 2>"$TMP/seed-$i.err" &
        pids+=("$!")
        bg_started "$!"
    done
    for i in "${pids[@]}"; do
        wait "$i" || { bg_waited "$i"; die "seeding: a curl failed: $(cat "$TMP"/seed-*.err | head -c 300)"; }
        bg_waited "$i"
    done
    SEED_SECONDS="$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
    bad="$(cat "$TMP"/seed-*.out | grep -vc '^201$' || true)"
    ((bad == 0)) || die "seeding: $bad creates did not answer 201 ($(cat "$TMP"/seed-*.out | sort | uniq -c | xargs))"
    (($(cat "$TMP"/seed-*.out | wc -l) == TASKS)) || die "seeding: $(cat "$TMP"/seed-*.out | wc -l) answers for $TASKS creates"
    log "seeded $TASKS tasks through the API in $SEED_SECONDS s ($(awk -v n="$TASKS" -v s="$SEED_SECONDS" 'BEGIN { printf "%.0f", n / s }') creates a second, $SEED_JOBS connections)"
}

# --- one shape -------------------------------------------------------------------------------------
declare -A RPS P50 P99 SP99 TOTAL BYTES VERDICT
ROWS=()
MISSED=0

# check_shape BASE SHAPE: read the first page once; check the status, X-Total-Count and the page.
check_shape() {
    local base="$1" shape="$2" url code total lo hi len want
    url="$(shape_url "$base" "$shape")"
    code="$(curl -s -D "$TMP/page.headers" -o "$TMP/page.json" -w '%{http_code}' -H "$AUTH" "$url")" ||
        die "$shape: GET $url failed"
    [[ "$code" == 200 ]] || die "$shape: GET $url answered $code: $(head -c 300 "$TMP/page.json")"
    total="$(tr -d '\r' <"$TMP/page.headers" | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }')"
    read -r lo hi < <(awk -v s="$shape" '$1 == s { print $2, $3 }' "$TMP/expected.txt")
    [[ -n "$total" ]] || die "$shape: no X-Total-Count"
    ((total >= lo && total <= hi)) ||
        die "$shape: X-Total-Count $total, but find.awk made $lo$([[ $lo == "$hi" ]] || echo " to $hi") such tasks"
    len="$(jq 'length' "$TMP/page.json")" || die "$shape: the page is not JSON"
    want=$((total < 100 ? total : 100))
    ((len == want)) || die "$shape: the first page has $len tasks, expected $want"
    [[ "$(jq "${CHECK[$shape]}" "$TMP/page.json")" == true ]] ||
        die "$shape: a task on the first page does not match (${CHECK[$shape]})"
    CHECKED_TOTAL="$total"
    CHECKED_BYTES="$(stat -c %s "$TMP/page.json")"
}

# server_latency LOG FROM_LINE: "P50 P99" in ms of the access log's latency_us after line FROM_LINE.
server_latency() {
    tail -n +"$(($2 + 1))" "$1" | grep -oE 'latency_us[=":]+[0-9]+' | grep -oE '[0-9]+$' | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "- -"; exit }
            i50 = int(0.50 * NR + 0.5); if (i50 < 1) i50 = 1
            i99 = int(0.99 * NR + 0.5); if (i99 < 1) i99 = 1
            printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }'
}

# measure KEY BASE SHAPE TARGET LOGFILE: check the shape, warm up, then wrk; record the figures.
measure() {
    local key="$1" base="$2" shape="$3" target="$4" logfile="$5" url out from
    check_shape "$base" "$shape"
    url="$(shape_url "$base" "$shape")"
    out="$TMP/wrk-${key//\//-}.txt"
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --latency -H "$AUTH" "$url" >"$out.warm-up" 2>&1 ||
            { cat "$out.warm-up" >&2; die "wrk failed for $key (warm-up)"; }
    fi
    from="$(wc -l <"$logfile")"
    log "wrk $key: -t$THREADS -c$CONNECTIONS -d$DURATION $url"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$AUTH" "$url" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed for $key"; }
    sed 's/^/    /' "$out" >&2
    parse_wrk "$out"
    ((W_NON2XX == 0)) || die "$key: $W_NON2XX non-2xx answers"
    ((W_SOCKET == 0)) || die "$key: $W_SOCKET socket errors"
    RPS[$key]="$W_RPS"
    P50[$key]="$W_P50"
    P99[$key]="$W_P99"
    read -r _ "SP99[$key]" < <(server_latency "$logfile" "$from")
    TOTAL[$key]="$CHECKED_TOTAL"
    BYTES[$key]="$CHECKED_BYTES"
    if awk -v p="$W_P99" -v t="${TARGET_MS[$target]}" 'BEGIN { exit !(p < t) }'; then
        VERDICT[$key]="PASS"
    else
        VERDICT[$key]="MISS"
        MISSED=1
    fi
    ROWS+=("$key")
    log "$key: ${W_RPS} req/s, p50 ${W_P50} ms, p99 ${W_P99} ms (server's own p99 ${SP99[$key]} ms), X-Total-Count ${TOTAL[$key]}: ${VERDICT[$key]} (p99 < ${TARGET_MS[$target]} ms)"
}

# --- one target at a time --------------------------------------------------------------------------
declare -A SEEDED_IN
for target in $TARGETS; do
    case "$target" in
        sqlite)
            DB_URL="sqlite://$TMP/find.db"
            ;;
        postgres)
            create_database
            TARGET_DB="$CREATED_DB"
            DB_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$TARGET_DB"
            ;;
    esac
    seeded=0
    for cache in $CACHE; do
        if [[ "$cache" == off ]]; then export TASKGATE_LIST_CACHE_MB=0; else unset TASKGATE_LIST_CACHE_MB; fi
        start_taskgate "taskgate-$target-cache-$cache" "$DB_URL"
        logfile="${SERVER_LOG_FILES[-1]}"
        if ((seeded == 0)); then
            seed_tasks "$SERVER_BASE"
            SEEDED_IN[$target]="$SEED_SECONDS"
            if [[ "$target" == postgres ]]; then
                # What autovacuum does on its own within a minute of so many inserts: fresh
                # statistics for the planner.
                db_psql "$TARGET_DB" -c 'VACUUM (ANALYZE)' || die "VACUUM (ANALYZE) failed"
            fi
            seeded=1
        fi
        for round in $(seq 1 "$ROUNDS"); do
            suffix=""
            ((round == 1)) || suffix="#$round"
            for shape in $SHAPES; do
                measure "$target/$cache/$shape$suffix" "$SERVER_BASE" "$shape" "$target" "$logfile"
            done
        done
        stop_servers
    done
    [[ "$target" != postgres || "$KEEP_DB" == 1 ]] || drop_databases
done

# --- the report --------------------------------------------------------------------------------------
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
echo
echo "taskgate, finding tasks: one user with $TASKS tasks (bench/find.awk, seed $SEED), the first page (limit 100) of each shape," \
    "wrk -t$THREADS -c$CONNECTIONS -d$DURATION after a $WARMUP warm-up; list cache off (TASKGATE_LIST_CACHE_MB=0) and on (default)"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), server and wrk on one machine, commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "taskgate: RUST_LOG=$SERVER_LOG, SQLite synchronous=$SYNC; seeded through the API in$(for t in $TARGETS; do printf ' %s %s s' "$t" "${SEEDED_IN[$t]}"; done)"
echo "dues spread around $RANGE_FROM; date-range is $RANGE_FROM to $RANGE_TO"
echo
row() { printf '| %-12s | %-8s | %-5s | %8s | %8s | %10s | %8s | %7s | %7s | %-14s |\n' "$@"; }
row "shape" "backend" "cache" "p50 (ms)" "p99 (ms)" "server p99" "req/s" "total" "bytes" "p99 target"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------- ---------- ------- ---------- ---------- ------------ ---------- --------- --------- ----------------
for key in "${ROWS[@]}"; do
    IFS=/ read -r target cache shape <<<"$key"
    row "$shape" "$target" "$cache" "${P50[$key]}" "${P99[$key]}" "${SP99[$key]}" "${RPS[$key]}" "${TOTAL[$key]}" "${BYTES[$key]}" \
        "< ${TARGET_MS[$target]} ${VERDICT[$key]}"
done
echo "(p50/p99: wrk's; server p99: the access log's latency_us over the same run; total: X-Total-Count;"
echo " bytes: the first page's body)"
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
