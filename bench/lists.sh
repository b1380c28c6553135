#!/usr/bin/env bash
# Lists (issue 22): one user with LISTS (500) lists, created through the API, and TASKS (10,000)
# tasks spread over them and the inbox, seeded through the API; one list (the measured one) holds
# LIST_TASKS (20) of them, spread evenly over the seeding so they are neither the newest nor the
# oldest. Then, with wrk, alternating in one run over ROUNDS rounds (the order reversed every other
# round), on a server with taskgate's list-page cache off (TASKGATE_LIST_CACHE_MB=0: every request
# runs the query) and on (the default), on SQLite and PostgreSQL:
#
#   default   GET /api/lists-user/tasks?limit=20       the default list's first 20, same user and data
#   list      GET /api/lists-user/tasks?list=<id>      the measured list: its 20 tasks
#   wlist     GET /api/wlist-user/tasks                W-list itself (run.sh): a second user with
#                                                      20 tasks of the same shape, in the inbox
#   lists-cN  GET /api/lists-user/lists                the 500 lists with their counts, at N
#                                                      connections for each N in LISTS_CONNECTIONS
#
# default, list and wlist run at W-list's wrk -t2 -c32 (bench/run.sh). `list` against `default` is
# the fair pair: the same user, database and server, both answering 20 tasks of the same shape
# (about the same bytes), one walking the list's index, the other the user's tasks newest first.
#
#   bench/lists.sh                               # both targets, cache off and on
#   TARGETS=sqlite CACHE=off bench/lists.sh      # only SQLite, only with the cache off
#   TASKGATE_BIN=target/release/taskgate ROUNDS=3 bench/lists.sh
#
# Before measuring, on every server: each request answers 200; the list page's X-Total-Count is
# LIST_TASKS, it holds exactly the measured list's seeded tasks, each with that list_id; the default
# page has 20 tasks and X-Total-Count TASKS; W-list's has 20 and 20; /lists has LISTS entries, in
# position order, each with the `tasks` and `open` the seeding put in it.
#
# Environment knobs (all optional):
#   TARGETS            sqlite and/or postgres, in this order       (default "sqlite postgres")
#   CACHE              off and/or on: TASKGATE_LIST_CACHE_MB 0 or the default (default "off on")
#   LISTS              lists of the user, at most 500              (default 500)
#   TASKS              tasks of the user, in all                   (default 10000)
#   LIST_TASKS         tasks in the measured list; also the default page's limit (default 20)
#   DURATION           wrk duration per workload                   (default 10s)
#   WARMUP             an unmeasured wrk run of each workload first (default 2s; 0: none)
#   THREADS            wrk threads (for /lists at most its connections) (default 2, as W-list)
#   CONNECTIONS        wrk connections for default, list, wlist    (default 32, as W-list)
#   LISTS_CONNECTIONS  connection counts for /lists                (default "1 4 32")
#   ROUNDS             rounds of the alternation                   (default 2)
#   SAME_MIN           list= req/s over the default's, at least    (default 0.90)
#   SEED_JOBS          curl processes seeding at once, one connection each (default 8)
#   SEED               awk's random seed (which tasks are completed) (default 22)
#   SYNC               TASKGATE_SQLITE_SYNCHRONOUS                 (default full)
#   (TASKGATE_MAX_INFLIGHT_PER_USER is set to twice the most connections used, at least 32: see below)
#   SERVER_LOG         taskgate's RUST_LOG                         (default info: the access log is on)
#   STRICT=1           exit non-zero when a target is missed (correctness failures always do)
#   KEEP_TMP=1         keep the temp dir (the SQLite file, logs, wrk output) and say where
#   KEEP_DB=1          keep the PostgreSQL database and say its name
#   PORT               first port to try                           (default 18080; free ones are probed)
#   TASKGATE_BIN       use this binary instead of `cargo build --release --bin taskgate`
#   PG_HOST PG_PORT PG_USER PG_ADMIN_DB   PostgreSQL, trust auth (default 127.0.0.1 5432 postgres test)
#
# Targets (issue 22): the list page at the same speed as the default list (here: req/s at least
# SAME_MIN of it, summed over the rounds), and /lists with 500 lists under 5 ms p99 (at every count
# of LISTS_CONNECTIONS, the worst round). If a target fails part-way, the figures measured so far are
# printed before the failure. See bench/README.md; the figures are in bench/RESULTS.md.
set -euo pipefail

