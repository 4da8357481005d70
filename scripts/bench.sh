#!/usr/bin/env bash
# Benchmarks: Apus against a reference implementation doing the same work.
#
#   bash scripts/bench.sh kernel [--duration S] [--connections "1 4 16"] [--depth "1 4"]
#                                [--payload BYTES] [--protocol binary|compact] [--quick]
#   bash scripts/bench.sh xdp    [--duration S] [--rounds N] [--window W] [--payload BYTES] [--quick]
#   bash scripts/bench.sh tcp    [--duration S] [--rounds N] [--connections "1 64"] [--payload BYTES] [--quick]
#   bash scripts/bench.sh rpc    [--duration S] [--rounds N] [--connections "1 16 64"] [--depth "1 8"]
#                                [--payload BYTES] [--client xdp|kernel] [--paced-client kernel|xdp]
#                                [--framing framed|theader|ttheader] [--quick]
#
# kernel: both servers on kernel sockets over loopback (127.0.0.1), one CPU each side:
#   apus  `.build/release/apus serve --host 127.0.0.1 --port 0 ...` (Apus kernel-socket server)
#   cpp   Apache Thrift C++ TNonblockingServer, one IO thread, handlers inline
#         (Benchmarks/cpp/echo_server.cpp, built in build/bench-kernel/ when its inputs change)
# Every server (pinned to CPU 0) is driven by the same client, `apus bench` (pinned to
# CPU 1): C connections, K = C * depth echo calls of a BYTES-long string outstanding
# (pipelined), framed transport, for S seconds. Per run it reports QPS, latency
# percentiles and the server's CPU time per call (from /proc/PID/stat).
# Defaults: --duration 5 --connections "1 4 16" --depth "1 4" --payload 64 --protocol binary;
# --quick: --duration 2 --connections "1 4" (explicit flags still win).
# Raw results: .build/bench/kernel-<UTC timestamp>.jsonl (+ a directory of logs).
#
# xdp (root): AF_XDP UDP reflectors on the netns testbed (scripts/testbed.sh: veth, XDP
# program in native mode, copy-mode AF_XDP, one queue), each pinned to CPU 0 in apus-srv:
#   apus  `.build/release/apus xdp reflect` (ApusXSK)
#   c     the C reference over libxdp's xsk API, same behaviour (ARP for the owned address,
#         UDP echo with checksums recomputed; Benchmarks/xdp-ref/reflect.c)
# Both are driven by the same C blaster in apus-cli (Benchmarks/xdp-ref/blaster.c, pinned
# to CPU 1; both tools built in build/xdp-ref/ when their inputs change): a kernel UDP
# socket, sendmmsg/recvmmsg in batches of 64, W datagrams of BYTES unanswered at most,
# for S seconds after a 1 s warm-up, counting the echoes. Rounds alternate the reflectors
# (apus c, c apus, ...); it prints each run's replies/s, the medians and apus/c.
# Defaults: --duration 5 --rounds 3 --window 256 --payload 64;
# --quick: --duration 2 --rounds 1. Raw results: .build/bench/xdp-<UTC timestamp>.jsonl.
# The testbed's environment names apply (APUS_NS_SRV, APUS_IF_SRV, APUS_IP_OWNED,
# APUS_XDP_MODE, ...; see scripts/testbed.sh); it is brought up and torn down here, and
# an existing one (another run's) is left alone: the benchmark refuses to start.
#
# tcp (root): TCP echo on the same testbed, each server pinned to CPU 0 in apus-srv:
#   apus    `.build/release/apus net serve --tcp-echo 7` on the Apus address (ApusNet, Apus's
#           userspace TCP/IP stack, over copy-mode AF_XDP on queue 0)
#   kernel  the Linux kernel's TCP: a C epoll echo server, one thread, on the kernel address
#           APUS_IP_SRV:7007 (Benchmarks/tcp-ref/echo_server.c; the XDP program passes it on)
# Both are driven by the same C load client in apus-cli (Benchmarks/tcp-ref/tcp_load.c, pinned
# to CPU 1; both tools built in build/tcp-ref/ when their inputs change), C connections on
# kernel sockets, each test for S seconds after a 1 s warm-up run:
#   stream  every connection writes 64 KiB chunks continuously and reads the echo: MB/s echoed
#   rr      every connection sends a BYTES-long request and waits for its echo (one outstanding):
#           transactions/s, p50/p99 latency
# Every echoed byte is checked, and every connection must close normally with all of it back.
# The matrix is {stream, rr} x connection counts x {apus, kernel}; rounds alternate the
# servers. It prints each run, the medians per test and apus/kernel, and the server core's CPU
# time per MB or per transaction (the server process plus the kernel's network threads on CPU 0).
# The testbed is tuned after it comes up (APUS_BENCH_TCP_TESTBED=plain: not): threaded NAPI on
# both veth ends, the server end's thread pinned to CPU 0 and the client end's to CPU 1, so
# each side's receive processing runs on its own core as a NIC interrupt would (on a plain
# testbed it runs on the sender's CPU: the kernel server's TCP receive on the client's core);
# pfifo qdiscs so a full veth ring stops the sender instead of dropping (Linux >= 6.16).
# Defaults: --duration 5 --rounds 3 --connections "1 64" --payload 64; --quick: --duration 2
# --rounds 1. Raw results: .build/bench/tcp-<UTC timestamp>.jsonl.
#
# rpc (root): Thrift RPC on the same testbed, echo(a BYTES-long string), binary protocol, framed;
# each server pinned to CPU 0 in apus-srv:
#   xdp     `apus serve --transport xdp` on AF_XDP queue 0 of apus-s, owning APUS_IP_OWNED:9090
#           (Apus's own TCP/IP, copy mode on veth)
#   kernel  `apus serve --transport kernel --threads 1` on the kernel address APUS_IP_SRV:9091
#   cpp     the Apache Thrift C++ TNonblockingServer of kernel mode on APUS_IP_SRV:9092
# All three are driven by the same client, `apus bench` pinned to CPU 1 in apus-cli: C connections,
# C x depth calls in flight (pipelined), for S seconds. --client xdp (the default: on this testbed
# it drives every server faster, for less CPU per call) calls over Apus's own TCP on AF_XDP queue 0
# of apus-c, owning APUS_IP_OWNED_CLI (the testbed comes up with APUS_CLIENT_XDP=1); --client kernel
# over the client kernel's TCP. The matrix is connection counts x depths x servers, a fresh server
# per run; rounds alternate the servers' order. Per run: QPS, p50/p99/p999 and the server's CPU per
# call two ways: the server process's CPU time (user+sys), and CPU 0's busy time (user+nice+system+
# irq+softirq in /proc/stat: the process plus the kernel's work for it there), each over the client's
# run, per call. Then xdp and cpp run again paced (`apus bench --rate`) at half of cpp's saturated
# QPS, at 16 connections (else the first count) and the deepest depth, for their p99 at 50% load,
# both with the --paced-client (default xdp: it paces on its queue thread's own timers, with no
# thread hop; kernel paces on its event loop's timer, at several times the client CPU per call).
# The summary checks the
# targets: QPS xdp/cpp >= 2x at each one's best saturation point and CPU per call xdp/cpp <= 1/3
# (both ways) there; p99 xdp/cpp <= 1/2 at 50% load. The testbed is tuned as in tcp mode
# (APUS_BENCH_TCP_TESTBED=plain: not).
# Defaults: --duration 5 --rounds 1 --connections "1 16 64" --depth "1 8" --payload 64 --client xdp
# --paced-client xdp; --quick: --duration 2 --connections "1 16".
# Raw results: .build/bench/rpc-<UTC timestamp>.jsonl.
#
# Environment:
#   APUS_BENCH_APUS=/path     apus binary to benchmark instead of building .build/release/apus
#   APUS_BENCH_CLIENT=/path   (kernel) client binary instead of apus; it is run as
#                             `/path bench --host ... --json` (self-tests, other clients)
#   APUS_BENCH_SKIP_APUS=1    (kernel) benchmark the C++ server only
#   APUS_BENCH_TCP_TESTBED=plain  (tcp, rpc) run on the testbed as scripts/testbed.sh makes it
set -euo pipefail
cd "$(dirname "$0")/.."
# Ported modes run the Python tool (scripts/bench/); the others are still below.
case "${1:-}" in
  kernel|rpc|xdp|tcp) PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 -m bench "$@" ;;
esac

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
usage() {
  # The header comment, up to the first line that is not a comment.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
  exit "${1:-0}"
}

mode="${1:-}"
(($#)) && shift
case "$mode" in
  kernel|xdp|tcp|rpc) ;;
  -h|--help|help) usage 0 ;;
  "") echo "bench: which benchmark? modes: kernel xdp tcp rpc" >&2; usage 2 >&2 ;;
  *) echo "bench: unknown mode '$mode' (modes: kernel xdp tcp rpc)" >&2; usage 2 >&2 ;;
esac

# ---- options -------------------------------------------------------------------
duration="" connections="-" depth="-" payload=64 protocol=binary quick=0 rounds="" window=256 rpc_client=xdp rpc_paced_client=xdp rpc_framing=framed
need() { (($# >= 2)) || die "$1 needs a value"; }
# only "MODE..." OPTION: OPTION belongs to these modes.
only() { [[ " $1 " == *" $mode "* ]] || die "$2 is an option of mode(s) $1, not $mode"; }
while (($#)); do
  case "$1" in
    --duration) need "$@"; duration="$2"; shift 2 ;;
    --connections) only "kernel tcp rpc" "$1"; need "$@"; connections="$2"; shift 2
      [[ "$connections" =~ [0-9] ]] || die "--connections needs at least one count, got '$connections'" ;;
    --depth) only "kernel rpc" "$1"; need "$@"; depth="$2"; shift 2 ;;
    --payload) need "$@"; payload="$2"; shift 2 ;;
    --protocol) only kernel "$1"; need "$@"; protocol="$2"; shift 2 ;;
    --rounds) only "xdp tcp rpc" "$1"; need "$@"; rounds="$2"; shift 2 ;;
    --window) only xdp "$1"; need "$@"; window="$2"; shift 2 ;;
    --client) only rpc "$1"; need "$@"; rpc_client="$2"; rpc_client_given=1; shift 2 ;;
    --paced-client) only rpc "$1"; need "$@"; rpc_paced_client="$2"; rpc_paced_client_given=1; shift 2 ;;
    # The Apus servers' calls in a THeader/TTHeader frame (no info headers: --timeout 0, so no
    # deadline travels either); cpp, which takes neither, stays framed binary as the baseline.
    --framing) only rpc "$1"; need "$@"; rpc_framing="$2"; shift 2
      [[ "$rpc_framing" =~ ^(framed|theader|ttheader)$ ]] || die "--framing must be framed, theader or ttheader" ;;
    --quick) quick=1; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument '$1' (see: bash scripts/bench.sh --help)" ;;
  esac
done
# The Apus XDP client serves one queue: with several, the kernel's servers (whose replies veth
# puts on any of the client's queues) would answer into its other queues, so the kernel client
# calls then (the XDP server serves every queue with --queues all).
if [ "${APUS_QUEUES:-1}" != 1 ]; then
  [ -n "${rpc_client_given:-}" ] || rpc_client=kernel
  [ -n "${rpc_paced_client_given:-}" ] || rpc_paced_client=kernel
fi
# "-": not given on the command line.
if [ "$mode" = tcp ] && [ "$connections" = - ]; then connections="1 64"; fi
if [ "$mode" = rpc ]; then
  if ((quick)) && [ "$connections" = - ]; then connections="1 16"; fi
  [ "$connections" != - ] || connections="1 16 64"
  [ "$depth" != - ] || depth="1 8"
  rounds="${rounds:-1}"
fi
if ((quick)); then
  duration="${duration:-2}"; [ "$connections" != - ] || connections="1 4"; rounds="${rounds:-1}"
fi
duration="${duration:-5}"; [ "$connections" != - ] || connections="1 4 16"; rounds="${rounds:-3}"
# Whole seconds: the client's --duration and `timeout` both take them as-is.
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive whole number of seconds, got '$duration'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, got '$rounds'"
[[ "$window" =~ ^[1-9][0-9]*$ ]] && ((window <= 65536)) || die "--window must be 1..65536, got '$window'"
if [ "$mode" = xdp ]; then
  # The blaster's datagram carries a sequence number and a send time; one frame at most.
  [[ "$payload" =~ ^[0-9]+$ ]] && ((payload >= 16 && payload <= 1472)) \
    || die "--payload must be 16..1472 bytes in xdp mode (one UDP datagram in one frame), got '$payload'"
fi
if [ "$mode" = tcp ]; then
  [[ "$payload" =~ ^[0-9]+$ ]] && ((payload >= 1 && payload <= 65536)) \
    || die "--payload (the rr request size) must be 1..65536 bytes in tcp mode, got '$payload'"
