#!/usr/bin/env bash
# Privileged checks of Thrift RPC over AF_XDP end to end (ApusTransportXDP) on the
# netns testbed (run by scripts/test.sh as root). `apus serve --transport xdp` owns
# 10.10.0.10 on queue 0 of apus-s and serves Echo and KV with Apus's own TCP:
#   - interop: Apache Thrift's Python clients in apus-cli call every Echo and KV
#     method in all four protocol x framing combinations (4 MB echoBinary, 1 MB KV
#     values, NotFound, oneway, multiplexed names), then the abuse cases (garbage,
#     oversized and truncated frames, unknown methods, wrong message types)
#   - load: 64 connections x 1,000 calls (each echo its own payload, every reply
#     checked), from the Linux kernel's TCP in apus-cli and from an Apus client on
#     AF_XDP owning 10.10.0.20 there
#   - the same load impaired in both directions: the server's and the Apus client's
#     --impair (loss 2%, reorder 5%) plus a 2% nftables drop on apus-c's egress
#   - afterwards every connection is closed, none reset or failed, and every UMEM
#     frame of server and client is home
#   - 802.1Q: server and Apus client on VLAN 100 of the testbed link, every call answered tagged
#
#   bash scripts/rpc-check.sh [APUS_BINARY]     (default .build/debug/apus)
#
# Skips with one line when not root or when network namespaces are unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."
apus="${1:-.build/debug/apus}"

if [ "$(id -u)" != 0 ]; then echo "rpc-check: skipped: needs root (AF_XDP, XDP and network namespaces)"; exit 0; fi
if ! ip netns add apus-probe 2>/dev/null; then echo "rpc-check: skipped: cannot create network namespaces here"; exit 0; fi
ip netns del apus-probe

failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
server=""
log="$(mktemp)"
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null || true
  APUS_CLIENT_XDP=1 bash scripts/testbed.sh down >/dev/null 2>&1 || true
  rm -f "$log" "$log.client"
}
trap cleanup EXIT

start_server() {
  bash scripts/testbed.sh exec srv "$apus" serve --transport xdp --interface apus-s --address "${ADDRESS:-10.10.0.10}" --port 9090 \
    --read-timeout 1 --grace-period 2 "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 150); do grep -q "listening on" "$log" && return 0; sleep 0.1; done
  fail "apus serve --transport xdp did not start: $(cat "$log")"
  return 1
}

# Stops the server and sets `summary` to its final counters line. Not in a $(...)
# subshell: only this shell can wait for the server.
stop_server() {
  pkill -TERM -f "^[^ ]*/apus serve --transport xdp --interface apus-s" 2>/dev/null || true
  wait "$server" || true
  server=""
  summary="$(grep -a "^apus serve: queue 0:" "$log" || echo "(no final counters: $(tail -3 "$log"))")"
}

# Server counters after a load phase: all connections closed, none failed or reset, frames home.
check_server_counters() {
  local label="$1" summary="$2" expected="$3"
  python3 - "$summary" "$expected" <<'PY' && pass "$label: server closed all $3 connections cleanly, every frame home" || fail "$label: server counters: $summary"
import re, sys
f = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", sys.argv[1])}
ok = (f.get("accepted", -1) >= int(sys.argv[2]) and f["closed"] == f["accepted"] and f["closed_abnormally"] == 0
      and f["connections_failed"] == 0 and f["connections_open"] == 0 and f["frames_in_app"] == 0)
sys.exit(0 if ok else 1)
PY
}

# 64 connections x 1,000 verified calls from apus-cli; $1 = label, rest = extra bench flags.
load() {
  local label="$1"; shift
  if timeout 300 bash scripts/testbed.sh exec cli "$apus" bench --host 10.10.0.10 --port 9090 --connections 64 --concurrency 64 \
      --calls 64000 --verify --timeout 30 "$@" >"$log.client" 2>&1; then
    pass "$label: 64 connections x 1,000 calls, every reply correct ($(grep -o '^ *qps *[0-9.]*' "$log.client" | tr -s ' ' | sed 's/^ //'))"
  else
    fail "$label: $(tail -5 "$log.client" | tr '\n' ' ')"
  fi
  local client_queue
  client_queue="$(grep "client queue:" "$log.client" || true)"
  if [ -n "$client_queue" ]; then
    case "$client_queue" in *" frames_in_app=0"*) pass "$label: every frame of the Apus client is home" ;;
      *) fail "$label: client frames: $client_queue" ;; esac
  fi
}

