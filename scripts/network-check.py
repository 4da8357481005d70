#!/usr/bin/python3
"""Checks `apus serve --transport xdp` on real-network layouts (DESIGN decision 12), as root.

    network-check.py [APUS_BINARY]          (default .build/debug/apus)

Builds its own namespaces (apus-nc-*) and removes them, the XDP programs it loaded and their
pins on every way out (normal end, failure, SIGINT/SIGTERM/SIGHUP, the time budget):

  apus-nc-srv                     apus-nc-rtr (ip_forward)               apus-nc-cli
  apus-nc-s 10.40.0.1/24 <-> apus-nc-rs 10.40.0.254 | apus-nc-rc 10.41.0.254 <-> apus-nc-c 10.41.0.2/24
  + 10.40.0.10 owned by Apus                                            + 10.41.0.20 (Apus XDP client)
  default via 10.40.0.254                                               default via 10.41.0.254

  1. routed: Apus owns 10.40.0.10 (address steering) and learns gateway, prefix and MTU from the
     kernel; Apache Thrift's Python clients (4 protocol x framing combinations), `apus bench` over
     the kernel's TCP and `apus bench --transport xdp` call it across the router
  2. port mode: Apus serves TCP 9090 of the kernel's own 10.40.0.1 (automatic port steering); the
     kernel keeps ping and a TCP service on 8080; after SIGTERM 9090 is the kernel's again (RST)
     and the owned_ports map is empty
  3. refusals: address steering of the kernel's address, port steering of an address the kernel
     lacks, an off-subnet gateway, an unknown interface, a second server on a steered port; each
     exits non-zero with a message that says why and leaves nothing claimed
  4. multi-queue: scripts/testbed.sh with 2 queues (apus-nc-mqs/apus-nc-mqc, 10.42.0.0/24),
     `apus serve --queues all` (two rx queues), 64 kernel connections: every call answered, both queues accepted
  5. capabilities: the server as uid 65534 with only CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF (pin
     directory handed to that uid by xdp-load.sh --owner, as a deployment's loader would) serves; without them it exits
     naming what is missing

Prints one `ok   ...` or `FAIL ...` line per check, with figures; exits 1 if any failed.
Environment: APUS_XDP_MODE [native] (native | skb), the mode the programs are attached in.
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 240            # s for the whole run
STOP_GRACE = 15         # s between SIGTERM and SIGKILL for a server

NS_SRV, NS_RTR, NS_CLI = "apus-nc-srv", "apus-nc-rtr", "apus-nc-cli"
IF_SRV, IF_RS, IF_RC, IF_CLI = "apus-nc-s", "apus-nc-rs", "apus-nc-rc", "apus-nc-c"
IP_SRV, IP_RS, IP_RC, IP_CLI = "10.40.0.1", "10.40.0.254", "10.41.0.254", "10.41.0.2"
OWNED, OWNED_CLI, PORT = "10.40.0.10", "10.41.0.20", 9090
MQ_ENV = {"APUS_NS_SRV": "apus-nc-mqs", "APUS_NS_CLI": "apus-nc-mqc", "APUS_IF_SRV": "apus-nc-ms",
          "APUS_IF_CLI": "apus-nc-mc", "APUS_IP_SRV": "10.42.0.1", "APUS_IP_CLI": "10.42.0.2",
          "APUS_IP_OWNED": "10.42.0.10", "APUS_QUEUES": "2"}
NOBODY = 65534
XDP_MODE = os.environ.get("APUS_XDP_MODE", "native")

# Runs "$@" in a namespace with the host's bpffs still on /sys/fs/bpf (scripts/testbed.sh
# run_in_namespace: nsenter --net, a private mount namespace, a sysfs of the namespace, the
# host's bpffs bound back over it).
IN_NS_SCRIPT = """
exec 9</sys/fs/bpf || exit 125
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || exit 125
mount --no-canonicalize --bind /proc/self/fd/9 /sys/fs/bpf || exit 125
exec 9<&-
exec "$@"
"""


class Abort(BaseException):
    """A signal or the time budget: unwind to the cleanup."""


def in_ns(ns, argv):
    return ["nsenter", f"--net=/run/netns/{ns}", "--", "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", IN_NS_SCRIPT, "apus-nc-exec", *argv]


def netns(ns, argv):
    return ["ip", "netns", "exec", ns, *argv]


def run(argv, timeout=60, check=True, env=None):
    """Runs argv; returns (exit status, stdout + stderr)."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        out = (error.stdout or b"").decode("utf-8", "replace")
        if check:
            raise RuntimeError(f"{' '.join(argv)}: timed out after {timeout} s: {out[-500:]}")
        return 124, out
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {out.strip()[-800:]}")
    return p.returncode, out


