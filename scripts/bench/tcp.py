"""tcp mode (root): TCP echo on the testbed, `apus net serve --tcp-echo` (ApusNet on AF_XDP)
against the Linux kernel's TCP (Benchmarks/tcp-ref/echo_server.c), each pinned to CPU 0 in the
server namespace, driven by the C load client (Benchmarks/tcp-ref/tcp_load.c) on CPU 1:
{stream, rr} x connection counts x {apus, kernel}, rounds alternating the servers."""
import re
import statistics
import time

from bench import report, runner, testbed
from bench.runner import note
from bench.testbed import IF_SRV, IP_OWNED, IP_SRV, NS_CLI, NS_SRV, XDP_MODE

REF_DIR, APUS_PORT, KERNEL_PORT, WARMUP, CHUNK = "build/tcp-ref", 7, 7007, 1, 65536
TESTS = ("stream", "rr")
SERVER_KEYS = ("accepted", "closed_normal", "closed_reset", "closed_timeout", "tcp_bytes_echoed", "tcp_segments_in",
               "tcp_segments_out", "tcp_retransmissions", "tcp_fast_retransmits", "tcp_timeouts", "tcp_resets_sent",
               "tx_blocked", "connections_left")


class Ctx:
    """What every run of one benchmark shares."""


def start_server(c, name, log):
    """Server NAME on CPU 0 in the server namespace (the process itself: all exec)."""
    if name == "apus":
        cmd = [c.apus.bin, "net", "serve", "--interface", IF_SRV, "--queue", str(testbed.QUEUE), "--address", IP_OWNED,
               "--tcp-echo", str(APUS_PORT), "--time-wait", "1", "--duration", str(c.serve_seconds)] + c.flags
        pattern = r"^apus net serve: serving"
    else:
        cmd = [REF_DIR + "/echo_server", IP_SRV, str(KERNEL_PORT), "--seconds", str(c.serve_seconds)]
        pattern = r"^READY "
    runner.start_logged(c.pins.server + testbed.exec_in("srv", ["stdbuf", "-oL"] + cmd), log)
    return runner.wait_ready(log, pattern) is not None


def load(c, name, test, conns, seconds, out):
    """tcp_load on CPU 1 in the client namespace: connect (<= 5 s) + SECONDS + drain (<= 5 s)."""
    host, port = (IP_OWNED, APUS_PORT) if name == "apus" else (IP_SRV, KERNEL_PORT)
    size = CHUNK if test == "stream" else c.o.payload
    return runner.run_load(c.pins.client + ["timeout", "-k", "2", str(seconds + 20)] + testbed.exec_in(
        "cli", [REF_DIR + "/tcp_load", host, str(port), "--mode", test, "--connections", str(conns), "--seconds", str(seconds),
                "--size", str(size), "--json"]), out)


