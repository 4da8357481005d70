"""The netns testbed for the xdp, tcp and rpc modes (root): scripts/testbed.sh brings it up and
down, this module refuses to start over someone else's testbed, tunes it for a one-core server,
and counts the kernel's network threads' CPU time. Names come from the same environment
variables scripts/testbed.sh reads, so both see the same testbed."""
import os
import subprocess

from bench import runner
from bench.runner import die, note

env = os.environ.get
NS_SRV, NS_CLI = env("APUS_NS_SRV") or "apus-srv", env("APUS_NS_CLI") or "apus-cli"
IF_SRV, IF_CLI = env("APUS_IF_SRV") or "apus-s", env("APUS_IF_CLI") or "apus-c"
IP_OWNED_CLI = env("APUS_IP_OWNED_CLI") or "10.10.0.20"
IP_OWNED, IP_SRV = env("APUS_IP_OWNED") or "10.10.0.10", env("APUS_IP_SRV") or "10.10.0.1"
XDP_MODE = env("APUS_XDP_MODE") or "native"
QUEUE = 0


def exec_in(side, cmd):
    """CMD in namespace SIDE (srv | cli): testbed.sh exec, nsenter, unshare and sh all exec, so
    the process started is CMD itself in the end (its CPU time is read by PID)."""
    return ["bash", "scripts/testbed.sh", "exec", side] + cmd


def prerequisites(mode):
    if os.getuid() != 0:
        die("%s mode needs root (network namespaces, XDP, AF_XDP): sudo bash scripts/bench.sh %s" % (mode, mode))
    cc = env("CC") or "cc"
    missing = []
    for tool, name in ((cc, "%s (gcc)" % cc), ("taskset", "taskset (util-linux)"), ("nsenter", "nsenter (util-linux)"),
                       ("python3", "python3"), ("ip", "ip (iproute2)"), ("xdp-loader", "xdp-loader (xdp-tools)")):
        if not runner.shutil_which(tool):
            missing.append(name)
    if mode == "xdp" and subprocess.run(["pkg-config", "--exists", "libxdp"], stderr=subprocess.DEVNULL).returncode:
        missing.append("pkg-config libxdp (libxdp-dev)")
    if mode in ("tcp", "rpc"):
        for tool, name in (("tc", "tc (iproute2)"), ("ethtool", "ethtool")):
            if not runner.shutil_which(tool):
                missing.append(name)
    if missing:
        die("missing: %s\n  run (as root): bash scripts/setup.sh" % " ".join(missing))
    # rpc: the XDP server takes every queue (--queues all), pinned to the server's CPU like the others.
    queues = env("APUS_QUEUES") or "1"
    if queues != "1" and mode != "rpc":
        die("APUS_QUEUES=%s: the %s servers serve queue 0 alone; unset it (rpc serves every queue)" % (queues, mode))
    # Someone else's testbed (scripts/xdp-check.sh, another bench) would be torn down by ours.
    for ns in (NS_SRV, NS_CLI):
        if os.path.exists("/run/netns/" + ns):
            die("network namespace %s exists: another testbed user may be running\n"
                "  (scripts/xdp-check.sh, scripts/net-check.sh, scripts/bench.sh xdp|tcp). If none is: bash scripts/testbed.sh down\n"
                "  (or use other names: APUS_NS_SRV, APUS_NS_CLI, APUS_IF_SRV, APUS_IF_CLI; see scripts/testbed.sh)" % ns)
    for ifname in (IF_SRV, IF_CLI):
        if os.path.exists("/sys/fs/bpf/apus/" + ifname):
            die("/sys/fs/bpf/apus/%s exists: another testbed uses interface %s.\n"
                "  If none does: bash scripts/xdp-unload.sh %s (or set APUS_IF_SRV and APUS_IF_CLI to other names)"
                % (ifname, ifname, ifname))


