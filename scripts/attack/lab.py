"""The attack check's testbed, server, legitimate load and workers: everything the
driver starts, each bounded in time and stopped by pid on every exit path."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

NAMES = {"APUS_NS_SRV": "apus-atk-srv", "APUS_NS_CLI": "apus-atk-cli", "APUS_IF_SRV": "apus-as",
         "APUS_IF_CLI": "apus-ac", "APUS_IP_SRV": "10.12.0.1", "APUS_IP_CLI": "10.12.0.2",
         "APUS_IP_OWNED": "10.12.0.10", "APUS_CSUM_OFFLOAD": "off", "APUS_QUEUES": "1"}
PORT = 9090
SERVER_CPU, CLIENT_CPU = "0", "1"


LOG = []  # [open file] once the driver has a log directory


def log(line):
    """A line to stdout and to the run's output.txt."""
    print(line, flush=True)
    for out in LOG:
        out.write(line + "\n")
        out.flush()


class Lab:
    def __init__(self, root, apus, logs):
        self.root, self.apus, self.logs = root, apus, logs
        self.env = dict(os.environ, **NAMES)
        self.children = []          # every process started, killed by pid at teardown
        self.ns_srv, self.ns_cli = NAMES["APUS_NS_SRV"], NAMES["APUS_NS_CLI"]
        self.if_srv, self.if_cli = NAMES["APUS_IF_SRV"], NAMES["APUS_IF_CLI"]
        self.owned = NAMES["APUS_IP_OWNED"]
        self.pins = f"/sys/fs/bpf/apus/{self.if_srv}"

    def testbed(self, *args, check=True):
        return subprocess.run(["bash", f"{self.root}/scripts/testbed.sh", *args], env=self.env, check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)

    def up(self):
        self.testbed("up")
        cli = ["ip", "netns", "exec", self.ns_cli]
        # Room for the idle-connection attack's ports; the namespace is ours.
        subprocess.run(cli + ["sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000"], check=True)
        self.server_mac = self.read(self.ns_srv, f"/sys/class/net/{self.if_srv}/address")
        self.client_mac = self.read(self.ns_cli, f"/sys/class/net/{self.if_cli}/address")
        self.worker_env = {"ifname": self.if_cli, "server_mac": self.server_mac, "client_mac": self.client_mac,
                           "owned": self.owned, "port": PORT, "subnet": self.owned.rsplit(".", 1)[0] + ".",
                           "client_ip": NAMES["APUS_IP_CLI"]}

    def read(self, ns, path):
        return subprocess.run(["ip", "netns", "exec", ns, "cat", path], check=True, stdout=subprocess.PIPE,
                              text=True).stdout.strip()

    def down(self):
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.children = []
        self.testbed("down", check=False)  # also ends any stray process left in the namespaces

    def spawn(self, argv, **kw):
        proc = subprocess.Popen(argv, env=self.env, **kw)
        self.children.append(proc)
        return proc

    def in_client(self, argv):
        return ["ip", "netns", "exec", self.ns_cli, "taskset", "-c", CLIENT_CPU] + argv

    # --- the server ----------------------------------------------------------------------
    def start_server(self, extra, name):
        path = os.path.join(self.logs, f"server-{name}.log")
        out = open(path, "w")
        argv = ["bash", f"{self.root}/scripts/testbed.sh", "exec", "srv", self.apus, "serve", "--transport", "xdp",
                "--interface", self.if_srv, "--address", self.owned, "--port", str(PORT), "--cpus", SERVER_CPU,
                "--grace-period", "2", *extra]
        proc = self.spawn(argv, stdout=out, stderr=subprocess.STDOUT)
        proc.log_path = path
        for _ in range(150):
            if "listening on" in open(path).read():
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"apus serve did not start: {open(path).read()[-500:]}")

    def stop_server(self, proc):
        """SIGTERM, then SIGKILL after 10 s; returns the final counters line."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        found = re.findall(r"^apus serve: queue 0: (.*)$", open(proc.log_path).read(), re.M)
        return found[-1] if found else ""

    def counters(self, proc):
        """The running server's counters (written once a second to /run/apus)."""
        try:
            line = open(f"/run/apus/{self.if_srv}/queue-0").read()
        except OSError:
            return {}
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if fields.get("pid") != str(proc.pid):
            return {}
        return {k: int(v) for k, v in fields.items() if v.isdigit()}

    def xdp_stats(self):
        """The XDP program's counters summed over CPUs: seen redirected passed redirect_errors malformed vlan."""
        out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{self.pins}/stats"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            rows = json.loads(out.stdout)
            return [sum(v["value"] for v in row["formatted"]["values"]) for row in rows]
        except (ValueError, KeyError):
            return []

    # --- workers -------------------------------------------------------------------------
    def worker(self, name, params):
        argv = self.in_client([sys.executable, "-m", "attack.worker", name,
                               json.dumps(dict(params, env=self.worker_env))])
        return Worker(self.spawn(argv, cwd=os.path.join(self.root, "scripts"), stdout=subprocess.PIPE,
                                 stderr=open(os.path.join(self.logs, f"worker-{name}.err"), "a"), text=True))

    def bench(self, rate, seconds, name):
        # 128 workers: each call is due 128/rate s after the last (25 ms at 5000/s), so a client
        # thread scheduled late on the shared CPUs rarely misses its slot.
        argv = self.in_client([self.apus, "bench", "--host", self.owned, "--port", str(PORT), "--connections", "8",
                               "--concurrency", "128", "--rate", str(rate), "--duration", str(seconds), "--timeout", "2"])
        return Bench(self.spawn(argv, stdout=subprocess.PIPE, stderr=open(os.path.join(self.logs, f"bench-{name}.err"), "a"),
                                text=True), open(os.path.join(self.logs, f"bench-{name}.out"), "a"))

    def monitor(self, proc, bench, name):
        return Monitor(proc, bench.proc.pid, lambda: self.counters(proc),
                       open(os.path.join(self.logs, f"timeline-{name}.tsv"), "w"))


