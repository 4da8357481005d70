#!/usr/bin/env bash
# `apus init` end to end: create a package with Apus as a path dependency (this checkout),
# build it (the build plugin generates its service), serve it, call every method with
# Apache Thrift's Python client, stop it with SIGTERM; and the refusals (a bad name, an
# existing directory, a bad flag of the generated server).
#
#   bash scripts/init-check.sh [APUS_BINARY]     (default .build/debug/apus)
#
# The generated package builds Apus's modules again in its own .build (a few minutes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-.build/debug/apus}"
apus="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
work="$(mktemp -d /tmp/apus-init-XXXXXX)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME STATUS [DETAIL]
  if [ "$2" = 0 ]; then echo "ok   $1${3:+: $3}"; passed=$((passed + 1)); else echo "FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi
}
finish() { echo "init: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

out="$("$apus" init Greeter --directory "$work" --apus "$root" 2>&1)"; status=$?
check "apus init Greeter writes a package" "$status" "$(echo "$out" | head -1)"
set +e
"$apus" init 9lives --directory "$work" >/dev/null 2>"$work/err"; [ $? -ne 0 ] && grep -q "not a Swift identifier" "$work/err"
check "a name that is no Swift identifier is refused" $? "$(head -1 "$work/err")"
"$apus" init Greeter --directory "$work" --apus "$root" >/dev/null 2>"$work/err"; [ $? -ne 0 ] && grep -q "already exists" "$work/err"
check "an existing directory is refused, nothing overwritten" $? "$(head -1 "$work/err")"
set -e

cd "$work/Greeter"
if ! swift build >"$work/build.log" 2>&1; then
  check "the generated package builds (the plugin generates GreeterService)" 1 "$(grep -m3 error: "$work/build.log")"
  finish
fi
check "the generated package builds (the plugin generates GreeterService)" 0

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.build/debug/Greeter --port "$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving" "$work/serve.log" && break; sleep 0.1; done
check "it serves" "$(grep -q "serving GreeterService on 127.0.0.1:$port" "$work/serve.log"; echo $?)" "$(head -1 "$work/serve.log")"

mkdir "$work/gen"
thrift --gen py -out "$work/gen" Sources/Greeter/greeter.thrift
set +e
calls="$(PYTHONPATH="$work/gen" /usr/bin/python3 - "$port" <<'PY' 2>&1
import sys
from greeter import GreeterService
from greeter.ttypes import Invalid
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

transport = TTransport.TFramedTransport(TSocket.TSocket("127.0.0.1", int(sys.argv[1])))
client = GreeterService.Client(TBinaryProtocol.TBinaryProtocol(transport))
transport.open()
assert client.hello("Apus") == "Hello, Apus!", "hello"
assert client.add(2, 40) == 42, "add"
try:
    client.add(2**63 - 1, 1)
    raise SystemExit("add did not overflow")
except Invalid as invalid:
    assert "does not fit" in invalid.reason, invalid.reason
transport.close()
print("hello, add and its declared exception")
PY
)"
check "Apache's Python client calls every method" $? "$calls"
kill -TERM "$server"; wait "$server"; status=$?; server=""
check "SIGTERM stops it cleanly" "$status"
.build/debug/Greeter --port nope >/dev/null 2>"$work/err"; [ $? -eq 2 ] && grep -q "port must be" "$work/err"
check "a bad flag of the generated server is one clear line" $? "$(head -1 "$work/err")"
set -e
finish
