"""xdp mode (root): AF_XDP UDP reflectors on the testbed, `apus xdp reflect` against the C
reference over libxdp (Benchmarks/xdp-ref/reflect.c), each pinned to CPU 0 in the server
namespace, driven by the C blaster (Benchmarks/xdp-ref/blaster.c) on CPU 1 in the client
namespace. Rounds alternate the reflectors; the table gives the medians and apus/c."""
import re
import statistics
import time

from bench import report, runner, testbed
from bench.runner import note
from bench.testbed import IF_SRV, IP_OWNED, XDP_MODE

REF_DIR, UDP_PORT, WARMUP = "build/xdp-ref", 7, 1


class Ctx:
    """What every run of one benchmark shares."""


def build_reference():
    """reflect and blaster, rebuilt when their sources, flags or libraries change."""
    src = "Benchmarks/xdp-ref"
    extra = runner.output(["sh", "-c", "pkg-config --modversion libxdp libbpf; pkg-config --cflags --libs libxdp"]).rstrip("\n")
    runner.build_reference("C reference", src, REF_DIR, ["reflect", "blaster"], extra,
                           [src + "/reflect.c", src + "/blaster.c", src + "/build.sh", "bpf/apus_xdp.h"])


def start_reflector(c, name, log):
    """Reflector NAME on CPU 0 in the server namespace (the process itself: all exec)."""
    if name == "apus":
        cmd = [c.apus.bin, "xdp", "reflect", "--interface", IF_SRV, "--queue", str(testbed.QUEUE), "--address", IP_OWNED,
               "--udp-port", str(UDP_PORT), "--duration", str(c.reflect_seconds)] + c.flags
        pattern = r"^apus xdp reflect: serving"
    else:
        cmd = [REF_DIR + "/reflect", IF_SRV, str(testbed.QUEUE), IP_OWNED, str(UDP_PORT), "--copy", "--seconds", str(c.reflect_seconds)]
        pattern = r"^reflect: .* MAC "
    runner.start_logged(c.pins.server + testbed.exec_in("srv", ["stdbuf", "-oL"] + cmd), log)
    return runner.wait_ready(log, pattern) is not None


def blast(c, seconds, out):
    """The blaster on CPU 1 in the client namespace for SECONDS; returns its exit status."""
    return runner.run_load(c.pins.client + ["timeout", "-k", "2", str(seconds + 10)] + testbed.exec_in(
        "cli", [REF_DIR + "/blaster", IP_OWNED, str(UDP_PORT), "--seconds", str(seconds), "--size", str(c.o.payload),
                "--window", str(c.o.window), "--json"]), out)


