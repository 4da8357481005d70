#!/usr/bin/env bash
# THE test command: installs what is missing, builds once, runs every test
# target and the interop checks, and ends with the runners' summaries.
# Privileged tests (AF_XDP on the netns testbed) run when root and skip with
# one line otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

bash scripts/setup.sh

# needs NAME PACKAGE...: true when every Debian PACKAGE is installed; otherwise prints one
# "skip NAME" line naming what is missing (scripts/setup.sh installs it as root).
needs() {
    local name="$1" missing=() p
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    echo "skip $name: needs ${missing[*]} (as root: bash scripts/setup.sh)"
    return 1
}
thrift_py=(python3-thrift thrift-compiler)

echo "== build (debug, with tests)"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "build failed" >&2; exit 1; }

status=0
echo "== apus dump vs Apache Thrift's Python reader"
needs dump python3-thrift && { /usr/bin/python3 scripts/check-dump.py .build/debug/apus || status=1; }

echo "== apus serve vs Apache Thrift's Python clients (every protocol and framing, abuse cases)"
if needs interop "${thrift_py[@]}"; then
    /usr/bin/python3 scripts/interop/check_server.py .build/debug/apus > /tmp/apus-interop.log 2>&1 || status=1
    grep -vE '^ok ' /tmp/apus-interop.log || true
fi

echo "== apus serve vs Apache Thrift's Python THeader clients (metadata in and out)"
if needs theader "${thrift_py[@]}"; then
    /usr/bin/python3 scripts/interop/check_theader.py .build/debug/apus > /tmp/apus-theader.log 2>&1 || status=1
    grep -vE '^ok ' /tmp/apus-theader.log || true
fi

echo "== what apus says to a user: messages, usage errors and --help against golden files (scripts/cli-golden)"
needs cli "${thrift_py[@]}" && { /usr/bin/python3 scripts/cli-check.py .build/debug/apus || status=1; }

echo "== a fleet on a real etcd: register, discover, balance, kill -9, SIGTERM, etcd restart, bad input"
needs fleet etcd-server etcd-client "${thrift_py[@]}" && { /usr/bin/python3 scripts/fleet-check.py .build/debug/apus || status=1; }

echo "== TLS on kernel sockets: Apache's Python and C++ TSSLSocket, both ways, mutual TLS, hostile peers"
needs tls python3-cryptography g++ libthrift-dev libboost-dev libssl-dev "${thrift_py[@]}" && { PYTHONWARNINGS=ignore /usr/bin/python3 scripts/tls-check.py .build/debug/apus || status=1; }

echo "== apus init: a new package built against this checkout, served, called by Apache's Python client"
needs init "${thrift_py[@]}" && { bash scripts/init-check.sh .build/debug/apus || status=1; }

echo "== apus serve --metrics: /metrics scraped during and after a bench, parsed with prometheus_client"
needs metrics python3-prometheus-client "${thrift_py[@]}" && { /usr/bin/python3 scripts/metrics-check.py .build/debug/apus || status=1; }

echo "== AF_XDP on the netns testbed (privileged)"
bash scripts/xdp-check.sh .build/debug/apus || status=1

echo "== ApusNet over AF_XDP vs the Linux kernel's TCP on the netns testbed (privileged)"
bash scripts/net-check.sh .build/debug/apus || status=1

echo "== Thrift RPC over AF_XDP end to end: Apache Python clients, 64 x 1,000 calls clean and impaired (privileged)"
bash scripts/rpc-check.sh .build/debug/apus || status=1

echo "== real networks: routed clients, port mode beside the kernel, refusals, 2 queues, capabilities (privileged)"
bash scripts/network-check.sh .build/debug/apus || status=1

echo "== under attack: 14 attack classes against the XDP server, short form (privileged; full: scripts/attack-check.sh)"
APUS_BINARY=.build/debug/apus bash scripts/attack-check.sh --short --rate 3000 || status=1

echo "== fuzz: every libFuzzer harness for 30 s (scripts/fuzz.sh; APUS_SKIP_FUZZ=1 skips)"
if [ "${APUS_SKIP_FUZZ:-0}" = 1 ]; then
    echo "fuzz: skipped (APUS_SKIP_FUZZ=1)"
else
    fuzz_status=0
    bash scripts/fuzz.sh --seconds 30 || fuzz_status=$?
    if [ $fuzz_status -eq 77 ]; then
        echo "fuzz: skipped (this toolchain has no libFuzzer runtime)"
    elif [ $fuzz_status -ne 0 ]; then
        status=1
    fi
fi

echo "== swift test"
swift test --skip-build 2>&1 | tee /tmp/apus-swift-test.log | grep -vE '^(◇|↳|✔ Test [^r])|passed after|^Test Suite|Executed 0 tests|^\[' || true
if ! grep -qE '^✔ Test run with [0-9]+ tests? .*passed' /tmp/apus-swift-test.log; then status=1; fi
grep -E '^(✔|✘) Test run with' /tmp/apus-swift-test.log || true
exit $status
