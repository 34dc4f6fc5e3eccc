#!/usr/bin/env bash
# ./run.sh [server options]   build (Release) and start the echo server with those options
# ./run.sh test [test args]   build and run every test
set -euo pipefail
script="${BASH_SOURCE[0]}"; dir="${script%/*}"; [ "$dir" = "$script" ] && dir=.
root="$(cd "$dir" && pwd)" # builtins only, so that the dotnet check below runs even on a bare PATH

if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: 'dotnet' was not found on PATH; install the .NET 10 SDK (https://dot.net) and try again." >&2
  exit 127
fi

if [ "${1:-}" = "test" ]; then
  shift
  exec dotnet test "$root/EchoServer.sln" -c Release "$@"
fi

build_log="$(mktemp)"
if ! dotnet build "$root/src/EchoServer/EchoServer.csproj" -c Release -nologo >"$build_log" 2>&1; then
  cat "$build_log" >&2; rm -f "$build_log"; exit 1
fi
rm -f "$build_log"
# The native launcher names the process echo-server (for dotnet-counters -n, ps, top); fall back to the dll.
out="$root/src/EchoServer/bin/Release/net10.0"
if [ -x "$out/echo-server" ]; then exec "$out/echo-server" "$@"; fi
exec dotnet "$out/echo-server.dll" "$@"
