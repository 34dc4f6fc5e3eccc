#!/usr/bin/env bash
# Opens N idle connections (default 10,000) to the server in each pool mode (--workers N) and reports the
# server's resident memory: empty, with every connection held, and the growth per idle connection; then the
# executor again over TLS (--tls-self-signed, echo-load --tls --insecure: every connection shakes hands, then
# idles), for what an idle TLS session costs beside a plaintext one.
# The queue holds every client and --when-full wait applies backpressure, so none is refused while
# thousands of freshly woken worker threads catch up with the accept loop.
# Writes results/idle-memory-<timestamp>/ (or --out DIR): one JSON report per pool, summary.md, and
# memory.png/.svg, the chart of each pool's peak memory. Every connection must be held: any other exit code of
# echo-load than 0 makes the script exit 1.
#   scripts/idle-memory.sh [--connections N] [--hold SECONDS] [--out DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

connections=10000; hold=5; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --hold) hold="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

out="${out:-$repo_root/results/idle-memory-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
prepare_run
failed=()

printf '| pool | connections held | empty server RSS | RSS with all held (peak) | growth per idle connection |\n|---|--:|--:|--:|--:|\n' >"$out/table.md"
for run in workers executor executor-tls; do
  pool="${run%-tls}"; server_tls=(); load_tls=()
  [ "$run" = "$pool" ] || { server_tls=(--tls-self-signed); load_tls=(--tls --insecure); }
  start_server "$out/server-$run.log" --pool "$pool" --workers "$connections" --max-connections "$((connections + 100))" \
    --queue "$connections" --when-full wait --backlog 4096 --log-level Warning "${server_tls[@]}"
  sleep 2 # let start-up settle (JIT, worker threads parked) before the baseline
  base_kib=$(rss_kib "$SERVER_PID")
  rc=0
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" --mode hold -c "$connections" -d "$hold" --progress 0 "${load_tls[@]}" \
    --server-pid "$SERVER_PID" --label pool="$run" --json "$out/$run.json" >"$out/$run.txt" || rc=$?
  [ "$rc" = 0 ] || failed+=("$run (exit $rc)")
  held=$(grep -oE '"connectionsHeld": [0-9]+' "$out/$run.json" | grep -oE '[0-9]+$')
  peak_mib=$(grep -oE '"serverPeakRssMiB": [0-9.]+' "$out/$run.json" | grep -oE '[0-9.]+$')
  stop_server
  awk -v pool="$run" -v held="$held" -v base="$base_kib" -v peak="$peak_mib" 'BEGIN {
    per = held > 0 ? (peak * 1024 - base) * 1024 / held : 0
    printf "| %s | %d | %.1f MiB | %.1f MiB | %.0f B (%.2f KiB) |\n", pool, held, base / 1024, peak, per, per / 1024
  }' >>"$out/table.md"
  sed -n '1p;/held/p;/server/p;/unanswered/p;/errors/p' "$out/$run.txt" >&2
done
dotnet "$LOAD_DLL" summarize "$out" --title "idle connections ($(date -u +%Y-%m-%d), $(nproc) cores)" >/dev/null
echo
cat "$out/table.md"
echo
echo "results: $out (table.md, memory.png/.svg, summary.md, one JSON per pool, server logs)"
[ "${#failed[@]}" = 0 ] || { echo "idle-memory.sh: runs that failed: ${failed[*]}" >&2; exit 1; }