def one_line(text, limit=300):
    text = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + "..."


class Server:
    """A long-running process (a server), its output in a log file."""

    running = []
    logs = []   # every log file, removed by teardown()

    def __init__(self, argv, label, env=None):
        self.label = label
        self.log = tempfile.NamedTemporaryFile(prefix="apus-nc-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env)
        Server.running.append(self)
        Server.logs.append(self.log.name)
        self.status = None

    def output(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, pattern, timeout=20):
        """True once the log matches; False when the process exited or the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output(), re.M):
                return True
            if self.proc.poll() is not None:
                return bool(re.search(pattern, self.output(), re.M))
            time.sleep(0.1)
        return False

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_GRACE; returns the exit status."""
        if self in Server.running:
            Server.running.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                print(f"note: {self.label} ignored SIGTERM for {STOP_GRACE} s; killing it", file=sys.stderr)
                self.proc.kill()
                self.proc.wait(5)
        self.status = self.proc.returncode
        return self.status

    def remove_log(self):
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


class Check:
    def __init__(self):
        self.failed = 0
        self.total = 0

    def result(self, good, text):
        self.total += 1
        if not good:
            self.failed += 1
        print(f"{'ok  ' if good else 'FAIL'} {text}", flush=True)
        return good


# -- the network -------------------------------------------------------------------------------

loaded = []     # (interface, namespace) with an XDP program this script loaded
mq_up = False
tmpdirs = []


def xdp_load(iface, ns):
    for attempt in range(10):  # another checker's xdp-loader may hold /run/xdp-loader.lck briefly
        status, out = run(["bash", f"{ROOT}/scripts/xdp-load.sh", iface, "--mode", XDP_MODE, "--netns", ns],
                          timeout=90, check=False)
        if status == 0:
            loaded.append((iface, ns))
            return
        if "is running; wait for it" not in out:
            break
        time.sleep(1)
    raise RuntimeError(f"xdp-load.sh {iface} --netns {ns}: {one_line(out)}")


def xdp_unload(iface, ns):
    run(["bash", f"{ROOT}/scripts/xdp-unload.sh", iface, "--netns", ns], timeout=90, check=False)


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def kill_namespace_processes(ns):
    if not ns_exists(ns):
        return
    for sig, pause in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 1.0)):
        _, out = run(["ip", "netns", "pids", ns], check=False)
        pids = [int(p) for p in out.split() if p.isdigit()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline:
            _, out = run(["ip", "netns", "pids", ns], check=False)
            if not out.split():
                return
            time.sleep(0.1)


def teardown():
    for server in list(Server.running):
        try:
            server.stop()
        except Exception:
            pass
    for ns in (NS_SRV, NS_CLI, NS_RTR):
        kill_namespace_processes(ns)
    for iface, ns in reversed(loaded):
        xdp_unload(iface, ns)
    loaded.clear()
    for ns in (NS_SRV, NS_CLI, NS_RTR):
        if ns_exists(ns):
            run(["ip", "netns", "del", ns], check=False)
    for iface in (IF_SRV, IF_CLI):  # pins outlive their namespace
        if os.path.isdir(f"/sys/fs/bpf/apus/{iface}"):
            xdp_unload(iface, "apus-nc-gone")
    if mq_up or any(ns_exists(MQ_ENV[k]) for k in ("APUS_NS_SRV", "APUS_NS_CLI")):
        run(["bash", f"{ROOT}/scripts/testbed.sh", "down"], env={**os.environ, **MQ_ENV}, timeout=90, check=False)
    for d in tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    for log in Server.logs:
        try:
            os.unlink(log)
        except OSError:
            pass


def routed_up():
    for ns in (NS_SRV, NS_RTR, NS_CLI):
        run(["ip", "netns", "add", ns])
    run(["ip", "-n", NS_SRV, "link", "add", IF_SRV, "type", "veth", "peer", "name", IF_RS, "netns", NS_RTR])
    run(["ip", "-n", NS_CLI, "link", "add", IF_CLI, "type", "veth", "peer", "name", IF_RC, "netns", NS_RTR])
    for ns, iface, address in ((NS_SRV, IF_SRV, IP_SRV), (NS_RTR, IF_RS, IP_RS), (NS_RTR, IF_RC, IP_RC),
                               (NS_CLI, IF_CLI, IP_CLI)):
        run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", iface])
        run(["ip", "-n", ns, "link", "set", iface, "up"])
        # Full checksums on the wire, no GSO super-frames (scripts/testbed.sh APUS_CSUM_OFFLOAD=off).
        run(netns(ns, ["ethtool", "-K", iface, "tx", "off", "tso", "off", "gso", "off"]), check=False)
    for ns in (NS_SRV, NS_RTR, NS_CLI):
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(netns(NS_RTR, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
    run(["ip", "-n", NS_SRV, "route", "add", "default", "via", IP_RS])
    run(["ip", "-n", NS_CLI, "route", "add", "default", "via", IP_RC])
    xdp_load(IF_SRV, NS_SRV)


# -- probes (run in a namespace through this script's --probe mode) -----------------------------

def probe(ns, *args, timeout=60):
    """Runs this script's probe mode in namespace ns; returns (ok, output)."""
    status, out = run(netns(ns, [sys.executable, os.path.abspath(__file__), "--probe", *args]),
                      timeout=timeout, check=False)
    return status == 0, out.strip()


def probe_main(args):
    import socket
    kind = args[0]
    if kind == "thrift":  # one echo and a KV put/get/remove over framed binary
        host, port = args[1], int(args[2])
        sys.path.insert(0, os.path.join(ROOT, "scripts", "interop"))
        import thriftgen
        with tempfile.TemporaryDirectory(prefix="apus-nc-gen-") as gen:
            thriftgen.generate(gen)
            from apus_echo import Echo, KV
            from thrift.protocol import TBinaryProtocol
            from thrift.transport import TSocket, TTransport
            sock = TSocket.TSocket(host, port)
            sock.setTimeout(5000)
            transport = TTransport.TFramedTransport(sock)
            transport.open()
            proto = TBinaryProtocol.TBinaryProtocol(transport)
            echo, kv = Echo.Client(proto), KV.Client(proto)
            start = time.monotonic()
            assert echo.echo("network-check") == "network-check", "echo came back different"
            kv.put("network-check", b"value")
            assert kv.get("network-check") == b"value", "KV get returned something else"
            kv.remove("network-check")
            print(f"echo + KV put/get/remove answered in {(time.monotonic() - start) * 1000:.1f} ms")
            transport.close()
    elif kind == "http":
        import urllib.request
        with urllib.request.urlopen(args[1], timeout=5) as reply:
            print(f"HTTP {reply.status}, {len(reply.read())} bytes")
    elif kind == "refused":  # the connection must be refused (RST), not time out
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((args[1], int(args[2])))
        except ConnectionRefusedError:
            print("connection refused (RST)")
            return 0
        except OSError as error:
            print(f"not refused: {error}")
            return 1
        print("connected: not refused")
        return 1
    return 0


# -- map inspection ------------------------------------------------------------------------------

def map_entries(iface, name):
    """Entries in the pinned map, or None when bpftool cannot dump it."""
    status, out = run(["bpftool", "-j", "map", "dump", "pinned", f"/sys/fs/bpf/apus/{iface}/{name}"], check=False)
    if status != 0:
        return None
    try:
        return len(json.loads(out))
    except ValueError:
        return None


def claims(iface):
    return {name: map_entries(iface, name) for name in ("owned_ipv4", "owned_ports")}


def apus_serve(apus, ns, *flags, wrap=None, label="apus serve"):
    argv = [apus, "serve", "--transport", "xdp", "--port", str(PORT), "--read-timeout", "2", "--grace-period", "2",
            *flags]
    return Server(in_ns(ns, (wrap or []) + argv), label)


def bench(apus, ns, host, *flags, seconds=3, connections=16, wrapper=in_ns, env=None):
    """`apus bench --json`; returns (ok, summary dict or None, output)."""
    argv = [apus, "bench", "--host", host, "--port", str(PORT), "--connections", str(connections),
            "--concurrency", str(connections * 4), "--duration", str(seconds), "--verify", "--timeout", "5", "--json",
            *flags]
    status, out = run(wrapper(ns, argv), timeout=seconds + 40, check=False, env=env)
    summary = None
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                summary = json.loads(line)
            except ValueError:
                pass
    good = (status == 0 and summary is not None and summary.get("calls", 0) > 0
            and summary.get("errors", 1) == 0 and summary.get("mismatches", 1) == 0)
    return good, summary, out


def bench_figures(summary):
    if not summary:
        return "no summary"
    return (f"{summary.get('calls')} calls, {summary.get('qps', 0):.0f} qps, p99 {summary.get('p99_us')} us, "
            f"errors={summary.get('errors')} mismatches={summary.get('mismatches')}")


def counters(output, queue):
    match = re.search(rf"^apus serve: queue {queue}: (.*)$", output, re.M)
    if not match:
        return None
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def counter_text(c, keys=("accepted", "closed", "closed_abnormally", "connections_failed", "frames_in_app")):
    return " ".join(f"{k}={c.get(k)}" for k in keys) if c else "(no final counters)"


# -- the checks --------------------------------------------------------------------------------

def check_routed(apus, check):
    server = apus_serve(apus, NS_SRV, "--interface", IF_SRV, "--address", OWNED, label="routed server")
    if not check.result(server.wait_for(r"listening on"), f"routed: apus serve owns {OWNED} on {IF_SRV}"
                        + ("" if server.proc.poll() is None else f": {one_line(server.output())}")):
        server.stop()
        return
    _, stats = run(in_ns(NS_SRV, [apus, "xdp", "stats", "--interface", IF_SRV]), check=False)
    gateway = re.search(r"gateway[ =:]+([0-9.]+)", server.output() + stats)
    listening = re.search(r"^apus serve: listening on .*$", server.output(), re.M).group(0)
    check.result(gateway is None or gateway.group(1) == IP_RS,
                 f"routed: startup: {listening.removeprefix('apus serve: ')}; gateway "
                 + (f"{gateway.group(1)} from the log" if gateway else
                    "not printed (neither the listening line nor `apus xdp stats` shows it): checked by function"))

    status, out = run(netns(NS_CLI, ["ping", "-c", "3", "-i", "0.2", "-W", "2", OWNED]), check=False)
    loss = re.search(r"(\d+)% packet loss", out)
    rtt = re.search(r"= [0-9.]+/([0-9.]+)/", out)
    check.result(status == 0, f"routed: ping {OWNED} from {NS_CLI} across the router (Apus's ICMP): "
                 + (f"{loss.group(1)}% loss, avg {rtt.group(1) if rtt else '?'} ms" if loss else one_line(out)))

    status, out = run(netns(NS_CLI, [sys.executable, f"{ROOT}/scripts/interop/check_server.py",
                                     "--remote", f"{OWNED}:{PORT}", "--only", "echo,echoBinary,echoItem,ping,kv"]),
                      timeout=120, check=False)
    summary = out.strip().splitlines()[-1] if out.strip() else "(no output)"
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    check.result(status == 0, f"routed: Apache Thrift Python clients from {IP_CLI} across the router, binary/compact x "
                 f"framed/buffered, echo (100 KB), echoBinary (4 MiB), echoItem, ping, KV (1 MiB values): {summary}"
                 + (f"; {one_line(' '.join(fails))}" if fails else ""))

    good, summary, out = bench(apus, NS_CLI, OWNED, connections=16, wrapper=netns)
    check.result(good, f"routed: apus bench (kernel TCP) 16 connections x 3 s from {IP_CLI}: {bench_figures(summary)}"
                 + ("" if good else f": {one_line(out)}"))

    # The Apus XDP client: owns 10.41.0.20 on apus-nc-c, learns its gateway (10.41.0.254) from the
    # kernel and resolves it with ARP; its SYNs go out through the router.
    try:
        xdp_load(IF_CLI, NS_CLI)
    except RuntimeError as error:
        check.result(False, f"routed: Apus XDP client: could not load the program on {IF_CLI}: {error}")
    else:
        good, summary, out = bench(apus, NS_CLI, OWNED, "--transport", "xdp", "--interface", IF_CLI,
                                   "--address", OWNED_CLI, connections=16)
        frames = re.search(r"client queue:.*", out)
        check.result(good, f"routed: apus bench --transport xdp (Apus client owning {OWNED_CLI}, gateway "
                     f"{IP_RC} from the kernel) 16 connections x 3 s: {bench_figures(summary)}"
                     + ("" if good else f": {one_line(out, 600)}"))
        if frames:
            check.result(" frames_in_app=0" in frames.group(0),
                         f"routed: the Apus client's frames all home: {counter_text(counters_line(frames.group(0)), ('frames_in_app',))}")

    status = server.stop()
    c = counters(server.output(), 0)
    good = (status == 0 and c is not None and c["accepted"] > 0 and c["closed"] == c["accepted"]
            and c["closed_abnormally"] == 0 and c["connections_failed"] == 0 and c["frames_in_app"] == 0)
    check.result(good, f"routed: server stopped (exit {status}), connections closed cleanly, frames home: {counter_text(c)}")
    after = claims(IF_SRV)
    check.result(after == {"owned_ipv4": 0, "owned_ports": 0}, f"routed: nothing claimed after the server's exit: {after}")
    server.remove_log()


def counters_line(text):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", text)}


def check_port_mode(apus, check):
    http_dir = tempfile.mkdtemp(prefix="apus-nc-www-")
    tmpdirs.append(http_dir)
    with open(os.path.join(http_dir, "index.html"), "w") as f:
        f.write("kernel service\n")
    web = Server(netns(NS_SRV, [sys.executable, "-m", "http.server", "8080", "--bind", IP_SRV, "--directory", http_dir]),
                 "kernel http.server")
    server = apus_serve(apus, NS_SRV, "--interface", IF_SRV, "--address", IP_SRV, label="port-mode server")
    started = server.wait_for(r"listening on")
    if not check.result(started, f"port mode: apus serve on the kernel's {IP_SRV}:{PORT} (no --steer: automatic)"
                        + ("" if started else f": {one_line(server.output())}")):
        server.stop()
        web.stop()
        return
    ports = claims(IF_SRV)
    check.result(ports == {"owned_ipv4": 0, "owned_ports": 1},
                 f"port mode: the program steers one port, no address: {ports}")
    good, out = probe(NS_CLI, "thrift", IP_SRV, str(PORT))
    check.result(good, f"port mode: Thrift call to {IP_SRV}:{PORT} across the router answered by Apus: {one_line(out)}")
    good, summary, out = bench(apus, NS_CLI, IP_SRV, connections=16, seconds=2, wrapper=netns)
    check.result(good, f"port mode: apus bench 16 connections x 2 s to {IP_SRV}:{PORT}: {bench_figures(summary)}"
                 + ("" if good else f": {one_line(out)}"))

    def kernel_keeps(when):
        status, out = run(netns(NS_CLI, ["ping", "-c", "3", "-i", "0.2", "-W", "2", IP_SRV]), check=False)
        loss = re.search(r"(\d+)% packet loss", out)
        check.result(status == 0, f"port mode {when}: ping {IP_SRV} answered by the kernel: "
                     + (f"{loss.group(1)}% loss" if loss else one_line(out)))
        good, out = probe(NS_CLI, "http", f"http://{IP_SRV}:8080/index.html")
        check.result(good, f"port mode {when}: the kernel's TCP service on {IP_SRV}:8080: {one_line(out)}")

    kernel_keeps("(Apus running)")

    # Refusal: a second server on the same port while the first runs.
    status, out = run(in_ns(NS_SRV, [apus, "serve", "--transport", "xdp", "--interface", IF_SRV, "--address", IP_SRV,
                                     "--port", str(PORT)]), timeout=30, check=False)
    message = one_line(out)
    named = str(PORT) in out or "busy" in out.lower() or "in use" in out.lower()
    check.result(status not in (0, 124) and named,
                 f"refusal: a second apus serve on {IP_SRV}:{PORT} while one runs: exit {status}: {message}")
    ports = claims(IF_SRV)
    good, out = probe(NS_CLI, "thrift", IP_SRV, str(PORT))
    check.result(ports == {"owned_ipv4": 0, "owned_ports": 1} and good,
                 f"refusal: the first server keeps its port and answers after the second's refusal: maps {ports}; "
                 f"{one_line(out)}")

    status = server.stop()
    c = counters(server.output(), 0)
    check.result(status == 0 and c is not None and c["connections_failed"] == 0 and c["frames_in_app"] == 0,
                 f"port mode: server stopped (exit {status}): {counter_text(c)}")
    ports = claims(IF_SRV)
    check.result(ports == {"owned_ipv4": 0, "owned_ports": 0}, f"port mode: owned_ports empty after SIGTERM: {ports}")
    good, out = probe(NS_CLI, "refused", IP_SRV, str(PORT))
    check.result(good, f"port mode (Apus stopped): {IP_SRV}:{PORT} is the kernel's again: {one_line(out)}")
    kernel_keeps("(Apus stopped)")
    web.stop()
    server.remove_log()
    web.remove_log()


def check_refusals(apus, check):
    cases = [
        ("--steer address of the kernel's own address",
         ["--interface", IF_SRV, "--address", IP_SRV, "--steer", "address"], [IP_SRV, "kernel's own address"]),
        ("--steer ports of an address the kernel does not have",
         ["--interface", IF_SRV, "--address", OWNED, "--steer", "ports"], [OWNED, "port steering"]),
        ("a gateway off the subnet", ["--interface", IF_SRV, "--address", OWNED, "--gateway", "192.168.1.1"],
         ["192.168.1.1", "10.40.0.0/24"]),
        ("an unknown interface", ["--interface", "apus-nc-none", "--address", OWNED], ["apus-nc-none"]),
    ]
    for label, flags, needles in cases:
        status, out = run(in_ns(NS_SRV, [apus, "serve", "--transport", "xdp", "--port", str(PORT), *flags]),
                          timeout=30, check=False)
        missing = [n for n in needles if n not in out]
        after = claims(IF_SRV)
        clean = after == {"owned_ipv4": 0, "owned_ports": 0}
        check.result(status not in (0, 124) and not missing and clean,
                     f"refusal: {label}: exit {status}: {one_line(out)}"
                     + (f" (message lacks {missing})" if missing else "") + f"; maps after: {after}")


def check_multiqueue(apus, check):
    global mq_up
    env = {**os.environ, **MQ_ENV, "APUS_XDP_MODE": XDP_MODE}
    mq_up = True
    run(["bash", f"{ROOT}/scripts/testbed.sh", "up"], env=env, timeout=120)
    ns_srv, ns_cli, if_srv, if_cli = (MQ_ENV[k] for k in ("APUS_NS_SRV", "APUS_NS_CLI", "APUS_IF_SRV", "APUS_IF_CLI"))
    owned = MQ_ENV["APUS_IP_OWNED"]
    _, xps = run(netns(ns_cli, ["sh", "-c", f"for q in /sys/class/net/{if_cli}/queues/tx-*; do "
                                            f"echo \"$q $(cat $q/xps_cpus 2>/dev/null)\"; done"]), check=False)
    server = apus_serve(apus, ns_srv, "--interface", if_srv, "--address", owned, "--queues", "all",
                        label="multi-queue server")
    started = server.wait_for(r"listening on")
    if not check.result(started and "queues=0,1 " in server.output(),
                        f"multi-queue: apus serve --queues all on {if_srv} took both rx queues (queues=0,1)"
                        + ("" if server.proc.poll() is None else f": {one_line(server.output())}")):
        server.stop()
        return
    good, summary, out = bench(apus, ns_cli, owned, connections=64, seconds=3, wrapper=netns)
    check.result(good, f"multi-queue: apus bench (kernel TCP) 64 connections x 3 s: {bench_figures(summary)}"
                 + ("" if good else f": {one_line(out)}"))
    status = server.stop()
    output = server.output()
    q0, q1 = counters(output, 0), counters(output, 1)
    both = q0 is not None and q1 is not None and q0["accepted"] > 0 and q1["accepted"] > 0
    total = (q0 or {}).get("accepted", 0) + (q1 or {}).get("accepted", 0)
    xps_text = "; ".join(f"{os.path.basename(l.split()[0])} xps={l.split()[1] if len(l.split()) > 1 else '-'}"
                         for l in xps.strip().splitlines())
    figures = f"queue 0 {counter_text(q0)}; queue 1 {counter_text(q1)} (client {xps_text})"
    if XDP_MODE == "skb":
        # veth records a frame's rx queue (the sender's tx queue) only on native XDP's NAPI path;
        # generic XDP then sees queue 0 for every frame (even with GRO's NAPI on), so the program
        # can only steer to queue 0's socket.
        check.result(q0 is not None and q1 is not None and q0["accepted"] >= 64,
                     f"multi-queue (skb mode: generic XDP on veth sees rx queue 0 for every frame, so queue 1 "
                     f"cannot get traffic; native mode checks the spreading): exit {status}: {figures}")
    else:
        check.result(both and total >= 64, f"multi-queue: both queues served (exit {status}): {figures}")
    server.remove_log()


def check_capabilities(apus, check):
    # A copy of the binary that uid 65534 may read and run.
    binary_dir = tempfile.mkdtemp(prefix="apus-nc-bin-")
    tmpdirs.append(binary_dir)
    os.chmod(binary_dir, 0o755)
    binary = os.path.join(binary_dir, "apus")
    shutil.copy(apus, binary)
    os.chmod(binary, 0o755)
    pins = f"/sys/fs/bpf/apus/{IF_SRV}"

    base = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    caps = ["--inh-caps=+net_admin,+net_raw,+bpf,+ipc_lock", "--ambient-caps=+net_admin,+net_raw,+bpf,+ipc_lock"]

    # Without the pins given to the uid: the maps are root's 0600 files in a 0700 directory.
    status, out = run(in_ns(NS_SRV, base + caps + [binary, "serve", "--transport", "xdp", "--interface", IF_SRV,
                                                   "--address", OWNED, "--port", str(PORT)]), timeout=30, check=False)
    check.result(status not in (0, 124) and "bpf/apus" in out and "chown" in out,
                 f"capabilities: uid {NOBODY} with the capabilities but root's pins ({oct(os.stat(pins).st_mode & 0o777)}"
                 f" root): refused, exit {status}: {one_line(out)}")

    # What a deployment's loader does: reload with the pins handed to the service's uid.
    run(["bash", f"{ROOT}/scripts/xdp-unload.sh", IF_SRV, "--netns", NS_SRV], timeout=60, check=False)
    loaded.remove((IF_SRV, NS_SRV))
    status, out = run(["bash", f"{ROOT}/scripts/xdp-load.sh", IF_SRV, "--mode", XDP_MODE, "--netns", NS_SRV,
                       "--owner", f"{NOBODY}:{NOBODY}"], timeout=90, check=False)
    if status == 0:
        loaded.append((IF_SRV, NS_SRV))
    check.result(status == 0 and os.stat(pins).st_uid == NOBODY,
                 f"capabilities: xdp-load.sh --owner {NOBODY}:{NOBODY} hands the pins to the uid: exit {status}")
    def serve_unprivileged(label, limits, extra_caps="", flags=()):
        """Starts the copy as NOBODY with the three capabilities (+ extra_caps, under `limits`,
        e.g. prlimit), makes one Thrift call, stops it; returns (served, details)."""
        granted = [f"--inh-caps=+net_admin,+net_raw,+bpf{extra_caps}",
                   f"--ambient-caps=+net_admin,+net_raw,+bpf{extra_caps}"]
        server = Server(in_ns(NS_SRV, limits + base + granted + [binary, "serve", "--transport", "xdp", "--interface",
                                                                 IF_SRV, "--address", OWNED, "--port", str(PORT),
                                                                 "--grace-period", "2", *flags]), label)
        started = server.wait_for(r"listening on", timeout=20)
        details = ""
        good = False
        if started:
            _, status_line = run(["grep", "-E", "^(Uid|CapEff)", f"/proc/{server.proc.pid}/status"], check=False)
            good, out = probe(NS_CLI, "thrift", OWNED, str(PORT))
            details = f"{one_line(status_line)}: {one_line(out)}"
        status = server.stop()
        after = claims(IF_SRV)
        if started:
            good = good and status == 0 and after == {"owned_ipv4": 0, "owned_ports": 0}
            details += f"; stopped (exit {status}), maps after: {after}"
        else:
            details = f"did not start: {one_line(server.output(), 600)}"
        server.remove_log()
        return good, details

    memlock = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    umem = 16384 * 4096
    # The UMEM is charged to RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK: with the three
    # capabilities only and a limit under the default 64 MiB UMEM, Apus refuses up front and names
    # the ways out (CAP_IPC_LOCK, LimitMEMLOCK=, --frames) rather than failing in XDP_UMEM_REG.
    if memlock != resource.RLIM_INFINITY and memlock < umem:
        good, details = serve_unprivileged("unprivileged server, default UMEM", [])
        named = all(word in details for word in ("CAP_IPC_LOCK", "LimitMEMLOCK", "--frames"))
        check.result(not good and named and "XDP_UMEM_REG" not in details,
                     f"capabilities: the three capabilities only, RLIMIT_MEMLOCK {memlock >> 10} KiB < the {umem >> 20} MiB "
                     f"UMEM: refused before any socket, naming the ways out: {details}")
        frames = max(256, min(1024, memlock // 4096 // 2))
        good, details = serve_unprivileged("unprivileged server, small UMEM", [], flags=["--frames", str(frames)])
        check.result(good, f"capabilities: the three capabilities only, --frames {frames} ({frames * 4 >> 10} MiB "
                     f"UMEM, under RLIMIT_MEMLOCK): {details}")
    good, details = serve_unprivileged("unprivileged server + CAP_IPC_LOCK", [], extra_caps=",+ipc_lock")
    check.result(good, f"capabilities: apus serve as uid {NOBODY} with CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_IPC_LOCK "
                 f"(pins chowned to {NOBODY}): {details}")

    status, out = run(in_ns(NS_SRV, base + [binary, "serve", "--transport", "xdp", "--interface", IF_SRV,
                                            "--address", OWNED, "--port", str(PORT)]), timeout=30, check=False)
    missing = [cap for cap in ("CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_BPF") if cap not in out]
    check.result(status not in (0, 124) and not missing,
                 f"capabilities: uid {NOBODY} without capabilities refused, exit {status}: {one_line(out)}"
                 + (f" (message lacks {missing})" if missing else ""))


# -- main ------------------------------------------------------------------------------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        try:
            return probe_main(sys.argv[2:])
        except Exception as error:
            print(f"{type(error).__name__}: {error}")
            return 1

    apus = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/apus"))
    if not os.access(apus, os.X_OK):
        print(f"network-check: {apus} is not an executable", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("network-check: skipped: needs root (namespaces, XDP)")
        return 0

    def abort(signum, _frame):
        raise Abort(f"signal {signal.Signals(signum).name}" if signum != signal.SIGALRM
                    else f"time budget of {BUDGET} s exceeded")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, abort)
    signal.alarm(BUDGET)

    check = Check()
    started = time.monotonic()
    try:
        # Leftovers of an earlier run that was killed with SIGKILL.
        teardown()
        for ns in (NS_SRV, NS_RTR, NS_CLI):
            if ns_exists(ns):
                raise RuntimeError(f"namespace {ns} survived teardown; remove it: ip netns del {ns}")
        routed_up()
        for name, fn in (("routed", check_routed), ("port mode", check_port_mode), ("refusals", check_refusals),
                         ("capabilities", check_capabilities), ("multi-queue", check_multiqueue)):
            try:
                fn(apus, check)
            except Exception as error:  # a check that breaks is a failure; the others still run
                check.result(False, f"{name}: {type(error).__name__}: {error}")
    except Abort as error:
        check.result(False, f"aborted: {error}")
    except Exception as error:
        check.result(False, f"setup: {type(error).__name__}: {error}")
    finally:
        signal.alarm(0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        teardown()
        left = [ns for ns in (NS_SRV, NS_RTR, NS_CLI, MQ_ENV["APUS_NS_SRV"], MQ_ENV["APUS_NS_CLI"]) if ns_exists(ns)]
        left += [p for p in (f"/sys/fs/bpf/apus/{i}" for i in (IF_SRV, IF_CLI, MQ_ENV["APUS_IF_SRV"])) if os.path.exists(p)]
        if left:
            check.result(False, f"teardown left {left}")
    print(f"network-check: {check.total} checks, {check.failed} failed, {time.monotonic() - started:.0f} s")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