class Worker:
    """A worker's MARK lines (timestamped here) and its RESULT."""

    def __init__(self, proc):
        self.proc, self.started, self.marks, self.result = proc, time.monotonic(), {}, None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("MARK "):
                self.marks[line.split()[1]] = time.monotonic()
            elif line.startswith("RESULT "):
                self.result = json.loads(line[7:])

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            self.result = self.result or {"error": f"worker killed after {timeout} s"}
        self.thread.join(5)
        self.ended = time.monotonic()
        return self.result or {"error": "worker printed no result"}

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)


class Bench:
    """`apus bench` with its once-a-second progress lines timestamped on arrival, so
    the QPS of any window can be read off the cumulative call count."""

    def __init__(self, proc, out):
        self.proc, self.out, self.points, self.errors = proc, out, [], 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.out.write(f"{time.monotonic():.2f} {line}")
            m = re.match(r"progress: \d+s calls=(\d+) qps=\d+ errors=(\d+)", line)
            if m:
                self.points.append((time.monotonic(), int(m.group(1))))
                self.errors = int(m.group(2))

    def wait_running(self, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.points) < 1 and self.proc.poll() is None:
            time.sleep(0.1)
        return bool(self.points)

    def calls_at(self, t):
        pts = self.points
        if not pts or t <= pts[0][0]:
            return pts[0][1] if pts else 0
        for (t0, c0), (t1, c1) in zip(pts, pts[1:]):
            if t0 <= t <= t1:
                return c0 + (c1 - c0) * (t - t0) / (t1 - t0)
        return pts[-1][1]

    def qps(self, t0, t1):
        """Calls per second between t0 and t1 (None without progress lines around both)."""
        if not self.points or t1 <= t0 or self.points[-1][0] < t1 - 0.05:
            return None
        return (self.calls_at(t1) - self.calls_at(t0)) / (t1 - t0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.thread.join(5)


class Monitor:
    """Samples the server's RSS every 0.1 s (peak); writes a timeline of RSS, CPU time and
    the server's message counters to `out` (what explains a miss)."""

    def __init__(self, proc, bench_pid, counters, out):
        self.proc, self.bench_pid, self.counters, self.out = proc, bench_pid, counters, out
        self.peak_kb, self.stop_flag = rss_kb(proc.pid), threading.Event()
        self.waits = []  # (time, server ms, bench ms) spent runnable but waiting for a CPU
        self.out.write("time\trss_kb\tcpu_ticks\tmessages_in\tmessages_out\ttcp_retransmissions"
                       "\tserver_cpu_wait_ms\tbench_cpu_wait_ms\n")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        tick = 0
        while not self.stop_flag.wait(0.1):
            rss = rss_kb(self.proc.pid)
            self.peak_kb = max(self.peak_kb, rss)
            tick += 1
            if tick % 5 == 0:
                c, now = self.counters(), time.monotonic()
                self.waits.append((now, cpu_wait_ms(self.proc.pid), cpu_wait_ms(self.bench_pid)))
                self.out.write(f"{now:.2f}\t{rss}\t{cpu_ticks(self.proc.pid)}\t{c.get('messages_in')}"
                               f"\t{c.get('messages_out')}\t{c.get('tcp_retransmissions')}"
                               f"\t{self.waits[-1][1]:.0f}\t{self.waits[-1][2]:.0f}\n")
        self.out.flush()

    def wait_per_s(self, t0, t1):
        """(server, bench) ms per second spent waiting for a CPU between t0 and t1 (None if unsampled)."""
        inside = [w for w in self.waits if t0 - 0.5 <= w[0] <= t1 + 0.5]
        if len(inside) < 2:
            return None
        span = inside[-1][0] - inside[0][0]
        return tuple((inside[-1][i] - inside[0][i]) / span for i in (1, 2))

    def stop(self):
        self.stop_flag.set()
        self.thread.join(2)


def cpu_ticks(pid):
    """utime + stime of the process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def cpu_wait_ms(pid):
    """Milliseconds all of the process's threads spent runnable, waiting for a CPU (schedstat)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return total / 1e6


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
