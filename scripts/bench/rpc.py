"""rpc mode (root): Thrift RPC on the testbed. `apus serve` on AF_XDP, `apus serve` on kernel
sockets and the Apache Thrift C++ server, each pinned to CPU 0 in the server namespace, driven
by one client (`apus bench`, CPU 1, client namespace) at saturation, then xdp and cpp paced at
half of cpp's saturated QPS for their p99 at 50% load. The table and the targets: rpc_table."""
import os
import re
import statistics
import threading
import time

from bench import report, rpc_table, runner, testbed
from bench.runner import die, note
from bench.testbed import IF_CLI, IF_SRV, IP_OWNED, IP_OWNED_CLI, IP_SRV, XDP_MODE

PORTS = {"xdp": 9090, "kernel": 9091, "cpp": 9092}
HOSTS = {"xdp": IP_OWNED, "kernel": IP_SRV, "cpp": IP_SRV}


class Ctx:
    """What every run of one benchmark shares."""


def server_cmd(c, name):
    queues = str(testbed.QUEUE) if (os.environ.get("APUS_QUEUES") or "1") == "1" else "all"
    if name == "xdp":
        return [c.apus.bin, "serve", "--transport", "xdp", "--interface", IF_SRV, "--queues", queues, "--address", IP_OWNED,
                "--port", str(PORTS["xdp"]), "--protocol", "binary", "--framing", "framed", "--cpus", "0"] \
            + (["--busy-poll"] if c.o.busy_poll else [])
    if name == "kernel":
        return [c.apus.bin, "serve", "--transport", "kernel", "--host", IP_SRV, "--port", str(PORTS["kernel"]), "--threads", "1",
                "--protocol", "binary", "--framing", "framed"]
    return [c.cpp_server, "--host", IP_SRV, "--port", str(PORTS["cpp"]), "--protocol", "binary"]


def start_server(c, name, log):
    """Server NAME on CPU 0 in the server namespace; checks the process that came up is the
    server itself (testbed.sh exec and the rest exec), since its CPU time is read by PID."""
    cmd = server_cmd(c, name)
    proc = runner.start_logged(c.pins.server + testbed.exec_in("srv", ["stdbuf", "-oL"] + cmd), log)

    def is_server(_):
        try:
            if os.readlink("/proc/%d/exe" % proc.pid) == os.path.realpath(cmd[0]):
                return True
        except OSError:
            pass
        note("%s: process %d is not %s: its CPU time would be the wrong one's" % (name, proc.pid, cmd[0]))
        return False
    return runner.wait_ready(log, r"^(apus serve: listening on |READY )", is_server) is not None


def client_cmd(c, client, name, conns, concurrency, rate):
    args = ["bench", "--host", HOSTS[name], "--port", str(PORTS[name]), "--connections", str(conns),
            "--concurrency", str(concurrency), "--duration", str(c.o.duration), "--payload", str(c.o.payload),
            "--method", "echo", "--protocol", "binary", "--json"]
    if c.o.warmup:
        args += ["--warmup", str(c.o.warmup)]
    if name == "cpp" or c.o.framing == "framed":
        args += ["--framing", "framed"]
    else:
        args += ["--framing", c.o.framing, "--timeout", "0"]
    if rate:
        args += ["--rate", str(rate)]
    if c.o.client_spin_limit is not None:
        args += ["--spin-limit", c.o.client_spin_limit]
    if client == "xdp":
        args += ["--transport", "xdp", "--interface", IF_CLI, "--address", IP_OWNED_CLI]
        if c.o.busy_poll:
            args += ["--busy-poll"]
        if c.pins.client:
            args += ["--cpu", "1"]
    # A client run: connect and warm (the XDP client: its queue and ARP) + the run + closing.
    return c.pins.client + ["timeout", "-k", "2", str(c.budget)] + testbed.exec_in("cli", [c.apus.bin] + args)