fi
[ "$depth" != - ] || depth="1 4"
# A list of depths (calls in flight per connection): each is a run of its own.
read -r -a depth_list <<<"$depth"
((${#depth_list[@]})) || die "--depth is empty"
for d in "${depth_list[@]}"; do
  [[ "$d" =~ ^[1-9][0-9]*$ ]] || die "--depth takes positive integers, got '$d'"
done
[[ "$rpc_client" =~ ^(kernel|xdp)$ ]] || die "--client must be kernel or xdp, got '$rpc_client'"
[[ "$rpc_paced_client" =~ ^(kernel|xdp)$ ]] || die "--paced-client must be kernel or xdp, got '$rpc_paced_client'"
[[ "$payload" =~ ^[0-9]+$ ]] || die "--payload must be a byte count, got '$payload'"
[[ "$protocol" =~ ^(binary|compact)$ ]] || die "--protocol must be binary or compact, got '$protocol'"
read -r -a conn_list <<<"$connections"
((${#conn_list[@]})) || die "--connections is empty"
for c in "${conn_list[@]}"; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "--connections takes positive integers, got '$c'"
  [ "$mode" != tcp ] || ((c <= 4096)) || die "--connections: at most 4096 per run in tcp mode, got '$c'"
done

# ---- common to both modes ------------------------------------------------------
export PATH="/opt/swift/usr/bin:$PATH"

# Server on CPU 0, client on CPU 1: neither steals the other's cycles, and the
# server's CPU time is its own work.
if taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
  server_pin=(taskset -c 0); client_pin=(taskset -c 1); bench_cpus='^cpu[01] '
else
  note "warning: cannot pin to CPUs 0 and 1 (fewer than 2 CPUs?); running unpinned, numbers are not comparable"
  server_pin=(); client_pin=(); bench_cpus='^cpu '
fi
clk_tck="$(getconf CLK_TCK)"

# `swift build -c release --product apus` (incremental), or APUS_BENCH_APUS as it is.
apus_bin="${APUS_BENCH_APUS:-.build/release/apus}"
. scripts/lib/build.sh
build_apus() {
  build_release_apus "$apus_bin" APUS_BENCH_APUS
  # Subcommands are checked up front so a missing one fails at once, not per run.
  # (`apus nosuch --help` exits 0 with the top-level help: read the list instead.)
  subcommands="$("$apus_bin" --help 2>&1 || true)"
}
has_subcommand() { grep -qE "^ +$1( |\$)" <<<"$subcommands"; }

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir=".build/bench"
results="$results_dir/$mode-$stamp.jsonl"
logs="$results_dir/$mode-$stamp"

# utime + stime of the whole process (all threads), in clock ticks. The comm field
# can hold spaces, so count fields after its closing parenthesis (14, 15 -> 12, 13).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# Busy ticks (user nice system irq softirq steal) of the benchmark's CPUs: what the
# server and client did not use of it is other load disturbing the run.
busy_ticks() { grep -E "$bench_cpus" /proc/stat | awk '{ t += $2 + $3 + $4 + $7 + $8 + $9 } END { print t }'; }
# user+sys seconds of this shell's reaped children, from a file `times` wrote (run
# in this shell itself: in a pipe or $(...) it would be a fork, with no children).
children_cpu() {
  sed -n 2p "$1" | awk '{
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.3f", t
  }'
}

server_pid=""
# stop_server [TENTHS]: SIGTERM, then SIGKILL after TENTHS tenths of a second (default 20).
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq "${1:-20}"); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# ---- the testbed (xdp, tcp, rpc) -----------------------------------------------
# The testbed's names, read as scripts/testbed.sh reads them (it sees the same environment).
ns_srv="${APUS_NS_SRV:-apus-srv}" ns_cli="${APUS_NS_CLI:-apus-cli}" if_srv="${APUS_IF_SRV:-apus-s}"
if_cli="${APUS_IF_CLI:-apus-c}" ip_owned_cli="${APUS_IP_OWNED_CLI:-10.10.0.20}"
ip_owned="${APUS_IP_OWNED:-10.10.0.10}" ip_srv="${APUS_IP_SRV:-10.10.0.1}" xdp_mode="${APUS_XDP_MODE:-native}"
ref_dir="build/xdp-ref" udp_port=7 queue=0 warmup=1
# A reflector is stopped with SIGTERM once the blaster is done (both then print their
# summaries); it also stops on its own after this long, should nobody stop it.
reflect_seconds=$((warmup + duration + 30))
# load_pid: the blaster (xdp) or load client (tcp) running, for the cleanup.
testbed_up=0 load_pid=""
# utime and stime of a process, in clock ticks (fields 14 and 15; see cpu_ticks).
user_sys_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }

testbed_prerequisites() {
  [ "$(id -u)" = 0 ] || die "$mode mode needs root (network namespaces, XDP, AF_XDP): sudo bash scripts/bench.sh $mode"
  local missing=() ns
  command -v "${CC:-cc}" >/dev/null || missing+=("${CC:-cc} (gcc)")
  command -v taskset >/dev/null || missing+=("taskset (util-linux)")
  command -v nsenter >/dev/null || missing+=("nsenter (util-linux)")
  command -v python3 >/dev/null || missing+=("python3")
  command -v ip >/dev/null || missing+=("ip (iproute2)")
  command -v xdp-loader >/dev/null || missing+=("xdp-loader (xdp-tools)")
  [ "$mode" != xdp ] || pkg-config --exists libxdp 2>/dev/null || missing+=("pkg-config libxdp (libxdp-dev)")
  if [ "$mode" = tcp ] || [ "$mode" = rpc ]; then
    command -v tc >/dev/null || missing+=("tc (iproute2)")
    command -v ethtool >/dev/null || missing+=("ethtool")
  fi
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]}
  run (as root): bash scripts/setup.sh"
  # rpc: the XDP server takes every queue (--queues all), pinned to the server's CPU like the others.
  [ "${APUS_QUEUES:-1}" = 1 ] || [ "$mode" = rpc ] ||
    die "APUS_QUEUES=$APUS_QUEUES: the $mode servers serve queue 0 alone; unset it (rpc serves every queue)"
  # Someone else's testbed (scripts/xdp-check.sh, another bench) would be torn down by ours.
  for ns in "$ns_srv" "$ns_cli"; do
    [ ! -e "/run/netns/$ns" ] || die "network namespace $ns exists: another testbed user may be running
  (scripts/xdp-check.sh, scripts/net-check.sh, scripts/bench.sh xdp|tcp). If none is: bash scripts/testbed.sh down
  (or use other names: APUS_NS_SRV, APUS_NS_CLI, APUS_IF_SRV, APUS_IF_CLI; see scripts/testbed.sh)"
  done
  [ ! -e "/sys/fs/bpf/apus/$if_srv" ] || die "/sys/fs/bpf/apus/$if_srv exists: another testbed uses interface $if_srv.
  If none does: bash scripts/xdp-unload.sh $if_srv (or set APUS_IF_SRV and APUS_IF_CLI to other names)"
  [ ! -e "/sys/fs/bpf/apus/$if_cli" ] || die "/sys/fs/bpf/apus/$if_cli exists: another testbed uses interface $if_cli.
  If none does: bash scripts/xdp-unload.sh $if_cli (or set APUS_IF_SRV and APUS_IF_CLI to other names)"
}

# build_reference WHAT SRC OUT "TOOL..." EXTRA INPUT...: runs `bash SRC/build.sh` (which
# writes OUT/TOOL...) unless OUT/build-id matches the build ID: the hashes of the INPUTs
# (sources, build script, headers), EXTRA (library versions and flags) and the compiler.
build_reference() {
  local what="$1" src="$2" out="$3" tools="$4" extra="$5" build_id f t current=1
  shift 5
  for f in "$@"; do [ -f "$f" ] || die "$f not found"; done
  build_id="$(
    {
      sha256sum "$@"
      [ -z "$extra" ] || printf '%s\n' "$extra"
      "${CC:-cc}" --version | head -1
    } | sha256sum | cut -d' ' -f1
  )"
  for t in $tools; do [ -x "$out/$t" ] || current=0; done
  if ((current)) && [ "$(cat "$out/build-id" 2>/dev/null)" = "$build_id" ]; then
    note "$what: $(sed "s|[^ ]*|$out/&|g; s| | and |g" <<<"$tools") up to date"
    return
  fi
  note "$what: building $(sed "s|[^ ]*|$out/&|g; s| | and |g" <<<"$tools")"
  rm -f "$out/build-id"
  timeout 600 bash "$src/build.sh" >&2 || die "building the $what failed (bash $src/build.sh)"
  echo "$build_id" >"$out/build-id"
}

# reflect and blaster, rebuilt when their sources, flags or libraries change.
build_xdp_reference() {
  local src="Benchmarks/xdp-ref"
  build_reference "C reference" "$src" "$ref_dir" "reflect blaster" \
    "$(pkg-config --modversion libxdp libbpf; pkg-config --cflags --libs libxdp)" \
    "$src/reflect.c" "$src/blaster.c" "$src/build.sh" bpf/apus_xdp.h
}

testbed_cleanup() {
  if [ -n "$load_pid" ]; then
    # TERM reaches `timeout`, which passes it on (SIGKILL would orphan the load tool).
    kill -TERM "$load_pid" 2>/dev/null || true
    local i
    for i in $(seq 30); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$load_pid" 2>/dev/null || true
  fi
  stop_server
  if ((testbed_up)); then
    # Also ends whatever is left in the namespaces and removes the program and its pins.
    timeout 120 bash scripts/testbed.sh down >/dev/null 2>&1 || true
    if [ -e "/run/netns/$ns_srv" ] || [ -e "/run/netns/$ns_cli" ] || [ -e "/sys/fs/bpf/apus/$if_srv" ]; then
      note "warning: the testbed is not fully down; run: bash scripts/testbed.sh down"
    fi
  fi
}

# Starts reflector $1 on CPU 0 in the server namespace and sets server_pid (the
# reflector itself: testbed.sh exec, nsenter, unshare, sh and stdbuf all exec).
start_reflector() {
  local name="$1" log="$2" pattern cmd i
  case "$name" in
    apus)
      cmd=("$apus_bin" xdp reflect --interface "$if_srv" --queue "$queue" --address "$ip_owned"
           --udp-port "$udp_port" --duration "$reflect_seconds" "${apus_reflect_flags[@]}")
      pattern='^apus xdp reflect: serving' ;;
    c)
      cmd=("$ref_dir/reflect" "$if_srv" "$queue" "$ip_owned" "$udp_port" --copy --seconds "$reflect_seconds")
      pattern='^reflect: .* MAC ' ;;
  esac
  "${server_pin[@]}" bash scripts/testbed.sh exec srv stdbuf -oL "${cmd[@]}" >"$log.out" 2>"$log.err" &
  server_pid=$!
  for i in $(seq 150); do
    grep -qE "$pattern" "$log.out" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { server_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}

# run_blaster SECONDS OUT: the blaster on CPU 1 in the client namespace; sets blaster_rc.
# Background + wait, so a signal interrupts the wait at once instead of after it.
run_blaster() {
  "${client_pin[@]}" timeout -k 2 $(($1 + 10)) bash scripts/testbed.sh exec cli "$ref_dir/blaster" \
    "$ip_owned" "$udp_port" --seconds "$1" --size "$payload" --window "$window" --json >"$2.out" 2>"$2.err" &
  load_pid=$!
  blaster_rc=0
  wait "$load_pid" || blaster_rc=$?
  load_pid=""
}

# Dies unless the apus binary has `apus GROUP COMMAND`.
require_apus_command() {
  if ! has_subcommand "$1" || ! "$apus_bin" "$1" --help 2>&1 | grep -E "^ +$2( |\$)" >/dev/null; then
    die "$apus_bin has no '$1 $2' subcommand"
  fi
}

# Fresh results and logs, then the testbed, torn down on any exit.
start_testbed() {
  mkdir -p "$logs"
  : >"$results"
  trap testbed_cleanup EXIT
  trap 'exit 130' INT TERM
  testbed_up=1
  note "testbed: up ($ns_srv/$if_srv, XDP $xdp_mode)"
  timeout 300 bash scripts/testbed.sh up >"$logs/testbed-up.log" 2>&1 \
    || die "scripts/testbed.sh up failed (see $logs/testbed-up.log)"
}

