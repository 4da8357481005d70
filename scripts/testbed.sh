#!/usr/bin/env bash
# The Apus testbed (DESIGN decision 9): two network namespaces joined by a
# veth pair, with Apus's XDP program on the server end.
#
#   scripts/testbed.sh up | down | status | exec srv|cli [CMD...]
#
#   apus-srv                                    apus-cli
#   apus-s 10.10.0.1/24  <---- veth ---->  apus-c 10.10.0.2/24
#   + 10.10.0.10 owned by Apus (configured in no kernel: the XDP program
#     steers it, and its ARP, to the AF_XDP sockets)
#
# Environment (defaults in brackets):
#   APUS_NS_SRV [apus-srv]  APUS_NS_CLI [apus-cli]  APUS_IF_SRV [apus-s]  APUS_IF_CLI [apus-c]
#   APUS_IP_SRV [10.10.0.1] APUS_IP_CLI [10.10.0.2] APUS_IP_OWNED [10.10.0.10] APUS_PREFIX [24]
#   APUS_XDP_MODE [native]  native | skb
#   APUS_XDP_OWNER []       USER[:GROUP]: the pinned maps are handed to USER (xdp-load.sh --owner),
#                           for a server running as USER with capabilities instead of root
#   APUS_QUEUES [1]         numrxqueues/numtxqueues of both veth ends. veth delivers a
#                           frame on the server's rx queue with the index of the client's tx
#                           queue, so with >1 queue every queue needs a socket.
#   APUS_STATIC_ARP [0]     1: permanent neighbour entry OWNED -> server MAC in the client,
#                           for tests that run no ARP responder
#   APUS_CLIENT_XDP [0]     1: load the XDP program on the client end too (maps in
#                           /sys/fs/bpf/apus/IF_CLI), so an Apus client can own APUS_IP_OWNED_CLI
#                           there (`apus bench --transport xdp`); the kernel keeps everything else
#   APUS_IP_OWNED_CLI [10.10.0.20]  the address an Apus client owns in the client namespace
#   APUS_CSUM_OFFLOAD [off] off: `ethtool -K tx off` on both ends (and GSO/TSO off on the
#                           client) so frames carry complete checksums as on a real wire;
#                           on: leave veth's defaults (partial checksums reach the XSK)
#
# `exec` runs CMD in a namespace with that namespace's sysfs on /sys AND the
# host's bpffs (the pinned maps) on /sys/fs/bpf; see run_in_namespace below.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ns_srv="${APUS_NS_SRV:-apus-srv}"
ns_cli="${APUS_NS_CLI:-apus-cli}"
if_srv="${APUS_IF_SRV:-apus-s}"
if_cli="${APUS_IF_CLI:-apus-c}"
ip_srv="${APUS_IP_SRV:-10.10.0.1}"
ip_cli="${APUS_IP_CLI:-10.10.0.2}"
ip_owned="${APUS_IP_OWNED:-10.10.0.10}"
prefix="${APUS_PREFIX:-24}"
xdp_mode="${APUS_XDP_MODE:-native}"
queues="${APUS_QUEUES:-1}"
static_arp="${APUS_STATIC_ARP:-0}"
csum_offload="${APUS_CSUM_OFFLOAD:-off}"
client_xdp="${APUS_CLIENT_XDP:-0}"
ip_owned_cli="${APUS_IP_OWNED_CLI:-10.10.0.20}"

pin_dir="/sys/fs/bpf/apus/$if_srv"
pin_dir_cli="/sys/fs/bpf/apus/$if_cli"

usage() {
  echo "usage: $0 up | down | status | exec srv|cli [CMD...]" >&2
  exit 64
}
die() { echo "testbed: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, veth, XDP)"; }
ns_exists() { [ -e "/run/netns/$1" ]; }

namespace_for() {
  case "$1" in
    srv) echo "$ns_srv" ;;
    cli) echo "$ns_cli" ;;
    *) die "exec takes srv or cli, not '$1'" ;;
  esac
}

