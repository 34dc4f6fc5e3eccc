#!/usr/bin/env bash
# A human check of a running server with netcat and telnet: a line, CRLF, all 256 byte values, a
# half-closed file, and an interactive telnet session.
#   scripts/smoke.sh [HOST] [PORT]        (default 127.0.0.1 7007; start the server first: ./run.sh)
# Needs nc (netcat-openbsd) and telnet: apt-get install netcat-openbsd telnet
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -*) bad_argument "$1" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[ "${#positional[@]}" -le 2 ] || bad_argument "${positional[2]}"
host="${positional[0]:-127.0.0.1}"; port="${positional[1]:-7007}"
failed=0
check() { if [ "$2" = 0 ]; then echo "PASS  $1"; else echo "FAIL  $1"; failed=1; fi; }

command -v nc >/dev/null 2>&1 || { echo "smoke.sh: nc not found (apt-get install netcat-openbsd)" >&2; exit 127; }
nc -z -w 2 "$host" "$port" || { echo "smoke.sh: nothing listens on $host:$port (start it with ./run.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

reply="$(printf 'hello from nc\n' | nc -N -w 5 "$host" "$port")"
[ "$reply" = "hello from nc" ]; check "nc: a line comes back unchanged ('$reply')" $?

printf 'crlf line\r\n' >"$tmp/crlf"; nc -N -w 5 "$host" "$port" <"$tmp/crlf" >"$tmp/crlf.back"
cmp -s "$tmp/crlf" "$tmp/crlf.back"; check "nc: CRLF is echoed as CRLF" $?

for i in $(seq 0 255); do printf "\\$(printf %03o "$i")"; done >"$tmp/bytes"
nc -N -w 5 "$host" "$port" <"$tmp/bytes" >"$tmp/bytes.back"
cmp -s "$tmp/bytes" "$tmp/bytes.back"; check "nc: all 256 byte values (NUL, 0xFF, ...) come back unchanged" $?

head -c 4194304 /dev/urandom >"$tmp/big"
nc -N -w 10 "$host" "$port" <"$tmp/big" >"$tmp/big.back"
cmp -s "$tmp/big" "$tmp/big.back"; check "nc: 4 MiB sent then half-closed comes back byte for byte before the server closes" $?

if command -v telnet >/dev/null 2>&1; then
  out="$( { sleep 0.5; printf 'hello from telnet\r\n'; sleep 1; } | telnet "$host" "$port" 2>/dev/null)"
  printf '%s\n' "$out" | grep -q '^hello from telnet' ; check "telnet: a typed line is echoed" $?
else
  echo "SKIP  telnet not found (apt-get install telnet)"
fi

exit "$failed"