xdp_main() {
  testbed_prerequisites
  build_xdp_reference
  build_apus
  require_apus_command xdp reflect
  # Copy mode asked for explicitly, as reflect.c's --copy does (veth has no zero copy anyway).
  apus_reflect_flags=()
  if "$apus_bin" xdp reflect --help 2>&1 | grep -- '--zero-copy' >/dev/null; then apus_reflect_flags=(--zero-copy off); fi
  start_testbed

  failed=0
  local round i name log error blaster_line cpu0 cpu1 busy0 busy1 t0 t1 blaster_cpu last
  local order=(apus c)
  for round in $(seq "$rounds"); do
    # apus c, c apus, ...: drift on a shared machine hits both sides alike.
    if ((round % 2)); then order=(apus c); else order=(c apus); fi
    for name in "${order[@]}"; do
      log="$logs/$name-r$round"
      error="" blaster_line="" cpu0="" cpu1="" busy0="" busy1="" t0=0 t1=0 blaster_cpu=""
      if ! start_reflector "$name" "$log"; then
        error="reflector did not print its readiness line within 15 s (see $log.out, $log.err)"
        stop_server
      else
        # Warm-up: ARP resolution, caches, page faults; not measured.
        run_blaster "$warmup" "$log.warmup"
        cpu0="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
        busy0="$(busy_ticks)"
        t0="$(date +%s%N)"
        # The blaster's CPU = growth of this shell's children times across its run.
        times >"$log.blaster.times0"
        run_blaster "$duration" "$log.blaster"
        times >"$log.blaster.times1"
        t1="$(date +%s%N)"
        busy1="$(busy_ticks)"
        blaster_cpu="$(awk -v a="$(children_cpu "$log.blaster.times0")" -v b="$(children_cpu "$log.blaster.times1")" \
          'BEGIN { printf "%.3f", b - a }')"
        if [ -n "$cpu0" ] && kill -0 "$server_pid" 2>/dev/null; then
          cpu1="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
        fi
        [ -n "$cpu1" ] || error="reflector ended before the blaster did (see $log.err)"
        stop_server
        blaster_line="$(grep '^{' "$log.blaster.out" | tail -1 || true)"
        if [ "$blaster_rc" = 124 ] || [ "$blaster_rc" = 137 ]; then
          error="${error:-blaster exceeded $((duration + 10)) s and was killed (see $log.blaster.err)}"
        elif [ "$blaster_rc" = 2 ]; then
          error="${error:-no echo came back (see $log.out, $log.err, $log.blaster.err)}"
        elif [ "$blaster_rc" != 0 ]; then
          error="${error:-blaster exited with status $blaster_rc (see $log.blaster.err)}"
        elif [ -z "$blaster_line" ]; then
          error="${error:-blaster printed no JSON line (see $log.blaster.out)}"
        fi
      fi
      # One JSON line per run; python3 validates the blaster's JSON and does the arithmetic.
      if ! REFLECTOR="$name" ROUND="$round" DURATION="$duration" PAYLOAD="$payload" WINDOW="$window" \
        XDP_MODE="$xdp_mode" INTERFACE="$if_srv" BLASTER_JSON="$blaster_line" ERROR="$error" CPU0="$cpu0" \
        CPU1="$cpu1" CLK_TCK="$clk_tck" T0="$t0" T1="$t1" BLASTER_CPU="$blaster_cpu" STAMP="$stamp" \
        BUSY0="$busy0" BUSY1="$busy1" LOG="$log" APUS="$apus_bin" python3 - >>"$results" <<'EOF'
import json, os, re
e = os.environ
row = {"mode": "xdp", "stamp": e["STAMP"], "reflector": e["REFLECTOR"], "round": int(e["ROUND"]),
       "duration_s": int(e["DURATION"]), "payload": int(e["PAYLOAD"]), "window": int(e["WINDOW"]),
       "interface": e["INTERFACE"], "xdp_mode": e["XDP_MODE"], "apus": e["APUS"]}
def read(path):
    try:
        return open(path, errors="replace").read()
    except OSError:
        return ""
out, err = read(e["LOG"] + ".out"), read(e["LOG"] + ".err")
# The reflector's own account (warm-up included): how it bound, what it echoed, kernel drops.
m = re.search(r"\((copy|zero-copy) mode|bound in (copy|zero-copy) mode", out + err)
row["bind"] = (m.group(1) or m.group(2)) if m else None
if e["REFLECTOR"] == "apus":
    m = re.search(r"received=(\d+) reflected=(\d+) arp_replies=(\d+) dropped=(\d+) rx_dropped=(\d+) rx_ring_full=(\d+)", out)
    if m:
        rx, udp, arp, _, dropped, full = map(int, m.groups())
else:
    m = re.search(r"rx (\d+), tx \d+ \(udp echoed (\d+), arp replied (\d+)\)", out)
    k = re.search(r"rx_dropped (\d+) .*rx_ring_full (\d+)", out)
    if m and k:
        (rx, udp, arp), (dropped, full) = map(int, m.groups()), map(int, k.groups())
    else:
        m = None
if m:
    row.update({"reflector_rx": rx, "reflector_udp_echoed": udp, "reflector_arp_replied": arp,
                "xsk_rx_dropped": dropped, "xsk_rx_ring_full": full})
else:
    row["warning"] = "no summary line from the reflector"
error = e["ERROR"]
if not error:
    try:
        got = json.loads(e["BLASTER_JSON"])
        keys = ("replies_per_s", "sent", "received", "lost", "unexpected", "rtt_avg_us", "rtt_max_us")
        missing = [k for k in keys if k not in got]
        if missing:
            error = "blaster JSON lacks " + ", ".join(missing)
        else:
            row.update({k: got[k] for k in keys})
    except ValueError as x:
        error = "blaster JSON does not parse: %s" % x
if not error:
    wall = (int(e["T1"]) - int(e["T0"])) / 1e9
    (u0, s0), (u1, s1) = map(int, e["CPU0"].split()), map(int, e["CPU1"].split())
    user, cpu = (u1 - u0) / int(e["CLK_TCK"]), (u1 + s1 - u0 - s0) / int(e["CLK_TCK"])
    row["wall_s"] = round(wall, 3)
    row["reflector_cpu_s"] = round(cpu, 3)
    row["reflector_user_s"] = round(user, 3)
    row["reflector_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
    row["blaster_cpu_pct"] = round(100 * float(e["BLASTER_CPU"]) / wall, 1) if wall > 0 and e["BLASTER_CPU"] else None
    row["reflector_cpu_ns_per_packet"] = round(cpu * 1e9 / row["received"], 1) if row["received"] else None
    row["reflector_user_ns_per_packet"] = round(user * 1e9 / row["received"], 1) if row["received"] else None
    if wall > 0 and e["BLASTER_CPU"] and e["BUSY0"] and e["BUSY1"]:
        busy = (int(e["BUSY1"]) - int(e["BUSY0"])) / int(e["CLK_TCK"])
        row["other_cpu_pct"] = round(max(0.0, 100 * (busy - cpu - float(e["BLASTER_CPU"])) / wall), 1)
if error:
    row["error"] = error
print(json.dumps(row))
EOF
      then
        die "could not write the result line for $name round $round"
      fi
      last="$(tail -1 "$results")"
      if grep -q '"error"' <<<"$last"; then
        failed=1
        note "$name round $round: FAILED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$last")"
      else
        note "$name round $round: $(python3 -c 'import json,sys; r = json.loads(sys.argv[1]); print("%.0f replies/s, rtt avg %.0f us, reflector %.0f ns/packet" % (r["replies_per_s"], r["rtt_avg_us"], r["reflector_cpu_ns_per_packet"] or 0))' "$last")"
      fi
    done
  done

  # ---- xdp: table --------------------------------------------------------------
  python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r0 = rows[0]
binds = sorted({r["bind"] for r in rows if r.get("bind")}) or ["unknown"]
print()
print("== AF_XDP UDP echo on the testbed: %s, XDP %s, %s-mode AF_XDP, queue 0; %d-byte datagrams, window %d, %d s per run"
      % (r0["interface"], r0["xdp_mode"], "/".join(binds), r0["payload"], r0["window"], r0["duration_s"]))
hdr = "%-9s %5s | %10s %8s %6s | %10s %10s | %10s %11s %8s %8s %6s"
print(hdr % ("reflector", "round", "replies/s", "lost", "unexp", "rtt avg us", "rtt max us",
             "CPU ns/pkt", "user ns/pkt", "refl CPU", "blst CPU", "other"))
line = "-" * 122
noisy = False
print(line)
def f(v, fmt):
    return "-" if v is None else fmt % v
for r in rows:
    if "error" in r:
        print("%-9s %5d | FAILED: %s" % (r["reflector"], r["round"], r["error"]))
        continue
    print(hdr % (r["reflector"], r["round"], f(r["replies_per_s"], "%.0f"), f(r["lost"], "%d"), f(r["unexpected"], "%d"),
                 f(r["rtt_avg_us"], "%.0f"), f(r["rtt_max_us"], "%.0f"), f(r["reflector_cpu_ns_per_packet"], "%.0f"),
                 f(r["reflector_user_ns_per_packet"], "%.0f"), f(r["reflector_cpu_pct"], "%.0f%%"), f(r["blaster_cpu_pct"], "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%")))
    noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
print(line)
def median(name, key):
    values = [r[key] for r in rows if r["reflector"] == name and "error" not in r and r.get(key) is not None]
    return (statistics.median(values), len(values)) if values else (None, 0)
(a, na), (c, nc) = median("apus", "replies_per_s"), median("c", "replies_per_s")
(ca, _), (cc, _) = median("apus", "reflector_cpu_ns_per_packet"), median("c", "reflector_cpu_ns_per_packet")
(ua, _), (uc, _) = median("apus", "reflector_user_ns_per_packet"), median("c", "reflector_user_ns_per_packet")
print("median replies/s: apus %s (%d runs), c %s (%d runs)" % (f(a, "%.0f"), na, f(c, "%.0f"), nc))
if a is not None and c:
    ratio = a / c
    print("apus/c: replies/s %.2fx (higher is better; target >= 0.90x: %s)" % (ratio, "met" if ratio >= 0.9 else "NOT met"))
    print("        CPU ns/pkt %s, user ns/pkt %s (medians; lower is better)"
          % ("%.2fx" % (ca / cc) if ca and cc else "-", "%.2fx" % (ua / uc) if ua and uc else "-"))
# On a shared machine: the same over the runs other load left alone, when each side has one.
clean = [r for r in rows if "error" not in r and r.get("other_cpu_pct") is not None and r["other_cpu_pct"] <= 10]
clean_line = False
if len(clean) < len([r for r in rows if "error" not in r]):
    qa = [r["replies_per_s"] for r in clean if r["reflector"] == "apus"]
    qc = [r["replies_per_s"] for r in clean if r["reflector"] == "c"]
    if qa and qc:
        print("runs with other <= 10%%: median replies/s apus %.0f (%d runs), c %.0f (%d runs), apus/c %.2fx"
              % (statistics.median(qa), len(qa), statistics.median(qc), len(qc), statistics.median(qa) / statistics.median(qc)))
        clean_line = True
print("replies/s: echoes the blaster counted over the run; lost: sent and never answered; unexp: late or unknown echoes.")
print("CPU ns/pkt: reflector CPU time (user+sys) per echo; user ns/pkt: its user-space part, the work of")
print("the implementation itself (rings, parsing, checksums). On veth the system part includes kernel work")
print("done in the reflector's context: the copy-mode transmit and the client kernel's UDP receive; the XDP")
print("program and the copy into the UMEM run on the blaster's CPU (veth receives on the sender's CPU).")
print("refl/blst CPU: share of one core; a reflector near 100% is saturated (replies/s is its capacity);")
print("a blaster near 100% while the reflector is not means the blaster set the pace.")
print("other: CPU time on the benchmark's CPUs used by anything else during the run.")
if noisy:
    print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine"
          + (" (or go by the runs with other <= 10%)." if clean_line else "."))
print("raw results: %s" % sys.argv[1])
EOF
}

if [ "$mode" = xdp ]; then
  xdp_main
  exit "$failed"
fi

# ---- tcp -----------------------------------------------------------------------
tcp_ref_dir="build/tcp-ref" apus_tcp_port=7 kernel_tcp_port=7007
tcp_testbed="${APUS_BENCH_TCP_TESTBED:-tuned}"

tcp_tests=(stream rr)
stream_chunk=65536
# A server is stopped with SIGTERM once the load client is done (it then prints its
# counters); it also stops on its own after this long, should nobody stop it.
serve_seconds=$((warmup + duration + 60))

# echo_server and tcp_load, rebuilt when their sources or the compiler change.
build_tcp_reference() {
  local src="Benchmarks/tcp-ref"
  build_reference "kernel TCP reference" "$src" "$tcp_ref_dir" "echo_server tcp_load" "" \
    "$src/echo_server.c" "$src/tcp_load.c" "$src/build.sh"
}

# Starts server $1 (apus | kernel) on CPU 0 in the server namespace and sets server_pid
# (the server itself: testbed.sh exec, nsenter, unshare, sh and stdbuf all exec).
start_tcp_server() {
  local name="$1" log="$2" pattern cmd i
  case "$name" in
    apus)
      cmd=("$apus_bin" net serve --interface "$if_srv" --queue "$queue" --address "$ip_owned"
           --tcp-echo "$apus_tcp_port" --time-wait 1 --duration "$serve_seconds" "${apus_serve_flags[@]}")
      pattern='^apus net serve: serving' ;;
    kernel)
      cmd=("$tcp_ref_dir/echo_server" "$ip_srv" "$kernel_tcp_port" --seconds "$serve_seconds")
      pattern='^READY ' ;;
  esac
  "${server_pin[@]}" bash scripts/testbed.sh exec srv stdbuf -oL "${cmd[@]}" >"$log.out" 2>"$log.err" &
  server_pid=$!
  for i in $(seq 150); do
    grep -qE "$pattern" "$log.out" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { server_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}

