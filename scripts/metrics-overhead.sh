#!/usr/bin/env bash
# Does observability cost throughput? Alternates runs of the same load against a server with metrics off
# and with them on (--admin-port, which turns every instrument on for the Prometheus exporter, plus
# --stats-interval 1), and reports the mean messages/s of each and their ratio.
#   scripts/metrics-overhead.sh [--pool workers|executor] [--rounds N] [--duration SECONDS] [--connections C]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

pool=executor; rounds=3; duration=5; connections=100
while [ $# -gt 0 ]; do
  case "$1" in
    --pool) pool="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

prepare_run
out="$(mktemp -d)"
run() { # run LABEL [server options]: one measured run; prints messages/s
  local label="$1"; shift
  start_server "$out/server.log" --pool "$pool" --log-level Warning "$@"
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" -c "$connections" -s 64 -d "$duration" --warmup 1 --progress 0 --json "$out/$label.json" >/dev/null
  stop_server
  grep -oE '"messagesPerSecond": [0-9.]+' "$out/$label.json" | grep -oE '[0-9.]+$'
}

off=(); on=()
for i in $(seq 1 "$rounds"); do
  off+=("$(run "off-$i")")
  on+=("$(run "on-$i" --admin-port 0 --stats-interval 1)")
  echo "round $i: metrics off ${off[-1]} msg/s, on ${on[-1]} msg/s" >&2
done
printf '%s\n' "${off[@]}" >"$out/off"; printf '%s\n' "${on[@]}" >"$out/on"
paste "$out/off" "$out/on" | awk -v pool="$pool" -v c="$connections" '
  { off += $1; on += $2; n++ }
  END { printf "pool=%s, %d connections, 64 B ping-pong, %d rounds: metrics off %.0f msg/s, on %.0f msg/s, on/off = %.3f\n", pool, c, n, off/n, on/n, (on/n)/(off/n) }'
rm -rf "$out"
