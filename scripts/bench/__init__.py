# The usage text below is printed by --help: it documents every mode, option, variable and output.
"""Benchmarks: Apus against a reference implementation doing the same work.

  bash scripts/bench.sh kernel [--duration S] [--rounds N] [--connections "1 4 16"] [--depth "1 4"]
                               [--payload BYTES] [--protocol binary|compact] [--quick]
  bash scripts/bench.sh xdp    [--duration S] [--rounds N] [--window W] [--payload BYTES] [--quick]
  bash scripts/bench.sh tcp    [--duration S] [--rounds N] [--connections "1 64"] [--payload BYTES] [--quick]
  bash scripts/bench.sh rpc    [--duration S] [--rounds N] [--connections "1 16 64"] [--depth "1 8"]
                               [--payload BYTES] [--client xdp|kernel] [--paced-client kernel|xdp]
                               [--framing framed|theader|ttheader] [--warmup S] [--client-spin-limit US]
                               [--busy-poll] [--quick]
  bash scripts/bench.sh codec  [--seconds S] [--rounds N] [--quick]   (also: bash scripts/bench-codec.sh)

kernel: both servers on kernel sockets over loopback (127.0.0.1), one CPU each side:
  apus  `.build/release/apus serve --host 127.0.0.1 --port 0 ...` (Apus kernel-socket server)
  cpp   Apache Thrift C++ TNonblockingServer, one IO thread, handlers inline
        (Benchmarks/cpp/echo_server.cpp, built in build/bench-kernel/ when its inputs change)
Every server (pinned to CPU 0) is driven by the same client, `apus bench` (pinned to
CPU 1): C connections, K = C * depth echo calls of a BYTES-long string outstanding
(pipelined), framed transport, for S seconds. Per run it reports QPS, latency
percentiles and the server's CPU time per call (from /proc/PID/stat).
Rounds alternate the servers' order (apus cpp, cpp apus, ...); the ratios compare medians.
Defaults: --duration 5 --rounds 3 --connections "1 4 16" --depth "1 4" --payload 64 --protocol binary;
--quick: --duration 2 --rounds 1 --connections "1 4" (explicit flags still win).
Raw results: .build/bench/kernel-<UTC timestamp>.jsonl (+ a directory of logs).

xdp (root): AF_XDP UDP reflectors on the netns testbed (scripts/testbed.sh: veth, XDP
program in native mode, copy-mode AF_XDP, one queue), each pinned to CPU 0 in apus-srv:
  apus  `.build/release/apus xdp reflect` (ApusXSK)
  c     the C reference over libxdp's xsk API, same behaviour (ARP for the owned address,
        UDP echo with checksums recomputed; Benchmarks/xdp-ref/reflect.c)
Both are driven by the same C blaster in apus-cli (Benchmarks/xdp-ref/blaster.c, pinned
to CPU 1; both tools built in build/xdp-ref/ when their inputs change): a kernel UDP
socket, sendmmsg/recvmmsg in batches of 64, W datagrams of BYTES unanswered at most,
for S seconds after a 1 s warm-up, counting the echoes. Rounds alternate the reflectors
(apus c, c apus, ...); it prints each run's replies/s, the medians and apus/c.
Defaults: --duration 5 --rounds 3 --window 256 --payload 64;
--quick: --duration 2 --rounds 1. Raw results: .build/bench/xdp-<UTC timestamp>.jsonl.
The testbed's environment names apply (APUS_NS_SRV, APUS_IF_SRV, APUS_IP_OWNED,
APUS_XDP_MODE, ...; see scripts/testbed.sh); it is brought up and torn down here, and
an existing one (another run's) is left alone: the benchmark refuses to start.

tcp (root): TCP echo on the same testbed, each server pinned to CPU 0 in apus-srv:
  apus    `.build/release/apus net serve --tcp-echo 7` on the Apus address (ApusNet, Apus's
          userspace TCP/IP stack, over copy-mode AF_XDP on queue 0)
  kernel  the Linux kernel's TCP: a C epoll echo server, one thread, on the kernel address
          APUS_IP_SRV:7007 (Benchmarks/tcp-ref/echo_server.c; the XDP program passes it on)
Both are driven by the same C load client in apus-cli (Benchmarks/tcp-ref/tcp_load.c, pinned
to CPU 1; both tools built in build/tcp-ref/ when their inputs change), C connections on
kernel sockets, each test for S seconds after a 1 s warm-up run:
  stream  every connection writes 64 KiB chunks continuously and reads the echo: MB/s echoed
  rr      every connection sends a BYTES-long request and waits for its echo (one outstanding):
          transactions/s, p50/p99 latency
Every echoed byte is checked, and every connection must close normally with all of it back.
The matrix is {stream, rr} x connection counts x {apus, kernel}; rounds alternate the
servers. It prints each run, the medians per test and apus/kernel, and the server core's CPU
time per MB or per transaction (the server process plus the kernel's network threads on CPU 0).
The testbed is tuned after it comes up (APUS_BENCH_TCP_TESTBED=plain: not): threaded NAPI on
both veth ends, the server end's thread pinned to CPU 0 and the client end's to CPU 1, so
each side's receive processing runs on its own core as a NIC interrupt would (on a plain
testbed it runs on the sender's CPU: the kernel server's TCP receive on the client's core);
pfifo qdiscs so a full veth ring stops the sender instead of dropping (Linux >= 6.16).
Defaults: --duration 5 --rounds 3 --connections "1 64" --payload 64; --quick: --duration 2
--rounds 1. Raw results: .build/bench/tcp-<UTC timestamp>.jsonl.

rpc (root): Thrift RPC on the same testbed, echo(a BYTES-long string), binary protocol, framed;
each server pinned to CPU 0 in apus-srv:
  xdp     `apus serve --transport xdp` on AF_XDP queue 0 of apus-s, owning APUS_IP_OWNED:9090
          (Apus's own TCP/IP, copy mode on veth)
  kernel  `apus serve --transport kernel --threads 1` on the kernel address APUS_IP_SRV:9091
  cpp     the Apache Thrift C++ TNonblockingServer of kernel mode on APUS_IP_SRV:9092
All three are driven by the same client, `apus bench` pinned to CPU 1 in apus-cli: C connections,
C x depth calls in flight (pipelined), for S seconds. --client xdp (the default: on this testbed
it drives every server faster, for less CPU per call) calls over Apus's own TCP on AF_XDP queue 0
of apus-c, owning APUS_IP_OWNED_CLI (the testbed comes up with APUS_CLIENT_XDP=1); --client kernel
over the client kernel's TCP. The matrix is connection counts x depths x servers, a fresh server
per run; rounds alternate the servers' order. Per run: QPS, p50/p99/p999 and the server's CPU per
call two ways: the server process's CPU time (user+sys), and CPU 0's busy time (user+nice+system+
irq+softirq in /proc/stat: the process plus the kernel's work for it there), each over the client's
run, per call. Then xdp and cpp run again paced (`apus bench --rate`) at half of cpp's saturated
QPS, at 16 connections (else the first count) and the deepest depth, for their p99 at 50% load,
both with the --paced-client (default xdp: it paces on its queue thread's own timers, with no
thread hop; kernel paces on its event loop's timer, at several times the client CPU per call).
The summary checks the
targets: QPS xdp/cpp >= 5x at each one's best saturation point and CPU per call xdp/cpp <= 1/6
(both ways) there; p99 xdp/cpp <= 1/3 at 50% load. The testbed is tuned as in tcp mode
(APUS_BENCH_TCP_TESTBED=plain: not).
--warmup S (default 1): the client calls for S seconds before its measured run (`apus bench
--warmup`), and the CPU counters are read at that window's start and end (timers from the client's
launch), so neither starting the client (its AF_XDP queue, ARP, connecting) nor closing is in any
figure; the client's CPU is then CPU 1's busy time. With --warmup 0 they cover the client's whole
run, about twice the measured seconds of a --quick run: every busy share comes out about half. For runs at many connections: --connections "100 10000" --depth 1 --warmup 5.
--client-spin-limit US: the client's polling for the next packet or event before it sleeps, in every
run (`apus bench --spin-limit`; unset: apus bench's default, 50). The same client drives all three
servers, and its polling on CPU 1 changes how fast it answers each of them (16 x 8, medians of 3
rounds: p99 xdp/cpp at 50% load 0.30x polling, 0.38x with 0; QPS xdp/cpp 4.77x and 4.78x).
--busy-poll: the xdp server and the xdp client (--client xdp) poll their rings instead of sleeping
(`--busy-poll` of apus serve and apus bench; a full core each); the kernel servers are unchanged.
For single-call latency: --connections 1 --depth 1 --busy-poll.
Defaults: --duration 5 --rounds 1 --connections "1 16 64" --depth "1 8" --payload 64 --client xdp --warmup 1
--paced-client xdp; --quick: --duration 2 --connections "1 16".
Raw results: .build/bench/rpc-<UTC timestamp>.jsonl.

codec: encode and decode of the Small and Large structs of Benchmarks/Thrift/codec.thrift,
Binary and Compact, Apache Thrift C++ (Benchmarks/cpp/codec_bench.cpp over `thrift --gen
cpp:templates` code, built in build/bench-codec/ when its inputs change) against Apus
(Benchmarks/.build/release/CodecCompare), both pinned to CPU 1; S = minimum seconds per
repetition (default 0.5; --quick: 0.1), best of 3; N rounds (default 3; --quick: 1) run both
programs N times, alternately, and each measurement's best counts. The last ratio on each row, C++/Apus*, is
the generated code as a handler uses it (encode plus decode into owned values) against C++.
Raw results: .build/bench/codec-<UTC timestamp>.jsonl (and build/bench-codec/{cpp,apus}.txt).

Plots (kernel, rpc; matplotlib, skipped with a note when it is missing): beside the raw
results, <mode>-<UTC>-qps.png and <mode>-<UTC>-cpu.png (QPS and server CPU per call against
connections, a line per server and depth) and, for rpc, rpc-<UTC>-latency.png (latency CDF of
the paced runs at 50% load, from the client's p50/p90/p99/p999/max).

Environment:
  APUS_BENCH_APUS=/path     apus binary to benchmark instead of building .build/release/apus
  APUS_BENCH_CLIENT=/path   (kernel) client binary instead of apus; it is run as
                            `/path bench --host ... --json` (self-tests, other clients)
  APUS_BENCH_SKIP_APUS=1    (kernel) benchmark the C++ server only
  APUS_BENCH_TCP_TESTBED=plain  (tcp, rpc) run on the testbed as scripts/testbed.sh makes it
"""
