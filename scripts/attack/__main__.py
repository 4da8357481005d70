"""Attack check driver (root): `python3 -m attack [--short] [--only a,b] [--list]
[--report-only] [--rate N] [--apus PATH]`, run from scripts/ (scripts/attack-check.sh)."""
import argparse
import os
import signal
import sys
import time

from .attacks import ATTACKS, BY_NAME
from .lab import LOG, Lab, log
from .run import report, run_attack, run_crash_restart

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse(argv):
    ap = argparse.ArgumentParser(prog="attack-check", description="Attacks against apus serve --transport xdp.")
    ap.add_argument("--short", action="store_true", help="reduced counts and windows (CI, ~3 min)")
    ap.add_argument("--only", help="comma-separated attack names (see --list)")
    ap.add_argument("--list", action="store_true", help="list the attacks and exit")
    ap.add_argument("--report-only", action="store_true", help="always exit 0")
    ap.add_argument("--rate", type=int, default=5000, help="legit calls/s of the paced apus bench (default 5000)")
    ap.add_argument("--apus", default=os.environ.get("APUS_BINARY", ".build/release/apus"), help="the apus binary")
    opts = ap.parse_args(argv)
    opts.apus = os.path.abspath(os.path.join(ROOT, opts.apus))
    return opts


def summary(rows):
    """One line per attack."""
    head = f"{'attack':<17}{'QPS before':>11}{'during':>8}{'after':>7}{'new conns':>11}  {'RSS MB before/peak/after':<25}" \
           f"{'crashed':<8}{'result':<6}"
    log("\n" + head)
    log("-" * len(head))
    pct = lambda v: "-" if v is None else f"{v:.0%}"
    for name, ctx in rows:
        if ctx is None:
            log(f"{name:<17}{'(did not run: error)':>40}{'':<33}MISS")
            continue
        p = ctx["probe"]
        conns = f"{p.get('ok')}/{p.get('attempts')}" if p else "-"
        rss = f"{ctx['rss_before'] / 1024:.0f}/{ctx['rss_peak'] / 1024:.0f}/{ctx['rss_after'] / 1024:.0f}"
        ok = all(c[0] for c in ctx["checks"])
        crashed = "killed" if name == "crash-restart" else ("YES" if ctx["crashed"] else "no")
        log(f"{name:<17}{ctx['qps_before'] or 0:>11.0f}{pct(ctx['during']):>8}{pct(ctx['after']):>7}{conns:>11}  "
            f"{rss:<25}{crashed:<8}{'pass' if ok else 'MISS':<6}")


def main(argv):
    opts = parse(argv)
    if opts.list:
        for a in ATTACKS:
            log(f"{a.name:<17}{a.title}")
        return 0
    names = [n.strip() for n in opts.only.split(",")] if opts.only else [a.name for a in ATTACKS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        log(f"attack-check: unknown attack(s) {', '.join(unknown)}; --list shows them")
        return 64
    if not os.access(opts.apus, os.X_OK):
        log(f"attack-check: no apus binary at {opts.apus}: swift build -c release --product apus (or set APUS_BINARY)")
        return 1
    logs = os.path.join(ROOT, ".build", "attack", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(logs, exist_ok=True)
    LOG.append(open(os.path.join(logs, "output.txt"), "w"))
    lab = Lab(ROOT, opts.apus, logs)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, interrupted)  # also when started in the background (SIGINT ignored)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    rows, began = [], time.monotonic()
    try:
        log(f"attack-check: {'short' if opts.short else 'full'} run of {len(names)} attack(s); legit load: apus bench"
            f" paced at {opts.rate} calls/s, 8 connections; logs in {logs}")
        lab.up()
        for name in names:
            attack = BY_NAME[name]
            log(f"\n== {name}: {attack.title}")
            started = time.monotonic()
            runner = run_crash_restart if name == "crash-restart" else run_attack
            try:
                ctx = runner(lab, attack, opts)
                if ctx.get("contended"):  # once: a co-tenant's load is not the server's miss
                    report(attack, ctx)
                    log("  (a legit-QPS target was missed while the machine was busy: running it again)")
                    ctx = runner(lab, attack, opts)
                    ctx["checks"].append((True, "(second run: the first missed legit QPS on a busy machine)"))
            except (RuntimeError, OSError) as error:
                log(f"  MISS  could not run: {error}")
                rows.append((name, None))
                continue
            report(attack, ctx)
            log(f"  ({time.monotonic() - started:.0f} s)")
            rows.append((name, ctx))
    except KeyboardInterrupt:
        log("\nattack-check: interrupted; tearing down")
        return 130
    finally:
        lab.down()
    summary(rows)
    missed = [n for n, ctx in rows if ctx is None or not all(c[0] for c in ctx["checks"])]
    log(f"\nattack-check: {len(rows) - len(missed)}/{len(rows)} attacks met their targets"
        f"{' (missed: ' + ', '.join(missed) + ')' if missed else ''}; {time.monotonic() - began:.0f} s")
    return 0 if opts.report_only or not missed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