# run_tcp_load SERVER TEST CONNS SECONDS OUT: tcp_load on CPU 1 in the client namespace;
# sets load_rc. Background + wait, so a signal interrupts the wait at once.
run_tcp_load() {
  local host port size
  if [ "$1" = apus ]; then host="$ip_owned" port="$apus_tcp_port"; else host="$ip_srv" port="$kernel_tcp_port"; fi
  if [ "$2" = stream ]; then size="$stream_chunk"; else size="$payload"; fi
  # tcp_load: connect (<= 5 s) + SECONDS + drain (<= 5 s).
  "${client_pin[@]}" timeout -k 2 $(($4 + 20)) bash scripts/testbed.sh exec cli "$tcp_ref_dir/tcp_load" \
    "$host" "$port" --mode "$2" --connections "$3" --seconds "$4" --size "$size" --json >"$5.out" 2>"$5.err" &
  load_pid=$!
  load_rc=0
  wait "$load_pid" || load_rc=$?
  load_pid=""
}

# The testbed as scripts/testbed.sh leaves it runs each veth end's receive processing
# (XDP program, AF_XDP copy, the kernel's TCP receive) in softirq on the SENDING CPU, and
# drops what overflows veth's 256-frame rings. For a server-on-one-core comparison:
#   - threaded NAPI on both ends, napi/apus-s pinned to CPU 0 (the server's core: as a NIC
#     interrupt on that core) and napi/apus-c to CPU 1; apus-c gets GRO so it has a NAPI;
#   - a pfifo qdisc on both ends: veth (Linux >= 6.16) then stops the queue when the peer's
#     ring is full instead of dropping, so the runs measure the stacks, not loss recovery
#     (Apus's copy-mode AF_XDP transmit gets the same backpressure as -EAGAIN).
# APUS_BENCH_TCP_TESTBED=plain leaves the testbed as it is.
tcp_tune_testbed() {
  [ "$tcp_testbed" = tuned ] || { note "testbed: left as scripts/testbed.sh made it (APUS_BENCH_TCP_TESTBED=$tcp_testbed)"; return 0; }
  ip netns exec "$ns_cli" tc qdisc replace dev "$if_cli" root pfifo limit 1000 || return 1
  ip netns exec "$ns_srv" tc qdisc replace dev "$if_srv" root pfifo limit 1000 || return 1
  ip netns exec "$ns_cli" ethtool -K "$if_cli" gro on >/dev/null || return 1
  ip netns exec "$ns_srv" sh -c "echo 1 >/sys/class/net/$if_srv/threaded" || return 1
  ip netns exec "$ns_cli" sh -c "echo 1 >/sys/class/net/$if_cli/threaded" || return 1
  tcp_pin_napi || return 1
  note "testbed: threaded NAPI (napi/$if_srv on CPU 0, napi/$if_cli on CPU 1), pfifo qdiscs for backpressure, GRO on $if_cli"
}
# PIDs of interface $1's NAPI threads (napi/IF-ID).
napi_pids() { ps -eo pid=,comm= | awk -v prefix="napi/$1-" 'index($2, prefix) == 1 { print $1 }'; }
# Pins the NAPI threads (again: a re-created NAPI would get a new thread).
tcp_pin_napi() {
  [ "$tcp_testbed" = tuned ] || return 0
  ((${#server_pin[@]})) || return 0
  local pid srv cli
  srv="$(napi_pids "$if_srv")" cli="$(napi_pids "$if_cli")"
  [ -n "$srv" ] && [ -n "$cli" ] || { note "no NAPI threads for $if_srv/$if_cli"; return 1; }
  for pid in $srv; do taskset -pc 0 "$pid" >/dev/null || return 1; done
  for pid in $cli; do taskset -pc 1 "$pid" >/dev/null || return 1; done
}
# Steal ticks of the benchmark's CPUs: time the hypervisor ran something else instead.
steal_ticks() { grep -E "$bench_cpus" /proc/stat | awk '{ t += $9 } END { print t }'; }
# utime+stime ticks of the kernel's network threads on side $1 (srv | cli): the NAPI thread
# of its interface and, when pinned, ksoftirqd of its CPU (softirq work deferred there, such
# as transmit completions and timers). Empty: none.
net_ticks() {
  local pid total="" t pids
  if [ "$1" = srv ]; then pids="$(napi_pids "$if_srv")"; else pids="$(napi_pids "$if_cli")"; fi
  if [ "$tcp_testbed" = tuned ] && ((${#server_pin[@]})); then
    pids+=" $(ps -eo pid=,comm= | awk -v name="ksoftirqd/$([ "$1" = srv ] && echo 0 || echo 1)" '$2 == name { print $1 }')"
  fi
  for pid in $pids; do
    t="$(cpu_ticks "$pid" 2>/dev/null)" || continue
    total=$((${total:-0} + t))
  done
  echo "$total"
}

# RetransSegs of namespace $1's kernel TCP (/proc/net/snmp is per network namespace).
tcp_retransmissions() {
  nsenter "--net=/run/netns/$1" cat /proc/net/snmp 2>/dev/null | awk '
    $1 == "Tcp:" && !header { for (i = 2; i <= NF; i++) if ($i == "RetransSegs") column = i; header = 1; next }
    $1 == "Tcp:" && header && column { print $column; exit }'
}

tcp_main() {
  case "$tcp_testbed" in tuned|plain) ;; *) die "APUS_BENCH_TCP_TESTBED must be tuned or plain, got '$tcp_testbed'" ;; esac
  testbed_prerequisites
  build_tcp_reference
  build_apus
  require_apus_command net serve
  # Copy mode asked for explicitly, as in xdp mode (veth has no zero copy anyway).
  apus_serve_flags=()
  if "$apus_bin" net serve --help 2>&1 | grep -- '--zero-copy' >/dev/null; then apus_serve_flags=(--zero-copy off); fi
  start_testbed
  tcp_tune_testbed >>"$logs/testbed-up.log" 2>&1 || die "tuning the testbed failed (see $logs/testbed-up.log;
  APUS_BENCH_TCP_TESTBED=plain runs on the testbed as it is)"

  failed=0
  local napi_srv0 napi_srv1 napi_cli0 napi_cli1 steal0 steal1
  local round test conns cell=0 name log error load_line cpu0 cpu1 busy0 busy1 t0 t1 load_cpu last
  local retrans_cli0 retrans_cli1 retrans_srv0 retrans_srv1 order=(apus kernel)
  local started=$SECONDS
  for round in $(seq "$rounds"); do
    for test in "${tcp_tests[@]}"; do
      for conns in "${conn_list[@]}"; do
        # Each cell alternates the order from round to round (and from cell to cell):
        # drift on a shared machine hits both sides alike.
        cell=$((cell + 1))
        if (((round + cell) % 2)); then order=(kernel apus); else order=(apus kernel); fi
        for name in "${order[@]}"; do
          log="$logs/$name-$test-c$conns-r$round"
          error="" load_line="" cpu0="" cpu1="" busy0="" busy1="" t0=0 t1=0 load_cpu=""
          retrans_cli0="" retrans_cli1="" retrans_srv0="" retrans_srv1=""
          napi_srv0="" napi_srv1="" napi_cli0="" napi_cli1="" steal0="" steal1=""
          tcp_pin_napi || error="could not pin the NAPI threads"
          if [ -n "$error" ]; then
            :
          elif ! start_tcp_server "$name" "$log"; then
            error="server did not print its readiness line within 15 s (see $log.out, $log.err)"
            stop_server
          else
            # Warm-up: ARP, the handshake path, caches, page faults; not measured.
            run_tcp_load "$name" "$test" "$conns" "$warmup" "$log.warmup"
            retrans_cli0="$(tcp_retransmissions "$ns_cli")"
            retrans_srv0="$(tcp_retransmissions "$ns_srv")"
            cpu0="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
            napi_srv0="$(net_ticks srv)" napi_cli0="$(net_ticks cli)"
            steal0="$(steal_ticks)"
            busy0="$(busy_ticks)"
            t0="$(date +%s%N)"
            # The client's CPU = growth of this shell's children times across its run.
            times >"$log.load.times0"
            run_tcp_load "$name" "$test" "$conns" "$duration" "$log.load"
            times >"$log.load.times1"
            t1="$(date +%s%N)"
            busy1="$(busy_ticks)"
            steal1="$(steal_ticks)"
            napi_srv1="$(net_ticks srv)" napi_cli1="$(net_ticks cli)"
            load_cpu="$(awk -v a="$(children_cpu "$log.load.times0")" -v b="$(children_cpu "$log.load.times1")" \
              'BEGIN { printf "%.3f", b - a }')"
            if [ -n "$cpu0" ] && kill -0 "$server_pid" 2>/dev/null; then
              cpu1="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
            fi
            retrans_cli1="$(tcp_retransmissions "$ns_cli")"
            retrans_srv1="$(tcp_retransmissions "$ns_srv")"
            [ -n "$cpu1" ] || error="server ended before the load client did (see $log.err)"
            stop_server
            load_line="$(grep '^{' "$log.load.out" | tail -1 || true)"
            if [ "$load_rc" = 124 ] || [ "$load_rc" = 137 ]; then
              error="${error:-load client exceeded $((duration + 20)) s and was killed (see $log.load.err)}"
            elif [ "$load_rc" = 2 ]; then
              error="${error:-nothing was echoed (see $log.out, $log.err, $log.load.err)}"
            elif [ -z "$load_line" ]; then
              error="${error:-load client printed no JSON line, exit status $load_rc (see $log.load.err)}"
            elif [ "$load_rc" != 0 ]; then
              error="${error:-load client exited with status $load_rc: errors, mismatches or unfinished connections (see $log.load.err)}"
            fi
          fi
          # One JSON line per run; python3 validates the client's JSON and does the arithmetic.
          if ! SERVER="$name" TEST="$test" CONNS="$conns" ROUND="$round" DURATION="$duration" \
            PAYLOAD="$payload" CHUNK="$stream_chunk" XDP_MODE="$xdp_mode" INTERFACE="$if_srv" \
            LOAD_JSON="$load_line" ERROR="$error" CPU0="$cpu0" CPU1="$cpu1" CLK_TCK="$clk_tck" T0="$t0" T1="$t1" \
            LOAD_CPU="$load_cpu" STAMP="$stamp" BUSY0="$busy0" BUSY1="$busy1" LOG="$log" APUS="$apus_bin" \
            RCLI0="$retrans_cli0" RCLI1="$retrans_cli1" RSRV0="$retrans_srv0" RSRV1="$retrans_srv1" \
            NSRV0="$napi_srv0" NSRV1="$napi_srv1" NCLI0="$napi_cli0" NCLI1="$napi_cli1" TESTBED="$tcp_testbed" \
            STEAL0="$steal0" STEAL1="$steal1" \
            python3 - >>"$results" <<'EOF'
import json, os, re
e = os.environ
test = e["TEST"]
row = {"mode": "tcp", "stamp": e["STAMP"], "server": e["SERVER"], "test": test, "connections": int(e["CONNS"]),
       "round": int(e["ROUND"]), "duration_s": int(e["DURATION"]),
       "size": int(e["CHUNK"]) if test == "stream" else int(e["PAYLOAD"]),
       "interface": e["INTERFACE"], "xdp_mode": e["XDP_MODE"], "testbed": e["TESTBED"], "apus": e["APUS"]}
def read(path):
    try:
        return open(path, errors="replace").read()
    except OSError:
        return ""
out = read(e["LOG"] + ".out")
# The server's own account (warm-up included).
if e["SERVER"] == "apus":
    m = re.search(r"^apus net serve: (accepted=.*)$", out, re.M)
    if m:
        f = dict(re.findall(r"(\w+)=(\d+)", m.group(1)))
        for key in ("accepted", "closed_normal", "closed_reset", "closed_timeout", "tcp_bytes_echoed",
                    "tcp_segments_in", "tcp_segments_out", "tcp_retransmissions", "tcp_fast_retransmits",
                    "tcp_timeouts", "tcp_resets_sent", "tx_blocked", "connections_left"):
            if key in f:
                row["server_" + key] = int(f[key])
    else:
        row["warning"] = "no counters line from apus net serve"
else:
    m = re.search(r"^echo_server: accepted=(\d+) closed=(\d+) reset=(\d+) open=(\d+) bytes_echoed=(\d+)", out, re.M)
    if m:
        a, c, r, o, b = map(int, m.groups())
        row.update({"server_accepted": a, "server_closed": c, "server_closed_reset": r, "server_tcp_bytes_echoed": b})
    else:
        row["warning"] = "no summary line from echo_server"
def delta(a, b):
    return int(e[b]) - int(e[a]) if e[a] and e[b] else None
# Kernel TCP retransmissions during the measured run: the client's (both servers) and,
# for the kernel server, the server namespace's.
row["client_retransmissions"] = delta("RCLI0", "RCLI1")
if e["SERVER"] == "kernel":
    row["server_kernel_retransmissions"] = delta("RSRV0", "RSRV1")
error = e["ERROR"]
got = None
if e["LOAD_JSON"]:
    try:
        got = json.loads(e["LOAD_JSON"])
    except ValueError as x:
        error = error or "load client JSON does not parse: %s" % x
if got is not None:
    keys = ["connected", "elapsed_s", "bytes_echoed", "bytes_sent_total", "closed_normally", "incomplete", "errors", "mismatches"]
    keys += ["mb_per_s"] if test == "stream" else ["transactions", "tps", "avg_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"]
    missing = [k for k in keys if k not in got]
    if missing:
        error = error or "load client JSON lacks " + ", ".join(missing)
    else:
        row.update({k: got[k] for k in keys})
if not error:
    wall = (int(e["T1"]) - int(e["T0"])) / 1e9
    (u0, s0), (u1, s1) = map(int, e["CPU0"].split()), map(int, e["CPU1"].split())
    user, cpu = (u1 - u0) / int(e["CLK_TCK"]), (u1 + s1 - u0 - s0) / int(e["CLK_TCK"])
    tck = int(e["CLK_TCK"])
    napi_srv = (int(e["NSRV1"]) - int(e["NSRV0"])) / tck if e["NSRV0"] and e["NSRV1"] else None
    napi_cli = (int(e["NCLI1"]) - int(e["NCLI0"])) / tck if e["NCLI0"] and e["NCLI1"] else None
    row["wall_s"] = round(wall, 3)
    row["server_cpu_s"] = round(cpu, 3)
    row["server_user_s"] = round(user, 3)
    row["server_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
    row["server_net_cpu_pct"] = round(100 * napi_srv / wall, 1) if wall > 0 and napi_srv is not None else None
    row["client_cpu_pct"] = round(100 * float(e["LOAD_CPU"]) / wall, 1) if wall > 0 and e["LOAD_CPU"] else None
    row["client_net_cpu_pct"] = round(100 * napi_cli / wall, 1) if wall > 0 and napi_cli is not None else None
    # The server's core: the process and the kernel's network threads there (NAPI, ksoftirqd).
    core = cpu + (napi_srv or 0)
    # The server's CPU covers the client's whole run (connect, run, drain): per everything
    # it echoed in that time, which is everything the client sent.
    total = row["bytes_sent_total"]
    if test == "stream":
        units = total / 1e6
        row["server_cpu_us_per_mb"] = round(core * 1e6 / units, 1) if total else None
        row["server_user_us_per_mb"] = round(user * 1e6 / units, 1) if total else None
    else:
        units = total // row["size"]
        row["server_cpu_us_per_txn"] = round(core * 1e6 / units, 3) if units else None
        row["server_user_us_per_txn"] = round(user * 1e6 / units, 3) if units else None
    if wall > 0 and e["LOAD_CPU"] and e["BUSY0"] and e["BUSY1"]:
        busy = (int(e["BUSY1"]) - int(e["BUSY0"])) / tck
        known = cpu + float(e["LOAD_CPU"]) + (napi_srv or 0) + (napi_cli or 0)
        # The hypervisor's share (steal) apart: in a virtual machine it also grows with the
        # vCPUs' idling and waking, which the servers themselves cause.
        steal = (int(e["STEAL1"]) - int(e["STEAL0"])) / tck if e["STEAL0"] and e["STEAL1"] else 0.0
        row["other_cpu_pct"] = round(max(0.0, 100 * (busy - steal - known) / wall), 1)
        row["steal_cpu_pct"] = round(100 * steal / wall, 1)
if error:
    row["error"] = error
print(json.dumps(row))
EOF
          then
            die "could not write the result line for $name $test c=$conns round $round"
          fi
          last="$(tail -1 "$results")"
          if grep -q '"error"' <<<"$last"; then
            failed=1
            note "$name $test c=$conns round $round: FAILED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$last")"
          else
            note "$name $test c=$conns round $round: $(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r["test"] == "stream":
    print("%.1f MB/s, server %.0f us CPU/MB" % (r["mb_per_s"], r["server_cpu_us_per_mb"] or 0))
else:
    print("%.0f transactions/s, p50 %.1f us, p99 %.1f us, server %.2f us CPU/txn"
          % (r["tps"], r["p50_us"], r["p99_us"], r["server_cpu_us_per_txn"] or 0))' "$last")"
          fi
        done
      done
    done
  done
  note "runs took $((SECONDS - started)) s"

  # ---- tcp: table --------------------------------------------------------------
  python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r0 = rows[0]
print()
print("== TCP echo on the testbed: %s, XDP %s; apus = ApusNet on copy-mode AF_XDP, kernel = Linux TCP (epoll echo_server);"
      % (r0["interface"], r0["xdp_mode"]))
print("   server pinned to CPU 0, tcp_load on CPU 1; stream: 64 KiB writes; rr: %d-byte requests, one outstanding per connection; %d s per run"
      % (next((r["size"] for r in rows if r["test"] == "rr"), 64), r0["duration_s"]))
print("   testbed: %s" % ("threaded NAPI pinned with each side (server's receive processing on CPU 0), qdisc backpressure"
                         if r0.get("testbed") == "tuned" else "as scripts/testbed.sh made it (veth receive in softirq on the sender's CPU)"))
hdr = "%-6s %-6s %5s %5s | %8s %8s %8s %8s | %8s %8s | %7s %7s %7s %7s %6s %6s | %9s"
print(hdr % ("server", "test", "conns", "round", "MB/s", "txn/s", "p50 us", "p99 us", "CPU/unit", "user/u",
             "srv CPU", "srv net", "cli CPU", "cli net", "other", "steal", "retrans"))
line = "-" * 146
noisy = stolen = False
print(line)
def f(v, fmt):
    return "-" if v is None else fmt % v
def per_unit(r, kind):
    return r.get("server_%s_us_per_mb" % kind) if r["test"] == "stream" else r.get("server_%s_us_per_txn" % kind)
def retrans(r):
    parts = [r.get("client_retransmissions"), r.get("server_tcp_retransmissions", r.get("server_kernel_retransmissions"))]
    return "/".join("-" if p is None else str(p) for p in parts)
for r in rows:
    if "error" in r:
        print("%-6s %-6s %5d %5d | FAILED: %s" % (r["server"], r["test"], r["connections"], r["round"], r["error"]))
        continue
    stream = r["test"] == "stream"
    print(hdr % (r["server"], r["test"], r["connections"], r["round"], f(r.get("mb_per_s"), "%.1f"), f(r.get("tps"), "%.0f"),
                 f(r.get("p50_us"), "%.1f"), f(r.get("p99_us"), "%.1f"),
                 f(per_unit(r, "cpu"), "%.0f" if stream else "%.2f"), f(per_unit(r, "user"), "%.0f" if stream else "%.2f"),
                 f(r["server_cpu_pct"], "%.0f%%"), f(r.get("server_net_cpu_pct"), "%.0f%%"), f(r["client_cpu_pct"], "%.0f%%"),
                 f(r.get("client_net_cpu_pct"), "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%"),
                 f(r.get("steal_cpu_pct"), "%.0f%%"), retrans(r)))
    noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
    stolen = stolen or (r.get("steal_cpu_pct") or 0) > 10
print(line)
def median(rs, server, key):
    values = [r[key] for r in rs if r["server"] == server and "error" not in r and r.get(key) is not None]
    return (statistics.median(values), len(values)) if values else (None, 0)
def ratio(a, k):
    return "%.2fx" % (a / k) if a is not None and k else "-"
cells = []
for r in rows:
    if (r["test"], r["connections"]) not in cells:
        cells.append((r["test"], r["connections"]))
print("medians (apus | kernel | apus/kernel):")
clean_lines = []
for test, conns in cells:
    rs = [r for r in rows if r["test"] == test and r["connections"] == conns]
    key, unit, cpu_key, fmt = (("mb_per_s", "MB/s", "server_cpu_us_per_mb", "%.1f") if test == "stream"
                               else ("tps", "txn/s", "server_cpu_us_per_txn", "%.0f"))
    (a, na), (k, nk) = median(rs, "apus", key), median(rs, "kernel", key)
    (ca, _), (ck, _) = median(rs, "apus", cpu_key), median(rs, "kernel", cpu_key)
    text = ("  %-6s c=%-4d %5s: %10s | %10s | %6s (%d+%d runs; higher is better)   CPU us/%s: %s | %s | %s (lower is better)"
            % (test, conns, unit, f(a, fmt), f(k, fmt), ratio(a, k), na, nk, "MB" if test == "stream" else "txn",
               f(ca, "%.1f" if test == "stream" else "%.2f"), f(ck, "%.1f" if test == "stream" else "%.2f"), ratio(ca, ck)))
    print(text)
    if test == "rr":
        (pa, _), (pk, _) = median(rs, "apus", "p50_us"), median(rs, "kernel", "p50_us")
        (qa, _), (qk, _) = median(rs, "apus", "p99_us"), median(rs, "kernel", "p99_us")
        print("  %-6s c=%-4d   p50 us: %10s | %10s | %6s     p99 us: %s | %s | %s (lower is better)"
              % ("", conns, f(pa, "%.1f"), f(pk, "%.1f"), ratio(pa, pk), f(qa, "%.1f"), f(qk, "%.1f"), ratio(qa, qk)))
    # On a shared machine: the same over the runs other load left alone, when each side has one.
    ok = [r for r in rs if "error" not in r]
    clean = [r for r in ok if r.get("other_cpu_pct") is not None and r["other_cpu_pct"] <= 10]
    if len(clean) < len(ok):
        (qa, nqa), (qk, nqk) = median(clean, "apus", key), median(clean, "kernel", key)
        if qa is not None and qk is not None:
            clean_lines.append("  %-6s c=%-4d %5s: apus %s (%d runs), kernel %s (%d runs), apus/kernel %s"
                               % (test, conns, unit, fmt % qa, nqa, fmt % qk, nqk, ratio(qa, qk)))
if clean_lines:
    print("runs with other <= 10%:")
    print("\n".join(clean_lines))
print("MB/s: echoed bytes (10^6) the client read back within the run; txn/s: request/response round trips.")
print("CPU/unit: the server core's CPU time in us per MB (stream) or per transaction (rr): the server process")
print("(user+sys) plus the kernel's network threads on CPU 0 (srv net: the NAPI thread of the server's veth")
print("end, which runs the XDP program and the AF_XDP copy for apus, the XDP program and the kernel's TCP")
print("receive for kernel; and ksoftirqd/0). user/u: the process's user-space part alone.")
print("srv CPU, srv net (CPU 0), cli CPU, cli net (CPU 1): shares of one core; srv CPU + srv net near 100%")
print("means the server's core is saturated (the rate is its capacity).")
print("other: CPU time on the benchmark's CPUs used by anything else during the run, steal apart;")
print("steal: time the hypervisor took from the benchmark's vCPUs (the host's other load, or its cost")
print("of idling and waking them, which the servers' wake-ups cause).")
print("retrans: TCP retransmissions of the client's kernel / of the server (ApusNet's own counter for apus,")
print("warm-up included; the server namespace's kernel counter for kernel).")
if noisy:
    print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine"
          + (" (or go by the runs with other <= 10%)." if clean_lines else "."))
if stolen:
    print("note: steal above 10% of a core in some runs: the hypervisor took that time from the vCPUs.")
print("raw results: %s" % sys.argv[1])
EOF
}

if [ "$mode" = tcp ]; then
  tcp_main
  exit "$failed"
fi

# ---- the Apache Thrift C++ server (kernel, rpc) --------------------------------
cpp_prerequisites() {
  local missing=()
  command -v thrift >/dev/null || missing+=("thrift (thrift-compiler)")
  command -v g++ >/dev/null || missing+=("g++")
  command -v taskset >/dev/null || missing+=("taskset (util-linux)")
  command -v python3 >/dev/null || missing+=("python3")
  pkg-config --exists thrift-nb 2>/dev/null || missing+=("pkg-config thrift-nb (libthrift-dev)")
  pkg-config --exists libevent 2>/dev/null || missing+=("pkg-config libevent (libevent-dev)")
  echo '#include <boost/numeric/conversion/cast.hpp>' | g++ -x c++ -E - -o /dev/null 2>/dev/null \
    || missing+=("Boost headers (libboost-dev)")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]}
  run (as root): bash scripts/setup.sh"
}

