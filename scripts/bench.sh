#!/usr/bin/env bash
# Benchmarks both pools against the reference servers in ../shared/peers (when that folder is there; without
# it, the two pools alone), one server at a time on a free port, every workload driven by echo-load, each
# server's CPU and peak RSS sampled. Prints one Markdown table of absolute figures and the target ratios, and
# writes results/bench-<timestamp>/ (JSON per run, bench.md, throughput.png/.svg and latency.png/.svg).
#   scripts/bench.sh [--quick] [--aot] [--out DIR] [--dry-run] [--rounds N] [--servers "c-epoll kestrel go py-executor py-queue c-udp workers workers-aot executor executor-aot executor-threadpool executor-uring c-uring"]
#                    [--workloads "1c-64B 100c-64B tls-100c-64B 100c-16KiB tls-100c-16KiB 1000c-1KiB 10k-active connect-50c tls-connect-50c 10k-idle udp-1c-64B udp-100c-64B udp-rate-20k"]
# TLS workloads (tls-*): the same load as the plaintext row beside each, over TLS (echo-load --tls --insecure against
# the pools started with --tls-self-signed); tls-connect-50c makes a handshake per connection: handshakes per second.
# The peers and c-udp skip them.
# UDP workloads (udp-*): echo-load --udp against the pools started with --udp --udp-rate-per-ip 0, and against
# c-udp, a minimal single-threaded C UDP echo (scripts/lib/udp-echo.c, built with gcc into DIR; a reference for
# the cost of a datagram here, not part of the product; in the default servers when gcc is on PATH). The peers
# in ../shared/peers have no UDP and skip them; c-udp runs only them. udp-rate-20k is open loop: a server that
# cannot keep up loses datagrams, shown as loss in the table, so its exit code 4 (loss) is accepted there.
# executor-threadpool is the executor with --inline-completions false (each completion queued to the thread
# pool); executor-uring is the executor with --io-engine io_uring (Linux; in the default servers there, TCP
# workloads only, its UDP being the same as the executor's), beside the peer c-uring (liburing, in the default
# peers when liburing-dev is installed); workers-aot and executor-aot are the Native AOT build (scripts/publish.sh, once per run, into
# DIR/publish) beside the JIT build on every workload: always in a full run, with --quick only when --aot is given.
# 10k-active: 10,000 connections (2,000 with --quick) each in 64 B ping-pong, every pool sized to serve them all
# (the 10k-idle options; the Python peers skip both, the worker pool skips it); echo-load opens them 256 at a time
# and starts its warm-up once every one has connected.
# At 100 connections x 64 B against c-epoll it also runs the C epoll client (scripts/lib/epoll-client.c,
# built with gcc into DIR) right after echo-load, on the same server: load-clients.md compares the two clients.
# Full: about 14 minutes. --quick: under 3 (2 s per run, 2,000 idle or active connections, C epoll and Kestrel peers).
# --rounds N (default 1): N alternated rounds, for figures steadier than one run's: round by round, workload by
# workload, the servers taking turns (one round: server by server). Each run's JSON is labelled round=K (and named
# SERVER-WORKLOAD-roundK.json); bench.md gives each figure and target as the median of its rounds, and names a
# failure in any round; the charts draw the first round. --dry-run prefixes each line with "round K " then.
# --dry-run prints the plan (each server's command line, echo-load's arguments, the exit codes accepted) and
# runs nothing: bench.ps1 prints the same plan. Every run must exit 0, except the Python peers (128 threads, one
# client each) at 1,000 connections: 872 clients wait unanswered by design, so echo-load's exit code 4 is
# accepted there, and only there. A run that fails otherwise makes the script exit 1 after the table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