def run_one(c, name, test, conns, rnd):
    o, tb = c.o, c.tb
    log = "%s/%s-%s-c%d-r%d" % (c.logs, name, test, conns, rnd)
    row = {"mode": "tcp", "stamp": c.stamp, "server": name, "test": test, "connections": conns, "round": rnd,
           "duration_s": o.duration, "size": CHUNK if test == "stream" else o.payload, "interface": IF_SRV,
           "xdp_mode": XDP_MODE, "testbed": c.tb_kind, "apus": c.apus.bin}
    error = line = None
    rcli0 = rcli1 = rsrv0 = rsrv1 = None
    if not tb.pin_napi():
        error = "could not pin the NAPI threads"
    elif not start_server(c, name, log):
        error = "server did not print its readiness line within 15 s (see %s.out, %s.err)" % (log, log)
        runner.stop_server()
    else:
        # Warm-up: ARP, the handshake path, caches, page faults; not measured.
        load(c, name, test, conns, WARMUP, log + ".warmup")
        rcli0, rsrv0 = testbed.tcp_retransmissions(NS_CLI), testbed.tcp_retransmissions(NS_SRV)
        pid = runner.Procs.server.pid
        cpu0 = runner.user_sys_ticks(pid)
        nsrv0, ncli0 = tb.net_ticks("srv"), tb.net_ticks("cli")
        steal0, busy0 = c.pins.steal_ticks(), c.pins.busy_ticks()
        t0, ch0 = time.time_ns(), runner.children_cpu()
        rc = load(c, name, test, conns, o.duration, log + ".load")
        ch1, t1 = runner.children_cpu(), time.time_ns()
        busy1, steal1 = c.pins.busy_ticks(), c.pins.steal_ticks()
        nsrv1, ncli1 = tb.net_ticks("srv"), tb.net_ticks("cli")
        load_cpu = round(ch1 - ch0, 3)
        cpu1 = runner.user_sys_ticks(pid) if cpu0 and runner.server_alive() else None
        rcli1, rsrv1 = testbed.tcp_retransmissions(NS_CLI), testbed.tcp_retransmissions(NS_SRV)
        if cpu1 is None:
            error = "server ended before the load client did (see %s.err)" % log
        runner.stop_server()
        line = ([l for l in runner.read(log + ".load.out").splitlines() if l.startswith("{")] or [""])[-1]
        if rc in (124, 137):
            error = error or "load client exceeded %d s and was killed (see %s.load.err)" % (o.duration + 20, log)
        elif rc == 2:
            error = error or "nothing was echoed (see %s.out, %s.err, %s.load.err)" % (log, log, log)
        elif not line:
            error = error or "load client printed no JSON line, exit status %d (see %s.load.err)" % (rc, log)
        elif rc != 0:
            error = error or ("load client exited with status %d: errors, mismatches or unfinished connections (see %s.load.err)"
                              % (rc, log))
    out = runner.read(log + ".out")
    # The server's own account (warm-up included).
    if name == "apus":
        m = re.search(r"^apus net serve: (accepted=.*)$", out, re.M)
        if m:
            fields = dict(re.findall(r"(\w+)=(\d+)", m.group(1)))
            row.update({"server_" + k: int(fields[k]) for k in SERVER_KEYS if k in fields})
        else:
            row["warning"] = "no counters line from apus net serve"
    else:
        m = re.search(r"^echo_server: accepted=(\d+) closed=(\d+) reset=(\d+) open=(\d+) bytes_echoed=(\d+)", out, re.M)
        if m:
            a, cl, r, _, b = map(int, m.groups())
            row.update({"server_accepted": a, "server_closed": cl, "server_closed_reset": r, "server_tcp_bytes_echoed": b})
        else:
            row["warning"] = "no summary line from echo_server"
    # Kernel TCP retransmissions during the measured run: the client's (both servers) and,
    # for the kernel server, the server namespace's.
    row["client_retransmissions"] = rcli1 - rcli0 if rcli0 is not None and rcli1 is not None else None
    if name == "kernel":
        row["server_kernel_retransmissions"] = rsrv1 - rsrv0 if rsrv0 is not None and rsrv1 is not None else None
    if line:
        keys = ["connected", "elapsed_s", "bytes_echoed", "bytes_sent_total", "closed_normally", "incomplete", "errors", "mismatches"]
        keys += ["mb_per_s"] if test == "stream" else ["transactions", "tps", "avg_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"]
        got, why = runner.json_fields(line, keys, "load client")
        error = error or why
        row.update(got or {})
    if not error:
        tck = runner.CLK_TCK
        wall = (t1 - t0) / 1e9
        user, cpu = (cpu1[0] - cpu0[0]) / tck, (sum(cpu1) - sum(cpu0)) / tck
        napi_srv = (nsrv1 - nsrv0) / tck if nsrv0 is not None and nsrv1 is not None else None
        napi_cli = (ncli1 - ncli0) / tck if ncli0 is not None and ncli1 is not None else None
        row["wall_s"] = round(wall, 3)
        row["server_cpu_s"] = round(cpu, 3)
        row["server_user_s"] = round(user, 3)
        row["server_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
        row["server_net_cpu_pct"] = round(100 * napi_srv / wall, 1) if wall > 0 and napi_srv is not None else None
        row["client_cpu_pct"] = round(100 * load_cpu / wall, 1) if wall > 0 else None
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
        if wall > 0:
            busy = (busy1 - busy0) / tck
            known = cpu + load_cpu + (napi_srv or 0) + (napi_cli or 0)
            # The hypervisor's share (steal) apart: in a virtual machine it also grows with the
            # vCPUs' idling and waking, which the servers themselves cause.
            steal = (steal1 - steal0) / tck
            row["other_cpu_pct"] = round(max(0.0, 100 * (busy - steal - known) / wall), 1)
            row["steal_cpu_pct"] = round(100 * steal / wall, 1)
    if error:
        row["error"] = error
    return row


def note_row(r):
    what = "%s %s c=%d round %d" % (r["server"], r["test"], r["connections"], r["round"])
    if "error" in r:
        note("%s: FAILED: %s" % (what, r["error"]))
    elif r["test"] == "stream":
        note("%s: %.1f MB/s, server %.0f us CPU/MB" % (what, r["mb_per_s"], r["server_cpu_us_per_mb"] or 0))
    else:
        note("%s: %.0f transactions/s, p50 %.1f us, p99 %.1f us, server %.2f us CPU/txn"
             % (what, r["tps"], r["p50_us"], r["p99_us"], r["server_cpu_us_per_txn"] or 0))


def run(o):
    c = Ctx()
    c.o, failed = o, 0
    c.tb_kind = testbed.testbed_kind()
    testbed.prerequisites("tcp")
    c.pins = runner.Pins()
    runner.build_reference("kernel TCP reference", "Benchmarks/tcp-ref", REF_DIR, ["echo_server", "tcp_load"], "",
                           ["Benchmarks/tcp-ref/echo_server.c", "Benchmarks/tcp-ref/tcp_load.c", "Benchmarks/tcp-ref/build.sh"])
    c.apus = runner.Apus()
    c.apus.build()
    if not c.apus.has("net", "serve"):
        runner.die("%s has no 'net serve' subcommand" % c.apus.bin)
    # Copy mode asked for explicitly, as in xdp mode (veth has no zero copy anyway).
    c.flags = ["--zero-copy", "off"] if c.apus.option(["net", "serve"], "--zero-copy") else []
    # A server is stopped with SIGTERM once the load client is done (it then prints its
    # counters); it also stops on its own after this long, should nobody stop it.
    c.serve_seconds = WARMUP + o.duration + 60
    c.stamp, c.results, c.logs = runner.new_results("tcp")
    started = time.time()
    with testbed.Testbed(c.logs, c.tb_kind == "tuned", c.pins) as c.tb:
        c.tb.tune()
        cell = 0
        for rnd in range(1, o.rounds + 1):
            for test in TESTS:
                for conns in o.conns:
                    # Each cell alternates the order from round to round (and from cell to cell):
                    # drift on a shared machine hits both sides alike.
                    cell += 1
                    for name in (("kernel", "apus") if (rnd + cell) % 2 else ("apus", "kernel")):
                        row = run_one(c, name, test, conns, rnd)
                        report.append(c.results, row)
                        failed = failed or int("error" in row)
                        note_row(row)
        note("runs took %d s" % (time.time() - started))
    table(c.results)
    return failed


def table(results):
    rows = report.load(results)
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
    print("raw results: %s" % results)
