"""What the modes' reports share: the raw results (one JSON object per line, appended as each
run ends, so an interrupted benchmark keeps what it measured), the table helpers, and the
plots written beside the results.

The plots are matplotlib PNGs; without matplotlib one line says so and the benchmark goes on
(its numbers are the tables and the JSON, the plots only a view of them).
"""
import json
import os
import statistics
import sys


def f(v, fmt):
    """A table cell: "-" for a value not measured."""
    return "-" if v is None else fmt % v


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def append(path, row):
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("bench: matplotlib is missing (Debian: apt-get install python3-matplotlib): no plots", file=sys.stderr)
        return None


def _by_server_depth(rows, key):
    """{(server, depth): [(connections, median of key over the rounds)]}, successful runs only."""
    cells = {}
    for r in rows:
        if "error" not in r and r.get(key) is not None:
            cells.setdefault((r["server"], r["depth"], r["connections"]), []).append(r[key])
    lines = {}
    for (server, depth, conns), values in sorted(cells.items()):
        lines.setdefault((server, depth), []).append((conns, statistics.median(values)))
    return lines


def _save(plt, fig, path, written):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)


def plot(results, rows, title, cpu_keys):
    """PNGs beside RESULTS (X.jsonl -> X-qps.png, X-cpu.png, X-latency.png for paced runs):
    QPS and server CPU per call against connections per server (a line per server and
    depth, medians over the rounds, log-scaled connections), and the latency CDF of the paced
    runs from the client's percentiles. cpu_keys: [(row key, label suffix, line style)].
    Returns the paths written (none without matplotlib or successful saturated runs)."""
    saturated = [r for r in rows if r.get("kind", "saturation") == "saturation"]
    if not any("error" not in r for r in saturated):
        return []
    plt = _pyplot()
    if plt is None:
        return []
    base, written = results[: -len(".jsonl")], []
    servers = sorted({r["server"] for r in saturated})
    colors = {s: "C%d" % i for i, s in enumerate(servers)}
    markers = ["o", "s", "^", "D", "v"]
    depths = sorted({r["depth"] for r in saturated})
    conns = sorted({r["connections"] for r in saturated})

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (server, depth), points in _by_server_depth(saturated, "qps").items():
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker=markers[depths.index(depth) % len(markers)], color=colors[server],
                label="%s depth %d" % (server, depth))
    _axes(ax, title + ": QPS (higher is better)", "QPS", conns)
    _save(plt, fig, base + "-qps.png", written)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, suffix, style in cpu_keys:
        for (server, depth), points in _by_server_depth(saturated, key).items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, style, marker=markers[depths.index(depth) % len(markers)], color=colors[server],
                    label="%s depth %d%s" % (server, depth, suffix))
    _axes(ax, title + ": server CPU per call (lower is better)", "CPU us per call", conns)
    _save(plt, fig, base + "-cpu.png", written)

    paced = [r for r in rows if r.get("kind") == "paced" and "error" not in r]
    if paced:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        # The client reports percentiles, not samples: the CDF through p50, p90, p99 and p99.9
        # on a logit axis (each nine as far as the last), the maximum in the legend.
        qs = [0.5, 0.9, 0.99, 0.999]
        for r in paced:
            xs = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"]]
            ax.plot(xs, qs, marker="o", color=colors.get(r["server"]),
                    label="%s round %d (max %.0f us)" % (r["server"], r["round"], r["max_us"]))
        ax.set_yscale("logit")
        ax.set_yticks(qs)
        ax.set_yticklabels(["p50", "p90", "p99", "p99.9"])
        ax.minorticks_off()
        ax.set_xscale("log")
        ax.set_xlabel("latency us")
        ax.set_ylabel("fraction of calls")
        ax.set_title("%s: latency at 50%% load (%.0f calls/s, K=%d)" % (title, paced[0]["rate_target"], paced[0]["concurrency"]))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        _save(plt, fig, base + "-latency.png", written)
    return written


def _axes(ax, title, ylabel, conns):
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set_xticks(conns)
    ax.set_xticklabels([str(c) for c in conns])
    ax.set_xlabel("connections")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def print_plots(paths):
    if paths:
        print("plots: %s" % ", ".join(paths))
