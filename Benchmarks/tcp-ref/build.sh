#!/usr/bin/env bash
# Builds the kernel-TCP reference tools into build/tcp-ref/: echo_server (epoll
# TCP echo server, one thread) and tcp_load (TCP echo load generator: stream
# and request/response). Plain C, no libraries. Used by scripts/bench.sh tcp.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/Benchmarks/tcp-ref"
out="$root/build/tcp-ref"
cc="${CC:-cc}"
cflags=(-O2 -g -Wall -Wextra -Werror -std=gnu11)

mkdir -p "$out"
"$cc" "${cflags[@]}" -o "$out/echo_server" "$src/echo_server.c"
"$cc" "${cflags[@]}" -o "$out/tcp_load" "$src/tcp_load.c"
echo "built $out/echo_server $out/tcp_load"
