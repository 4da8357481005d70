#!/usr/bin/env bash
# Privileged checks of Apus's own TCP/IP stack (ApusNet over ApusXSK) on the
# netns testbed, with the Linux kernel in apus-cli as the peer (run by
# scripts/test.sh as root). `apus net serve` owns 10.10.0.10 in apus-srv and
# echoes TCP and UDP on port 7:
#   - ping 10.10.0.10 is answered (ICMP echo from user space)
#   - UDP echo
#   - one TCP connection: 10 MB sent and read back identical
#   - 100 concurrent connections each echo 100 KB
#   - the same under impairment in both directions (--impair in Apus: loss 2%,
#     reorder 5%, duplicate 1%) plus an independent kernel-side 2% random drop
#     on apus-c's egress (nftables), so the kernel's own retransmissions run too;
#     SACK is used both ways (Apus's SACK retransmissions, the kernel's
#     TcpExtTCPSackRecovery)
#   - every connection closes normally (no resets, nothing left after TIME-WAIT)
#     and every UMEM frame is home
#
#   bash scripts/net-check.sh [APUS_BINARY]     (default .build/debug/apus)
#
# Skips with one line when not root or when network namespaces are unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."
apus="${1:-.build/debug/apus}"

if [ "$(id -u)" != 0 ]; then echo "net-check: skipped: needs root (AF_XDP, XDP and network namespaces)"; exit 0; fi
if ! ip netns add apus-probe 2>/dev/null; then echo "net-check: skipped: cannot create network namespaces here"; exit 0; fi
ip netns del apus-probe

failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null || true
  bash scripts/testbed.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The echo client, run in apus-cli: MODE single|many, with byte counts; prints one result line.
client() {
  timeout "${CLIENT_TIMEOUT:-120}" bash scripts/testbed.sh exec cli /usr/bin/python3 - "$@" <<'PY'
import os, socket, sys, threading, time
mode, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = []
def echo(index):
    data = os.urandom(size)
    try:
        c = socket.create_connection(("10.10.0.10", 7), timeout=30)
        c.settimeout(60)
        got = bytearray()
        def reader():
            while len(got) < size:
                chunk = c.recv(1 << 20)
                if not chunk: break
                got.extend(chunk)
        thread = threading.Thread(target=reader); thread.start()
        c.sendall(data)
        thread.join()
        c.shutdown(socket.SHUT_WR)
        eof = c.recv(16) == b""
        c.close()
        results.append("ok" if bytes(got) == data and eof else f"bad(len={len(got)},eof={eof})")
    except OSError as error:
        results.append(f"error({error})")
start = time.time()
threads = [threading.Thread(target=echo, args=(i,)) for i in range(count)]
for t in threads: t.start()
for t in threads: t.join()
bad = [r for r in results if r != "ok"]
print(f"connections={count} bytes_each={size} ok={len(results) - len(bad)} failed={len(bad)} seconds={time.time() - start:.1f}"
      + (f" first_failure={bad[0]}" if bad else ""))
PY
}

start_server() {
  local log="$1"; shift
  bash scripts/testbed.sh exec srv "$apus" net serve --interface apus-s --address 10.10.0.10 --tcp-echo 7 --udp-echo 7 \
    --time-wait 1 --duration 300 "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "serving" "$log" && return 0; sleep 0.1; done
  fail "apus net serve did not start: $(cat "$log")"
  return 1
}

stop_server() {
  local log="$1"
  sleep 1.5  # TIME-WAIT is 1 s here: let it run out before counting what is left
  # The apus process itself (argv[0] ends in /apus), not the testbed.sh wrapper around it.
  pkill -TERM -f "^[^ ]*/apus net serve --interface apus-s" 2>/dev/null || true
  wait "$server" || true
  server=""
}

# Checks the server's final counters: all closed normally, nothing left, frames home.
check_close() {
  local label="$1" summary="$2" expected="$3" resets="${4:-0}"
  python3 - "$summary" "$expected" "$resets" <<'PY' && pass "$label: $3 connections closed normally, no RST storm, nothing left after TIME-WAIT, every frame home" || fail "$label: close accounting: $summary"
import re, sys
f = dict(re.findall(r"(\w+)=(\d+)", sys.argv[1]))
expected, resets = int(sys.argv[2]), int(sys.argv[3])
ok = (int(f["accepted"]) >= expected and int(f["closed_normal"]) == int(f["accepted"]) and int(f["closed_reset"]) == 0
      and int(f["closed_timeout"]) == 0 and int(f["tcp_resets_sent"]) <= resets and int(f["connections_left"]) == 0
      and int(f["frames_in_app"]) == 0)
sys.exit(0 if ok else 1)
PY
}

bash scripts/testbed.sh up >/dev/null
log="$(mktemp)"

