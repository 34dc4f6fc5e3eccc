#!/usr/bin/env bash
# What does the live view cost? (1) With N idle connections open on the executor (default 10,000), for
# /healthz (the baseline: an HTTP answer that builds nothing), /snapshot and /snapshot.json: the time to answer
# (median and p90 of REQUESTS requests, measured by curl on loopback, HTTP included) and the server's CPU time
# per request (its utime + stime over the requests, which a busy machine disturbs less). (2) Echo throughput
# with /snapshot.json polled twice a second, as the page does, against the same server without polling,
# alternated, after the same 200 unmeasured requests on both sides (the first compile the admin path); prints
# the mean messages/s and server CPU µs per message of each, and their ratios.
# --poll PATH polls another admin path in (2) (/healthz: the cost of any request, snapshot or not);
# --skip-idle skips (1).
#   scripts/live-view-cost.sh [--connections N] [--requests N] [--rounds N] [--duration SECONDS] [--poll PATH] [--skip-idle]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

connections=10000; requests=300; rounds=2; duration=15; poll=/snapshot.json; skip_idle=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --poll) poll="$2"; shift ;;
    --skip-idle) skip_idle=1 ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done
command -v curl >/dev/null 2>&1 || { echo "live-view-cost.sh: curl not found (apt-get install curl)" >&2; exit 127; }

prepare_run
out="$(mktemp -d)"
poller=""
stop_poller() { [ -z "$poller" ] || { kill "$poller" 2>/dev/null || true; wait "$poller" 2>/dev/null || true; poller=""; }; }
trap 'stop_poller; stop_server; rm -rf "$out"' EXIT

# median and p90 of the numbers on stdin, seconds in, milliseconds out
stats_ms() { sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "median %.2f ms, p90 %.2f ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'; }

# (1) snapshot cost with N idle connections
if [ "$skip_idle" = 0 ]; then
start_server "$out/server-idle.log" --pool executor --max-connections "$((connections + 100))" --backlog 4096 --admin-port 0 --log-level Warning
admin="$(admin_port "$out/server-idle.log")"
dotnet "$LOAD_DLL" --port "$SERVER_PORT" --mode hold -c "$connections" -d 600 --progress 0 >"$out/hold.txt" 2>&1 &
hold=$!
for _ in $(seq 1 600); do
  open=$(curl -s "http://127.0.0.1:$admin/snapshot.json" | grep -oE '"sessions":[0-9]+' | grep -oE '[0-9]+$' || true)
  [ "${open:-0}" -ge "$connections" ] && break
  sleep 0.2
done
echo "idle sessions open: ${open:-0} of $connections" >&2
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
for path in /healthz /snapshot /snapshot.json; do
  curl -s -o /dev/null "http://127.0.0.1:$admin$path" # warm up
  before=$(cpu_ticks)
  for _ in $(seq 1 "$requests"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$admin$path"
  done | stats_ms >"$out/time"
  cpu_ms=$(awk -v t="$(( $(cpu_ticks) - before ))" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')
  bytes=$(curl -s "http://127.0.0.1:$admin$path" | wc -c)
  echo "$path with ${open:-0} idle executor sessions: $(cat "$out/time"), server CPU $cpu_ms ms per request, over $requests requests; $bytes bytes"
done
kill "$hold" 2>/dev/null || true; wait "$hold" 2>/dev/null || true
stop_server
fi

# (2) throughput with and without polling
run() { # run LABEL poll|none: one measured run of 100 connections, 64 B ping-pong; prints "messages/s cpu-µs/message"
  # One log per run: start_server could otherwise read the last run's port from a log not yet truncated.
  start_server "$out/server-$1.log" --pool executor --admin-port 0 --log-level Warning
  local url; url="http://127.0.0.1:$(admin_port "$out/server-$1.log")$poll"
  # Both sides first answer 200 requests, unmeasured: the first ones compile the admin path (about 1.3 s of
  # CPU once per process), which would otherwise be charged to a page that stays open for minutes.
  curl -s -o /dev/null "$url?warm=[1-200]"
  if [ "$2" = poll ]; then
    # One curl, one kept-alive connection, two requests a second: like the page, without a process per poll.
    curl -s -o /dev/null --rate 2/s "$url?n=[1-100000]" &
    poller=$!
  fi
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" -c 100 -s 64 -d "$duration" --warmup 1 --progress 0 --server-pid "$SERVER_PID" \
    --json "$out/$1.json" >"$out/$1.txt" 2>&1 || true
  stop_poller
  stop_server
  local rate; rate=$(grep -oE '"messagesPerSecond": [0-9.]+' "$out/$1.json" 2>/dev/null | grep -oE '[0-9.]+$' || true)
  if [ -z "$rate" ] || [ "${rate%%.*}" = 0 ]; then
    { echo "run $1 measured nothing; echo-load said:"; tail -5 "$out/$1.txt"; } >&2
    rate=0
  fi
  echo "$rate $(grep -oE '"serverCpuUsPerMessage": [0-9.]+' "$out/$1.json" 2>/dev/null | grep -oE '[0-9.]+$' || echo 0)"
}
off=(); on=()
for i in $(seq 1 "$rounds"); do
  # Alternate which goes first, so that a machine getting busier or quieter does not favour one side.
  if [ $((i % 2)) = 1 ]; then
    off+=("$(run "off-$i" none)"); on+=("$(run "on-$i" poll)")
  else
    on+=("$(run "on-$i" poll)"); off+=("$(run "off-$i" none)")
  fi
  echo "round $i: not polled ${off[-1]% *} msg/s (${off[-1]#* } µs CPU/msg), polled ${on[-1]% *} msg/s (${on[-1]#* } µs CPU/msg)" >&2
done
printf '%s\n' "${off[@]}" >"$out/off"; printf '%s\n' "${on[@]}" >"$out/on"
# A round where either run measured nothing is left out of both means.
paste -d ' ' "$out/off" "$out/on" | awk -v d="$duration" -v rounds="$rounds" -v poll="$poll" '
  $1 > 0 && $3 > 0 { off += $1; on += $3; offCpu += $2; onCpu += $4; n++ }
  END {
    if (n == 0) { print "no round measured both sides"; exit 1 }
    printf "executor, 100 connections, 64 B ping-pong, %d of %d rounds of %d s: not polled %.0f msg/s and %.2f µs server CPU per message; %s polled twice a second %.0f msg/s and %.2f µs; polled/not: throughput %.3f, CPU per message %.3f\n", n, rounds, d, off/n, offCpu/n, poll, on/n, onCpu/n, (on/n)/(off/n), (onCpu/n)/(offCpu/n)
  }'
