#!/usr/bin/env bash
# Privileged AF_XDP checks on the netns testbed (run by scripts/test.sh as root):
# the Swift AF_XDP socket (ApusXSK) answers ARP for the owned address and
# reflects UDP datagrams sent by the Linux kernel in apus-cli, in native and
# generic (skb) XDP mode, with exact frame accounting, while the kernel keeps
# serving what Apus does not own (ping, TCP); unloading leaves the interface
# clean; and the setup errors users meet say what to do.
#
#   bash scripts/xdp-check.sh [APUS_BINARY]     (default .build/debug/apus)
#
# Skips with one line when not root or when network namespaces are unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."
apus="${1:-.build/debug/apus}"

if [ "$(id -u)" != 0 ]; then echo "xdp-check: skipped: needs root (AF_XDP, XDP and network namespaces)"; exit 0; fi
if ! ip netns add apus-probe 2>/dev/null; then echo "xdp-check: skipped: cannot create network namespaces here"; exit 0; fi
ip netns del apus-probe

failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
cleanup() { bash scripts/testbed.sh down >/dev/null 2>&1 || true; }
trap cleanup EXIT

# A missing interface and a missing program: one clear line each, exit 1, no crash.
out="$("$apus" xdp reflect --interface apus-nope0 --address 10.10.0.10 --duration 1 2>&1)" && fail "missing program: exit 0" || {
  case "$out" in *"not loaded on apus-nope0"*"scripts/xdp-load.sh apus-nope0"*) pass "missing program says how to load it" ;;
    *) fail "missing program message: $out" ;; esac; }

# Reflect through AF_XDP; the Linux kernel in apus-cli sends and checks.
reflect_round() {
  local mode="$1" count="$2"
  # No static ARP: the client's kernel resolves 10.10.0.10 through the reflector's ARP replies.
  APUS_XDP_MODE="$mode" bash scripts/testbed.sh up >/dev/null
  # A kernel TCP listener in apus-srv, on the kernel's own address: not Apus's traffic.
  timeout 60 bash scripts/testbed.sh exec srv /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.10.0.1", 7070)); s.listen()
s.settimeout(50)
try:
    c, _ = s.accept(); c.sendall(c.recv(100))
except OSError:
    pass
' &
  local listener=$!
  local log; log="$(mktemp)"
  timeout 60 bash scripts/testbed.sh exec srv "$apus" xdp reflect --interface apus-s --address 10.10.0.10 --port 7 \
    --duration 30 --count "$count" >"$log" 2>&1 &
  local reflector=$!
  for _ in $(seq 100); do grep -q "serving" "$log" && break; sleep 0.1; done
  local result
  result="$(timeout 60 bash scripts/testbed.sh exec cli /usr/bin/python3 - "$count" <<'PY'
import socket, sys, time
count = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
echoed = mismatched = 0
deadline = time.time() + 40
# Windows of 32 in flight: exercises batching without overrunning the socket buffers.
sent = 0
while sent < count and time.time() < deadline:
    window = min(32, count - sent)
    expected = {}
    for i in range(window):
        n = sent + i
        message = b"apus-%d-" % n + bytes((n + k) & 0xFF for k in range(n % 200))
        expected[message] = True
        s.sendto(message, ("10.10.0.10", 7))
    sent += window
    for _ in range(window):
        try:
            data, peer = s.recvfrom(4096)
        except socket.timeout:
            break
        if peer == ("10.10.0.10", 7) and expected.pop(data, None):
            echoed += 1
        else:
            mismatched += 1
print(f"sent={sent} echoed={echoed} mismatched={mismatched}")
PY
)" || true
  # Meanwhile the kernel still answers for itself.
  if bash scripts/testbed.sh exec cli ping -c 2 -W 2 10.10.0.1 >/dev/null 2>&1; then pass "$mode: ping to the kernel's address works beside Apus"
  else fail "$mode: ping 10.10.0.1 failed"; fi
  local tcp; tcp="$(timeout 20 bash scripts/testbed.sh exec cli /usr/bin/python3 -c '
import socket
c = socket.create_connection(("10.10.0.1", 7070), timeout=5); c.sendall(b"kernel tcp"); print(c.recv(100).decode())
' 2>&1 || true)"
  if [ "$tcp" = "kernel tcp" ]; then pass "$mode: TCP to a kernel listener works beside Apus"; else fail "$mode: kernel TCP: $tcp"; fi
  kill "$listener" 2>/dev/null || true
  wait "$reflector" || true
  local summary; summary="$(grep "received=" "$log" || true)"
  local stats; stats="$(bash scripts/testbed.sh exec srv "$apus" xdp stats --interface apus-s 2>&1 || true)"
  echo "     $mode: client $result; reflector ${summary#apus xdp reflect: }; program $stats"
  case "$result" in
    "sent=$count echoed=$count mismatched=0") pass "$mode: $count datagrams reflected through AF_XDP, byte for byte" ;;
    *) fail "$mode: expected all $count echoed, got: $result"; cat "$log" ;;
  esac
  # Frame accounting: every frame is free, in the fill ring or in flight on TX.
  python3 - "$summary" <<'PY' && pass "$mode: every UMEM frame accounted for" || fail "$mode: frame accounting: $summary"
import re, sys
fields = dict(re.findall(r"(\w+)=(\d+)", sys.argv[1]))
total = int(fields["frames_total"])
held = int(fields["frames_free"]) + int(fields["frames_in_fill"]) + int(fields["frames_in_tx"])
sys.exit(0 if total == held and int(fields["reflected"]) + int(fields["arp_replies"]) == int(fields["received"]) - int(fields["dropped"]) else 1)
PY
  case "$stats" in *"redirect_errors=0"*) pass "$mode: no redirect errors" ;; *) fail "$mode: program counters: $stats" ;; esac
  case "$summary" in *"arp_replies=0 "*|"") fail "$mode: no ARP reply came from the reflector" ;; *) pass "$mode: ARP for the owned address answered from user space" ;; esac
  rm -f "$log"
  bash scripts/xdp-unload.sh apus-s --netns apus-srv >/dev/null
  if ip -n apus-srv link show apus-s | grep -q "xdp"; then fail "$mode: xdp-unload left a program on apus-s"
  elif [ -e /sys/fs/bpf/apus/apus-s ]; then fail "$mode: xdp-unload left pins in /sys/fs/bpf/apus/apus-s"
  else pass "$mode: xdp-unload leaves apus-s clean"; fi
  bash scripts/testbed.sh down >/dev/null
}

reflect_round native 10000
reflect_round skb 2000

echo "xdp-check: $failures failed"
[ "$failures" = 0 ]