quick=0; aot=0; out=""; servers=""; dry_run=0; only_workloads=""; rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --dry-run) dry_run=1 ;;
    --aot) aot=1 ;;
    --out) out="$2"; shift ;;
    --servers) servers="$2"; shift ;;
    --workloads) only_workloads="$2"; shift ;;
    --rounds)
      rounds="${2-}"
      [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --rounds takes a positive integer, not '$rounds'" >&2; exit 2; }
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

peers_dir="$repo_root/../shared/peers"
if [ "$quick" = 1 ]; then
  duration=2; warmup=0.5; many=2000; default_peers="c-epoll kestrel"
else
  duration=5; warmup=1; many=10000; default_peers="c-epoll kestrel go py-executor py-queue"
fi
if [ -z "$servers" ]; then
  servers="workers executor executor-threadpool"
  if [ "$quick" = 0 ] || [ "$aot" = 1 ]; then servers="workers workers-aot executor executor-aot executor-threadpool"; fi
  if [ -x "$peers_dir/run-peer.sh" ] || [ -f "$peers_dir/run-peer.sh" ]; then
    servers="$default_peers $servers"
  else
    echo "bench.sh: no reference servers at $peers_dir; comparing the two pools only" >&2
  fi
  command -v gcc >/dev/null 2>&1 && servers="c-udp $servers" # the C UDP reference, for the UDP workloads
  if [ "$(uname -s)" = Linux ]; then
    servers="$servers executor-uring"
    [ -f /usr/include/liburing.h ] && [[ " $servers " == *" c-epoll "* ]] && servers="${servers/c-epoll /c-epoll c-uring }"
  fi
fi
command -v go >/dev/null 2>&1 || servers="${servers//go /}"

# server_options NAME WORKLOAD: our pools' options for that workload, one a line.
server_options() {
  local name="$1" workload="$2"
  printf '%s\n' --pool "${name%-*}"
  [ "$name" = executor-threadpool ] && printf '%s\n' --inline-completions false
  [ "$name" = executor-uring ] && printf '%s\n' --io-engine io_uring
  case "$workload" in
    1000c-1KiB) printf '%s\n' --workers 1000 --max-connections 1100 ;;
    10k-idle|10k-active) printf '%s\n' --workers "$many" --max-connections "$((many + 100))" --queue "$many" --when-full wait --backlog 4096 ;;
    udp-*) printf '%s\n' --udp --udp-rate-per-ip 0 ;;
    tls-*) printf '%s\n' --tls-self-signed ;;
  esac
}

workloads=(1c-64B 100c-64B tls-100c-64B 100c-16KiB tls-100c-16KiB 1000c-1KiB 10k-active connect-50c tls-connect-50c 10k-idle udp-1c-64B udp-100c-64B udp-rate-20k)
if [ -n "$only_workloads" ]; then
  for w in $only_workloads; do [[ " ${workloads[*]} " == *" $w "* ]] || { echo "bench.sh: unknown workload '$w' (see --help)" >&2; exit 2; }; done
  read -r -a workloads <<<"$only_workloads"
fi
args_for() {
  case "$1" in
    1c-64B) echo "-c 1 -s 64" ;;
    100c-64B) echo "-c 100 -s 64" ;;
    100c-16KiB) echo "-c 100 -s 16KiB" ;;
    1000c-1KiB) echo "-c 1000 -s 1KiB" ;;
    10k-active) echo "-c $many -s 64" ;;
    connect-50c) echo "--mode connect -c 50 -s 64" ;;
    tls-*) echo "--tls --insecure $(args_for "${1#tls-}")" ;;
    10k-idle) echo "--mode hold -c $many -s 64" ;;
    udp-1c-64B) echo "--udp -c 1 -s 64" ;;
    udp-100c-64B) echo "--udp -c 100 -s 64" ;;
    udp-rate-20k) echo "--udp -c 10 -s 64 --rate 20000" ;;
  esac
}

# load_args WORKLOAD: echo-load's arguments for that workload (without the port and the labels).
load_args() {
  local warm="--warmup $warmup"; [ "$1" = 10k-idle ] && warm=""
  echo "$(args_for "$1") -d $duration${warm:+ $warm} --progress 0"
}

# accepted NAME WORKLOAD: the exit codes of echo-load that count as a good run. 128 Python threads serve 128 of
# 1,000 clients: the others wait unanswered on purpose (4). Open loop over UDP: loss (4) is a result, not a failure.
accepted() { if { [[ "$1" == py-* ]] && [ "$2" = 1000c-1KiB ]; } || [ "$2" = udp-rate-20k ]; then echo "0 4"; else echo "0"; fi; }

is_pool() { [[ "$1" == workers* || "$1" == executor* ]]; }

