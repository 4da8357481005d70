#!/usr/bin/env bash
# Privileged AF_XDP checks on the netns testbed (run by scripts/test.sh as root):
# the Swift AF_XDP socket (ApusXSK) answers ARP for the owned address and
# reflects UDP datagrams sent by the Linux kernel in apus-cli, in native and
# generic (skb) XDP mode, with exact frame accounting, while the kernel keeps
# serving what Apus does not own (ping, TCP); unloading leaves the interface
# clean; the program's steering rules hold frame by frame (scripts/xdp-program-check.py);
# and the setup errors users meet say what to do.
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

# The program's steering rules, frame by frame (BPF_PROG_TEST_RUN on a private copy).
obj="$(bash scripts/build-bpf.sh 2>/dev/null)"
while IFS= read -r line; do
  case "$line" in "ok   "*) pass "xdp program: ${line#ok   }" ;; "FAIL "*) fail "xdp program: ${line#FAIL }" ;; esac
done < <(python3 scripts/xdp-program-check.py "$obj" 2>&1 || echo "FAIL xdp-program-check did not run")

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
  local summary; summary="$(grep "^apus xdp reflect: received=" "$log" || true)"
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
held = sum(int(fields[k]) for k in ("frames_free", "frames_in_fill", "frames_in_rx", "frames_in_tx", "frames_in_completion"))
sys.exit(0 if total == held and int(fields["frames_in_app"]) == 0 and int(fields["reflected"]) + int(fields["arp_replies"]) == int(fields["received"]) - int(fields["dropped"]) else 1)
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

# Two queues, one socket and one pinned thread each, busy polling; stopped by SIGTERM.
multiqueue_round() {
  APUS_QUEUES=2 bash scripts/testbed.sh up >/dev/null
  out="$(bash scripts/testbed.sh exec srv "$apus" xdp reflect --interface apus-s --address 10.10.0.10 --zero-copy on --duration 1 2>&1)" \
    && fail "zero-copy on veth: exit 0" || case "$out" in
      *"no zero-copy AF_XDP support"*"--zero-copy auto or off"*) pass "forcing zero copy on veth fails with a clear message" ;;
      *) fail "zero-copy message: $out" ;; esac
  local log; log="$(mktemp)"
  timeout 60 bash scripts/testbed.sh exec srv "$apus" xdp reflect --interface apus-s --address 10.10.0.10 --port 7 \
    --queues 0,1 --busy-poll --duration 40 >"$log" 2>&1 &
  local reflector=$!
  for _ in $(seq 100); do grep -q "serving" "$log" && break; sleep 0.1; done
  # 16 sockets: 16 flows, which veth spreads over both queues by flow hash.
  local result
  result="$(timeout 60 bash scripts/testbed.sh exec cli /usr/bin/python3 - <<'PY'
import socket, time
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
for s in socks: s.settimeout(0.5)
echoed = lost = 0
deadline = time.time() + 30
for n in range(4000):
    if time.time() > deadline: break
    s = socks[n % 16]
    message = b"q-%d" % n
    s.sendto(message, ("10.10.0.10", 7))
    try:
        data, _ = s.recvfrom(100)
        echoed += data == message
    except socket.timeout:
        lost += 1
print(f"echoed={echoed} lost={lost}")
PY
)" || true
  local running; running="$(bash scripts/testbed.sh exec srv "$apus" xdp stats --interface apus-s 2>&1 || true)"
  case "$running" in *"queue 0: pid="*"queue 1: pid="*) pass "multi-queue: apus xdp stats shows both running sockets" ;;
    *) fail "multi-queue: apus xdp stats while running: $running" ;; esac
  pkill -TERM -f "^[^ ]*/apus xdp reflect --interface apus-s" 2>/dev/null || true
  local status=0; wait "$reflector" || status=$?
  echo "     multi-queue: client $result; $(grep -c "): received=" "$log") queue lines"
  [ "$result" = "echoed=4000 lost=0" ] && pass "multi-queue: 4000 datagrams over 16 flows reflected by 2 queue threads" \
    || { fail "multi-queue: $result"; cat "$log"; }
  [ "$status" = 0 ] && grep -q "^apus xdp reflect: received=" "$log" && pass "multi-queue: SIGTERM stops cleanly with a summary" \
    || fail "multi-queue: exit $status after SIGTERM"
  python3 - "$log" <<'PY' && pass "multi-queue: both queues served traffic, every frame home" || { fail "multi-queue: per-queue results"; cat "$log"; }
import re, sys
lines = [l for l in open(sys.argv[1]) if re.match(r"apus xdp reflect: queue \d \(cpu \d+\): ", l)]
ok = len(lines) == 2
for line in lines:
    f = dict(re.findall(r"(\w+)=(\d+)", line))
    ok &= int(f["reflected"]) > 0 and int(f["frames_in_app"]) == 0
sys.exit(0 if ok else 1)
PY
  local after; after="$(bash scripts/testbed.sh exec srv "$apus" xdp stats --interface apus-s 2>&1 || true)"
  case "$after" in *"queue "*) fail "multi-queue: status files left behind: $after" ;; *) pass "multi-queue: no socket status left after stop" ;; esac
  rm -f "$log"
  bash scripts/testbed.sh down >/dev/null
}

reflect_round native 10000
reflect_round skb 2000
multiqueue_round

echo "xdp-check: $failures failed"
[ "$failures" = 0 ]
