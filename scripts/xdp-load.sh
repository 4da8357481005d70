#!/usr/bin/env bash
# Loads Apus's XDP program on IFACE and pins its maps (DESIGN decision 2).
#
#   scripts/xdp-load.sh IFACE [--mode native|skb] [--netns NS] [--owner USER[:GROUP]]
#
# Builds bpf/apus_xdp.bpf.c if needed (scripts/build-bpf.sh), attaches it with
# `xdp-loader load` (libxdp) and pins the maps at /sys/fs/bpf/apus/IFACE/
# (xsks, owned_ipv4, owned_ports, config, vlans, stats; layouts in bpf/apus_xdp.h).
#
# --owner USER[:GROUP]: hands the pin directory and its maps to USER, so a server
# running as USER with only its capabilities (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF,
# CAP_IPC_LOCK; README "On a real network") can open them. /sys/fs/bpf/apus is made
# searchable by others (o+x) for the same reason; nothing there is readable by them.
#
# --netns NS: IFACE lives in network namespace NS (/run/netns/NS). xdp-loader
# then runs under `nsenter --net`, which switches only the network namespace:
# the mount namespace, and with it the host's bpffs at /sys/fs/bpf, stays as
# it is, so the pins land in the HOST's /sys/fs/bpf/apus/IFACE/. (`ip netns
# exec` would mount a fresh sysfs over /sys and hide the host's bpffs.)
#
# The program is attached with plain netlink flags: it stays attached after
# the server exits or crashes; remove it with scripts/xdp-unload.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pin_root=/sys/fs/bpf/apus

usage() {
  echo "usage: $0 IFACE [--mode native|skb] [--netns NS] [--owner USER[:GROUP]]" >&2
  exit 64
}
die() { echo "xdp-load: $*" >&2; exit 1; }
# shellcheck source=lib/xdp.sh
. "$root/scripts/lib/xdp.sh"
args=("$@")

iface="" mode=native netns="" pin_owner="${APUS_XDP_OWNER:-}"
while (($#)); do
  case "$1" in
    --mode) [ $# -ge 2 ] || usage; mode="$2"; shift 2 ;;
    --mode=*) mode="${1#--mode=}"; shift ;;
    --netns) [ $# -ge 2 ] || usage; netns="$2"; shift 2 ;;
    --netns=*) netns="${1#--netns=}"; shift ;;
    --owner) [ $# -ge 2 ] || usage; pin_owner="$2"; shift 2 ;;
    --owner=*) pin_owner="${1#--owner=}"; shift ;;
    -h|--help) usage ;;
    -*) echo "xdp-load: unknown option $1" >&2; usage ;;
    *) [ -z "$iface" ] || usage; iface="$1"; shift ;;
  esac
done
[ -n "$iface" ] || usage
case "$mode" in native|skb) ;; *) die "--mode must be native or skb, not '$mode'" ;; esac
case "$iface" in */*|.|..) die "'$iface' is not an interface name" ;; esac

[ "$(id -u)" -eq 0 ] || die "must run as root (XDP needs CAP_NET_ADMIN and CAP_BPF): sudo $0 ${args[*]}"

refuse_hidden_bpffs

"$root/scripts/setup.sh"

if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  die "no bpffs at /sys/fs/bpf; mount it with: mount -t bpf bpf /sys/fs/bpf"
fi

# in_ns CMD...: runs CMD in the interface's network namespace, keeping our mounts.
in_ns=()
where="this network namespace"
if [ -n "$netns" ]; then
  [ -e "/run/netns/$netns" ] || die "no network namespace '$netns' (ip netns list)"
  in_ns=(nsenter "--net=/run/netns/$netns" --)
  where="network namespace $netns"
fi
unload_hint="scripts/xdp-unload.sh $iface${netns:+ --netns $netns}"

"${in_ns[@]}" ip link show dev "$iface" >/dev/null 2>&1 ||
  die "no interface '$iface' in $where (ip${netns:+ -n $netns} link)"

link="$("${in_ns[@]}" ip -o link show dev "$iface")"
if [[ "$link" == *"prog/xdp"* ]]; then
  attached="$(grep -o 'prog/xdp id [0-9]* name [^ ]*' <<<"$link" || echo 'prog/xdp')"
  die "an XDP program is already attached to $iface ($attached); unload it first: $unload_hint"
fi

if ! owner="$(clear_stale_loader_lock)"; then
  die "xdp-loader (pid $owner) is running; wait for it, then retry"
fi

object="$("$root/scripts/build-bpf.sh")"

# libbpf reuses a pinned map with a compatible layout, contents included: stale
# XSK entries and owned addresses from an earlier run would steer traffic
# before the server writes its own. Nothing is attached now, so start clean.
pin_dir="$pin_root/$iface"
if [ -d "$pin_dir" ]; then
  echo "xdp-load: removing stale pins in $pin_dir" >&2
  rm -f "$pin_dir"/*
  rmdir "$pin_dir"
fi
mkdir -p "$pin_root"

if ! output="$(timeout 60 "${in_ns[@]}" xdp-loader load --mode "$mode" --pin-path "$pin_dir" \
    --prog-name apus_xdp "$iface" "$object" 2>&1)"; then
  echo "$output" >&2
  if [ "$mode" = native ]; then
    die "xdp-loader could not attach in native mode on $iface; the driver may lack native XDP: try --mode skb"
  fi
  die "xdp-loader failed on $iface"
fi

link="$("${in_ns[@]}" ip -o link show dev "$iface")"
[[ "$link" == *"prog/xdp"* ]] || die "xdp-loader returned success but $iface shows no XDP program"
for map in xsks owned_ipv4 owned_ports config vlans stats; do
  [ -e "$pin_dir/$map" ] || die "map '$map' was not pinned at $pin_dir/$map"
done
if [ -n "$pin_owner" ]; then
  chown -R "$pin_owner" "$pin_dir" || die "cannot give $pin_dir to '$pin_owner' (chown -R)"
  chmod o+x "$pin_root"
  echo "xdp-load: $pin_dir and its maps now belong to $pin_owner" >&2
fi
prog="$(grep -o 'prog/xdp id [0-9]* name [^ ]*' <<<"$link" || true)"
echo "xdp-load: attached apus_xdp to $iface${netns:+ (netns $netns)} in $mode mode (${prog#prog/xdp }); maps pinned in $pin_dir/"
