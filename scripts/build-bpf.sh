#!/usr/bin/env bash
# Builds the XDP program: bpf/apus_xdp.bpf.c -> build/bpf/apus_xdp.bpf.o.
# Rebuilds only when the source or its header is newer than the object
# (or with --force). Prints the object's path on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/bpf/apus_xdp.bpf.c"
hdr="$root/bpf/apus_xdp.h"
out="$root/build/bpf/apus_xdp.bpf.o"
clang="${CLANG:-/usr/bin/clang}"

force=0
[ "${1:-}" = "--force" ] && force=1

if [ "$force" -eq 0 ] && [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$hdr" ]; then
  echo "$out"
  exit 0
fi

if [ ! -x "$clang" ]; then
  echo "build-bpf: $clang not found (scripts/setup.sh installs clang)" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
# The BPF target has no multiarch include dir of its own: asm/types.h lives
# under /usr/include/<arch>-linux-gnu on Debian.
"$clang" -O2 -g -target bpf -Wall -Werror \
  -I"/usr/include/$(uname -m)-linux-gnu" -I"$root/bpf" \
  -c "$src" -o "$out.tmp"
mv -f "$out.tmp" "$out"
echo "build-bpf: built $out" >&2
echo "$out"