# skipped NAME WORKLOAD: a pool of 128 Python threads cannot serve thousands of clients: it is not asked to.
# Nor is the worker pool 10,000 active ones: 10,000 runnable threads starve its accept thread (tried on 2 cores:
# 3,988 of 10,000 never connected). UDP: the pools and c-udp only; c-udp nothing else. TLS: the pools only.
# executor-uring: plaintext TCP only.
skipped() {
  { [[ "$2" == 10k-* ]] && [[ "$1" == py-* ]]; } ||
    { [ "$2" = 10k-active ] && [[ "$1" == workers* ]]; } ||
    { [[ "$2" == tls-* ]] && ! is_pool "$1"; } ||
    { [[ "$2" == udp-* ]] && ! is_pool "$1" && [ "$1" != c-udp ]; } ||
    { [ "$1" = c-udp ] && [[ "$2" != udp-* ]]; } ||
    { [ "$1" = executor-uring ] && [[ "$2" == udp-* || "$2" == tls-* ]]; }
}

# plan: the runs in order, "ROUND NAME WORKLOAD" a line. One round: server by server. Several: round by round,
# workload by workload, the servers taking turns, so that the machine's drift falls on every server alike; each
# round starts the turns further down the list (round K at server (K-1)*N/ROUNDS of N), so that no server always
# runs last in a workload (the drift within a round was seen to favour the first ones).
plan() {
  local round name workload i
  local -a names; read -r -a names <<<"$servers"
  local n=${#names[@]}
  if [ "$rounds" = 1 ]; then
    for name in "${names[@]}"; do for workload in "${workloads[@]}"; do
      skipped "$name" "$workload" || echo "1 $name $workload"
    done; done
  else
    for round in $(seq 1 "$rounds"); do for workload in "${workloads[@]}"; do for ((i = 0; i < n; i++)); do
      name="${names[$(( (i + (round - 1) * n / rounds) % n ))]}"
      skipped "$name" "$workload" || echo "$round $name $workload"
    done; done; done
  fi
}
mapfile -t runs < <(plan)

# run_suffix ROUND: what keeps a round's files apart ("" with one round, as ever).
run_suffix() { if [ "$rounds" = 1 ]; then echo ""; else echo "-round$1"; fi; }

if [ "$dry_run" = 1 ]; then
  for run in "${runs[@]}"; do
    read -r round name workload <<<"$run"
    if is_pool "$name"; then server="echo-server $(server_options "$name" "$workload" | tr '\n' ' ')"
    elif [ "$name" = c-udp ]; then server="udp-echo "
    else server="run-peer.sh $name "; fi
    prefix=""; [ "$rounds" = 1 ] || prefix="round $round "
    echo "$prefix$name $workload: ${server% } | echo-load $(load_args "$workload") | exit $(accepted "$name" "$workload")"
  done
  exit 0
fi

out="${out:-$repo_root/results/bench-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
prepare_run

if [[ " $servers " == *-aot* ]]; then
  # One publish per run; where Native AOT cannot build, publish.sh says so and builds a single file instead.
  publish_line="$(bash "$repo_root/scripts/publish.sh" --out "$out/publish")"
  echo "$publish_line" | tee "$out/publish.txt" >&2
fi
if [[ " $servers " == *" c-epoll "* ]] && command -v gcc >/dev/null 2>&1; then
  gcc -O2 -o "$out/epoll-client" "$repo_root/scripts/lib/epoll-client.c"
fi
if [[ " $servers " == *" c-udp "* ]]; then
  command -v gcc >/dev/null 2>&1 || { echo "bench.sh: c-udp needs gcc" >&2; exit 1; }
  gcc -O2 -o "$out/udp-echo" "$repo_root/scripts/lib/udp-echo.c"
fi

free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 20000)) # below the ephemeral range, where clients' own ports live
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# start NAME WORKLOAD SUFFIX: our pools with the options each workload calls for, or a reference server.
start() {
  local name="$1" workload="$2" log="$out/server-$1-$2$3.log"
  case "$name" in
    workers|executor|executor-threadpool|executor-uring|workers-aot|executor-aot)
      local opts; mapfile -t opts < <(server_options "$name" "$workload")
      if [[ "$name" == *-aot ]]; then SERVER_EXE="$out/publish/echo-server" start_server "$log" "${opts[@]}"
      else start_server "$log" "${opts[@]}"; fi ;;
    c-udp)
      SERVER_PORT="$(free_port)"
      "$out/udp-echo" "$SERVER_PORT" >"$log" 2>&1 &
      SERVER_PID=$!
      local hex; hex="$(printf ':%04X ' "$SERVER_PORT")"
      for _ in $(seq 1 100); do
        grep -q "$hex" /proc/net/udp 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
      done
      echo "bench.sh: c-udp did not start; its log ($log):" >&2; cat "$log" >&2; return 1 ;;
    *)
      SERVER_PORT="$(free_port)"
      bash "$peers_dir/run-peer.sh" "$name" "$SERVER_PORT" >"$log" 2>&1 &
      SERVER_PID=$!
      for _ in $(seq 1 1200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT") 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
      done
      echo "bench.sh: reference server $name did not start; its log ($log):" >&2; cat "$log" >&2; return 1 ;;
  esac
}


