#!/usr/bin/env bash
# Opens N idle connections (default 10,000) to the server in each pool mode (--workers N) and reports the
# server's resident memory: empty, with every connection held, and the growth per idle connection.
# The queue holds every client and --when-full wait applies backpressure, so none is refused while
# thousands of freshly woken worker threads catch up with the accept loop.
#   scripts/idle-memory.sh [--connections N] [--hold SECONDS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

connections=10000; hold=5
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections="$2"; shift ;;
    --hold) hold="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

prepare_run
out="$(mktemp -d)"

printf '| pool | connections held | empty server RSS | RSS with all held (peak) | growth per idle connection |\n|---|--:|--:|--:|--:|\n' >"$out/table.md"
for pool in workers executor; do
  start_server "$out/server-$pool.log" --pool "$pool" --workers "$connections" --max-connections "$((connections + 100))" \
    --queue "$connections" --when-full wait --backlog 4096 --log-level Warning
  sleep 2 # let start-up settle (JIT, worker threads parked) before the baseline
  base_kib=$(rss_kib "$SERVER_PID")
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" --mode hold -c "$connections" -d "$hold" --progress 0 \
    --server-pid "$SERVER_PID" --json "$out/$pool.json" >"$out/$pool.txt" || true
  held=$(grep -oE '"connectionsHeld": [0-9]+' "$out/$pool.json" | grep -oE '[0-9]+$')
  peak_mib=$(grep -oE '"serverPeakRssMiB": [0-9.]+' "$out/$pool.json" | grep -oE '[0-9.]+$')
  stop_server
  awk -v pool="$pool" -v held="$held" -v base="$base_kib" -v peak="$peak_mib" 'BEGIN {
    per = held > 0 ? (peak * 1024 - base) * 1024 / held : 0
    printf "| %s | %d | %.1f MiB | %.1f MiB | %.0f B (%.2f KiB) |\n", pool, held, base / 1024, peak, per, per / 1024
  }' >>"$out/table.md"
  sed -n '1p;/held/p;/server/p;/errors/p' "$out/$pool.txt" >&2
done
echo
cat "$out/table.md"
rm -rf "$out"