# Benchmarks/cpp/echo_server.cpp over `thrift --gen cpp` code, rebuilt when its inputs change.
build_cpp_server() {
  local idl="Examples/echo.thrift" src="Benchmarks/cpp/echo_server.cpp" out="build/bench-kernel"
  local cxx_flags=(-O2 -std=c++17 -Wall -Wextra)
  [ -f "$idl" ] || die "$idl not found"
  [ -f "$src" ] || die "$src not found"
  local build_id
  build_id="$(
    {
      sha256sum "$idl" "$src"
      echo "${cxx_flags[*]} $(pkg-config --cflags --libs thrift-nb libevent)"
      thrift --version
      g++ --version | head -1
    } | sha256sum | cut -d' ' -f1
  )"
  cpp_server="$out/echo_server"
  if [ -x "$cpp_server" ] && [ "$(cat "$out/build-id" 2>/dev/null)" = "$build_id" ]; then
    note "C++: $cpp_server is up to date"
    return
  fi
  note "C++: generating code and building $cpp_server"
  rm -rf "$out/gen-cpp" "$out/build-id"
  mkdir -p "$out/gen-cpp"
  thrift --gen cpp:no_skeleton -out "$out/gen-cpp" "$idl" || die "thrift --gen cpp failed"
  # libthriftnb.so is not linked against libevent itself: name it explicitly.
  # shellcheck disable=SC2046  # pkg-config output must word-split
  timeout 600 g++ "${cxx_flags[@]}" -I "$out/gen-cpp" "$src" "$out/gen-cpp/Echo.cpp" \
    "$out/gen-cpp/echo_types.cpp" -o "$out/echo_server.tmp" \
    $(pkg-config --cflags --libs thrift-nb libevent) -lpthread \
    || die "building $cpp_server failed"
  mv -f "$out/echo_server.tmp" "$cpp_server"
  echo "$build_id" >"$out/build-id"
}