started=$(date +%s)
failed=()
for run in "${runs[@]}"; do
  read -r round name workload <<<"$run"
  suffix="$(run_suffix "$round")"
  [ "$rounds" = 1 ] || echo "round $round of $rounds: $name $workload" >&2
  start "$name" "$workload" "$suffix"
  set +e
  # shellcheck disable=SC2046
  dotnet "$LOAD_DLL" --port "$SERVER_PORT" $(load_args "$workload") --server-pid "$SERVER_PID" \
    --label server="$name" --label workload="$workload" --label round="$round" --json "$out/$name-$workload$suffix.json" \
    | sed -n '1p;/msg\/s)/p;/connections  /p;/held/p;/server /p;/client /p;/unanswered/p;/datagrams /p;/latency/p;/errors/p' >&2
  rc=${PIPESTATUS[0]}
  set -e
  [[ " $(accepted "$name" "$workload") " == *" $rc "* ]] || failed+=("$name $workload${suffix/-round/ round } (exit $rc)")
  if [ "$name" = c-epoll ] && [ "$workload" = 100c-64B ] && [ "$round" = 1 ] && [ -x "$out/epoll-client" ]; then
    # The reference client on the same server start, right after echo-load: what the load tool leaves on the table.
    "$out/epoll-client" 127.0.0.1 "$SERVER_PORT" 100 64 "$duration" "$warmup" >"$out/epoll-client.txt" || true
    echo "C epoll client: $(cat "$out/epoll-client.txt")" >&2
  fi
  if is_pool "$name"; then stop_server; else kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
done

echo >&2
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); dotnet $(dotnet --version); $(( $(date +%s) - started )) s" | tee "$out/machine.txt"
echo
dotnet "$LOAD_DLL" compare "$out" --title "echo servers ($(date -u +%Y-%m-%d), $(nproc) cores)"
first_epoll="$out/c-epoll-100c-64B$(run_suffix 1).json"
if [ -s "$out/epoll-client.txt" ] && [ -f "$first_epoll" ]; then
  # load-clients.md: both clients against the C epoll server at 100 x 64 B (the first round), msg/s and the client's own CPU.
  json_number() { grep -m1 -oE "\"$1\": [0-9.]+" "$2" | grep -oE '[0-9.]+$' || echo 0; }
  el_rate=$(json_number messagesPerSecond "$first_epoll")
  el_cpu=$(json_number clientCpuUsPerMessage "$first_epoll")
  read -r _ _ _ _ _ c_rate _ c_cpu _ < "$out/epoll-client.txt"
  {
    echo
    echo "| load client (100 connections, 64 B, against c-epoll) | msg/s | client µs CPU/msg |"
    echo "|---|--:|--:|"
    echo "| C epoll client (scripts/lib/epoll-client.c) | $c_rate | $c_cpu |"
    echo "| echo-load | $el_rate | $el_cpu |"
    awk -v e="$el_rate" -v c="$c_rate" 'BEGIN { if (c > 0) printf "\necho-load drove %.2f× the C client'"'"'s messages per second.\n", e / c }'
  } | tee "$out/load-clients.md"
fi
echo
echo "results: $out (bench.md, throughput.png/.svg, latency.png/.svg, memory.png/.svg, one JSON per run, server logs)"
[ "${#failed[@]}" = 0 ] || { echo "bench.sh: runs that failed: ${failed[*]}" >&2; exit 1; }