# Runs CMD in network namespace NS so that the host's bpffs stays visible.
# `ip netns exec` unmounts /sys and mounts a sysfs of the namespace there,
# which also hides /sys/fs/bpf, and a fresh bpffs mount would be a new, empty
# instance. Instead:
#   1. nsenter --net: join only the namespace's network namespace;
#   2. unshare --mount --propagation private: a private copy of the host's
#      mount tree, so nothing below leaks back to the host;
#   3. open the host's /sys/fs/bpf as fd 9 (a handle on that bpffs mount);
#   4. mount a sysfs on /sys; mounted from inside NS, it shows NS's interfaces
#      in /sys/class/net;
#   5. bind fd 9 onto /sys/fs/bpf. `--no-canonicalize` matters: otherwise
#      mount(8) resolves /proc/self/fd/9 to the string "/sys/fs/bpf" and binds
#      the new sysfs's empty fs/bpf directory onto itself;
#   6. close fd 9 and exec CMD.
run_in_namespace() {
  local ns="$1"; shift
  ns_exists "$ns" || die "no namespace $ns: run '$0 up' first"
  [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] ||
    die "no bpffs at /sys/fs/bpf on the host (mount -t bpf bpf /sys/fs/bpf)"
  (($#)) || set -- "${SHELL:-/bin/bash}"
  exec nsenter "--net=/run/netns/$ns" -- \
    unshare --mount --propagation private -- \
    /bin/sh -c '
      exec 9</sys/fs/bpf || exit 125
      mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || exit 125
      mount --no-canonicalize --bind /proc/self/fd/9 /sys/fs/bpf || exit 125
      exec 9<&-
      exec "$@"' apus-testbed-exec "$@"
}

# Ends the processes still running in NS (a reflector, a server left behind),
# by pid: `ip netns del` only removes the name, and a namespace with a live
# process keeps its veth and, through the XSK, the traffic.
stop_namespace_processes() {
  local ns="$1" pids tries
  ns_exists "$ns" || return 0
  pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
  [ -n "${pids// }" ] || return 0
  echo "testbed: stopping processes in $ns: $pids" >&2
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    [ -n "${pids// }" ] || return 0
    sleep 0.3
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

set_offloads() {
  local ns="$1" dev="$2"; shift 2
  if ! command -v ethtool >/dev/null 2>&1; then
    echo "testbed: ethtool not installed: $dev keeps checksum offload, so frames can reach the XSK" \
      "with partial checksums (install ethtool, or APUS_CSUM_OFFLOAD=on to silence this)" >&2
    return 0
  fi
  ip netns exec "$ns" ethtool -K "$dev" "$@" >/dev/null 2>&1 ||
    echo "testbed: ethtool -K $dev $* failed; continuing" >&2
}

cmd_down() {
  need_root
  local ns
  # Servers first, so they can still clean their map entries on the way out.
  for ns in "$ns_srv" "$ns_cli"; do
    stop_namespace_processes "$ns"
  done
  if ns_exists "$ns_srv"; then
    "$root/scripts/xdp-unload.sh" "$if_srv" --netns "$ns_srv" >/dev/null || true
  fi
  if ns_exists "$ns_cli" || [ -d "$pin_dir_cli" ]; then
    "$root/scripts/xdp-unload.sh" "$if_cli" --netns "$ns_cli" >/dev/null 2>&1 || true
  fi
  for ns in "$ns_srv" "$ns_cli"; do
    if ns_exists "$ns"; then
      ip netns del "$ns"
      echo "testbed: deleted namespace $ns"
    fi
  done
  # Pins outlive the namespace; xdp-unload.sh also copes with a vanished one.
  if [ -d "$pin_dir" ]; then
    "$root/scripts/xdp-unload.sh" "$if_srv" --netns "$ns_srv" >/dev/null || true
  fi
}

cmd_up() {
  need_root
  "$root/scripts/setup.sh"
  [[ "$queues" =~ ^[0-9]+$ ]] && ((queues >= 1 && queues <= 64)) || die "APUS_QUEUES must be 1..64"
  case "$xdp_mode" in native|skb) ;; *) die "APUS_XDP_MODE must be native or skb" ;; esac

  cmd_down >/dev/null 2>&1 || true
  for ns in "$ns_srv" "$ns_cli"; do
    ns_exists "$ns" && die "namespace $ns survived teardown; remove it by hand: ip netns del $ns"
  done

  # Undo a half-built testbed if anything below fails.
  trap 'echo "testbed: up failed; tearing down" >&2; cmd_down >/dev/null 2>&1 || true' ERR

  ip netns add "$ns_srv"
  ip netns add "$ns_cli"
  # Created inside the server namespace with the peer placed straight into the
  # client namespace: the host's interface list is never touched.
  ip -n "$ns_srv" link add "$if_srv" numtxqueues "$queues" numrxqueues "$queues" type veth \
    peer name "$if_cli" numtxqueues "$queues" numrxqueues "$queues" netns "$ns_cli"
  ip -n "$ns_srv" addr add "$ip_srv/$prefix" dev "$if_srv"
  ip -n "$ns_cli" addr add "$ip_cli/$prefix" dev "$if_cli"
  ip -n "$ns_srv" link set lo up
  ip -n "$ns_cli" link set lo up
  ip -n "$ns_srv" link set "$if_srv" up
  ip -n "$ns_cli" link set "$if_cli" up

  if [ "$csum_offload" = off ]; then
    # The client's kernel then computes full UDP/TCP checksums, as a real NIC
    # would put them on the wire; no GSO super-frames reach a skb-mode XSK.
    set_offloads "$ns_cli" "$if_cli" tx off tso off gso off
    set_offloads "$ns_srv" "$if_srv" tx off tso off gso off
  fi

  "$root/scripts/xdp-load.sh" "$if_srv" --mode "$xdp_mode" --netns "$ns_srv"
  if [ "$client_xdp" = 1 ]; then
    "$root/scripts/xdp-load.sh" "$if_cli" --mode "$xdp_mode" --netns "$ns_cli"
  fi

  if [ "$static_arp" = 1 ]; then
    local mac
    mac="$(ip netns exec "$ns_srv" cat "/sys/class/net/$if_srv/address")"
    ip -n "$ns_cli" neigh replace "$ip_owned" lladdr "$mac" dev "$if_cli" nud permanent
    echo "testbed: static ARP in $ns_cli: $ip_owned -> $mac"
  fi
  trap - ERR
  echo "testbed: up: $ns_srv/$if_srv $ip_srv/$prefix <-> $ns_cli/$if_cli $ip_cli/$prefix;" \
    "Apus owns $ip_owned; XDP $xdp_mode; $queues queue(s); maps in $pin_dir/" \
    "$( [ "$client_xdp" = 1 ] && echo "; client XDP on $if_cli for $ip_owned_cli (maps in $pin_dir_cli/)")"
}

cmd_status() {
  local ns
  echo "namespaces:"
  for ns in "$ns_srv" "$ns_cli"; do
    if ns_exists "$ns"; then
      echo "  $ns:"
      ip -n "$ns" -br addr | sed 's/^/    /'
      ip -n "$ns" -o link show 2>/dev/null | grep -o '^[0-9]*: [^:]*\|prog/xdp id [0-9]* name [^ ]*\| xdp[a-z]* ' |
        paste -sd' ' | sed 's/^/    link: /'
      ip -n "$ns" neigh show | sed 's/^/    neigh: /'
      pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
      [ -z "${pids// }" ] || echo "    processes: $pids"
    else
      echo "  $ns: absent"
    fi
  done
  if [ -d "$pin_dir" ]; then
    echo "pins in $pin_dir: $(ls "$pin_dir" | paste -sd' ')"
    if command -v bpftool >/dev/null 2>&1; then
      echo "stats (seen redirected passed redirect_errors malformed), summed over CPUs:"
      bpftool -j map dump pinned "$pin_dir/stats" 2>/dev/null |
        python3 -c 'import json,sys
def total(row):  # raw per-CPU values are little-endian hex byte lists
    return sum(int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in row["values"])
rows = json.load(sys.stdin)
print("  " + " ".join(str(total(r)) for r in rows))' \
        2>/dev/null || echo "  (could not read)"
      echo "owned_ipv4: $(bpftool -j map dump pinned "$pin_dir/owned_ipv4" 2>/dev/null |
        python3 -c 'import json,sys,ipaddress
print(" ".join(str(ipaddress.IPv4Address(bytes(int(b, 16) for b in r["key"]))) for r in json.load(sys.stdin)))' 2>/dev/null)"
    fi
  else
    echo "pins: none ($pin_dir absent)"
  fi
}

(($#)) || usage
command="$1"; shift
case "$command" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) need_root; cmd_status ;;
  exec)
    need_root
    (($#)) || usage
    ns="$(namespace_for "$1")"; shift
    run_in_namespace "$ns" "$@"
    ;;
  *) usage ;;
esac
