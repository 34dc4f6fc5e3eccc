#!/usr/bin/env bash
# Publishes the server as one native executable for this machine: Release, Native AOT, runtime identifier
# from uname (linux-x64, linux-arm64, linux-musl-x64, osx-arm64, ...). The executable lands as DIR/echo-server
# (DIR defaults to src/EchoServer/bin/publish, ignored by git like every bin/ folder). Where Native AOT cannot
# build (no clang, a failing native link, an unsupported system), it says so in one line and publishes a
# self-contained single file instead, which needs no .NET installed either.
#   scripts/publish.sh [--out DIR] [--single-file]
# --single-file skips Native AOT. Native AOT on Linux needs clang and zlib: apt-get install -y clang zlib1g-dev.
# Intermediate files go to src/EchoServer/bin/publish-build, apart from the bin/ and obj/ folders of an ordinary build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

out=""; aot=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || bad_argument "$1"; out="$2"; shift ;;
    --single-file) aot=0 ;;
    -h|--help) usage; exit 0 ;;
    *) bad_argument "$1" ;;
  esac
  shift
done
require_dotnet

# runtime_identifier: the .NET runtime identifier of this machine, from uname.
runtime_identifier() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux; if ldd --version 2>&1 | grep -qi musl; then os=linux-musl; fi ;;
    Darwin) os=osx ;;
    MINGW*|MSYS*|CYGWIN*) os=win ;;
    *) echo "publish.sh: unsupported system '$(uname -s)'" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    armv7l) arch=arm ;;
    *) echo "publish.sh: unsupported processor '$(uname -m)'" >&2; return 1 ;;
  esac
  echo "$os-$arch"
}

rid="$(runtime_identifier)"
out="$(mkdir -p "${out:-$repo_root/src/EchoServer/bin/publish}" && cd "${out:-$repo_root/src/EchoServer/bin/publish}" && pwd)"
log="$repo_root/src/EchoServer/bin/publish-build/publish.log"; mkdir -p "${log%/*}"
project="$repo_root/src/EchoServer/EchoServer.csproj"
common=(-c Release -r "$rid" -o "$out" --artifacts-path "$repo_root/src/EchoServer/bin/publish-build" -nologo
  -p:PublishDocumentationFiles=false -p:DebugType=none)

if [ "$aot" = 1 ] && [ "${rid%%-*}" = linux ] && ! command -v clang >/dev/null 2>&1; then
  echo "publish.sh: Native AOT needs clang (apt-get install -y clang zlib1g-dev); publishing a self-contained single file instead" >&2
  aot=0
fi
if [ "$aot" = 1 ]; then
  echo "publishing echo-server (Native AOT, $rid) to $out ..." >&2
  if dotnet publish "$project" "${common[@]}" -p:PublishAot=true >"$log" 2>&1; then
    echo "$out/echo-server (Native AOT, $rid)"
    exit 0
  fi
  echo "publish.sh: Native AOT did not build (see $log); publishing a self-contained single file instead" >&2
fi

echo "publishing echo-server (self-contained single file, $rid) to $out ..." >&2
if ! dotnet publish "$project" "${common[@]}" --self-contained -p:PublishSingleFile=true -p:PublishTrimmed=true >"$log" 2>&1; then
  cat "$log" >&2
  echo "publish.sh: the self-contained publish failed too (log above, also in $log)" >&2
  exit 1
fi
echo "$out/echo-server (self-contained single file, $rid)"