BENCH_NAME="lists"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

TARGETS="${TARGETS:-sqlite postgres}"
CACHE="${CACHE:-off on}"
LISTS="${LISTS:-500}"
TASKS="${TASKS:-10000}"
LIST_TASKS="${LIST_TASKS:-20}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
LISTS_CONNECTIONS="${LISTS_CONNECTIONS:-1 4 32}"
ROUNDS="${ROUNDS:-2}"
SAME_MIN="${SAME_MIN:-0.90}"
SEED_JOBS="${SEED_JOBS:-8}"
SEED="${SEED:-22}"
SYNC="${SYNC:-full}"
SERVER_LOG="${SERVER_LOG:-info}"
STRICT="${STRICT:-0}"
KEEP_DB="${KEEP_DB:-0}"
LISTS_USER="lists-user"
WLIST_USER="wlist-user"
LISTS_P99_MS=5

for t in $TARGETS; do
    [[ "$t" == sqlite || "$t" == postgres ]] || die "unknown target '$t' in TARGETS (sqlite, postgres)"
done
[[ -n "${TARGETS// /}" ]] || die "TARGETS is empty"
for c in $CACHE; do
    [[ "$c" == off || "$c" == on ]] || die "unknown CACHE '$c' (off, on)"
done
for knob in LISTS TASKS LIST_TASKS THREADS CONNECTIONS ROUNDS SEED_JOBS SEED; do
    [[ "${!knob}" =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive whole number, not '${!knob}'"
done
for n in $LISTS_CONNECTIONS; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "LISTS_CONNECTIONS must be positive whole numbers, not '$n'"
done
[[ "$SAME_MIN" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SAME_MIN must be a number, not '$SAME_MIN'"
((LISTS <= 500)) || die "LISTS ($LISTS) must be at most 500, the most lists a user may have"
((LISTS >= 2)) || die "LISTS ($LISTS) must be at least 2: the measured list and another"
((LIST_TASKS <= 100)) || die "LIST_TASKS ($LIST_TASKS) must be at most 100, one page"
((TASKS >= 2 * LIST_TASKS)) || die "TASKS ($TASKS) must be at least twice LIST_TASKS ($LIST_TASKS)"
((THREADS <= CONNECTIONS)) || die "THREADS ($THREADS) must not exceed CONNECTIONS ($CONNECTIONS)"

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed; install it with: apt-get install -y $tool"
done

bench_init
find_taskgate
[[ " $TARGETS " != *" postgres "* ]] || require_postgres

BETTER_AUTH_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export BETTER_AUTH_SECRET
export TASKGATE_SQLITE_SYNCHRONOUS="$SYNC"
export TASKGATE_MAX_TASKS_PER_USER=$((TASKS > 10000 ? TASKS : 10000))
# Every workload is one user's: at exactly the per-user in-flight cap (default 32) a connection's
# next request can arrive before the server has let go of its last one, and be refused (429; seen
# with /lists' 100 kB body at 32 connections). The cap is not what is measured: twice the most
# connections used.
MOST_CONNECTIONS="$CONNECTIONS"
for n in $LISTS_CONNECTIONS; do ((n <= MOST_CONNECTIONS)) || MOST_CONNECTIONS="$n"; done
export TASKGATE_MAX_INFLIGHT_PER_USER=$((2 * MOST_CONNECTIONS > 32 ? 2 * MOST_CONNECTIONS : 32))
export RUST_LOG=warn # for `taskgate token`; servers get $SERVER_LOG
unset TASKGATE_JWT_ISSUER TASKGATE_JWT_AUDIENCE TASKGATE_JWT_LEEWAY TASKGATE_JWKS_URL TASKGATE_JWKS_ISSUERS TASKGATE_LIST_CACHE_MB
TOKEN="$(cd "$TMP" && "$BIN" token --user "$LISTS_USER" --ttl 86400)" || die "taskgate token failed"
WTOKEN="$(cd "$TMP" && "$BIN" token --user "$WLIST_USER" --ttl 86400)" || die "taskgate token failed"
AUTH="Authorization: Bearer $TOKEN"
WAUTH="Authorization: Bearer $WTOKEN"

# --- seeding ---------------------------------------------------------------------------------------
# send_configs PREFIX: send every $TMP/PREFIX-*.curl with its own curl process (one keep-alive
# connection each), all at once; their answers go to the matching .out files.
send_configs() {
    local prefix="$1" f pids=() pid
    for f in "$TMP/$prefix"-*.curl; do
        curl -s -K "$f" >"${f%.curl}.out" 2>"${f%.curl}.err" &
        pids+=("$!")
        bg_started "$!"
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || { bg_waited "$pid"; die "seeding ($prefix): a curl failed: $(cat "$TMP/$prefix"-*.err | head -c 300)"; }
        bg_waited "$pid"
    done
}

# seed_lists BASE: LISTS lists "List 001"... through POST /api/lists-user/lists, SEED_JOBS at once;
# every create must answer 201. Writes $TMP/list-ids.txt: "NUMBER ID" (NUMBER 1 is the measured list).
seed_lists() {
    local base="$1" started secs
    rm -f "$TMP"/lists-*.curl "$TMP"/lists-*.out
    awk -v lists="$LISTS" -v jobs="$SEED_JOBS" -v url="$base/api/$LISTS_USER/lists" -v token="$TOKEN" -v out="$TMP" 'BEGIN {
        split("#3366ff #e53935 #43a047 #fb8c00 #8e24aa", colour, " ")
        for (n = 1; n <= lists; n++) {
            file = sprintf("%s/lists-%d.curl", out, n % jobs)
            if (sent[file]++) print "next" > file
            print "url = \"" url "\"" > file
            print "header = \"Authorization: Bearer " token "\"" > file
            print "header = \"Content-Type: application/json\"" > file
            printf "data = \"{\\\"name\\\":\\\"List %03d\\\",\\\"color\\\":\\\"%s\\\"}\"\n", n, colour[1 + n % 5] > file
            print "output = \"/dev/null\"" > file
            printf "write-out = \"%d %%{http_code} %%header{location}\\n\"\n", n > file
        }
    }' || die "writing the lists' curl files failed"
    started=$(date +%s.%N)
    send_configs lists
    secs="$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
    cat "$TMP"/lists-*.out >"$TMP/lists.answers"
    awk '$2 != 201 { bad++ } END { exit bad > 0 }' "$TMP/lists.answers" ||
        die "seeding lists: not every create answered 201 ($(awk '{ print $2 }' "$TMP/lists.answers" | sort | uniq -c | xargs)); first: $(awk '$2 != 201' "$TMP/lists.answers" | head -n 1)"
    awk '{ n = split($3, p, "/"); print $1, p[n] }' "$TMP/lists.answers" | sort -n >"$TMP/list-ids.txt"
    (($(awk 'NF == 2 && length($2) == 36' "$TMP/list-ids.txt" | wc -l) == LISTS)) ||
        die "seeding lists: $(wc -l <"$TMP/list-ids.txt") lists with an id in Location, expected $LISTS"
    MEASURED_ID="$(awk '$1 == 1 { print $2 }' "$TMP/list-ids.txt")"
    log "created $LISTS lists through the API in $secs s; the measured list is $MEASURED_ID"
}

# seed_tasks BASE: TASKS tasks for lists-user: every (TASKS / LIST_TASKS)-th in the measured list
# (list 1), the others in turn in lists 2..LISTS and the inbox; about 30 % completed (SEED). Plus
# LIST_TASKS tasks of the same shape for wlist-user, in its inbox. SEED_JOBS curl processes at
# once; every create must answer 201. Writes $TMP/expected-lists.txt ("ID TASKS OPEN", every list)
# and $TMP/measured-titles.txt (the titles of the measured list's tasks, sorted).
seed_tasks() {
    local base="$1" started bad answers
    rm -f "$TMP"/tasks-*.curl "$TMP"/tasks-*.out
    awk -v tasks="$TASKS" -v lists="$LISTS" -v in_list="$LIST_TASKS" -v jobs="$SEED_JOBS" -v seed="$SEED" \
        -v url="$base/api/$LISTS_USER/tasks" -v token="$TOKEN" -v wurl="$base/api/$WLIST_USER/tasks" \
        -v wtoken="$WTOKEN" -v out="$TMP" '
        function task(file, u, tok, title, completed, list,   body) {
            body = sprintf("{\\\"title\\\":\\\"%s\\\",\\\"description\\\":\\\"seeded task for the lists benchmark\\\",\\\"completed\\\":%s,\\\"list_id\\\":%s}",
                title, (completed ? "true" : "false"), (list == "" ? "null" : "\\\"" list "\\\""))
            if (sent[file]++) print "next" > file
            print "url = \"" u "\"" > file
            print "header = \"Authorization: Bearer " tok "\"" > file
            print "header = \"Content-Type: application/json\"" > file
            print "data = \"" body "\"" > file
            print "output = \"/dev/null\"" > file
            print "write-out = \"%{http_code}\\n\"" > file
        }
        { id[$1] = $2 }
        END {
            srand(seed)
            stride = int(tasks / in_list)
            other = 0
            for (k = 0; k < tasks; k++) {
                completed = rand() < 0.3
                if (k % stride == int(stride / 2) && placed < in_list) {
                    n = 1 # the measured list
                    placed++
                    printf "Task %05d\n", k > (out "/measured-titles.txt")
                } else {
                    b = other++ % lists # 0: the inbox; 1..lists-1: lists 2..lists
                    n = b == 0 ? 0 : b + 1
                }
                list = n == 0 ? "" : id[n]
                if (n == 0) inbox++
                else { count[n]++; if (!completed) open[n]++ }
                task(sprintf("%s/tasks-%d.curl", out, k % jobs), url, token, sprintf("Task %05d", k), completed, list)
            }
            for (k = 0; k < in_list; k++)
                task(out "/tasks-w.curl", wurl, wtoken, sprintf("Task %05d", k), rand() < 0.3, "")
            for (n = 1; n <= lists; n++) printf "%s %d %d\n", id[n], count[n], open[n]
            printf "inbox %d\n", inbox > (out "/inbox.txt")
        }' "$TMP/list-ids.txt" >"$TMP/expected-lists.txt" || die "writing the tasks' curl files failed"
    sort -o "$TMP/measured-titles.txt" "$TMP/measured-titles.txt"
    (($(wc -l <"$TMP/measured-titles.txt") == LIST_TASKS)) ||
        die "the seeding plan puts $(wc -l <"$TMP/measured-titles.txt") tasks in the measured list, not $LIST_TASKS"
    started=$(date +%s.%N)
    send_configs tasks
    SEED_SECONDS="$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
    answers="$(cat "$TMP"/tasks-*.out | wc -l)"
    bad="$(cat "$TMP"/tasks-*.out | grep -vc '^201$' || true)"
    ((bad == 0)) || die "seeding tasks: $bad creates did not answer 201 ($(cat "$TMP"/tasks-*.out | sort | uniq -c | xargs))"
    ((answers == TASKS + LIST_TASKS)) || die "seeding tasks: $answers answers for $((TASKS + LIST_TASKS)) creates"
    log "seeded $TASKS tasks ($(cat "$TMP/inbox.txt") of them in the inbox) and W-list's $LIST_TASKS through the API in $SEED_SECONDS s ($(awk -v n="$answers" -v s="$SEED_SECONDS" 'BEGIN { printf "%.0f", n / s }') creates a second, $SEED_JOBS connections)"
}

# --- checks ----------------------------------------------------------------------------------------
# get_page NAME URL HEADER: GET URL once into $TMP/page.json (headers in $TMP/page.headers); it must
# answer 200 with JSON. Sets PAGE_TOTAL (X-Total-Count, empty if none), PAGE_LEN, PAGE_BYTES.
get_page() {
    local name="$1" url="$2" header="$3" code
    code="$(curl -s -D "$TMP/page.headers" -o "$TMP/page.json" -w '%{http_code}' -H "$header" "$url")" ||
        die "$name: GET $url failed"
    [[ "$code" == 200 ]] || die "$name: GET $url answered $code: $(head -c 300 "$TMP/page.json")"
    PAGE_TOTAL="$(tr -d '\r' <"$TMP/page.headers" | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }')"
    PAGE_LEN="$(jq 'length' "$TMP/page.json")" || die "$name: the answer is not JSON"
    PAGE_BYTES="$(stat -c %s "$TMP/page.json")"
}

declare -A URL HEADER TOTAL BYTES
# check_all BASE: read every workload's URL once and check it (see the header). Sets URL, HEADER,
# TOTAL and BYTES of each workload.
check_all() {
    local base="$1" w
    URL[default]="$base/api/$LISTS_USER/tasks?limit=$LIST_TASKS"
    URL[list]="$base/api/$LISTS_USER/tasks?list=$MEASURED_ID"
    URL[wlist]="$base/api/$WLIST_USER/tasks"
    URL[lists]="$base/api/$LISTS_USER/lists"
    for w in default list lists; do HEADER[$w]="$AUTH"; done
    HEADER[wlist]="$WAUTH"

    get_page list "${URL[list]}" "${HEADER[list]}"
    [[ "$PAGE_TOTAL" == "$LIST_TASKS" ]] || die "list: X-Total-Count '$PAGE_TOTAL', expected $LIST_TASKS"
    ((PAGE_LEN == LIST_TASKS)) || die "list: the page has $PAGE_LEN tasks, expected $LIST_TASKS"
    [[ "$(jq --arg id "$MEASURED_ID" 'all(.list_id == $id)' "$TMP/page.json")" == true ]] ||
        die "list: a task on the page is not in list $MEASURED_ID"
    jq -r '.[].title' "$TMP/page.json" | sort | cmp -s - "$TMP/measured-titles.txt" ||
        die "list: the page's tasks are not the ones seeded into the list"
    TOTAL[list]="$PAGE_TOTAL" BYTES[list]="$PAGE_BYTES"

    get_page default "${URL[default]}" "${HEADER[default]}"
    [[ "$PAGE_TOTAL" == "$TASKS" ]] || die "default: X-Total-Count '$PAGE_TOTAL', expected $TASKS"
    ((PAGE_LEN == LIST_TASKS)) || die "default: the page has $PAGE_LEN tasks, expected $LIST_TASKS"
    [[ "$(jq '[.[].id] | . == (sort | reverse)' "$TMP/page.json")" == true ]] ||
        die "default: the page is not newest first"
    TOTAL[default]="$PAGE_TOTAL" BYTES[default]="$PAGE_BYTES"

    get_page wlist "${URL[wlist]}" "${HEADER[wlist]}"
    [[ "$PAGE_TOTAL" == "$LIST_TASKS" ]] || die "wlist: X-Total-Count '$PAGE_TOTAL', expected $LIST_TASKS"
    ((PAGE_LEN == LIST_TASKS)) || die "wlist: the page has $PAGE_LEN tasks, expected $LIST_TASKS"
    TOTAL[wlist]="$PAGE_TOTAL" BYTES[wlist]="$PAGE_BYTES"

    get_page lists "${URL[lists]}" "${HEADER[lists]}"
    ((PAGE_LEN == LISTS)) || die "lists: $PAGE_LEN lists, expected $LISTS"
    [[ "$(jq '[.[].position] | . == sort' "$TMP/page.json")" == true ]] || die "lists: not in position order"
    jq -r '.[] | "\(.id) \(.tasks) \(.open)"' "$TMP/page.json" | sort >"$TMP/lists.got"
    sort "$TMP/expected-lists.txt" | diff - "$TMP/lists.got" >"$TMP/lists.diff" ||
        die "lists: counts differ from the seeding (< expected, > answered): $(head -n 6 "$TMP/lists.diff" | tr '\n' ' ')"
    TOTAL[lists]="$PAGE_LEN" BYTES[lists]="$PAGE_BYTES"
    log "checked: list= has its $LIST_TASKS tasks (${BYTES[list]} B), default page 20 of $TASKS (${BYTES[default]} B), W-list 20 (${BYTES[wlist]} B), /lists $LISTS lists with the seeded counts (${BYTES[lists]} B)"
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

# --- one workload ----------------------------------------------------------------------------------
declare -A RPS P50 P99 SP99 CONNS
ROWS=()
MISSED=0

# workload_of NAME: the URL key, threads and connections of a workload (default, list, wlist,
# lists-cN), as "KEY THREADS CONNECTIONS".
workload_of() {
    case "$1" in
        lists-c*) echo "lists $THREADS ${1#lists-c}" ;;
        *) echo "$1 $THREADS $CONNECTIONS" ;;
    esac
}

# measure KEY WORKLOAD LOGFILE WARM: wrk (after a warm-up when WARM is 1); record the figures.
measure() {
    local key="$1" workload="$2" logfile="$3" warm="$4" w t c out from
    read -r w t c < <(workload_of "$workload")
    ((t <= c)) || t="$c"
    out="$TMP/wrk-${key//\//-}.txt"
    if [[ "$warm" == 1 && "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        wrk -t"$t" -c"$c" -d"$WARMUP" --latency -H "${HEADER[$w]}" "${URL[$w]}" >"$out.warm-up" 2>&1 ||
            { cat "$out.warm-up" >&2; die "wrk failed for $key (warm-up)"; }
    fi
    from="$(wc -l <"$logfile")"
    log "wrk $key: -t$t -c$c -d$DURATION ${URL[$w]}"
    wrk -t"$t" -c"$c" -d"$DURATION" --latency -H "${HEADER[$w]}" "${URL[$w]}" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed for $key"; }
    parse_wrk "$out"
    ((W_NON2XX == 0)) || die "$key: $W_NON2XX non-2xx answers"
    ((W_SOCKET == 0)) || die "$key: $W_SOCKET socket errors"
    RPS[$key]="$W_RPS"
    P50[$key]="$W_P50"
    P99[$key]="$W_P99"
    CONNS[$key]="$c"
    read -r _ "SP99[$key]" < <(server_latency "$logfile" "$from")
    ROWS+=("$key")
    log "$key: ${W_RPS} req/s, p50 ${W_P50} ms, p99 ${W_P99} ms (server's own p99 ${SP99[$key]} ms)"
}

# --- the report ------------------------------------------------------------------------------------
declare -A SEEDED_IN
SUMMARY=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

# summarise TARGET CACHE: the verdicts of one server, added to SUMMARY.
summarise() {
    local target="$1" cache="$2" r k per_round="" sum_list=0 sum_default=0 sum_wlist=0 overall n worst verdict p99s
    for r in $(seq 1 "$ROUNDS"); do
        k="$target/$cache"
        [[ -n "${RPS[$k/list/$r]:-}" && -n "${RPS[$k/default/$r]:-}" ]] || continue
        per_round+=" $(ratio "${RPS[$k/list/$r]}" "${RPS[$k/default/$r]}")"
        sum_list=$((sum_list + RPS[$k/list/$r]))
        sum_default=$((sum_default + RPS[$k/default/$r]))
        sum_wlist=$((sum_wlist + ${RPS[$k/wlist/$r]:-0}))
    done
    if [[ -n "$per_round" ]]; then
        overall="$(ratio "$sum_list" "$sum_default")"
        if awk -v r="$overall" -v m="$SAME_MIN" 'BEGIN { exit !(r >= m) }'; then verdict=PASS; else verdict=MISS; MISSED=1; fi
        SUMMARY+=("$target, cache $cache: list= / default limit=$LIST_TASKS req/s $overall over the rounds (per round:$per_round): $verdict (>= $SAME_MIN); list= / W-list $(ratio "$sum_list" "$sum_wlist")")
    fi
    for n in $LISTS_CONNECTIONS; do
        p99s=""
        worst=0
        for r in $(seq 1 "$ROUNDS"); do
            k="$target/$cache/lists-c$n/$r"
            [[ -n "${P99[$k]:-}" ]] || continue
            p99s+=" ${P99[$k]}"
            worst="$(awk -v a="$worst" -v b="${P99[$k]}" 'BEGIN { print (b > a ? b : a) }')"
        done
        [[ -n "$p99s" ]] || continue
        if awk -v p="$worst" -v t="$LISTS_P99_MS" 'BEGIN { exit !(p < t) }'; then verdict=PASS; else verdict=MISS; MISSED=1; fi
        SUMMARY+=("$target, cache $cache: /lists ($LISTS lists) at -c$n p99$p99s ms: $verdict (< $LISTS_P99_MS ms)")
    done
}

report() {
    local commit key target cache workload round line w
    commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
    echo
    echo "taskgate, lists: one user with $LISTS lists and $TASKS tasks ($LIST_TASKS in the measured list), a second with W-list's $LIST_TASKS;" \
        "wrk -d$DURATION after a $WARMUP warm-up, $ROUNDS round(s) alternating; list cache off (TASKGATE_LIST_CACHE_MB=0) and on (default)"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(uname -m)), server and wrk on one machine, commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "taskgate: RUST_LOG=$SERVER_LOG, SQLite synchronous=$SYNC; seeded through the API in$(for t in "${!SEEDED_IN[@]}"; do printf ' %s %s s' "$t" "${SEEDED_IN[$t]}"; done)"
    echo
    row() { printf '| %-10s | %-8s | %-5s | %5s | %5s | %8s | %8s | %10s | %8s | %6s | %7s |\n' "$@"; }
    row "workload" "backend" "cache" "round" "conns" "p50 (ms)" "p99 (ms)" "server p99" "req/s" "total" "bytes"
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ---------- ------- ------- ------- ---------- ---------- ------------ ---------- -------- ---------
    for key in "${ROWS[@]}"; do
        IFS=/ read -r target cache workload round <<<"$key"
        read -r w _ _ < <(workload_of "$workload")
        row "$workload" "$target" "$cache" "$round" "${CONNS[$key]}" "${P50[$key]}" "${P99[$key]}" "${SP99[$key]}" "${RPS[$key]}" \
            "${TOTAL[$target/$w]:-}" "${BYTES[$target/$w]:-}"
    done
    echo "(p50/p99: wrk's; server p99: the access log's latency_us over the same run; total: X-Total-Count, for lists-cN the"
    echo " number of lists; bytes: the body. default: ?limit=$LIST_TASKS of the $TASKS; list: ?list=<id> of its $LIST_TASKS; wlist: W-list)"
    echo
    for line in "${SUMMARY[@]}"; do echo "$line"; done
}

if [[ "$KEEP_DB" == 1 ]]; then
    # Forget the databases before lib.sh's cleanup drops them.
    keep_databases() {
        local db
        for db in "${DATABASES[@]}"; do log "KEEP_DB=1: kept the PostgreSQL database $db; drop it by hand"; done
        DATABASES=()
    }
else
    keep_databases() { :; }
fi
# On a failure after some figures, print them before lib.sh's cleanup says why.
partial_report() {
    ((${#ROWS[@]} > 0)) || return 0
    echo "$BENCH_NAME: the figures measured before the failure:" >&2
    report >&2
}
# set +e: under errexit, `(exit "$status")` would end the trap before the cleanup.
trap 'status=$?; set +e; ((status == 0)) || partial_report; keep_databases; (exit "$status"); bench_cleanup' EXIT

# --- one target at a time --------------------------------------------------------------------------
for target in $TARGETS; do
    case "$target" in
        sqlite)
            DB_URL="sqlite://$TMP/lists.db"
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
            seed_lists "$SERVER_BASE"
            seed_tasks "$SERVER_BASE"
            SEEDED_IN[$target]="$SEED_SECONDS"
            if [[ "$target" == postgres ]]; then
                # What autovacuum does on its own within a minute of so many inserts.
                db_psql "$TARGET_DB" -c 'VACUUM (ANALYZE)' || die "VACUUM (ANALYZE) failed"
            fi
            seeded=1
        fi
        check_all "$SERVER_BASE"
        for w in default list wlist lists; do
            TOTAL[$target/$w]="${TOTAL[$w]}"
            BYTES[$target/$w]="${BYTES[$w]}"
        done
        workloads=(default list wlist)
        for n in $LISTS_CONNECTIONS; do workloads+=("lists-c$n"); done
        for round in $(seq 1 "$ROUNDS"); do
            order=("${workloads[@]}")
            if ((round % 2 == 0)); then
                order=()
                for ((i = ${#workloads[@]} - 1; i >= 0; i--)); do order+=("${workloads[$i]}"); done
            fi
            for workload in "${order[@]}"; do
                measure "$target/$cache/$workload/$round" "$workload" "$logfile" "$((round == 1 ? 1 : 0))"
            done
        done
        check_all "$SERVER_BASE" # nothing the reads did changed what they read
        stop_servers
        summarise "$target" "$cache"
    done
    [[ "$target" != postgres || "$KEEP_DB" == 1 ]] || drop_databases
done

report
if [[ "$STRICT" == 1 && "$MISSED" == 1 ]]; then
    die "a target was missed (STRICT=1)"
fi
