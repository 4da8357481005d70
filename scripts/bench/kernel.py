"""kernel mode: `apus serve` and the Apache Thrift C++ TNonblockingServer on kernel sockets over
loopback, each pinned to CPU 0, driven by the same client (`apus bench`, CPU 1)."""
import os
import time

from bench import report, runner
from bench.report import f
from bench.runner import die, note


def start_server(apus, cpp_server, name, protocol, log):
    """Server NAME on CPU 0; returns its port, or None. stdbuf: the readiness line must reach
    the log at once even if the server block-buffers a redirected stdout."""
    if name == "apus":
        cmd = [apus.bin, "serve", "--host", "127.0.0.1", "--port", "0", "--protocol", protocol, "--framing", "framed"]
        pattern = r"listening on 127\.0\.0\.1:([0-9]+)"
    else:
        cmd = [cpp_server, "--port", "0", "--protocol", protocol]
        pattern = r"^READY ([0-9]+)"
    runner.start_logged(PINS.server + ["stdbuf", "-oL"] + cmd, log)
    m = runner.wait_ready(log, pattern)
    return m.group(1) if m else None


def measure(o, apus, cpp_server, client_bin, server, conns, depth, stamp, logs, round_no=1):
    """One run against a fresh server: the result row."""
    concurrency = conns * depth
    log = "%s/%s-c%d-d%d-r%d" % (logs, server, conns, depth, round_no)
    row = {"mode": "kernel", "stamp": stamp, "server": server, "connections": conns, "depth": depth,
           "concurrency": concurrency, "duration_s": o.duration, "payload": o.payload, "protocol": o.protocol,
           "framing": "framed", "method": "echo", "client": client_bin}
    port = start_server(apus, cpp_server, server, o.protocol, log)
    if port is None:
        runner.stop_server()
        row["error"] = "server did not print its readiness line within 15 s (see %s.out, %s.err)" % (log, log)
        return row
    error = None
    cpu0, busy0, t0, c0 = runner.cpu_ticks(runner.Procs.server.pid), PINS.busy_ticks(), time.time_ns(), runner.children_cpu()
    rc = runner.run_load(PINS.client + ["timeout", "-k", "2", str(o.duration + 10), client_bin, "bench",
                                        "--host", "127.0.0.1", "--port", port, "--connections", str(conns),
                                        "--concurrency", str(concurrency), "--duration", str(o.duration),
                                        "--payload", str(o.payload), "--method", "echo", "--protocol", o.protocol,
                                        "--framing", "framed", "--json"], log + ".client")
    c1, t1, busy1 = runner.children_cpu(), time.time_ns(), PINS.busy_ticks()
    client_cpu = c1 - c0
    cpu1 = runner.cpu_ticks(runner.Procs.server.pid) if runner.server_alive() else None
    if cpu1 is None:
        error = "server died during the run (see %s.err)" % log
    runner.stop_server()
    line = ([l for l in runner.read(log + ".client.out").splitlines() if l.startswith("{")] or [""])[-1]
    if rc in (124, 137):
        error = error or "client exceeded %d s and was killed (see %s.client.err)" % (o.duration + 10, log)
    elif rc != 0:
        error = error or "client exited with status %d (see %s.client.err)" % (rc, log)
    elif not line:
        error = error or "client printed no JSON line (see %s.client.out)" % log
    keys = ("qps", "calls", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us")
    if not error:
        got, error = runner.json_fields(line, keys, "client")
        row.update(got or {})
    if not error:
        wall = (t1 - t0) / 1e9
        cpu = (cpu1 - cpu0) / runner.CLK_TCK
        row["wall_s"] = round(wall, 3)
        row["server_cpu_s"] = round(cpu, 3)
        row["server_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
        row["client_cpu_pct"] = round(100 * round(client_cpu, 3) / wall, 1) if wall > 0 else None
        row["server_cpu_us_per_call"] = round(cpu * 1e6 / row["calls"], 3) if row["calls"] else None
        if wall > 0:
            busy = (busy1 - busy0) / runner.CLK_TCK
            row["other_cpu_pct"] = round(max(0.0, 100 * (busy - cpu - round(client_cpu, 3)) / wall), 1)
    if error:
        row["error"] = error
    return row


def run(o):
    global PINS
    runner.cpp_prerequisites()
    apus = runner.Apus()
    skip_apus = os.environ.get("APUS_BENCH_SKIP_APUS", "0") == "1"
    client_bin = os.environ.get("APUS_BENCH_CLIENT") or ""
    if client_bin:
        if not os.access(client_bin, os.X_OK) or os.path.isdir(client_bin):
            die("APUS_BENCH_CLIENT=%s is not an executable" % client_bin)
    else:
        client_bin = apus.bin
    cpp_server = runner.build_cpp_server()
    # apus is needed as the server unless skipped, and as the client unless overridden.
    if not skip_apus or client_bin == apus.bin:
        apus.build()
        if not skip_apus and not apus.has("serve"):
            die("%s has no 'serve' subcommand yet (APUS_BENCH_SKIP_APUS=1 runs the C++ server only)" % apus.bin)
        if client_bin == apus.bin and not apus.has("bench"):
            die("%s has no 'bench' subcommand yet (APUS_BENCH_CLIENT=/path uses another client)" % apus.bin)
    servers = ([] if skip_apus else ["apus"]) + ["cpp"]
    PINS = runner.Pins()
    stamp, results, logs = runner.new_results("kernel")
    failed = 0
    # Connection count and depth outer, server inner: each apus/cpp pair runs back to back,
    # so drift on a shared machine hits both sides of a ratio alike.
    # Rounds alternate the servers' order (apus cpp, cpp apus, ...); the ratios use the medians.
    for conns in o.conns:
        for depth in o.depths:
            for round_ in range(o.rounds):
                for server in (servers if round_ % 2 == 0 else servers[::-1]):
                    row = measure(o, apus, cpp_server, client_bin, server, conns, depth, stamp, logs, round_ + 1)
                    row["round"] = round_ + 1
                    report.append(results, row)
                    if "error" in row:
                        failed = 1
                        note("%s c=%d k=%d: FAILED: %s" % (server, conns, conns * depth, row["error"]))
                    else:
                        note("%s c=%d k=%d: %.0f calls/s, p50 %.1f us, server %.2f us/call"
                             % (server, conns, conns * depth, row["qps"], row["p50_us"], row["server_cpu_us_per_call"] or 0))
    table(results)
    return failed


def table(results):
    rows = report.load(results)
    r0 = rows[0]
    print()
    print("== kernel sockets, loopback: echo(%d-byte string), %s/framed, %d s per run; depth: calls in flight per connection"
          % (r0["payload"], r0["protocol"], r0["duration_s"]))
    hdr = "%-6s %6s %6s %6s | %10s %9s %9s %9s | %12s %8s %8s %6s | %7s"
    print(hdr % ("server", "conns", "depth", "K", "QPS", "p50 us", "p99 us", "p999 us", "CPU us/call", "srv CPU", "cli CPU", "other", "errors"))
    line = "-" * 118
    noisy = False
    print(line)
    by = {}
    for r in rows:
        r.setdefault("depth", r["concurrency"] // r["connections"])
        if "error" in r:
            print("%-6s %6d %6d %6d | FAILED: %s" % (r["server"], r["connections"], r["depth"], r["concurrency"], r["error"]))
            continue
        by.setdefault((r["server"], r["connections"], r["depth"]), []).append(r)
        print(hdr % (r["server"], r["connections"], r["depth"], r["concurrency"], f(r["qps"], "%.0f"), f(r["p50_us"], "%.1f"),
                     f(r["p99_us"], "%.1f"), f(r["p999_us"], "%.1f"), f(r["server_cpu_us_per_call"], "%.2f"),
                     f(r["server_cpu_pct"], "%.0f%%"), f(r["client_cpu_pct"], "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%"),
                     f(r["errors"], "%d")))
        noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
    print(line)
    ratios = []
    for c, d in sorted({(r["connections"], r["depth"]) for r in rows}):
        a, p = medians(by.get(("apus", c, d))), medians(by.get(("cpp", c, d)))
        if not a or not p:
            continue
        q = "%.2fx" % (a["qps"] / p["qps"]) if p["qps"] else "-"
        u = ("%.2fx" % (a["server_cpu_us_per_call"] / p["server_cpu_us_per_call"])
             if a["server_cpu_us_per_call"] and p["server_cpu_us_per_call"] else "-")
        lat = "%.2fx" % (a["p50_us"] / p["p50_us"]) if p["p50_us"] else "-"
        ratios.append("  conns %-4d depth %-3d QPS apus/cpp %7s (higher is better)   CPU/call apus/cpp %7s   p50 apus/cpp %7s (lower is better)"
                      % (c, d, q, u, lat))
    if ratios:
        rounds = max(len(v) for v in by.values())
        print("apus vs Apache Thrift C++ TNonblockingServer%s:" % (" (medians of %d rounds)" % rounds if rounds > 1 else ""))
        print("\n".join(ratios))
    print("CPU us/call: server CPU time (user+sys, all threads) during the client's run / calls answered.")
    print("srv/cli CPU: share of one core used; a server near 100% is saturated (QPS is its capacity);")
    print("a client near 100% while the server is not means the client, not the server, set the QPS.")
    print("other: CPU time on the benchmark's CPUs used by anything else during the run.")
    if noisy:
        print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine.")
    print("raw results: %s" % results)
    report.print_plots(report.plot(results, rows, "kernel sockets, loopback", [("server_cpu_us_per_call", "", "-")]))


def medians(runs):
    """The median QPS, server CPU per call and p50 of one server's successful runs of a test."""
    if not runs:
        return None
    return {key: report.median_of([r.get(key) for r in runs]) for key in ("qps", "server_cpu_us_per_call", "p50_us")}
