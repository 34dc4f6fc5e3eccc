#!/usr/bin/env bash
# Runs N echo-server instances behind HAProxy on loopback, drives echo-load through the balancer, and prints how
# many connections each instance served and the aggregate; stops everything it started on exit.
#   scripts/cluster.sh [N] [--mode echo|connect] [--connections C] [--duration SECONDS] [--pool executor|workers] [--out DIR]
# N instances (default 2) on free ports, each with --admin-port (HAProxy checks GET /ready there) and
# --drain-delay 3s. HAProxy's settings come from scripts/deploy/haproxy.cfg (everything above its server lines).
# Defaults: --mode echo, --connections 50, --duration 5. Needs haproxy (Debian: apt-get install haproxy).
# All load goes to 127.0.0.1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

instances=2; mode=echo; connections=50; duration=5; pool=executor; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode="$2"; shift ;;
    --connections|-c) connections="$2"; shift ;;
    --duration|-d) duration="$2"; shift ;;
    --pool) pool="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    [1-9]|[1-9][0-9]) instances="$1" ;;
    *) bad_argument "$1" ;;
  esac
  shift
done

if ! command -v haproxy >/dev/null 2>&1; then
  echo "cluster.sh: 'haproxy' is not on PATH; install it (Debian/Ubuntu: apt-get install haproxy)." >&2
  exit 127
fi

out="${out:-$(mktemp -d)}"
mkdir -p "$out"
pids=(); ports=(); admins=(); haproxy_pid=""
stop_all() {
  [ -n "$haproxy_pid" ] && kill -TERM "$haproxy_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" $haproxy_pid; do wait "$pid" 2>/dev/null || true; done
}
build_release
trap stop_all EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# http_get PORT PATH: the body of a GET on 127.0.0.1 (bash's /dev/tcp: no curl needed).
http_get() {
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}

for i in $(seq 1 "$instances"); do
  log="$out/instance-$i.log"
  dotnet "$SERVER_DLL" --port 0 --admin-port 0 --pool "$pool" --drain-delay 3s --log-level Warning \
    --pid-file "$out/instance-$i.pid" >"$log" 2>&1 &
  pids+=("$!")
  wait_listening "$log" "$!"
  ports+=("$LISTEN_PORT")
  admin=""
  for _ in $(seq 1 100); do
    admin="$(grep -m1 -oE 'Admin endpoint on http://[^ ]+:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
    [ -n "$admin" ] && break
    sleep 0.1
  done
  [ -n "$admin" ] || { echo "cluster.sh: instance $i did not start its admin endpoint; its log ($log):" >&2; cat "$log" >&2; exit 1; }
  admins+=("$admin")
  echo "instance $i: pid $(cat "$out/instance-$i.pid"), echo port ${ports[-1]}, admin port ${admins[-1]}" >&2
done

# HAProxy: the shipped settings, bound to a free loopback port, one server line per instance. The port is
# picked below the kernel's ephemeral range (32768 and up), where clients' own ports would collide with it.
cfg="$out/haproxy.cfg"
maxconn=$(( ($(ulimit -n) - 100) / 2 )) # as the descriptor limit allows: two per proxied connection
for attempt in 1 2 3 4 5; do
  front=$(( 20000 + RANDOM % 12000 ))
  sed -n -e '/^ *server /q' -e 's/^\( *\)bind .*/\1bind 127.0.0.1:'"$front"'/' -e 's/^\( *\)maxconn .*/\1maxconn '"$maxconn"'/' -e p \
    "$repo_root/scripts/deploy/haproxy.cfg" >"$cfg"
  for i in $(seq 1 "$instances"); do
    echo "    server echo$i 127.0.0.1:${ports[$((i - 1))]} port ${admins[$((i - 1))]}" >>"$cfg"
  done
  haproxy -f "$cfg" -db >"$out/haproxy.log" 2>&1 &
  haproxy_pid=$!
  # Two health checks (rise 2, inter 1s) put every instance in rotation before the load starts. No probe
  # connection: it would be proxied to an instance and counted.
  sleep 2.5
  kill -0 "$haproxy_pid" 2>/dev/null && break
  haproxy_pid=""
  grep -q 'Address already in use' "$out/haproxy.log" && [ "$attempt" -lt 5 ] && continue
  echo "cluster.sh: haproxy did not start:" >&2; cat "$out/haproxy.log" >&2; exit 1
done
echo "haproxy on 127.0.0.1:$front in front of $instances instances; echo-load --mode $mode -c $connections -d $duration" >&2

set +e
dotnet "$LOAD_DLL" --port "$front" --mode "$mode" -c "$connections" -d "$duration" --progress 0 --json "$out/load.json" >"$out/load.txt"
rc=$?
set -e
cat "$out/load.txt"
echo
total=0
for i in $(seq 1 "$instances"); do
  accepted="$(http_get "${admins[$((i - 1))]}" /snapshot | grep -oE 'accepted=[0-9]+' | head -1 | cut -d= -f2)"
  total=$(( total + accepted ))
  echo "instance $i (port ${ports[$((i - 1))]}): $accepted connections"
done
echo "all $instances instances: $total connections; $(grep -m1 -E '^  messages' "$out/load.txt" | sed 's/^ *messages *//') through the balancer"
echo "logs and reports: $out" >&2
exit "$rc"