# ---- rpc -----------------------------------------------------------------------
rpc_port_xdp=9090 rpc_port_kernel=9091 rpc_port_cpp=9092
# A client run: connect and warm (the XDP client: its queue and ARP) + the run + closing.
rpc_client_budget=$((duration + 20))

# Busy ticks of CPU $1: user nice system irq softirq (not idle, iowait or steal). On CPU 0, the
# server's core, this counts beside the server process the kernel's work for it there: the NAPI
# thread (XDP program, AF_XDP copy, or the kernel's TCP receive) and transmit in the process's
# own system time; on CPU 1 the same for the client.
core_ticks() { awk -v cpu="cpu$1" '$1 == cpu { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# Starts RPC server $1 (xdp | kernel | cpp) on CPU 0 in the server namespace and sets
# server_pid (the server itself: testbed.sh exec, nsenter, unshare, sh and stdbuf all exec,
# which is checked, since its CPU time is read from /proc/PID/stat).
start_rpc_server() {
  local name="$1" log="$2" cmd i
  case "$name" in
    xdp)
      cmd=("$apus_bin" serve --transport xdp --interface "$if_srv" --queues "$([ "${APUS_QUEUES:-1}" = 1 ] && echo "$queue" || echo all)" --address "$ip_owned"
           --port "$rpc_port_xdp" --protocol binary --framing framed --cpus 0) ;;
    kernel)
      cmd=("$apus_bin" serve --transport kernel --host "$ip_srv" --port "$rpc_port_kernel" --threads 1
           --protocol binary --framing framed) ;;
    cpp)
      cmd=("$cpp_server" --host "$ip_srv" --port "$rpc_port_cpp" --protocol binary) ;;
  esac
  "${server_pin[@]}" bash scripts/testbed.sh exec srv stdbuf -oL "${cmd[@]}" >"$log.out" 2>"$log.err" &
  server_pid=$!
  for i in $(seq 150); do
    if grep -qE '^(apus serve: listening on |READY )' "$log.out" 2>/dev/null; then
      [ "$(readlink "/proc/$server_pid/exe" 2>/dev/null)" = "$(readlink -f "${cmd[0]}")" ] && return 0
      note "$name: process $server_pid is not ${cmd[0]}: its CPU time would be the wrong one's"
      return 1
    fi
    kill -0 "$server_pid" 2>/dev/null || { server_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}

# run_rpc_client CLIENT SERVER CONNS CONCURRENCY SECONDS RATE OUT: `apus bench` (CLIENT: kernel
# or xdp) on CPU 1 in the client namespace against SERVER, closed loop (RATE 0) or paced at RATE
# calls/s; sets load_rc. Background + wait, so a signal interrupts the wait at once.
run_rpc_client() {
  local client="$1" host port args
  shift
  case "$1" in
    xdp) host="$ip_owned" port="$rpc_port_xdp" ;;
    kernel) host="$ip_srv" port="$rpc_port_kernel" ;;
    cpp) host="$ip_srv" port="$rpc_port_cpp" ;;
  esac
  args=(bench --host "$host" --port "$port" --connections "$2" --concurrency "$3" --duration "$4"
        --payload "$payload" --method echo --protocol binary --json)
  if [ "$1" = cpp ] || [ "$rpc_framing" = framed ]; then args+=(--framing framed)
  else args+=(--framing "$rpc_framing" --timeout 0); fi
  [ "$5" = 0 ] || args+=(--rate "$5")
  if [ "$client" = xdp ]; then
    args+=(--transport xdp --interface "$if_cli" --address "$ip_owned_cli")
    ((${#client_pin[@]} == 0)) || args+=(--cpu 1)
  fi
  "${client_pin[@]}" timeout -k 2 "$rpc_client_budget" bash scripts/testbed.sh exec cli "$apus_bin" "${args[@]}" \
    >"$6.out" 2>"$6.err" &
  load_pid=$!
  load_rc=0
  wait "$load_pid" || load_rc=$?
  load_pid=""
}

# rpc_run SERVER CONNS DEPTH ROUND RATE: one measured run against a fresh server, CONNS
# connections with CONNS x DEPTH calls in flight, closed loop (RATE 0) or paced; appends a
# JSON line to the results.
rpc_run() {
  local name="$1" conns="$2" depth="$3" round="$4" rate="$5" client="$rpc_client" log error="" load_line="" last
  local cpu0="" cpu1="" core0="" core1="" ccore0="" ccore1="" steal0="" steal1="" busy0="" busy1="" t0=0 t1=0 load_cpu=""
  local napi_srv0="" napi_srv1="" napi_cli0="" napi_cli1=""
  if [ "$rate" = 0 ]; then
    log="$logs/$name-c$conns-d$depth-r$round"
  else
    log="$logs/$name-c$conns-d$depth-paced-r$round" client="$rpc_paced_client"
  fi
  tcp_pin_napi || error="could not pin the NAPI threads"
  if [ -n "$error" ]; then
    :
  elif ! start_rpc_server "$name" "$log"; then
    error="server did not come up within 15 s (see $log.out, $log.err)"
    stop_server
  else
    cpu0="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
    napi_srv0="$(net_ticks srv)" napi_cli0="$(net_ticks cli)"
    steal0="$(steal_ticks)"
    busy0="$(busy_ticks)"
    core0="$(core_ticks 0)" ccore0="$(core_ticks 1)"
    t0="$(date +%s%N)"
    # The client's CPU = growth of this shell's children times across its run.
    times >"$log.client.times0"
    run_rpc_client "$client" "$name" "$conns" $((conns * depth)) "$duration" "$rate" "$log.client"
    times >"$log.client.times1"
    t1="$(date +%s%N)"
    core1="$(core_ticks 0)" ccore1="$(core_ticks 1)"
    busy1="$(busy_ticks)"
    steal1="$(steal_ticks)"
    napi_srv1="$(net_ticks srv)" napi_cli1="$(net_ticks cli)"
    load_cpu="$(awk -v a="$(children_cpu "$log.client.times0")" -v b="$(children_cpu "$log.client.times1")" \
      'BEGIN { printf "%.3f", b - a }')"
    if [ -n "$cpu0" ] && kill -0 "$server_pid" 2>/dev/null; then
      cpu1="$(user_sys_ticks "$server_pid" 2>/dev/null || true)"
    fi
    [ -n "$cpu1" ] || error="server ended before the client did (see $log.err)"
    # The Apus servers drain (and the xdp one prints its queue's counters) on SIGTERM.
    stop_server 100
    load_line="$(grep '^{' "$log.client.out" | tail -1 || true)"
    if [ "$load_rc" = 124 ] || [ "$load_rc" = 137 ]; then
      error="${error:-client exceeded $rpc_client_budget s and was killed (see $log.client.err)}"
    elif [ "$load_rc" != 0 ]; then
      error="${error:-client exited with status $load_rc (see $log.client.err)}"
    elif [ -z "$load_line" ]; then
      error="${error:-client printed no JSON line (see $log.client.out)}"
    fi
  fi
  # One JSON line per run; python3 validates the client's JSON and does the arithmetic.
  if ! SERVER="$name" CONNS="$conns" DEPTH="$depth" ROUND="$round" RATE="$rate" DURATION="$duration" \
    PAYLOAD="$payload" CLIENT="$client" TESTBED="$tcp_testbed" INTERFACE="$if_srv" XDP_MODE="$xdp_mode" \
    CLIENT_JSON="$load_line" ERROR="$error" CPU0="$cpu0" CPU1="$cpu1" CORE0="$core0" CORE1="$core1" \
    CCORE0="$ccore0" CCORE1="$ccore1" \
    STEAL0="$steal0" STEAL1="$steal1" CLK_TCK="$clk_tck" T0="$t0" T1="$t1" LOAD_CPU="$load_cpu" \
    BUSY0="$busy0" BUSY1="$busy1" NSRV0="$napi_srv0" NSRV1="$napi_srv1" NCLI0="$napi_cli0" NCLI1="$napi_cli1" \
    STAMP="$stamp" LOG="$log" APUS="$apus_bin" FRAMING="$([ "$name" = cpp ] && echo framed || echo "$rpc_framing")" \
    python3 - >>"$results" <<'EOF'
import json, os, re
e = os.environ
rate = float(e["RATE"])
row = {"mode": "rpc", "stamp": e["STAMP"], "kind": "paced" if rate else "saturation", "server": e["SERVER"],
       "round": int(e["ROUND"]), "connections": int(e["CONNS"]), "depth": int(e["DEPTH"]),
       "concurrency": int(e["CONNS"]) * int(e["DEPTH"]), "rate_target": rate or None,
       "duration_s": int(e["DURATION"]), "payload": int(e["PAYLOAD"]), "protocol": "binary", "framing": e["FRAMING"],
       "method": "echo", "client": e["CLIENT"], "testbed": e["TESTBED"], "interface": e["INTERFACE"],
       "xdp_mode": e["XDP_MODE"], "apus": e["APUS"]}
try:
    out = open(e["LOG"] + ".out", errors="replace").read()
except OSError:
    out = ""
# The xdp server's own account of its queue (printed when it stops).
if e["SERVER"] == "xdp":
    m = re.search(r"^apus serve: queue 0: (.*)$", out, re.M)
    if m:
        row["server_queue"] = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(1))}
        if row["server_queue"].get("frames_in_app", 0) != 0:
            row["warning"] = "frames_in_app=%d after the server stopped" % row["server_queue"]["frames_in_app"]
    elif not e["ERROR"]:
        row["warning"] = "no 'queue 0:' line from the xdp server"
error = e["ERROR"]
keys = ("qps", "calls", "errors", "mismatches", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "transport")
if not error:
    try:
        got = json.loads(e["CLIENT_JSON"])
        missing = [k for k in keys if k not in got]
        if missing:
            error = "client JSON lacks " + ", ".join(missing)
        else:
            row.update({k: got[k] for k in keys})
    except ValueError as x:
        error = "client JSON does not parse: %s" % x
if not error:
    tck = int(e["CLK_TCK"])
    wall = (int(e["T1"]) - int(e["T0"])) / 1e9
    (u0, s0), (u1, s1) = map(int, e["CPU0"].split()), map(int, e["CPU1"].split())
    user, cpu = (u1 - u0) / tck, (u1 + s1 - u0 - s0) / tck
    core = (int(e["CORE1"]) - int(e["CORE0"])) / tck
    client_core = (int(e["CCORE1"]) - int(e["CCORE0"])) / tck
    steal = (int(e["STEAL1"]) - int(e["STEAL0"])) / tck
    calls = row["calls"]
    row["wall_s"] = round(wall, 3)
    row["server_cpu_s"] = round(cpu, 3)
    row["server_user_s"] = round(user, 3)
    row["core_busy_s"] = round(core, 3)
    if wall > 0:
        row["server_cpu_pct"] = round(100 * cpu / wall, 1)
        row["core_busy_pct"] = round(100 * core / wall, 1)
        row["client_core_busy_pct"] = round(100 * client_core / wall, 1)
        row["client_cpu_pct"] = round(100 * float(e["LOAD_CPU"]) / wall, 1) if e["LOAD_CPU"] else None
        row["steal_cpu_pct"] = round(100 * steal / wall, 1)
        # Anything else on CPUs 0 and 1 (steal apart): the core 0 measure counts it too.
        napi = sum((int(e[b]) - int(e[a])) / tck for a, b in (("NSRV0", "NSRV1"), ("NCLI0", "NCLI1")) if e[a] and e[b])
        if e["LOAD_CPU"] and e["BUSY0"] and e["BUSY1"]:
            busy = (int(e["BUSY1"]) - int(e["BUSY0"])) / tck
            row["other_cpu_pct"] = round(max(0.0, 100 * (busy - steal - cpu - float(e["LOAD_CPU"]) - napi) / wall), 1)
    # Over the client's whole run (start, run, close), per call answered in it.
    row["server_cpu_us_per_call"] = round(cpu * 1e6 / calls, 3) if calls else None
    row["core_cpu_us_per_call"] = round(core * 1e6 / calls, 3) if calls else None
if error:
    row["error"] = error
print(json.dumps(row))
EOF
  then
    die "could not write the result line for $name c=$conns d=$depth round $round"
  fi
  last="$(tail -1 "$results")"
  if grep -q '"error"' <<<"$last"; then
    failed=1
    note "$name c=$conns d=$depth round $round$([ "$rate" = 0 ] || echo " paced"): FAILED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$last")"
  else
    note "$name c=$conns d=$depth round $round$([ "$rate" = 0 ] || echo " paced at $rate/s"): $(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("%.0f calls/s, p50 %.1f us, p99 %.1f us, server %.2f us/call (process), %.2f us/call (core 0)%s%s"
      % (r["qps"], r["p50_us"], r["p99_us"], r["server_cpu_us_per_call"] or 0, r["core_cpu_us_per_call"] or 0,
         ", %d errors" % r["errors"] if r["errors"] else "", "; warning: " + r["warning"] if "warning" in r else ""))' "$last")"
  fi
}