# --- clean link ---------------------------------------------------------------------
start_server "$log"
if bash scripts/testbed.sh exec cli ping -c 3 -i 0.2 -W 2 10.10.0.10 >/dev/null 2>&1; then pass "ping 10.10.0.10 answered by ApusNet"
else fail "ping 10.10.0.10 not answered"; fi
udp="$(timeout 20 bash scripts/testbed.sh exec cli /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ok = 0
for i in range(100):
    s.sendto(b"udp-%d" % i, ("10.10.0.10", 7))
    try: ok += s.recvfrom(100)[0] == b"udp-%d" % i
    except OSError: pass
print(ok)' 2>&1 || true)"
[ "$udp" = 100 ] && pass "UDP echo: 100 of 100 datagrams" || fail "UDP echo: $udp"
result="$(client single $((10 * 1024 * 1024)) 1 || true)"; echo "     $result"
case "$result" in *" ok=1 failed=0"*) pass "TCP: 10 MB echoed identical over one connection, kernel TCP as the peer" ;; *) fail "TCP 10 MB: $result" ;; esac
result="$(client many $((100 * 1024)) 100 || true)"; echo "     $result"
case "$result" in *" ok=100 failed=0"*) pass "TCP: 100 concurrent connections each echoed 100 KB" ;; *) fail "TCP 100 x 100 KB: $result" ;; esac
stop_server "$log"; summary="$(grep "^apus net serve: accepted=" "$log" || true)"; echo "     server: ${summary#apus net serve: }"
check_close "clean link" "$summary" 101

# --- impaired in both directions ------------------------------------------------------
# Kernel side: apus-c drops 2% of what it sends (the kernel retransmits), independent of Apus.
bash scripts/testbed.sh exec cli nft -f - <<'NFT'
table inet apus_impair {
  chain egress {
    type filter hook output priority 0; policy accept;
    ip daddr 10.10.0.10 numgen random mod 100 < 2 counter drop
  }
}
NFT
# The kernel's own count of loss recoveries it ran on SACK blocks (from Apus's ACKs).
kernel_sack_recoveries() { bash scripts/testbed.sh exec cli nstat -az TcpExtTCPSackRecovery | awk '/TcpExtTCPSackRecovery/ { print $2 }'; }
sack_before="$(kernel_sack_recoveries || echo 0)"
start_server "$log" --impair "loss=2%,reorder=5%,duplicate=1%,seed=7"
result="$(client single $((10 * 1024 * 1024)) 1 || true)"; echo "     impaired: $result"
case "$result" in *" ok=1 failed=0"*) pass "impaired: 10 MB echoed identical (loss 2%, reorder 5%, duplicate 1% both ways + kernel-side 2% drop)" ;;
  *) fail "impaired TCP 10 MB: $result" ;; esac
result="$(client many $((100 * 1024)) 100 || true)"; echo "     impaired: $result"
case "$result" in *" ok=100 failed=0"*) pass "impaired: 100 concurrent connections each echoed 100 KB" ;; *) fail "impaired TCP 100 x 100 KB: $result" ;; esac
dropped="$(bash scripts/testbed.sh exec cli nft list table inet apus_impair | grep -o 'packets [0-9]*' | head -1 || true)"
stop_server "$log"; summary="$(grep "^apus net serve: accepted=" "$log" || true)"; impairment="$(grep "impaired rx" "$log" || true)"; echo "     server: ${summary#apus net serve: }"; echo "     ${impairment#apus net serve: }; nftables dropped ${dropped:-?}"
case "$summary" in *"tcp_retransmissions=0 "*) fail "impaired: Apus never retransmitted (impairment not applied?)" ;;
  *) pass "impaired: Apus retransmitted what was lost" ;; esac
case "$dropped" in "packets 0"|"") fail "impaired: nftables dropped nothing" ;; *) pass "impaired: the kernel peer lost packets to nftables ($dropped) and recovered" ;; esac
# SACK (RFC 2018) both ways: Apus resent holes the kernel's SACK blocks showed, and the kernel
# ran loss recoveries on the blocks Apus sent.
case "$summary" in *"tcp_sack_retransmits=0 "*|"") fail "impaired: Apus never resent a hole from the kernel's SACK blocks" ;;
  *) pass "impaired: Apus resent holes from the kernel's SACK blocks ($(grep -o 'tcp_sack_retransmits=[0-9]*' <<<"$summary"))" ;; esac
sack_after="$(kernel_sack_recoveries || echo 0)"
if [ "${sack_after:-0}" -gt "${sack_before:-0}" ]; then pass "impaired: the kernel recovered with Apus's SACK blocks (TcpExtTCPSackRecovery +$((sack_after - sack_before)))"
else fail "impaired: the kernel ran no SACK recovery (TcpExtTCPSackRecovery ${sack_before:-?} -> ${sack_after:-?})"; fi
# A duplicated or retransmitted segment that arrives after LAST-ACK ended (the passive closer
# keeps no TIME-WAIT) gets the RFC 9293 §3.10.7.1 RST for a segment to no connection, as from
# Linux. With 1% duplication and reordering a few per hundred connections are right; a storm
# (several per connection) is not, and no connection may be closed by a reset.
check_close "impaired" "$summary" 101 30

rm -f "$log"
echo "net-check: $failures failed"
[ "$failures" = 0 ]
