"""Runs one attack against a fresh server under a paced legitimate load and
measures: legit QPS before/during/after, new connections during, server RSS
before/peak/after, whether the server survived, then the attack's own checks."""
import os
import signal
import time

from .lab import log, rss_kb

TARGET_RATIO = 0.9


def windows(short):
    """(warm-up, before, minimum during, settle, after) in seconds."""
    return (1.0, 1.5, 2.0, 1.0, 1.5) if short else (1.5, 3.0, 3.0, 1.0, 3.0)


def ratio(value, base):
    return None if value is None or not base else value / base


def run_attack(lab, attack, opts):
    warm, before_s, during_min, settle, after_s = windows(opts.short)
    params = attack.params(opts.short)
    server = lab.start_server(attack.server(opts.short), attack.name)
    bench = lab.bench(opts.rate, 600, attack.name)
    monitor = None
    try:
        if not bench.wait_running():
            raise RuntimeError("apus bench did not start (see the bench log)")
        time.sleep(warm)
        monitor = lab.monitor(server, bench, attack.name)
        t_before = time.monotonic()
        time.sleep(before_s)
        rss_before, counters_before = rss_kb(server.pid), lab.counters(server)
        probe = lab.worker("probe", {"interval": 0.1, "timeout": 3.0, "seconds": attack.timeout + 30}) if attack.probe else None
        worker = lab.worker(attack.worker, params)
        result = worker.wait(attack.timeout)
        d0 = worker.marks.get("hold", worker.started)
        d1 = max(worker.marks.get("end", worker.ended), d0 + during_min)
        while time.monotonic() < d1:
            time.sleep(0.05)
        probe_result = probe.stop() if probe else {}
        time.sleep(max(1.2, settle))  # the counters file is rewritten once a second
        counters_after = lab.counters(server)
        t_after = time.monotonic()
        time.sleep(after_s)
        rss_after = rss_kb(server.pid)
        monitor.stop()
        monitor.out.write(f"# windows: before {t_before:.2f} attack {worker.started:.2f} during {d0:.2f}-{d1:.2f}"
                          f" after {t_after:.2f}; marks {worker.marks}\n")
        time.sleep(1.2)  # one more progress line past the after window
        crashed = server.poll() is not None
    finally:
        if monitor:
            monitor.stop()
        bench.stop()
        final = lab.stop_server(server)
    base = bench.qps(t_before, t_before + before_s)
    ctx = {"params": params, "result": result, "probe": probe_result, "final": final,
           "qps_before": base, "during": ratio(bench.qps(d0, d1), base),
           "after": ratio(bench.qps(t_after, t_after + after_s), base),
           "rss_before": rss_before, "rss_peak": max(monitor.peak_kb, rss_before), "rss_after": rss_after,
           "crashed": crashed, "bench_errors": bench.errors, "seconds_attack": round(d1 - d0, 1),
           "waits": {"during": monitor.wait_per_s(d0, d1), "after": monitor.wait_per_s(t_after, t_after + after_s)},
           "counters": {"accepted_delta": (counters_after.get("accepted", 0) - counters_before.get("accepted", 0))
                        if counters_before and counters_after else None}}
    ctx["checks"] = judge(attack, ctx)
    return ctx


def judge(attack, ctx):
    """The attack's own checks plus the common ones: alive, still serving, legit load kept."""
    if "error" in ctx["result"]:
        checks = [(False, f"worker failed: {ctx['result']['error']}")]
    else:
        checks = list(attack.check(ctx))
    waits = ctx.get("waits", {})
    if attack.during:
        checks.append(qps_check("during", ctx["during"], waits.get("during"), ctx))
    checks.append((not ctx["crashed"], "server alive" if not ctx["crashed"] else "server CRASHED"))
    checks.append(qps_check("after", ctx["after"], waits.get("after"), ctx))
    return checks


BUSY_MS_PER_S = 100


def qps_check(label, value, wait, ctx):
    """A QPS ratio target; a miss while the server or the bench waited long for a CPU (another
    tenant on the machine) is flagged as contended, which makes the driver run the attack again."""
    ok = value is not None and value >= TARGET_RATIO
    note = ""
    if wait is not None and not ok:
        note = f"; CPU wait server {wait[0]:.0f} ms/s, bench {wait[1]:.0f} ms/s"
        if max(wait) >= BUSY_MS_PER_S:
            ctx["contended"] = True
            note += ": machine busy"
    return ok, f"legit QPS {label} >= {TARGET_RATIO:.0%} of before ({_pct(value)}{note})"