# The rate for the paced runs: half of cpp's best median saturated QPS at CONNS connections;
# prints nothing when cpp has no successful run there.
rpc_half_cpp_rate() {
  python3 - "$results" "$1" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
conns = int(sys.argv[2])
by_depth = {}
for r in rows:
    if r["kind"] == "saturation" and r["server"] == "cpp" and r["connections"] == conns and "error" not in r:
        by_depth.setdefault(r["depth"], []).append(r["qps"])
if by_depth:
    print(int(max(statistics.median(v) for v in by_depth.values()) / 2))
EOF
}

rpc_client_name() {
  if [ "$1" = xdp ]; then echo "Apus's TCP on AF_XDP ($if_cli, owning $ip_owned_cli)"; else echo "the kernel's TCP"; fi
}

rpc_main() {
  case "$tcp_testbed" in tuned|plain) ;; *) die "APUS_BENCH_TCP_TESTBED must be tuned or plain, got '$tcp_testbed'" ;; esac
  testbed_prerequisites
  cpp_prerequisites
  build_cpp_server
  build_apus
  has_subcommand serve || die "$apus_bin has no 'serve' subcommand"
  has_subcommand bench || die "$apus_bin has no 'bench' subcommand"
  "$apus_bin" serve --help 2>&1 | grep -- '--transport' >/dev/null || die "$apus_bin serve has no --transport option"
  "$apus_bin" bench --help 2>&1 | grep -- '--rate' >/dev/null \
    || die "$apus_bin bench has no --rate option (needed for the runs at 50% load)"
  # The XDP program on the client end too, for --client xdp; harmless for the kernel client
  # (the program passes everything but the Apus client's address to the kernel).
  export APUS_CLIENT_XDP=1
  start_testbed
  tcp_tune_testbed >>"$logs/testbed-up.log" 2>&1 || die "tuning the testbed failed (see $logs/testbed-up.log;
  APUS_BENCH_TCP_TESTBED=plain runs on the testbed as it is)"
  note "client: apus bench over $(rpc_client_name "$rpc_client") on CPU 1 (--client $rpc_client);" \
    "paced runs: over $(rpc_client_name "$rpc_paced_client") (--paced-client $rpc_paced_client)"

  failed=0
  local round conns depth name cell=0 order started=$SECONDS paced_conns paced_depth=0 rate
  for round in $(seq "$rounds"); do
    for conns in "${conn_list[@]}"; do
      for depth in "${depth_list[@]}"; do
        # Each cell alternates the order from round to round (and from cell to cell):
        # drift on a shared machine hits all sides alike.
        cell=$((cell + 1))
        if (((round + cell) % 2)); then order=(cpp kernel xdp); else order=(xdp kernel cpp); fi
        for name in "${order[@]}"; do
          rpc_run "$name" "$conns" "$depth" "$round" 0
        done
      done
    done
  done

  # p99 at 50% load: xdp and cpp paced at half of cpp's saturated QPS, at 16 connections
  # (else the first count) and the deepest depth, so enough workers cover the rate.
  paced_conns="${conn_list[0]}"
  for conns in "${conn_list[@]}"; do [ "$conns" != 16 ] || paced_conns=16; done
  for depth in "${depth_list[@]}"; do ((depth <= paced_depth)) || paced_depth="$depth"; done
  rate="$(rpc_half_cpp_rate "$paced_conns")"
  if [ -z "$rate" ] || [ "$rate" = 0 ]; then
    failed=1
    note "no successful cpp run at $paced_conns connections: no runs at 50% load"
  else
    note "at 50% load: $rate calls/s (half of cpp's saturated QPS at $paced_conns connections), $((paced_conns * paced_depth)) workers"
    for round in $(seq "$rounds"); do
      if ((round % 2)); then order=(xdp cpp); else order=(cpp xdp); fi
      for name in "${order[@]}"; do
        rpc_run "$name" "$paced_conns" "$paced_depth" "$round" "$rate"
      done
    done
  fi
  note "runs took $((SECONDS - started)) s"

  # ---- rpc: table --------------------------------------------------------------
  python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r0 = rows[0]
names = {"xdp": "Apus on AF_XDP (its own TCP)", "kernel": "Apus on kernel sockets (SwiftNIO, 1 thread)",
         "cpp": "Apache Thrift C++ TNonblockingServer (1 IO thread)"}
def client_name(kind):
    clients = {r["client"] for r in rows if r["kind"] == kind}
    return " and ".join("apus bench over Apus's TCP on AF_XDP (XDP client)" if c == "xdp"
                        else "apus bench over the kernel's TCP (kernel client)" for c in sorted(clients))
print()
apus_framing = next((r["framing"] for r in rows if r["server"] != "cpp"), "framed")
print("== Thrift RPC on the testbed: echo(%d-byte string), binary/%s (cpp: binary/framed), %d s per run; servers pinned to CPU 0,"
      % (r0["payload"], apus_framing, r0["duration_s"]))
print("   the same client for all three on CPU 1: %s" % client_name("saturation"))
if any(r["kind"] == "paced" for r in rows):
    print("   paced runs (50%% load): %s" % client_name("paced"))
for k in ("xdp", "kernel", "cpp"):
    print("   %-6s %s" % (k, names[k]))
print("   testbed: %s" % ("threaded NAPI pinned with each side (server's receive processing on CPU 0), qdisc backpressure"
                         if r0["testbed"] == "tuned" else "as scripts/testbed.sh made it (veth receive in softirq on the sender's CPU)"))
hdr = "%-6s %5s %5s %5s %5s | %9s %8s %8s %8s | %9s %9s | %7s %6s %7s %6s %6s %6s | %6s"
print(hdr % ("server", "conns", "depth", "K", "round", "QPS", "p50 us", "p99 us", "p999 us",
             "us/c proc", "us/c core", "srv CPU", "core 0", "cli CPU", "core 1", "other", "steal", "errors"))
line = "-" * 146
def f(v, fmt):
    return "-" if v is None else fmt % v
stolen = warned = noisy = False
for kind in ("saturation", "paced"):
    rs = [r for r in rows if r["kind"] == kind]
    if not rs:
        continue
    print(line)
    if kind == "paced":
        print("paced at %.0f calls/s (50%% load: half of cpp's saturated QPS):" % rs[0]["rate_target"])
    for r in rs:
        if "error" in r:
            print("%-6s %5d %5d %5d %5d | FAILED: %s" % (r["server"], r["connections"], r["depth"], r["concurrency"], r["round"], r["error"]))
            continue
        print(hdr % (r["server"], r["connections"], r["depth"], r["concurrency"], r["round"], f(r["qps"], "%.0f"),
                     f(r["p50_us"], "%.1f"), f(r["p99_us"], "%.1f"), f(r["p999_us"], "%.1f"),
                     f(r["server_cpu_us_per_call"], "%.2f"), f(r["core_cpu_us_per_call"], "%.2f"),
                     f(r.get("server_cpu_pct"), "%.0f%%"), f(r.get("core_busy_pct"), "%.0f%%"),
                     f(r.get("client_cpu_pct"), "%.0f%%"), f(r.get("client_core_busy_pct"), "%.0f%%"),
                     f(r.get("other_cpu_pct"), "%.0f%%"),
                     f(r.get("steal_cpu_pct"), "%.0f%%"), f(r["errors"], "%d"))
              + ("  (%s)" % r["warning"] if "warning" in r else ""))
        stolen = stolen or (r.get("steal_cpu_pct") or 0) > 10
        noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
        warned = warned or "warning" in r or r["errors"] > 0
print(line)

def median(rs, key):
    values = [r[key] for r in rs if "error" not in r and r.get(key) is not None]
    return statistics.median(values) if values else None
# Medians per server and cell over the rounds.
cells = {}
for r in rows:
    if r["kind"] == "saturation":
        cells.setdefault((r["server"], r["connections"], r["depth"]), []).append(r)
med = {k: {key: median(v, key) for key in ("qps", "p99_us", "server_cpu_us_per_call", "core_cpu_us_per_call",
                                           "core_busy_pct", "client_core_busy_pct")}
       for k, v in cells.items()}
if cells and max(len(v) for v in cells.values()) > 1:
    print("medians over the rounds (QPS | us/call proc | us/call core):")
    for (server, c, d), m in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        print("  %-6s c=%-3d d=%-2d %10s | %6s | %6s" % (server, c, d, f(m["qps"], "%.0f"),
              f(m["server_cpu_us_per_call"], "%.2f"), f(m["core_cpu_us_per_call"], "%.2f")))
def best(server):
    points = [(m["qps"], k) for k, m in med.items() if k[0] == server and m["qps"] is not None]
    if not points:
        return None, None
    qps, key = max(points)
    return key, med[key]
def ratio(a, b):
    return a / b if a is not None and b else None
def verdict(value, target, higher):
    if value is None:
        return "-", "not measured"
    ok = value >= target if higher else value <= target
    return "%.2fx" % value, "met" if ok else "MISSED"
print()
print("targets (xdp = Apus on AF_XDP, cpp = Apache Thrift C++; each at its best saturation point, i.e. its highest QPS):")
ka, a = best("xdp")
kb, b = best("kernel")
kc, c = best("cpp")
def at(key):
    return "c=%d d=%d" % (key[1], key[2]) if key else "-"
for label, key, m in (("xdp", ka, a), ("kernel", kb, b), ("cpp", kc, c)):
    if m:
        bound = ""
        if (m["core_busy_pct"] or 0) < 90 and (m["client_core_busy_pct"] or 0) >= 90:
            bound = "  client-bound (core 0 %.0f%%, core 1 %.0f%%): its capacity is higher" % (m["core_busy_pct"], m["client_core_busy_pct"])
        print("  %-6s best %10s QPS at %-10s  CPU us/call: %s (process), %s (core 0)%s"
              % (label, f(m["qps"], "%.0f"), at(key), f(m["server_cpu_us_per_call"], "%.2f"), f(m["core_cpu_us_per_call"], "%.2f"), bound))
a = a or {}
c = c or {}
v, ok = verdict(ratio(a.get("qps"), c.get("qps")), 2.0, True)
print("  QPS xdp/cpp at saturation                    %7s  target >= 2x:    %s" % (v, ok))
v, ok = verdict(ratio(a.get("server_cpu_us_per_call"), c.get("server_cpu_us_per_call")), 1 / 3, False)
print("  server CPU/call xdp/cpp, process CPU time    %7s  target <= 0.33x: %s" % (v, ok))
v, ok = verdict(ratio(a.get("core_cpu_us_per_call"), c.get("core_cpu_us_per_call")), 1 / 3, False)
print("  server CPU/call xdp/cpp, core 0 busy time    %7s  target <= 0.33x: %s" % (v, ok))
paced = [r for r in rows if r["kind"] == "paced"]
pa, pc = median([r for r in paced if r["server"] == "xdp"], "p99_us"), median([r for r in paced if r["server"] == "cpp"], "p99_us")
qa, qc = median([r for r in paced if r["server"] == "xdp"], "qps"), median([r for r in paced if r["server"] == "cpp"], "qps")
v, ok = verdict(ratio(pa, pc), 0.5, False)
print("  p99 xdp/cpp at 50%% load                      %7s  target <= 0.5x:  %s" % (v, ok))
if paced:
    target = paced[0]["rate_target"]
    print("      paced at %.0f calls/s, c=%d K=%d: xdp p99 %s us (%s calls/s done), cpp p99 %s us (%s calls/s done)"
          % (target, paced[0]["connections"], paced[0]["concurrency"], f(pa, "%.1f"), f(qa, "%.0f"), f(pc, "%.1f"), f(qc, "%.0f")))
    short = [s for s, q in (("xdp", qa), ("cpp", qc)) if q is not None and q < 0.95 * target]
    if short:
        print("      WARNING: %s did not reach the rate (a worker falls behind when its call takes longer than its pace)"
              % " and ".join(short))
    busy = [r for r in paced if "error" not in r and (r.get("client_core_busy_pct") or 0) >= 90]
    if busy:
        print("      WARNING: the client's core was >= 90%% busy in %d of %d paced runs (a paced call costs the client"
              % (len(busy), len(paced)))
        print("      several times a pipelined one): its own queueing is in these p99s, which then say little about the servers")
