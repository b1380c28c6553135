#!/usr/bin/env bash
# Sign-in storm: sign-in latency and throughput (argon2id, m=19 MiB, t=2, p=1), and whether task
# reads keep their latency while sign-ins saturate the hashing threads.
#
#   bench/signin.sh                 # builds the release binary unless TASKGATE_BIN is set
#
# Knobs: TASKGATE_BIN, DURATION (default 10s), READERS (wrk connections for task reads, 16),
# SIGNERS (wrk connections for sign-ins, 16), PORT (default 18380).
# Three phases, each DURATION long: task reads alone, sign-ins alone, both at once. The goal
# (issue 8): task-read p99 under 10 ms during the storm. Results go in bench/RESULTS.md.
set -euo pipefail

DURATION="${DURATION:-10s}"
READERS="${READERS:-16}"
SIGNERS="${SIGNERS:-16}"
PORT="${PORT:-18380}"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
die() { echo "signin: FAIL: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is not installed: apt-get install -y wrk"

if [[ -z "${TASKGATE_BIN:-}" ]]; then
    (cd "$REPO_DIR" && cargo build --release --bin taskgate >&2)
    TASKGATE_BIN="$(cd "$REPO_DIR" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/taskgate"
fi
TMP="$(mktemp -d -t taskgate-signin.XXXXXX)"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

BASE="http://127.0.0.1:$PORT"
(cd "$TMP" && exec env -u BETTER_AUTH_SECRET TASKGATE_LISTEN="127.0.0.1:$PORT" \
    DATABASE_URL="sqlite://$TMP/bench.db" TASKGATE_RATE_LIMIT=off RUST_LOG=info \
    "$TASKGATE_BIN" serve) >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || die "taskgate did not start: $(cat "$TMP/server.log")"

EMAIL="storm@example.com"
PASSWORD="correct horse battery staple"
signup="$(curl -s -D "$TMP/headers" "$BASE/api/auth/sign-up/email" -H "origin: $BASE" \
    -H 'content-type: application/json' \
    -d "{\"name\":\"Storm\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
session="$(awk 'tolower($1)=="set-auth-token:"{print $2}' "$TMP/headers" | tr -d '\r')"
user="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["user"]["id"])' "$signup")"
jwt="$(curl -s "$BASE/api/auth/token" -H "authorization: Bearer $session" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
for n in $(seq 1 20); do
    curl -sf -o /dev/null "$BASE/api/$user/tasks" -H "authorization: Bearer $jwt" \
        -H 'content-type: application/json' -d "{\"title\":\"task $n\"}" || die "seeding failed"
done

cat >"$TMP/read.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $jwt"
EOF
cat >"$TMP/signin.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "$BASE"
wrk.body = '{"email":"$EMAIL","password":"$PASSWORD"}'
EOF

# run NAME CONNECTIONS SCRIPT URL: wrk with latency, output kept in $TMP/NAME.txt
run() { wrk -t1 -c"$2" -d"$DURATION" --latency -s "$3" "$4" >"$TMP/$1.txt"; }
figures() {
    awk '/Requests\/sec/{rps=$2} $1=="50%"{p50=$2} $1=="99%"{p99=$2}
         /Non-2xx/{bad=$NF} END{printf "%10s req/s  p50 %8s  p99 %8s  non-2xx %s\n", rps, p50, p99, bad+0}' "$TMP/$1.txt"
}

run reads-alone "$READERS" "$TMP/read.lua" "$BASE/api/$user/tasks"
run signins-alone "$SIGNERS" "$TMP/signin.lua" "$BASE/api/auth/sign-in/email"
run reads-during "$READERS" "$TMP/read.lua" "$BASE/api/$user/tasks" &
reads=$!
run signins-during "$SIGNERS" "$TMP/signin.lua" "$BASE/api/auth/sign-in/email"
wait "$reads"

echo "taskgate sign-in storm: wrk -t1, $DURATION per phase, $(nproc) cores shared with wrk, $(date -u +%FT%TZ)"
printf '%-26s' "task reads alone:";         figures reads-alone
printf '%-26s' "sign-ins alone:";           figures signins-alone
printf '%-26s' "task reads during storm:";  figures reads-during
printf '%-26s' "sign-ins during storm:";    figures signins-during
