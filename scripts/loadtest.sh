#!/usr/bin/env bash
# Load-tests both pools across a few sizes and connection counts, over TCP and UDP (--udp, same port and
# pool), one server start per pool configuration, then the same pool over TLS (a second start, with
# --tls-self-signed): 100 x 64 B, 100 x 16 KiB and connect mode (a handshake per connection) beside the same
# plaintext runs,
# and writes results/<timestamp>/: one JSON report per run, summary.md (table), and throughput.png/.svg and
# latency.png/.svg (charts; see scripts/README.md); with a headless Chromium on PATH, also live-view.png, the
# admin endpoint's live view under load (about 30 s more).
#   scripts/loadtest.sh [--quick] [--duration SECONDS] [--out DIR]
# Full run: about 4 minutes. --quick: about 1 minute. All load goes to 127.0.0.1.
# Every run must exit 0, except 1,000 clients on 128 workers: the worker pool serves 128 and queues the rest for
# the whole run by design, so echo-load's exit code 4 (connections that never got a reply) is expected there,
# and only there. Any other failure makes the script exit 1 (3 if a byte came back wrong).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

quick=0; duration=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --duration) duration="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  configs=("workers 128" "executor 128"); sizes=(64 16KiB); conns=(1 100 1000); udp_sizes=(64); udp_conns=(1 100); duration="${duration:-2}"; warmup=0.5
else
  configs=("workers 128" "workers 1000" "executor 128" "executor 1000"); sizes=(64 1KiB 16KiB); conns=(1 100 1000); udp_sizes=(64 1KiB); udp_conns=(1 100); duration="${duration:-4}"; warmup=1
fi

out="${out:-$repo_root/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
prepare_run

failed=(); mismatch=0
# run_load NAME EXPECTED LINES ARGS...: one echo-load run against the server started last, labelled with its pool,
# its report in $out/NAME.json and the lines the sed script LINES picks on stderr; an exit code other than 0 and
# EXPECTED fails the run (3, a wrong byte, fails the script with 3).
run_load() {
  local name="$1" expected="$2" lines="$3" rc; shift 3
  set +e
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" "$@" -d "$duration" --warmup "$warmup" --progress 0 \
    --server-pid "$SERVER_PID" --label pool="$pool" --label workers="$workers" --json "$out/$name.json" \
    | sed -n "$lines" >&2
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || [ "$rc" -eq "$expected" ] || failed+=("$name (exit $rc)")
  [ "$rc" -ne 3 ] || mismatch=1
}

for config in "${configs[@]}"; do
  read -r pool workers <<<"$config"
  start_server "$out/server-$pool-$workers.log" --pool "$pool" --workers "$workers" --max-connections 1100 --log-level Warning --udp --udp-rate-per-ip 0
  echo "== pool=$pool workers=$workers on port $SERVER_PORT" >&2
  for size in "${sizes[@]}"; do
    for c in "${conns[@]}"; do
      # More clients than workers: the rest wait in the queue all run long, on purpose (exit code 4).
      expected=0; [ "$pool" = workers ] && [ "$c" -gt "$workers" ] && expected=4
      run_load "$pool-w$workers-s$size-c$c" "$expected" '1p;3,4p;/unanswered/p;/latency/p;/errors/p' -c "$c" -s "$size"
    done
  done
  # UDP on the same port, through the same pool: ping-pong datagrams, every one answered (exit 0).
  for size in "${udp_sizes[@]}"; do
    for c in "${udp_conns[@]}"; do
      run_load "$pool-w$workers-udp-s$size-c$c" 0 '1p;3,4p;/latency/p;/errors/p' --udp -c "$c" -s "$size" --label transport=udp
    done
  done
  # Connect mode in plaintext, beside its TLS twin below: connect, echo 64 B, close, 50 at a time.
  run_load "$pool-w$workers-connect-c50" 0 '1p;/connections  /p;/latency/p;/errors/p' --mode connect -c 50 -s 64
  stop_server

  # TLS through the same pool (a self-signed certificate the server makes at start): 100 connections at 64 B and
  # 16 KiB, and connect mode, where each connection makes its own handshake. Every run exits 0.
  start_server "$out/server-$pool-$workers-tls.log" --pool "$pool" --workers "$workers" --max-connections 1100 --log-level Warning --tls-self-signed
  echo "== pool=$pool workers=$workers over TLS on port $SERVER_PORT" >&2
  tls_lines='1p;3,4p;/connections  /p;/client /p;/tls /p;/latency/p;/errors/p'
  run_load "$pool-w$workers-tls-s64-c100" 0 "$tls_lines" --tls --insecure -c 100 -s 64 --label transport=tls
  run_load "$pool-w$workers-tls-s16KiB-c100" 0 "$tls_lines" --tls --insecure -c 100 -s 16KiB --label transport=tls
  run_load "$pool-w$workers-tls-connect-c50" 0 "$tls_lines" --tls --insecure --mode connect -c 50 -s 64 --label transport=tls
  stop_server
done

# The live view under load: 110 clients streaming 16 KiB and 40 connecting, echoing once and closing, against
# 128 workers, so that the grid, the queue and the charts all move; a screenshot after 10 s (the load runs
# 30 s: Chromium is slow to start on a busy machine).
if [ -n "$(find_chromium)" ]; then
  start_server "$out/server-live-view.log" --pool workers --workers 128 --max-connections 1100 --admin-port 0 --log-level Warning
  admin="$(admin_port "$out/server-live-view.log")"
  echo "== live view: pool=workers workers=128, 110 streaming + 40 connecting clients" >&2
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" -c 110 -s 16KiB -d 30 --progress 0 >/dev/null 2>&1 & streaming=$!
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" --mode connect -c 40 -d 30 --progress 0 >/dev/null 2>&1 & connecting=$!
  sleep 10
  live_view_screenshot "$admin" "$out/live-view.png"
  wait "$streaming" "$connecting" || true
  stop_server
else
  echo "no live-view.png: no headless Chromium on PATH (apt-get install chromium-headless-shell)" >&2
fi

dotnet "$LOAD_DLL" summarize "$out" --title "EchoServer load test ($(date -u +%Y-%m-%d), $(nproc) cores)" >/dev/null
echo
cat "$out/summary.md"
echo
echo "results: $out (summary.md, throughput.png/.svg, latency.png/.svg, live-view.png when Chromium is present, one JSON per run, server logs)"
[ "$mismatch" = 0 ] || { echo "loadtest.sh: some bytes came back wrong (see the reports)" >&2; exit 3; }
[ "${#failed[@]}" = 0 ] || { echo "loadtest.sh: runs that failed: ${failed[*]}" >&2; exit 1; }