def run_one(c, name, rnd):
    o = c.o
    log = "%s/%s-r%d" % (c.logs, name, rnd)
    row = {"mode": "xdp", "stamp": c.stamp, "reflector": name, "round": rnd, "duration_s": o.duration, "payload": o.payload,
           "window": o.window, "interface": IF_SRV, "xdp_mode": XDP_MODE, "apus": c.apus.bin}
    error = line = None
    if not start_reflector(c, name, log):
        error = "reflector did not print its readiness line within 15 s (see %s.out, %s.err)" % (log, log)
        runner.stop_server()
    else:
        # Warm-up: ARP resolution, caches, page faults; not measured.
        blast(c, WARMUP, log + ".warmup")
        pid = runner.Procs.server.pid
        cpu0, busy0, t0, ch0 = runner.user_sys_ticks(pid), c.pins.busy_ticks(), time.time_ns(), runner.children_cpu()
        rc = blast(c, o.duration, log + ".blaster")
        ch1, t1, busy1 = runner.children_cpu(), time.time_ns(), c.pins.busy_ticks()
        blaster_cpu = round(ch1 - ch0, 3)
        cpu1 = runner.user_sys_ticks(pid) if cpu0 and runner.server_alive() else None
        if cpu1 is None:
            error = "reflector ended before the blaster did (see %s.err)" % log
        runner.stop_server()
        line = ([l for l in runner.read(log + ".blaster.out").splitlines() if l.startswith("{")] or [""])[-1]
        if rc in (124, 137):
            error = error or "blaster exceeded %d s and was killed (see %s.blaster.err)" % (o.duration + 10, log)
        elif rc == 2:
            error = error or "no echo came back (see %s.out, %s.err, %s.blaster.err)" % (log, log, log)
        elif rc != 0:
            error = error or "blaster exited with status %d (see %s.blaster.err)" % (rc, log)
        elif not line:
            error = error or "blaster printed no JSON line (see %s.blaster.out)" % log
    out, err = runner.read(log + ".out"), runner.read(log + ".err")
    # The reflector's own account (warm-up included): how it bound, what it echoed, kernel drops.
    m = re.search(r"\((copy|zero-copy) mode|bound in (copy|zero-copy) mode", out + err)
    row["bind"] = (m.group(1) or m.group(2)) if m else None
    if name == "apus":
        m = re.search(r"received=(\d+) reflected=(\d+) arp_replies=(\d+) dropped=(\d+) rx_dropped=(\d+) rx_ring_full=(\d+)", out)
        if m:
            rx, udp, arp, _, dropped, full = map(int, m.groups())
    else:
        m = re.search(r"rx (\d+), tx \d+ \(udp echoed (\d+), arp replied (\d+)\)", out)
        k = re.search(r"rx_dropped (\d+) .*rx_ring_full (\d+)", out)
        if m and k:
            (rx, udp, arp), (dropped, full) = map(int, m.groups()), map(int, k.groups())
        else:
            m = None
    if m:
        row.update({"reflector_rx": rx, "reflector_udp_echoed": udp, "reflector_arp_replied": arp,
                    "xsk_rx_dropped": dropped, "xsk_rx_ring_full": full})
    else:
        row["warning"] = "no summary line from the reflector"
    if not error:
        keys = ("replies_per_s", "sent", "received", "lost", "unexpected", "rtt_avg_us", "rtt_max_us")
        got, error = runner.json_fields(line, keys, "blaster")
        row.update(got or {})
    if not error:
        tck = runner.CLK_TCK
        wall = (t1 - t0) / 1e9
        user, cpu = (cpu1[0] - cpu0[0]) / tck, (sum(cpu1) - sum(cpu0)) / tck
        row["wall_s"] = round(wall, 3)
        row["reflector_cpu_s"] = round(cpu, 3)
        row["reflector_user_s"] = round(user, 3)
        row["reflector_cpu_pct"] = round(100 * cpu / wall, 1) if wall > 0 else None
        row["blaster_cpu_pct"] = round(100 * blaster_cpu / wall, 1) if wall > 0 else None
        row["reflector_cpu_ns_per_packet"] = round(cpu * 1e9 / row["received"], 1) if row["received"] else None
        row["reflector_user_ns_per_packet"] = round(user * 1e9 / row["received"], 1) if row["received"] else None
        if wall > 0:
            busy = (busy1 - busy0) / tck
            row["other_cpu_pct"] = round(max(0.0, 100 * (busy - cpu - blaster_cpu) / wall), 1)
    if error:
        row["error"] = error
    return row


def run(o):
    c = Ctx()
    c.o, failed = o, 0
    testbed.prerequisites("xdp")
    c.pins = runner.Pins()
    build_reference()
    c.apus = runner.Apus()
    c.apus.build()
    if not c.apus.has("xdp", "reflect"):
        runner.die("%s has no 'xdp reflect' subcommand" % c.apus.bin)
    # Copy mode asked for explicitly, as reflect.c's --copy does (veth has no zero copy anyway).
    c.flags = ["--zero-copy", "off"] if c.apus.option(["xdp", "reflect"], "--zero-copy") else []
    # A reflector is stopped with SIGTERM once the blaster is done (both then print their
    # summaries); it also stops on its own after this long, should nobody stop it.
    c.reflect_seconds = WARMUP + o.duration + 30
    c.stamp, c.results, c.logs = runner.new_results("xdp")
    with testbed.Testbed(c.logs):
        for rnd in range(1, o.rounds + 1):
            # apus c, c apus, ...: drift on a shared machine hits both sides alike.
            for name in (("apus", "c") if rnd % 2 else ("c", "apus")):
                row = run_one(c, name, rnd)
                report.append(c.results, row)
                if "error" in row:
                    failed = 1
                    note("%s round %d: FAILED: %s" % (name, rnd, row["error"]))
                else:
                    note("%s round %d: %.0f replies/s, rtt avg %.0f us, reflector %.0f ns/packet"
                         % (name, rnd, row["replies_per_s"], row["rtt_avg_us"], row["reflector_cpu_ns_per_packet"] or 0))
    table(c.results)
    return failed


