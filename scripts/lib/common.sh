# shellcheck shell=bash
# Shared by the scripts in scripts/: build once, start a server on a free port, stop it cleanly.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVER_DLL="$repo_root/src/EchoServer/bin/Release/net10.0/echo-server.dll"
LOAD_DLL="$repo_root/src/EchoServer.LoadTest/bin/Release/net10.0/echo-load.dll"

# usage: prints the calling script's header comment, which is its help.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

bad_argument() { echo "$(basename "$0"): unknown argument '$1' (see --help)" >&2; exit 2; }

# prepare_run: build, stop any server this script started when it exits, and allow many descriptors.
prepare_run() {
  build_release
  trap stop_server EXIT
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

require_dotnet() {
  command -v dotnet >/dev/null 2>&1 || { echo "$(basename "$0"): 'dotnet' is not on PATH; install the .NET 10 SDK." >&2; exit 127; }
}

build_release() {
  require_dotnet
  echo "building (Release)..." >&2
  local log; log="$(mktemp)"
  for project in src/EchoServer/EchoServer.csproj src/EchoServer.LoadTest/EchoServer.LoadTest.csproj; do
    if ! dotnet build "$repo_root/$project" -c Release -nologo >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"; return 1
    fi
  done
  rm -f "$log"
}

# start_server LOGFILE [server options...]: starts echo-server on a free port; sets SERVER_PID and SERVER_PORT.
# With SERVER_EXE set (a published executable, scripts/publish.sh), that runs instead of the JIT build.
start_server() {
  local log="$1"; shift
  if [ -n "${SERVER_EXE:-}" ]; then
    "$SERVER_EXE" --port 0 "$@" >"$log" 2>&1 &
  else
    dotnet "$SERVER_DLL" --port 0 "$@" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  wait_listening "$log" "$SERVER_PID"
  SERVER_PORT="$LISTEN_PORT"
}

# wait_listening LOGFILE PID: waits for the server's "Listening on" line; sets LISTEN_PORT.
wait_listening() {
  LISTEN_PORT=""
  for _ in $(seq 1 200); do
    LISTEN_PORT="$(grep -m1 -oE 'Listening on [^ ]+:[0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$' || true)"
    [ -n "$LISTEN_PORT" ] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start; its log ($1):" >&2
  cat "$1" >&2
  return 1
}

# stop_server: SIGTERM, then wait for the drain (the server exits by itself within its shutdown timeout).
stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# admin_port LOGFILE: the admin endpoint's port from a server started with --admin-port 0.
admin_port() {
  for _ in $(seq 1 100); do
    grep -m1 -oE 'Admin endpoint on http://[^ ]+:[0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$' && return 0
    sleep 0.1
  done
  echo "no admin endpoint line in $1" >&2; return 1
}

# find_chromium: the path of a headless Chromium, or nothing.
find_chromium() { command -v chromium-headless-shell || command -v chromium || command -v chromium-browser || true; }

# live_view_screenshot ADMIN_PORT PNG: a screenshot of the live view (GET / on the admin endpoint).
live_view_screenshot() {
  local browser; browser="$(find_chromium)"
  if [ -z "$browser" ]; then
    echo "no live-view.png: no headless Chromium (apt-get install chromium-headless-shell)" >&2; return 0
  fi
  local args=(--disable-gpu --no-first-run --hide-scrollbars --window-size=1200,700 --virtual-time-budget=3000 "--screenshot=$2")
  [ "$(id -u)" = 0 ] && args=(--no-sandbox "${args[@]}") # Chromium refuses to run as root with its sandbox
  [[ "$browser" == *headless-shell ]] || args=(--headless "${args[@]}")
  timeout 60 "$browser" "${args[@]}" "http://127.0.0.1:$1/" >/dev/null 2>&1 && echo "live view: $2" >&2 ||
    echo "no live-view.png: $browser failed" >&2
}