def run_one(c, name, conns, depth, rnd, rate):
    """One measured run against a fresh server, CONNS x DEPTH calls in flight, closed loop
    (RATE 0) or paced; returns its row."""
    client = c.o.client if not rate else c.o.paced_client
    log = "%s/%s-c%d-d%d-%sr%d" % (c.logs, name, conns, depth, "paced-" if rate else "", rnd)
    row = {"mode": "rpc", "stamp": c.stamp, "kind": "paced" if rate else "saturation", "server": name, "round": rnd,
           "connections": conns, "depth": depth, "concurrency": conns * depth, "rate_target": float(rate) or None,
           "duration_s": c.o.duration, "warmup_s": c.o.warmup, "client_spin_limit_us": c.o.client_spin_limit, "payload": c.o.payload, "protocol": "binary",
           "framing": "framed" if name == "cpp" else c.o.framing, "method": "echo", "client": client,
           "testbed": c.tb_kind, "busy_poll": c.o.busy_poll, "interface": IF_SRV, "xdp_mode": XDP_MODE, "apus": c.apus.bin}
    error = None
    if not c.tb.pin_napi():
        error = "could not pin the NAPI threads"
    elif not start_server(c, name, log):
        error = "server did not come up within 15 s (see %s.out, %s.err)" % (log, log)
        runner.stop_server()
    else:
        pid = runner.Procs.server.pid

        def sample():
            return (runner.user_sys_ticks(pid), c.tb.net_ticks("srv"), c.tb.net_ticks("cli"), c.pins.steal_ticks(),
                    c.pins.busy_ticks(), runner.core_ticks(0), runner.core_ticks(1), time.time_ns())
        # With --warmup the counters are read at the measured window's start and end (timers from the
        # client's launch), so neither the warm-up nor the closing of thousands of connections counts;
        # the client's CPU is then its core's busy time (its own is known only once it exits).
        marks = {}
        timers = []
        if c.o.warmup:
            for key, at in (("start", c.o.warmup), ("end", c.o.warmup + c.o.duration)):
                timers.append(threading.Timer(at, lambda key=key: marks.setdefault(key, sample())))
        ch0 = runner.children_cpu()
        marks["launch"] = sample()
        for timer in timers:
            timer.start()
        rc = runner.run_load(client_cmd(c, client, name, conns, conns * depth, rate), log + ".client")
        for timer in timers:
            timer.cancel()
        marks["exit"] = sample()
        ch1 = runner.children_cpu()
        first, last = (marks["start"], marks["end"]) if c.o.warmup and "end" in marks else (marks["launch"], marks["exit"])
        cpu0, nsrv0, ncli0, steal0, busy0, core0, ccore0, t0 = first
        cpu1, nsrv1, ncli1, steal1, busy1, core1, ccore1, t1 = last
        load_cpu = round((ccore1 - ccore0) / runner.CLK_TCK, 3) if c.o.warmup else round(ch1 - ch0, 3)
        if not (cpu0 and runner.server_alive()):
            cpu1 = None
        if c.o.warmup and "end" not in marks:
            error = "the client ended before its measured window did (see %s.client.err)" % log
        if cpu1 is None:
            error = "server ended before the client did (see %s.err)" % log
        # The Apus servers drain (and the xdp one prints its queue's counters) on SIGTERM.
        runner.stop_server(100)
        line = ([l for l in runner.read(log + ".client.out").splitlines() if l.startswith("{")] or [""])[-1]
        if rc in (124, 137):
            error = error or "client exceeded %d s and was killed (see %s.client.err)" % (c.budget, log)
        elif rc != 0:
            error = error or "client exited with status %d (see %s.client.err)" % (rc, log)
        elif not line:
            error = error or "client printed no JSON line (see %s.client.out)" % log
    out = runner.read(log + ".out")
    # The xdp server's own account of its queue (printed when it stops).
    if name == "xdp":
        m = re.search(r"^apus serve: queue 0: (.*)$", out, re.M)
        if m:
            row["server_queue"] = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(1))}
            if row["server_queue"].get("frames_in_app", 0) != 0:
                row["warning"] = "frames_in_app=%d after the server stopped" % row["server_queue"]["frames_in_app"]
        elif not error:
            row["warning"] = "no 'queue 0:' line from the xdp server"
    keys = ("qps", "calls", "errors", "mismatches", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "transport")
    if not error:
        got, error = runner.json_fields(line, keys, "client")
        row.update(got or {})
    if not error:
        tck = runner.CLK_TCK
        wall = (t1 - t0) / 1e9
        user, cpu = (cpu1[0] - cpu0[0]) / tck, (sum(cpu1) - sum(cpu0)) / tck
        core, client_core, steal = (core1 - core0) / tck, (ccore1 - ccore0) / tck, (steal1 - steal0) / tck
        calls = row["calls"]
        row.update({"wall_s": round(wall, 3), "server_cpu_s": round(cpu, 3), "server_user_s": round(user, 3),
                    "core_busy_s": round(core, 3)})
        if wall > 0:
            row["server_cpu_pct"] = round(100 * cpu / wall, 1)
            row["core_busy_pct"] = round(100 * core / wall, 1)
            row["client_core_busy_pct"] = round(100 * client_core / wall, 1)
            row["client_cpu_pct"] = round(100 * load_cpu / wall, 1)
            row["steal_cpu_pct"] = round(100 * steal / wall, 1)
            # Anything else on CPUs 0 and 1 (steal apart): the core 0 measure counts it too.
            napi = sum((b - a) / tck for a, b in ((nsrv0, nsrv1), (ncli0, ncli1)) if a is not None and b is not None)
            busy = (busy1 - busy0) / tck
            row["other_cpu_pct"] = round(max(0.0, 100 * (busy - steal - cpu - load_cpu - napi) / wall), 1)
        # Over the measured window (--warmup 0: the client's whole run), per call answered in it.
        row["server_cpu_us_per_call"] = round(cpu * 1e6 / calls, 3) if calls else None
        row["core_cpu_us_per_call"] = round(core * 1e6 / calls, 3) if calls else None
    if error:
        row["error"] = error
    return row