class Testbed:
    """Up once, down on any exit (use as a context manager around the runs)."""

    def __init__(self, logs, tuned=False, pins=None):
        self.logs, self.tuned, self.pins, self.up_ = logs, tuned, pins, False

    def __enter__(self):
        self.up_ = True
        note("testbed: up (%s/%s, XDP %s)" % (NS_SRV, IF_SRV, XDP_MODE))
        try:  # a half-made testbed (failure, Ctrl-C) comes down too
            with open(self.logs + "/testbed-up.log", "w") as log:
                rc = subprocess.run(["timeout", "300", "bash", "scripts/testbed.sh", "up"], stdout=log, stderr=log).returncode
            if rc:
                die("scripts/testbed.sh up failed (see %s/testbed-up.log)" % self.logs)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        runner.cleanup()
        # Also ends whatever is left in the namespaces and removes the program and its pins.
        with runner.shielded():
            subprocess.run(["timeout", "120", "bash", "scripts/testbed.sh", "down"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if any(os.path.exists(p) for p in ("/run/netns/" + NS_SRV, "/run/netns/" + NS_CLI, "/sys/fs/bpf/apus/" + IF_SRV)):
            note("warning: the testbed is not fully down; run: bash scripts/testbed.sh down")
        return False

    # ---- tuning (tcp, rpc) -------------------------------------------------------------
    # The testbed as scripts/testbed.sh leaves it runs each veth end's receive processing (XDP
    # program, AF_XDP copy, the kernel's TCP receive) in softirq on the SENDING CPU, and drops
    # what overflows veth's 256-frame rings. For a server-on-one-core comparison:
    #   - threaded NAPI on both ends, napi/apus-s pinned to CPU 0 (the server's core: as a NIC
    #     interrupt on that core) and napi/apus-c to CPU 1; apus-c gets GRO so it has a NAPI;
    #   - a pfifo qdisc on both ends: veth (Linux >= 6.16) then stops the queue when the peer's
    #     ring is full instead of dropping, so the runs measure the stacks, not loss recovery.
    # APUS_BENCH_TCP_TESTBED=plain leaves the testbed as it is.
    def tune(self):
        with open(self.logs + "/testbed-up.log", "a") as log:
            ok = self._tune(log)
        if not ok:
            die("tuning the testbed failed (see %s/testbed-up.log;\n"
                "  APUS_BENCH_TCP_TESTBED=plain runs on the testbed as it is)" % self.logs)

    def _tune(self, log):
        if not self.tuned:
            print("bench: testbed: left as scripts/testbed.sh made it (APUS_BENCH_TCP_TESTBED=plain)", file=log)
            return True
        steps = [["ip", "netns", "exec", NS_CLI, "tc", "qdisc", "replace", "dev", IF_CLI, "root", "pfifo", "limit", "1000"],
                 ["ip", "netns", "exec", NS_SRV, "tc", "qdisc", "replace", "dev", IF_SRV, "root", "pfifo", "limit", "1000"],
                 ["ip", "netns", "exec", NS_CLI, "ethtool", "-K", IF_CLI, "gro", "on"],
                 ["ip", "netns", "exec", NS_SRV, "sh", "-c", "echo 1 >/sys/class/net/%s/threaded" % IF_SRV],
                 ["ip", "netns", "exec", NS_CLI, "sh", "-c", "echo 1 >/sys/class/net/%s/threaded" % IF_CLI]]
        for step in steps:
            if subprocess.run(step, stdout=subprocess.DEVNULL if "ethtool" in step else log, stderr=log).returncode:
                return False
        if not self.pin_napi(log):
            return False
        print("bench: testbed: threaded NAPI (napi/%s on CPU 0, napi/%s on CPU 1), pfifo qdiscs for backpressure, GRO on %s"
              % (IF_SRV, IF_CLI, IF_CLI), file=log)
        return True

    def pin_napi(self, log=None):
        """Pins the NAPI threads (again before each run: a re-created NAPI gets a new thread)."""
        if not self.tuned or not self.pins.server:
            return True
        srv, cli = napi_pids(IF_SRV), napi_pids(IF_CLI)
        if not srv or not cli:
            print("bench: no NAPI threads for %s/%s" % (IF_SRV, IF_CLI), file=log or __import__("sys").stderr)
            return False
        for cpu, pids in (("0", srv), ("1", cli)):
            for pid in pids:
                if subprocess.run(["taskset", "-pc", cpu, str(pid)], stdout=subprocess.DEVNULL).returncode:
                    return False
        return True

    def net_ticks(self, side):
        """utime+stime ticks of side's (srv | cli) kernel network threads: the NAPI thread of its
        interface and, when pinned, ksoftirqd of its CPU (softirq work deferred there, such as
        transmit completions and timers). None: none."""
        pids = napi_pids(IF_SRV if side == "srv" else IF_CLI)
        if self.tuned and self.pins.server:
            name = "ksoftirqd/%d" % (0 if side == "srv" else 1)
            pids += [pid for pid, comm in threads() if comm == name]
        ticks = [t for t in (runner.cpu_ticks(p) for p in pids) if t is not None]
        return sum(ticks) if ticks else None


def threads():
    """(pid, comm) of every process (kernel threads included)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            comm = runner.read("/proc/%s/comm" % d).strip()
            if comm:
                out.append((int(d), comm))
    return out


def napi_pids(ifname):
    """PIDs of an interface's NAPI threads (napi/IF-ID)."""
    prefix = "napi/%s-" % ifname
    return [pid for pid, comm in threads() if comm.startswith(prefix)]


def tcp_retransmissions(ns):
    """RetransSegs of a namespace's kernel TCP (/proc/net/snmp is per network namespace)."""
    text = subprocess.run(["nsenter", "--net=/run/netns/" + ns, "cat", "/proc/net/snmp"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True).stdout
    tcp = [line.split() for line in text.splitlines() if line.startswith("Tcp:")]
    if len(tcp) >= 2 and "RetransSegs" in tcp[0]:
        return int(tcp[1][tcp[0].index("RetransSegs")])
    return None


def testbed_kind():
    kind = env("APUS_BENCH_TCP_TESTBED") or "tuned"
    if kind not in ("tuned", "plain"):
        die("APUS_BENCH_TCP_TESTBED must be tuned or plain, got '%s'" % kind)
    return kind