APUS_CLIENT_XDP=1 bash scripts/testbed.sh up >/dev/null

# --- interop with Apache Thrift's Python clients ---------------------------------------
start_server
if timeout 300 bash scripts/testbed.sh exec cli /usr/bin/python3 scripts/interop/check_server.py --remote 10.10.0.10:9090 \
    --server-log "$log" >"$log.client" 2>&1; then
  pass "Apache Python clients: every Echo and KV method, 4 protocol x framing combinations, abuse cases ($(tail -1 "$log.client"))"
else
  grep -E "^FAIL|^check_server" "$log.client" | head -20
  fail "Apache Python clients against the XDP server"
fi
# THeader (Apache's Python client) and TTHeader (frames from CloudWeGo's layout) on the same server.
if timeout 120 bash scripts/testbed.sh exec cli /usr/bin/python3 scripts/interop/check_theader.py --remote 10.10.0.10:9090 \
    >"$log.theader" 2>&1; then
  pass "THeader and TTHeader clients: metadata, zlib, deadlines, malformed headers ($(tail -1 "$log.theader"))"
else
  grep -E "^FAIL|^check_theader|Error" "$log.theader" | head -20
  fail "THeader and TTHeader clients against the XDP server"
fi
stop_server; echo "     server: ${summary#apus serve: queue 0: }"

# --- load on a clean link ----------------------------------------------------------------
start_server
load "kernel TCP client"
load "Apus XDP client" --transport xdp --interface apus-c --address 10.10.0.20
stop_server; echo "     server: ${summary#apus serve: queue 0: }"
check_server_counters "clean link" "$summary" 128

# --- load impaired in both directions ------------------------------------------------------
bash scripts/testbed.sh exec cli nft -f - <<'NFT'
table inet apus_impair {
  chain egress {
    type filter hook output priority 0; policy accept;
    ip daddr 10.10.0.10 numgen random mod 100 < 2 counter drop
  }
}
NFT
start_server --impair "loss=2%,reorder=5%,seed=11"
load "impaired, kernel TCP client"
load "impaired, Apus XDP client" --transport xdp --interface apus-c --address 10.10.0.20 --impair "loss=2%,reorder=5%,seed=12"
dropped="$(bash scripts/testbed.sh exec cli nft list table inet apus_impair | grep -o 'packets [0-9]*' | head -1 || true)"
stop_server; echo "     server: ${summary#apus serve: queue 0: }; nftables dropped ${dropped:-?}"
case "$summary" in *" tcp_retransmissions=0 "*) fail "impaired: the server never retransmitted (impairment not applied?)" ;;
  *) pass "impaired: the server retransmitted what was lost" ;; esac
case "$dropped" in "packets 0"|"") fail "impaired: nftables dropped nothing" ;; *) pass "impaired: the kernel client lost packets to nftables ($dropped) and recovered" ;; esac
check_server_counters "impaired" "$summary" 128

# --- 802.1Q: Apus serves 10.30.0.10 on VLAN 100 of apus-s and the Apus client owns 10.30.0.20 on
# VLAN 100 of apus-c: each side's program steers only frames tagged 100 to it, so every call
# answered went tagged both ways. (This kernel has no 8021q module for a kernel peer.) -------------
ADDRESS=10.30.0.10 start_server --vlan 100 --prefix-length 24
if timeout 120 bash scripts/testbed.sh exec cli "$apus" bench --host 10.30.0.10 --port 9090 --connections 8 --concurrency 8 \
    --calls 8000 --verify --timeout 30 --transport xdp --interface apus-c --address 10.30.0.20 --prefix-length 24 --vlan 100 \
    >"$log.client" 2>&1; then
  pass "VLAN 100: Apus XDP client, 8 connections x 1,000 calls, every reply correct and tagged"
else
  fail "VLAN 100: $(tail -5 "$log.client" | tr '\n' ' ')"
fi
stop_server; echo "     server: ${summary#apus serve: queue 0: }"
check_server_counters "VLAN 100" "$summary" 8

echo "rpc-check: $failures failed"
[ "$failures" = 0 ]
