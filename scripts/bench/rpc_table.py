"""The rpc mode's table, medians and the targets' summary lines (QPS xdp/cpp at saturation,
server CPU/call xdp/cpp both ways, p99 xdp/cpp at 50% load), as the bash tool printed them,
then the plots beside the results."""
import statistics

from bench import report


def table(results):
    rows = report.load(results)
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
    # The targets of the second performance round (issue 19, item 5); the first round's were 2x, 1/3 and 1/2.
    v, ok = verdict(ratio(a.get("qps"), c.get("qps")), 5.0, True)
    print("  QPS xdp/cpp at saturation                    %7s  target >= 5x:    %s" % (v, ok))
    v, ok = verdict(ratio(a.get("server_cpu_us_per_call"), c.get("server_cpu_us_per_call")), 1 / 6, False)
    print("  server CPU/call xdp/cpp, process CPU time    %7s  target <= 0.17x: %s" % (v, ok))
    v, ok = verdict(ratio(a.get("core_cpu_us_per_call"), c.get("core_cpu_us_per_call")), 1 / 6, False)
    print("  server CPU/call xdp/cpp, core 0 busy time    %7s  target <= 0.17x: %s" % (v, ok))
    paced = [r for r in rows if r["kind"] == "paced"]
    pa, pc = median([r for r in paced if r["server"] == "xdp"], "p99_us"), median([r for r in paced if r["server"] == "cpp"], "p99_us")
    qa, qc = median([r for r in paced if r["server"] == "xdp"], "qps"), median([r for r in paced if r["server"] == "cpp"], "qps")
    v, ok = verdict(ratio(pa, pc), 1 / 3, False)
    print("  p99 xdp/cpp at 50%% load                      %7s  target <= 0.33x: %s" % (v, ok))
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
    print("both over the measured window (with --warmup 0: the client's whole run, its start and close included).")
    print("srv CPU, core 0, cli CPU, core 1: shares of one core; core 0/1: the busy")
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
    print("raw results: %s" % results)

    report.print_plots(report.plot(results, rows, "Thrift RPC on the testbed",
                                   [("server_cpu_us_per_call", " (process)", "-"), ("core_cpu_us_per_call", " (core 0)", "--")]))
