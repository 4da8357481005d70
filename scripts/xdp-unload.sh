#!/usr/bin/env bash
# Removes Apus's XDP program from IFACE (native and generic alike) and the
# pinned maps in /sys/fs/bpf/apus/IFACE/. Safe to run twice, and after IFACE
# or its namespace is gone (then only the pins are removed).
#
#   scripts/xdp-unload.sh IFACE [--netns NS] [--force]
#
# A program other than apus_xdp (or libxdp's dispatcher) is left in place
# unless --force is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pin_root=/sys/fs/bpf/apus

usage() {
  echo "usage: $0 IFACE [--netns NS] [--force]" >&2
  exit 64
}
die() { echo "xdp-unload: $*" >&2; exit 1; }
# shellcheck source=lib/xdp.sh
. "$root/scripts/lib/xdp.sh"
args=("$@")

iface="" netns="" force=0
while (($#)); do
  case "$1" in
    --netns) [ $# -ge 2 ] || usage; netns="$2"; shift 2 ;;
    --netns=*) netns="${1#--netns=}"; shift ;;
    --force) force=1; shift ;;
    -h|--help) usage ;;
    -*) echo "xdp-unload: unknown option $1" >&2; usage ;;
    *) [ -z "$iface" ] || usage; iface="$1"; shift ;;
  esac
done
[ -n "$iface" ] || usage
case "$iface" in */*|.|..) die "'$iface' is not an interface name" ;; esac

[ "$(id -u)" -eq 0 ] || die "must run as root: sudo $0 ${args[*]}"

refuse_hidden_bpffs

"$root/scripts/setup.sh"

in_ns=()
have_iface=1
if [ -n "$netns" ]; then
  if [ -e "/run/netns/$netns" ]; then
    in_ns=(nsenter "--net=/run/netns/$netns" --)
  else
    echo "xdp-unload: no network namespace '$netns'; its interfaces (and their programs) are gone" >&2
    have_iface=0
  fi
fi
if ((have_iface)) && ! "${in_ns[@]}" ip link show dev "$iface" >/dev/null 2>&1; then
  echo "xdp-unload: no interface '$iface'${netns:+ in netns $netns}; nothing attached to remove" >&2
  have_iface=0
fi

attached_program() {
  "${in_ns[@]}" ip -o link show dev "$iface" | grep -o 'prog/xdp id [0-9]* name [^ ]*' || true
}

if ((have_iface)); then
  prog="$(attached_program)"
  if [ -n "$prog" ]; then
    name="${prog##* }"
    if [ "$name" != apus_xdp ] && [ "$name" != xdp_dispatcher ] && ((force == 0)); then
      die "$iface runs '$name', not apus_xdp; leaving it (use --force to remove it anyway)"
    fi
    clear_stale_loader_lock >/dev/null || true
    timeout 60 "${in_ns[@]}" xdp-loader unload --all "$iface" >/dev/null 2>&1 || true
    # A program attached by something other than libxdp, in whichever mode:
    # `xdp off` alone does not remove a generic program.
    for kind in xdpgeneric xdpdrv xdp; do
      [ -n "$(attached_program)" ] || break
      "${in_ns[@]}" ip link set dev "$iface" "$kind" off 2>/dev/null || true
    done
    [ -z "$(attached_program)" ] || die "could not detach the XDP program from $iface: $(attached_program)"
    echo "xdp-unload: detached ${prog#prog/xdp } from $iface${netns:+ (netns $netns)}"
    # Pinned dispatcher links (multi-prog mode) for this interface, if any.
    timeout 30 "${in_ns[@]}" xdp-loader clean "$iface" >/dev/null 2>&1 || true
  fi
fi

pin_dir="$pin_root/$iface"
if [ -d "$pin_dir" ]; then
  rm -f "$pin_dir"/*
  rmdir "$pin_dir"
  echo "xdp-unload: removed pins in $pin_dir"
fi
rmdir "$pin_root" 2>/dev/null || true
exit 0