def table(results):
    rows = report.load(results)
    r0 = rows[0]
    binds = sorted({r["bind"] for r in rows if r.get("bind")}) or ["unknown"]
    print()
    print("== AF_XDP UDP echo on the testbed: %s, XDP %s, %s-mode AF_XDP, queue 0; %d-byte datagrams, window %d, %d s per run"
          % (r0["interface"], r0["xdp_mode"], "/".join(binds), r0["payload"], r0["window"], r0["duration_s"]))
    hdr = "%-9s %5s | %10s %8s %6s | %10s %10s | %10s %11s %8s %8s %6s"
    print(hdr % ("reflector", "round", "replies/s", "lost", "unexp", "rtt avg us", "rtt max us",
                 "CPU ns/pkt", "user ns/pkt", "refl CPU", "blst CPU", "other"))
    line = "-" * 122
    noisy = False
    print(line)
    def f(v, fmt):
        return "-" if v is None else fmt % v
    for r in rows:
        if "error" in r:
            print("%-9s %5d | FAILED: %s" % (r["reflector"], r["round"], r["error"]))
            continue
        print(hdr % (r["reflector"], r["round"], f(r["replies_per_s"], "%.0f"), f(r["lost"], "%d"), f(r["unexpected"], "%d"),
                     f(r["rtt_avg_us"], "%.0f"), f(r["rtt_max_us"], "%.0f"), f(r["reflector_cpu_ns_per_packet"], "%.0f"),
                     f(r["reflector_user_ns_per_packet"], "%.0f"), f(r["reflector_cpu_pct"], "%.0f%%"), f(r["blaster_cpu_pct"], "%.0f%%"), f(r.get("other_cpu_pct"), "%.0f%%")))
        noisy = noisy or (r.get("other_cpu_pct") or 0) > 10
    print(line)
    def median(name, key):
        values = [r[key] for r in rows if r["reflector"] == name and "error" not in r and r.get(key) is not None]
        return (statistics.median(values), len(values)) if values else (None, 0)
    (a, na), (c, nc) = median("apus", "replies_per_s"), median("c", "replies_per_s")
    (ca, _), (cc, _) = median("apus", "reflector_cpu_ns_per_packet"), median("c", "reflector_cpu_ns_per_packet")
    (ua, _), (uc, _) = median("apus", "reflector_user_ns_per_packet"), median("c", "reflector_user_ns_per_packet")
    print("median replies/s: apus %s (%d runs), c %s (%d runs)" % (f(a, "%.0f"), na, f(c, "%.0f"), nc))
    if a is not None and c:
        ratio = a / c
        print("apus/c: replies/s %.2fx (higher is better; target >= 0.90x: %s)" % (ratio, "met" if ratio >= 0.9 else "NOT met"))
        print("        CPU ns/pkt %s, user ns/pkt %s (medians; lower is better)"
              % ("%.2fx" % (ca / cc) if ca and cc else "-", "%.2fx" % (ua / uc) if ua and uc else "-"))
    # On a shared machine: the same over the runs other load left alone, when each side has one.
    clean = [r for r in rows if "error" not in r and r.get("other_cpu_pct") is not None and r["other_cpu_pct"] <= 10]
    clean_line = False
    if len(clean) < len([r for r in rows if "error" not in r]):
        qa = [r["replies_per_s"] for r in clean if r["reflector"] == "apus"]
        qc = [r["replies_per_s"] for r in clean if r["reflector"] == "c"]
        if qa and qc:
            print("runs with other <= 10%%: median replies/s apus %.0f (%d runs), c %.0f (%d runs), apus/c %.2fx"
                  % (statistics.median(qa), len(qa), statistics.median(qc), len(qc), statistics.median(qa) / statistics.median(qc)))
            clean_line = True
    print("replies/s: echoes the blaster counted over the run; lost: sent and never answered; unexp: late or unknown echoes.")
    print("CPU ns/pkt: reflector CPU time (user+sys) per echo; user ns/pkt: its user-space part, the work of")
    print("the implementation itself (rings, parsing, checksums). On veth the system part includes kernel work")
    print("done in the reflector's context: the copy-mode transmit and the client kernel's UDP receive; the XDP")
    print("program and the copy into the UMEM run on the blaster's CPU (veth receives on the sender's CPU).")
    print("refl/blst CPU: share of one core; a reflector near 100% is saturated (replies/s is its capacity);")
    print("a blaster near 100% while the reflector is not means the blaster set the pace.")
    print("other: CPU time on the benchmark's CPUs used by anything else during the run.")
    if noisy:
        print("WARNING: other load above 10% of a core in some runs: those numbers are disturbed; rerun on an idle machine"
              + (" (or go by the runs with other <= 10%)." if clean_line else "."))
    print("raw results: %s" % results)