print("us/c proc: the server process's CPU time (user+sys, all threads) / calls; us/c core: CPU 0's busy time")
print("(user+nice+system+irq+softirq in /proc/stat: the process plus the kernel's work for it on that core) / calls;")
print("both over the client's whole run. srv CPU, core 0, cli CPU, core 1: shares of one core; core 0/1: the busy")
print("time of the server's/client's core, the kernel's work there included. A server whose core 0 is near 100% is")
print("saturated (its QPS is its capacity); with core 1 near 100% and core 0 not, the client set the pace.")
print("other: CPU time on CPUs 0 and 1 used by anything but the server, the client and the veth ends' NAPI")
print("threads (steal apart); core 0 counts whatever of it ran there. steal: time the hypervisor took from CPUs 0 and 1.")
if noisy:
    print("WARNING: other load above 10% of a core in some runs: those numbers (the core 0 ones above all) are")
    print("disturbed; rerun on an idle machine.")
if warned:
    print("WARNING: some runs had call errors or server warnings (see the rows marked above and the logs).")
if stolen:
    print("note: steal above 10% of a core in some runs: the hypervisor took that time from the vCPUs.")
print("raw results: %s" % sys.argv[1])
EOF
}

if [ "$mode" = rpc ]; then
  rpc_main
  exit "$failed"
fi

# ---- kernel: prerequisites -----------------------------------------------------
cpp_prerequisites

skip_apus="${APUS_BENCH_SKIP_APUS:-0}"
if [ -n "${APUS_BENCH_CLIENT:-}" ]; then
  [ -x "$APUS_BENCH_CLIENT" ] || die "APUS_BENCH_CLIENT=$APUS_BENCH_CLIENT is not an executable"
  client_bin="$APUS_BENCH_CLIENT"
else
  client_bin="$apus_bin"
fi

# ---- kernel: builds ------------------------------------------------------------
build_cpp_server

# apus is needed as the server unless skipped, and as the client unless overridden.
if [ "$skip_apus" != 1 ] || [ "$client_bin" = "$apus_bin" ]; then
  build_apus
  if [ "$skip_apus" != 1 ] && ! has_subcommand serve; then
    die "$apus_bin has no 'serve' subcommand yet (APUS_BENCH_SKIP_APUS=1 runs the C++ server only)"
  fi
  if [ "$client_bin" = "$apus_bin" ] && ! has_subcommand bench; then
    die "$apus_bin has no 'bench' subcommand yet (APUS_BENCH_CLIENT=/path uses another client)"
  fi
fi

servers=()
[ "$skip_apus" = 1 ] || servers+=(apus)
servers+=(cpp)

# ---- kernel: runs --------------------------------------------------------------
mkdir -p "$logs"
: >"$results"

client_pid=""
cleanup() {
  # A client cut short by Ctrl-C/SIGTERM: TERM reaches `timeout`, which passes it on
  # to the client (SIGKILL would orphan the client).
  if [ -n "$client_pid" ]; then
    kill -TERM "$client_pid" 2>/dev/null || true
    local i
    for i in $(seq 30); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$client_pid" 2>/dev/null || true
  fi
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts server $1 on CPU 0 and sets server_pid and port. stdbuf: the readiness line
# must reach the log file at once even if the server block-buffers a redirected stdout.
start_server() {
  local name="$1" log="$2" pattern cmd
  case "$name" in
    apus)
      cmd=("$apus_bin" serve --host 127.0.0.1 --port 0 --protocol "$protocol" --framing framed)
      pattern='listening on 127\.0\.0\.1:[0-9]+' ;;
    cpp)
      cmd=("$cpp_server" --port 0 --protocol "$protocol")
      pattern='^READY [0-9]+' ;;
  esac
  "${server_pin[@]}" stdbuf -oL "${cmd[@]}" >"$log.out" 2>"$log.err" &
  server_pid=$!
  port=""
  local i line
  for i in $(seq 150); do
    line="$(grep -m1 -oE "$pattern" "$log.out" 2>/dev/null || true)"
    if [ -n "$line" ]; then port="${line##*[: ]}"; return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { server_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}

failed=0
# Connection count and depth outer, server inner: each apus/cpp pair runs back to back, so
# drift on a shared machine hits both sides of a ratio alike.
for conns in "${conn_list[@]}"; do
 for depth in "${depth_list[@]}"; do
  concurrency=$((conns * depth))
  for server in "${servers[@]}"; do
    log="$logs/$server-c$conns-d$depth"
    error="" qps_line="" cpu0="" cpu1="" busy0="" busy1="" t0=0 t1=0 client_cpu=""
    if ! start_server "$server" "$log"; then
      error="server did not print its readiness line within 15 s (see $log.out, $log.err)"
      stop_server
    else
      cpu0="$(cpu_ticks "$server_pid")"
      busy0="$(busy_ticks)"
      t0="$(date +%s%N)"
      # The client's CPU = growth of this shell's children times across its run (the
      # server, still running, is not reaped yet). Background + wait, so a signal
      # interrupts the wait at once instead of after the client.
      times >"$log.client.times0"
      "${client_pin[@]}" timeout -k 2 $((duration + 10)) "$client_bin" bench \
        --host 127.0.0.1 --port "$port" --connections "$conns" --concurrency "$concurrency" \
        --duration "$duration" --payload "$payload" --method echo --protocol "$protocol" \
        --framing framed --json >"$log.client.out" 2>"$log.client.err" &
      client_pid=$!
      client_rc=0
      wait "$client_pid" || client_rc=$?
      client_pid=""
      times >"$log.client.times1"
      t1="$(date +%s%N)"
      busy1="$(busy_ticks)"
      client_cpu="$(awk -v a="$(children_cpu "$log.client.times0")" -v b="$(children_cpu "$log.client.times1")" \
        'BEGIN { printf "%.3f", b - a }')"
      if kill -0 "$server_pid" 2>/dev/null; then
        cpu1="$(cpu_ticks "$server_pid")"
      else
        cpu1=""; error="server died during the run (see $log.err)"
      fi
      stop_server
      qps_line="$(grep '^{' "$log.client.out" | tail -1 || true)"
      if [ "$client_rc" = 124 ] || [ "$client_rc" = 137 ]; then
        error="${error:-client exceeded $((duration + 10)) s and was killed (see $log.client.err)}"
      elif [ "$client_rc" != 0 ]; then
        error="${error:-client exited with status $client_rc (see $log.client.err)}"
      elif [ -z "$qps_line" ]; then
        error="${error:-client printed no JSON line (see $log.client.out)}"
      fi
    fi
    # One JSON line per run; python3 validates the client's JSON and does the arithmetic.
    if ! SERVER="$server" CONNS="$conns" CONC="$concurrency" DURATION="$duration" PAYLOAD="$payload" \
      PROTOCOL="$protocol" CLIENT_JSON="$qps_line" ERROR="$error" CPU0="$cpu0" CPU1="$cpu1" \
      CLK_TCK="$clk_tck" T0="$t0" T1="$t1" CLIENT_CPU="$client_cpu" STAMP="$stamp" \
      BUSY0="$busy0" BUSY1="$busy1" \
      CLIENT="$client_bin" python3 - >>"$results" <<'EOF'
import json, os
e = os.environ
row = {"mode": "kernel", "stamp": e["STAMP"], "server": e["SERVER"], "connections": int(e["CONNS"]),
       "depth": int(e["CONC"]) // int(e["CONNS"]), "concurrency": int(e["CONC"]), "duration_s": int(e["DURATION"]), "payload": int(e["PAYLOAD"]),
       "protocol": e["PROTOCOL"], "framing": "framed", "method": "echo", "client": e["CLIENT"]}
error = e["ERROR"]
if not error:
    try:
        got = json.loads(e["CLIENT_JSON"])
        missing = [k for k in ("qps", "calls", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us") if k not in got]
        if missing:
            error = "client JSON lacks " + ", ".join(missing)
        else:
            row.update({k: got[k] for k in ("qps", "calls", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us")})
    except ValueError as x:
        error = "client JSON does not parse: %s" % x
if not error:
    wall = (int(e["T1"]) - int(e["T0"])) / 1e9
    cpu = (int(e["CPU1"]) - int(e["CPU0"])) / int(e["CLK_TCK"])
    row["wall_s"] = round(wall, 3)
    row["server_cpu_s"] = round(cpu, 3)
    row["server_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
    row["client_cpu_pct"] = round(100 * float(e["CLIENT_CPU"]) / wall, 1) if wall > 0 and e["CLIENT_CPU"] else None
    row["server_cpu_us_per_call"] = round(cpu * 1e6 / row["calls"], 3) if row["calls"] else None
    if wall > 0 and e["CLIENT_CPU"] and e["BUSY0"] and e["BUSY1"]:
        busy = (int(e["BUSY1"]) - int(e["BUSY0"])) / int(e["CLK_TCK"])
        row["other_cpu_pct"] = round(max(0.0, 100 * (busy - cpu - float(e["CLIENT_CPU"])) / wall), 1)
if error:
    row["error"] = error
print(json.dumps(row))
EOF
    then
      die "could not write the result line for $server c=$conns d=$depth"
    fi
    last="$(tail -1 "$results")"
    if grep -q '"error"' <<<"$last"; then
      failed=1
      note "$server c=$conns k=$concurrency: FAILED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$last")"
    else
      note "$server c=$conns k=$concurrency: $(python3 -c 'import json,sys; r = json.loads(sys.argv[1]); print("%.0f calls/s, p50 %.1f us, server %.2f us/call" % (r["qps"], r["p50_us"], r["server_cpu_us_per_call"] or 0))' "$last")"
    fi
  done
 done
done

# ---- kernel: table -------------------------------------------------------------
python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r0 = rows[0]
print()
print("== kernel sockets, loopback: echo(%d-byte string), %s/framed, %d s per run; depth: calls in flight per connection"
      % (r0["payload"], r0["protocol"], r0["duration_s"]))
hdr = "%-6s %6s %6s %6s | %10s %9s %9s %9s | %12s %8s %8s %6s | %7s"
print(hdr % ("server", "conns", "depth", "K", "QPS", "p50 us", "p99 us", "p999 us", "CPU us/call", "srv CPU", "cli CPU", "other", "errors"))
line = "-" * 118
noisy = False
print(line)
def f(v, fmt):
    return "-" if v is None else fmt % v
by = {}
for r in rows:
    r.setdefault("depth", r["concurrency"] // r["connections"])
    by[(r["server"], r["connections"], r["depth"])] = r
    if "error" in r:
        print("%-6s %6d %6d %6d | FAILED: %s" % (r["server"], r["connections"], r["depth"], r["concurrency"], r["error"]))
        continue
    print(hdr % (r["server"], r["connections"], r["depth"], r["concurrency"], f(r["qps"], "%.0f"), f(r["p50_us"], "%.1f"),
                 f(r["p99_us"], "%.1f"), f(r["p999_us"], "%.1f"), f(r["server_cpu_us_per_call"], "%.2f"),
                 f(r["server_cpu_pct"], "%.0f%%"), f(r["client_cpu_pct"], "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%"),
                 f(r["errors"], "%d")))
    noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
print(line)
cells = sorted({(r["connections"], r["depth"]) for r in rows})
ratios = []
for c, d in cells:
    a, p = by.get(("apus", c, d)), by.get(("cpp", c, d))
    if not a or not p or "error" in a or "error" in p:
        continue
    q = "%.2fx" % (a["qps"] / p["qps"]) if p["qps"] else "-"
    u = ("%.2fx" % (a["server_cpu_us_per_call"] / p["server_cpu_us_per_call"])
         if a["server_cpu_us_per_call"] and p["server_cpu_us_per_call"] else "-")
    l = "%.2fx" % (a["p50_us"] / p["p50_us"]) if p["p50_us"] else "-"
    ratios.append("  conns %-4d depth %-3d QPS apus/cpp %7s (higher is better)   CPU/call apus/cpp %7s   p50 apus/cpp %7s (lower is better)"
                  % (c, d, q, u, l))
if ratios:
    print("apus vs Apache Thrift C++ TNonblockingServer:")
    print("\n".join(ratios))
print("CPU us/call: server CPU time (user+sys, all threads) during the client's run / calls answered.")
print("srv/cli CPU: share of one core used; a server near 100% is saturated (QPS is its capacity);")
print("a client near 100% while the server is not means the client, not the server, set the QPS.")
print("other: CPU time on the benchmark's CPUs used by anything else during the run.")
if noisy:
    print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine.")
print("raw results: %s" % sys.argv[1])
EOF

exit "$failed"
