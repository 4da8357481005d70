#!/usr/bin/env python3
"""A fleet on loopback: a real etcd, several `apus serve --register`, `apus bench --discover`.

    python3 scripts/fleet-check.py [APUS_BINARY]     (default .build/debug/apus)

Starts its own etcd (temporary data directory, free loopback ports; never the machine's
2379) and checks, each under load and bounded in time:
  - three servers register; the balancer sees all three and spreads calls (round robin
    evenly; p2c sends less to a server whose echo sleeps 20 ms)
  - kill -9 one server: idempotent calls all succeed (sent again to another server),
    non-idempotent ones that were in flight fail and are counted as such, and the dead
    server leaves etcd and the clients' sets within its lease TTL
  - a new server joins and gets calls within 2 s of registering
  - SIGTERM another: zero failed calls (deregister, serve on while clients drop it, drain)
  - etcd restarted mid-run: no call fails, the servers register again, the watch resumes
    (a server started after the restart gets calls)
  - bad input: etcd unreachable (the server serves anyway and says so), a malformed entry
    under the prefix (skipped with a log line), an empty set (a fast, clear failure)
  - as root, on the netns testbed: a server on AF_XDP (Apus's own TCP, owning 10.10.0.10 in
    apus-srv) among kernel ones; etcd and the client in apus-cli; calls reach both kinds, and
    SIGTERM to the XDP server under load costs no call
Prints one line per check and "fleet: N passed, M failed". Exit status 1 if any failed.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

APUS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/apus")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE = "echo"
TTL = 3  # seconds: the lease of every registration here
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from checks import check, finish, free_port, in_testbed, kill_all, processes, spawn as start, testbed_down, testbed_up  # noqa: E402
from checks import stop as stop_process  # noqa: E402


def stop(process, sig=signal.SIGTERM, timeout=15):
    return stop_process(process, sig, timeout)[0]


class Etcd:
    def __init__(self):
        self.binary = shutil.which("etcd") or "/usr/bin/etcd"
        self.data = tempfile.mkdtemp(prefix="apus-fleet-etcd-")
        self.client_port, self.peer_port = free_port(), free_port()
        self.process = None

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.client_port}"

    def start(self):
        client, peer = f"http://{self.endpoint}", f"http://127.0.0.1:{self.peer_port}"
        self.process = start([self.binary, "--name", "apus-fleet", "--data-dir", self.data,
                              "--listen-client-urls", client, "--advertise-client-urls", client,
                              "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                              "--initial-cluster", f"apus-fleet={peer}", "--log-level", "error"])
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.ctl("endpoint", "health").returncode == 0:
                return
            time.sleep(0.2)
        raise SystemExit(f"fleet: etcd did not become healthy at {self.endpoint}")

    def stop(self):
        stop(self.process)

    def ctl(self, *args):
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run(["etcdctl", "--endpoints", self.endpoint, "--command-timeout=2s", *args],
                              capture_output=True, text=True, env=env, timeout=10)

    def keys(self, prefix):
        out = self.ctl("get", "--prefix", prefix, "--keys-only").stdout
        return sorted(line for line in out.splitlines() if line.strip())


class Server:
    def __init__(self, etcd_url, *extra):
        self.port = free_port()
        self.process = start([APUS, "serve", "--transport", "kernel", "--port", str(self.port), "--register", etcd_url,
                              "--service", SERVICE, "--registration-ttl", str(TTL), "--deregister-delay", "1",
                              "--log-level", "warning", *extra])
        line = self.process.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"fleet: a server did not start: {line!r} {self.process.stderr.read()[:400]!r}")
        self.started = time.time()

    @property
    def id(self):
        return f"127.0.0.1:{self.port}"


class Bench:
    """apus bench in the background: progress as JSON lines, then the summary."""

    def __init__(self, url, seconds, *extra, concurrency=8):
        self.began = time.time()
        self.process = start([APUS, "bench", "--discover", url, "--service", SERVICE, "--duration", str(seconds),
                              "--concurrency", str(concurrency), "--json", "--progress-json", "--timeout", "2", *extra])

    def finish(self, timeout=60):
        out, err = self.process.communicate(timeout=timeout)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        self.progress = [line for line in lines if "progress_s" in line]
        summaries = [line for line in lines if "qps" in line]
        self.summary = summaries[-1] if summaries else {"errors": -1, "calls": 0, "endpoints": []}
        self.stderr = err
        return self.summary

    def calls(self):
        return endpoint_calls(self.summary)


def endpoint_calls(summary):
    return {e["endpoint"]: e["calls"] for e in summary.get("endpoints", [])}


etcd_data = []


def main():
    if not os.path.exists(APUS):
        raise SystemExit(f"fleet: no apus binary at {APUS} (build it first)")
    if not (shutil.which("etcd") or os.path.exists("/usr/bin/etcd")) or not shutil.which("etcdctl"):
        raise SystemExit("fleet: etcd and etcdctl are needed (apt-get install etcd-server etcd-client; scripts/setup.sh does)")
    etcd = Etcd()
    etcd_data.append(etcd.data)
    etcd.start()
    prefix = f"/apus-fleet-{os.getpid()}"
    url = f"etcd://{etcd.endpoint}{prefix}"
    directory = f"{prefix}/{SERVICE}/"

    # 1. Three servers register; calls spread.
    a, b = Server(url), Server(url)
    slow = Server(url, "--echo-delay", "20")
    time.sleep(0.5)
    keys = etcd.keys(directory)
    check("three servers registered", keys == sorted(directory + s.id for s in (a, b, slow)), f"{keys}")
    rr = Bench(url, 3, "--lb", "round-robin").finish()
    calls = endpoint_calls(rr)
    total = sum(calls.values())
    check("round robin: the client sees all three and spreads evenly",
          rr["errors"] == 0 and len(calls) == 3 and total > 0 and all(abs(c - total / 3) <= total * 0.05 for c in calls.values()),
          f"{calls}, errors {rr['errors']}")
    p2c = Bench(url, 3, concurrency=16).finish()
    calls = endpoint_calls(p2c)
    total = sum(calls.values())
    check("p2c: less to the slow server", p2c["errors"] == 0 and total > 0 and calls.get(slow.id, 0) < 0.15 * total,
          f"{calls}")

    # 2. kill -9 under load.
    idem = Bench(url, 6, "--idempotent")
    plain = Bench(url, 6)
    time.sleep(2)
    stop(b.process, signal.SIGKILL)
    killed = time.time()
    gone = None
    while time.time() < killed + TTL + 3:
        if directory + b.id not in etcd.keys(directory):
            gone = time.time() - killed
            break
        time.sleep(0.2)
    idem.finish()
    plain.finish()
    check("kill -9: every idempotent call succeeded", idem.summary["errors"] == 0 and idem.summary["calls"] > 0,
          f"{idem.summary['calls']} calls, {idem.summary['errors']} errors")
    check("kill -9: non-idempotent calls lost with the server are counted as failed",
          plain.summary["errors"] >= 0 and plain.summary["calls"] > 0 and plain.summary.get("idempotent") is False,
          f"{plain.summary['errors']} failed of {plain.summary['calls'] + plain.summary['errors']}")
    check(f"kill -9: the dead server left etcd within its lease TTL ({TTL} s)", gone is not None and gone <= TTL + 1.5,
          f"after {gone:.1f} s" if gone is not None else "still there")
    last = idem.progress[-1]["endpoints"] if idem.progress else {}
    check("kill -9: and left the clients' sets", b.id not in last, f"last progress: {last}")

    # 3. A server joins under load, another is stopped with SIGTERM: no call fails.
    run = Bench(url, 8)
    time.sleep(1)
    joined = Server(url)
    time.sleep(2.5)
    status = stop(a.process, signal.SIGTERM)
    run.finish()
    first = next((p for p in run.progress if p["endpoints"].get(joined.id, 0) > 0), None)
    delay = (run.began + first["progress_s"]) - joined.started if first else None
    check("a new server gets calls within 2 s of registering", delay is not None and delay <= 2.0,
          f"first calls seen {delay:.1f} s after it started (progress lines are 1 s apart)" if delay is not None else "none")
    check("SIGTERM under load: zero failed calls, the server exits cleanly",
          run.summary["errors"] == 0 and status == 0 and run.summary["calls"] > 0,
          f"{run.summary['calls']} calls, {run.summary['errors']} errors, exit {status}")
    check("SIGTERM: deregistered at once", directory + a.id not in etcd.keys(directory))

    # 4. etcd restarted mid-run.
    run = Bench(url, 8)
    time.sleep(1)
    etcd.stop()
    time.sleep(2)
    etcd.start()
    late = Server(url)
    time.sleep(2.5)
    run.finish()
    keys = etcd.keys(directory)
    check("etcd restart: no call failed while it was down", run.summary["errors"] == 0 and run.summary["calls"] > 0,
          f"{run.summary['calls']} calls, {run.summary['errors']} errors")
    check("etcd restart: servers registered again", all(directory + s.id in keys for s in (slow, joined, late)), f"{keys}")
    check("etcd restart: the watch resumed (a server started after it got calls)", run.calls().get(late.id, 0) > 0,
          f"{run.calls()}")

    # 5. Bad input.
    etcd.ctl("put", directory + "bogus", "not json")
    bad = Bench(url, 1)
    bad.finish()
    check("a malformed entry is skipped with a log line", bad.summary["errors"] == 0 and "bogus" in bad.stderr,
          bad.stderr.strip().splitlines()[0][:160] if bad.stderr.strip() else "no log line")
    began = time.time()
    empty = subprocess.run([APUS, "bench", "--discover", f"etcd://{etcd.endpoint}{prefix}-nobody", "--service", SERVICE,
                            "--duration", "1"], capture_output=True, text=True, timeout=30)
    took = time.time() - began
    check("an empty set fails fast and says so", empty.returncode != 0 and "no endpoints" in empty.stderr and took < 10,
          f"{empty.stderr.strip().splitlines()[-1][:160] if empty.stderr.strip() else '-'} ({took:.1f} s)")
    dead_etcd = f"etcd://127.0.0.1:{free_port()}{prefix}"
    lonely = Server(dead_etcd)
    time.sleep(1)
    served = subprocess.run([APUS, "bench", "--port", str(lonely.port), "--calls", "10", "--concurrency", "2"],
                            capture_output=True, text=True, timeout=30)
    status, err = stop_process(lonely.process)
    check("etcd unreachable: the server serves anyway and says why", served.returncode == 0 and status == 0 and "etcd" in err,
          err.strip().splitlines()[0][:200] if err.strip() else "no warning")

    for server in (slow, joined, late):
        stop(server.process)
    etcd.stop()


def xdp_phase():
    """An AF_XDP server among kernel ones, on the testbed."""
    if not testbed_up("fleet: AF_XDP server in the fleet: skipped (not root; the testbed needs root)",
                      "testbed up for the AF_XDP fleet"):
        return
    try:
        data = tempfile.mkdtemp(prefix="apus-fleet-xdp-etcd-")
        etcd_data.append(data)
        client_port, peer_port = 23790, 23800  # inside apus-cli: nothing else listens there
        cli_address = "10.10.0.2"
        start(in_testbed("cli", shutil.which("etcd") or "/usr/bin/etcd", "--name", "apus-fleet-xdp", "--data-dir", data,
                      "--listen-client-urls", f"http://127.0.0.1:{client_port},http://{cli_address}:{client_port}",
                      "--advertise-client-urls", f"http://{cli_address}:{client_port}",
                      "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                      "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                      "--initial-cluster", f"apus-fleet-xdp=http://127.0.0.1:{peer_port}", "--log-level", "error"))
        ctl = lambda *a: subprocess.run(in_testbed("cli", "etcdctl", "--endpoints", f"127.0.0.1:{client_port}", *a),
                                        capture_output=True, text=True, timeout=15, env=dict(os.environ, ETCDCTL_API="3"))
        deadline = time.time() + 15
        while time.time() < deadline and ctl("endpoint", "health").returncode != 0:
            time.sleep(0.2)
        prefix = f"/apus-fleet-xdp-{os.getpid()}"
        common = ["--service", SERVICE, "--registration-ttl", str(TTL), "--deregister-delay", "1", "--log-level", "warning"]
        kernel = start(in_testbed("cli", APUS, "serve", "--transport", "kernel", "--port", "19500",
                               "--register", f"etcd://127.0.0.1:{client_port}{prefix}", *common))
        xdp = start(in_testbed("srv", APUS, "serve", "--transport", "xdp", "--interface", "apus-s", "--address", "10.10.0.10",
                            "--port", "9090", "--grace-period", "2", "--register", f"etcd://{cli_address}:{client_port}{prefix}",
                            *common))
        for server in (kernel, xdp):
            line = server.stdout.readline()
            if "listening" not in line:
                check("the fleet's servers start on the testbed", False, f"{line!r} {server.stderr.read()[:300]!r}")
                return
        deadline = time.time() + 10
        wanted = [f"{prefix}/{SERVICE}/10.10.0.10:9090", f"{prefix}/{SERVICE}/127.0.0.1:19500"]
        keys = []
        while time.time() < deadline:
            keys = sorted(k for k in ctl("get", "--prefix", prefix, "--keys-only").stdout.splitlines() if k.strip())
            if keys == wanted:
                break
            time.sleep(0.2)
        check("AF_XDP and kernel servers registered in one etcd", keys == wanted, f"{keys}")
        bench = start(in_testbed("cli", APUS, "bench", "--discover", f"etcd://127.0.0.1:{client_port}{prefix}", "--service", SERVICE,
                              "--lb", "round-robin", "--duration", "6", "--concurrency", "8", "--json", "--timeout", "2"))
        time.sleep(3)
        status = stop(xdp)
        out, err = bench.communicate(timeout=60)
        summaries = [json.loads(l) for l in out.splitlines() if l.startswith("{") and "qps" in l]
        summary = summaries[-1] if summaries else {"errors": -1, "calls": 0}
        calls = endpoint_calls(summary)
        check("calls reach the AF_XDP server and the kernel one",
              calls.get("10.10.0.10:9090", 0) > 0 and calls.get("127.0.0.1:19500", 0) > 0, f"{calls}")
        check("SIGTERM to the AF_XDP server under load: zero failed calls, a clean exit",
              summary["errors"] == 0 and status == 0, f"{summary['calls']} calls, {summary['errors']} errors, exit {status}"
              + (f"; {err.strip().splitlines()[-1][:160]}" if summary["errors"] and err.strip() else ""))
        stop(kernel)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        testbed_down()


try:
    main()
    xdp_phase()
finally:
    kill_all()
    for directory in etcd_data:
        shutil.rmtree(directory, ignore_errors=True)
finish("fleet")