def _pct(value):
    return "n/a" if value is None else f"{value:.0%}"


def run_crash_restart(lab, attack, opts):
    """kill -9 mid-bench, then: does the XDP program still steer (no stale socket in
    xsks: frames for the owned address fall back to the kernel as redirect errors
    rather than vanish into a dead socket), does a restarted server serve a new bench."""
    warm, before_s, _, settle, after_s = windows(opts.short)
    server = lab.start_server([], "crash-1")
    bench = lab.bench(opts.rate, 600, "crash-1")
    checks, second = [], None
    try:
        if not bench.wait_running():
            raise RuntimeError("apus bench did not start")
        time.sleep(warm)
        t_before = time.monotonic()
        time.sleep(before_s)
        rss_before = rss_kb(server.pid)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(5)
        x0 = lab.xdp_stats()
        time.sleep(1.5)  # the bench's kernel TCP retransmits meanwhile
        x1 = lab.xdp_stats()
        bench.stop()
        redirected, errors = _delta(x0, x1, 1), _delta(x0, x1, 3)
        checks.append((redirected == 0 and (errors or 0) > 0,
                       f"after kill -9: frames for the owned address redirected {redirected}, passed to the kernel as"
                       f" redirect errors {errors}: no stale socket in xsks (its values are not readable from user"
                       f" space, bpftool: Operation not supported)"))
        pins = sorted(os.listdir(lab.pins)) if os.path.isdir(lab.pins) else []
        checks.append((set(pins) >= {"xsks", "owned_ipv4", "stats"}, f"pins left in {lab.pins}: {' '.join(pins)}"))
        started = time.monotonic()
        second = lab.start_server([], "crash-2")
        restart_s = time.monotonic() - started
        x2 = lab.xdp_stats()
        fresh = lab.bench(opts.rate, 600, "crash-2")
        monitor = lab.monitor(second, fresh, attack.name)
        ran = fresh.wait_running()
        time.sleep(settle)
        t_after = time.monotonic()
        time.sleep(after_s + 1.2)
        x3 = lab.xdp_stats()
        fresh.stop()
        monitor.stop()
        rss_after = rss_kb(second.pid)
        crashed = second.poll() is not None
        checks.append((ran and _delta(x2, x3, 3) == 0 and (_delta(x2, x3, 1) or 0) > 0,
                       f"restarted in {restart_s:.1f} s on the same program and pins; during the new bench redirected"
                       f" {_delta(x2, x3, 1)}, redirect errors {_delta(x2, x3, 3)}"))
    finally:
        bench.stop()
        lab.stop_server(server)
        final = lab.stop_server(second) if second else ""
    base = bench.qps(t_before, t_before + before_s)
    ctx = {"params": {}, "result": {}, "probe": {}, "final": final, "qps_before": base, "during": None,
           "after": ratio(fresh.qps(t_after, t_after + after_s), base), "rss_before": rss_before,
           "rss_peak": max(monitor.peak_kb, rss_after), "rss_after": rss_after, "crashed": crashed,
           "bench_errors": fresh.errors, "seconds_attack": None, "counters": {}}
    checks.append((not crashed, "restarted server alive" if not crashed else "restarted server CRASHED"))
    ok, text = qps_check("after", ctx["after"], monitor.wait_per_s(t_after, t_after + after_s), ctx)
    checks.append((ok, f"new bench after restart: {text} (errors {fresh.errors})"))
    ctx["checks"] = checks
    return ctx


def _delta(a, b, index):
    return b[index] - a[index] if len(a) > index and len(b) > index else None


def report(attack, ctx):
    """One block per attack, as it finishes."""
    mb = lambda kb: f"{kb / 1024:.1f}"
    log(f"  legit QPS  before {ctx['qps_before'] or 0:.0f}/s   during {_pct(ctx['during'])}   after {_pct(ctx['after'])}"
        f"   (bench errors {ctx['bench_errors']})")
    if ctx["probe"]:
        log(f"  new conns  {ctx['probe'].get('ok')}/{ctx['probe'].get('attempts')} during the attack")
    log(f"  server RSS before {mb(ctx['rss_before'])} MB   peak {mb(ctx['rss_peak'])} MB   after {mb(ctx['rss_after'])} MB"
        f"   crashed: {'YES' if ctx['crashed'] else 'no'}")
    for ok, text in ctx["checks"]:
        log(f"  {'PASS' if ok else 'MISS'}  {text}")
    if ctx["final"]:
        log(f"  server at exit: {ctx['final'][:220]}")
