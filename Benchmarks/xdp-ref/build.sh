#!/usr/bin/env bash
# Builds the C reference tools into build/xdp-ref/: reflect (AF_XDP UDP/ARP
# reflector, libxdp) and blaster (kernel-socket UDP load generator).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/Benchmarks/xdp-ref"
out="$root/build/xdp-ref"
cc="${CC:-cc}"
cflags=(-O2 -g -Wall -Wextra -Werror -std=gnu11 -I"$root/bpf")

mkdir -p "$out"
# libxdp.pc lists libbpf only as Requires.private: link both explicitly.
"$cc" "${cflags[@]}" $(pkg-config --cflags libxdp) -o "$out/reflect" "$src/reflect.c" -lxdp -lbpf
"$cc" "${cflags[@]}" -o "$out/blaster" "$src/blaster.c"
echo "built $out/reflect $out/blaster"
