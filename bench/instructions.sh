#!/usr/bin/env bash
# Instructions per request (callgrind), the figure that does not drift with the VM: /healthz and
# a user's list of 20 tasks (W-list, served from the page cache), each under a 3 s `wrk -t1 -c4`
# with instrumentation on only while the load runs.
#
#   bench/instructions.sh [path/to/taskgate]     (default: target/release/taskgate)
#
# Needs valgrind (callgrind_control) and wrk: `apt-get install -y valgrind wrk`.
set -euo pipefail
BIN=${1:-target/release/taskgate}
PORT=${PORT:-18181}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export BETTER_AUTH_SECRET=an-hs256-bench-secret-of-at-least-32-bytes
TASKGATE_LISTEN=127.0.0.1:$PORT DATABASE_URL=sqlite://$dir/t.db RUST_LOG=warn \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg.%p" "$BIN" serve \
  >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$(DATABASE_URL=sqlite://$dir/t.db "$BIN" token --user bench)
for i in $(seq 20); do
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"title\":\"task $i\"}" "http://127.0.0.1:$PORT/api/bench/tasks"
done
measure() {
  local name=$1 out reqs file instr
  shift
  callgrind_control -z "$pid" >/dev/null
  callgrind_control -i on "$pid" >/dev/null
  out=$(wrk -t1 -c4 -d3s "$@")
  callgrind_control -i off "$pid" >/dev/null
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  file=$(ls -t "$dir"/cg.*.[0-9]* | head -1)
  instr=$(grep -h '^totals:' "$file" | awk '{print $2}')
  echo "$name: $((instr / reqs)) instructions per request ($instr over $reqs requests)"
}
measure /healthz "http://127.0.0.1:$PORT/healthz"
measure W-list -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/bench/tasks"