def record(c, row, rate):
    report.append(c.results, row)
    what = "%s c=%d d=%d round %d" % (row["server"], row["connections"], row["depth"], row["round"])
    if "error" in row:
        c.failed = 1
        note("%s%s: FAILED: %s" % (what, " paced" if rate else "", row["error"]))
    else:
        note("%s%s: %.0f calls/s, p50 %.1f us, p99 %.1f us, server %.2f us/call (process), %.2f us/call (core 0)%s%s"
             % (what, " paced at %s/s" % rate if rate else "", row["qps"], row["p50_us"], row["p99_us"],
                row["server_cpu_us_per_call"] or 0, row["core_cpu_us_per_call"] or 0,
                ", %d errors" % row["errors"] if row["errors"] else "", "; warning: " + row["warning"] if "warning" in row else ""))


def half_cpp_rate(results, conns):
    """Half of cpp's best median saturated QPS at CONNS connections (None: no cpp run there)."""
    by_depth = {}
    for r in report.load(results):
        if r["kind"] == "saturation" and r["server"] == "cpp" and r["connections"] == conns and "error" not in r:
            by_depth.setdefault(r["depth"], []).append(r["qps"])
    return int(max(statistics.median(v) for v in by_depth.values()) / 2) if by_depth else None


def client_name(kind):
    return "Apus's TCP on AF_XDP (%s, owning %s)" % (IF_CLI, IP_OWNED_CLI) if kind == "xdp" else "the kernel's TCP"


def run(o):
    c = Ctx()
    c.o, c.failed, c.budget = o, 0, o.duration + o.warmup + 20
    c.tb_kind = testbed.testbed_kind()
    testbed.prerequisites("rpc")
    runner.cpp_prerequisites()
    c.pins = runner.Pins()
    c.cpp_server = runner.build_cpp_server()
    c.apus = runner.Apus()
    c.apus.build()
    for sub in ("serve", "bench"):
        if not c.apus.has(sub):
            die("%s has no '%s' subcommand" % (c.apus.bin, sub))
    if not c.apus.option(["serve"], "--transport"):
        die("%s serve has no --transport option" % c.apus.bin)
    if not c.apus.option(["bench"], "--rate"):
        die("%s bench has no --rate option (needed for the runs at 50%% load)" % c.apus.bin)
    # The XDP program on the client end too, for --client xdp; harmless for the kernel client
    # (the program passes everything but the Apus client's address to the kernel).
    os.environ["APUS_CLIENT_XDP"] = "1"
    c.stamp, c.results, c.logs = runner.new_results("rpc")
    started = time.time()
    with testbed.Testbed(c.logs, c.tb_kind == "tuned", c.pins) as c.tb:
        c.tb.tune()
        note("client: apus bench over %s on CPU 1 (--client %s); paced runs: over %s (--paced-client %s)"
             % (client_name(o.client), o.client, client_name(o.paced_client), o.paced_client))
        cell = 0
        for rnd in range(1, o.rounds + 1):
            for conns in o.conns:
                for depth in o.depths:
                    # Each cell alternates the order from round to round (and from cell to cell):
                    # drift on a shared machine hits all sides alike.
                    cell += 1
                    for name in (("cpp", "kernel", "xdp") if (rnd + cell) % 2 else ("xdp", "kernel", "cpp")):
                        record(c, run_one(c, name, conns, depth, rnd, 0), 0)
        # p99 at 50% load: xdp and cpp paced at half of cpp's saturated QPS, at 16 connections
        # (else the first count) and the deepest depth, so enough workers cover the rate.
        paced_conns = 16 if 16 in o.conns else o.conns[0]
        paced_depth = max(o.depths)
        rate = half_cpp_rate(c.results, paced_conns)
        if not rate:
            c.failed = 1
            note("no successful cpp run at %d connections: no runs at 50%% load" % paced_conns)
        else:
            note("at 50%% load: %d calls/s (half of cpp's saturated QPS at %d connections), %d workers"
                 % (rate, paced_conns, paced_conns * paced_depth))
            for rnd in range(1, o.rounds + 1):
                for name in (("xdp", "cpp") if rnd % 2 else ("cpp", "xdp")):
                    record(c, run_one(c, name, paced_conns, paced_depth, rnd, rate), rate)
        note("runs took %d s" % (time.time() - started))
    rpc_table.table(c.results)
    return c.failed
