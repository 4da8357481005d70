"""The attack classes: what each worker is asked to do (full and --short), the
server flags it runs against, and the targets its measurements are judged by.
`check(ctx)` returns (passed, text) pairs; ctx is filled in by the driver (run.py)."""

MB = 1 << 20
OWED_REPLIES = 32        # ServerConnectionPolicy.maximumOwedReplies (no CLI flag)
SLOWLORIS_SIZE = 16_384_000


class Attack:
    def __init__(self, name, title, worker=None, params=None, server=None, probe=False, during=True,
                 timeout=120, check=None):
        self.name, self.title, self.worker = name, title, worker
        self.params = params or (lambda short: {})
        self.server = server or (lambda short: [])
        self.probe, self.during, self.timeout, self.check = probe, during, timeout, check or (lambda ctx: [])


def at_least(value, floor, text):
    return (value is not None and value >= floor, text)


def new_conns(ctx):
    p = ctx["probe"]
    ok = p.get("attempts", 0) >= 3 and p.get("ok") == p.get("attempts")
    return [(ok, f"new connections during the attack: {p.get('ok')}/{p.get('attempts')} succeeded"
                 f" (slowest {p.get('slowest_s')} s{', errors ' + str(p['errors']) if p.get('errors') else ''})")]


def final_fields(ctx, *names):
    """Some of the server's exit counters, `name=value ...`."""
    fields = dict(f.split("=", 1) for f in ctx["final"].split() if "=" in f)
    return " ".join(f"{n}={fields.get(n, '?')}" for n in names)


def rss_growth_per_conn(ctx, count, limit_kb):
    growth = ctx["rss_peak"] - ctx["rss_before"]
    per = growth / max(count, 1)
    return (per <= limit_kb, f"RSS growth {growth / 1024:.1f} MB over {count} connections = {per:.2f} KB each"
                             f" (target <= {limit_kb} KB)")


def syn_flood(ctx):
    r = ctx["result"]
    return [(r.get("sent", 0) == ctx["params"]["count"],
             f"sent {r.get('sent')} spoofed SYNs in {r.get('seconds')} s ({r.get('pps')} pps)")] + new_conns(ctx)


def forged_cookies(ctx):
    r, c = ctx["result"], ctx["counters"]
    checks = []
    for phase in ("calm", "cookie_mode"):
        p = r.get(phase, {})
        checks.append((p.get("non_rst", 1) == 0, f"{phase}: answers other than RST to forged ACKs: {p.get('non_rst')}"
                                                 f" ({p.get('with_data')} with data)"))
        checks.append((p.get("rst", 0) > 0, f"{phase}: forged flows visible to the sniffer ({p.get('rst')} RSTs back)"))
    checks.append((r.get("flood_tuples_answered", 0) > 4096,
                   f"listener overflowed into cookie mode: {r.get('flood_tuples_answered')} of {r.get('flood_syns')}"
                   f" flood SYNs answered (backlog 4096: the rest with cookies)"))
    accepted = c.get("accepted_delta")
    checks.append((accepted == 0, f"connections the server accepted during the attack: {accepted} (server counter)"))
    return checks


def isn_predict(ctx):
    r = ctx["result"]
    spread = ", ".join(f"{d['delta']:#x}" for d in r.get("distinct_deltas", [])[:4])
    same = "; ".join(f"+{d['delta']} in {d['ms']} ms" for d in r.get("repeat_deltas", []))
    return [(r.get("samples") == 10, f"SYN-ACKs read: {r.get('samples')}/10"),
            (r.get("predicted") == 0 and r.get("samples", 0) >= 2,
             f"predicted ISNs: {r.get('predicted')} (forward delta < {r.get('window', 0):#x} across tuples,"
             f" or equal on a repeated tuple); deltas across tuples {spread}...; same tuple again {same}")]


def idle_conns(ctx):
    r, n = ctx["result"], ctx["params"]["count"]
    return [(r.get("connected") == n, f"idle connections opened: {r.get('connected')}/{n} ({r.get('failed')} failed)"),
            (r.get("alive_after_hold") == r.get("connected"), f"still open after the hold: {r.get('alive_after_hold')}"),
            rss_growth_per_conn(ctx, r.get("connected") or n, 8)] + new_conns(ctx)


def slowloris(ctx):
    r, p = ctx["result"], ctx["params"]
    n = r.get("connected") or p["count"]
    limit = p["deadline"] + p["slack"]
    growth = ctx["rss_peak"] - ctx["rss_before"]
    bound = 32 * 1024 + n * 8
    return [(r.get("connected") == p["count"], f"slow connections opened: {r.get('connected')}/{p['count']}"),
            (r.get("ended_within") == r.get("connected"),
             f"reset/closed within {limit} s of the header: {r.get('ended_within')}/{r.get('connected')}"
             f" (rst {r.get('rst')}, eof {r.get('eof')}, still open {r.get('still_open')}; first {r.get('first_s')} s,"
             f" last {r.get('last_s')} s); server: {final_fields(ctx, 'connections_failed', 'tcp_resets_sent')}"),
            (growth <= bound, f"RSS growth {growth / 1024:.1f} MB for {n} x {SLOWLORIS_SIZE:,} B announced"
                              f" (target <= {bound / 1024:.0f} MB: 32 MB + 8 KB per connection)")]


def unframed_trickle(ctx):
    r = ctx["result"]
    return [(r.get("connected") == ctx["params"]["count"],
             f"trickling connections: {r.get('connected')}, {r.get('bytes_sent')} one-byte segments,"
             f" {r.get('calls_sent')} calls completed, {r.get('replies')} replies, {r.get('alive')} still open")]


def reply_amplify(ctx):
    r, p = ctx["result"], ctx["params"]
    n = r.get("connected") or p["count"]
    cap = OWED_REPLIES * (p["value_mb"] * MB)
    growth = (ctx["rss_peak"] - ctx["rss_before"]) * 1024
    bound = cap * n + 32 * MB
    return [(r.get("put_ok") and n == p["count"], f"{p['value_mb']} MB value stored; {n} connections x"
                                                  f" {p['calls']} pipelined gets, SO_RCVBUF 4096, never read"),
            (growth <= bound, f"RSS growth {growth / MB:.0f} MB (~{growth / n / (p['value_mb'] * MB):.1f} replies' worth per"
                              f" connection); cap {OWED_REPLIES} owed replies x {p['value_mb']} MB = {cap // MB} MB per"
                              f" connection -> target <= {bound // MB} MB")]


def zero_window(ctx):
    r = ctx["result"]
    return [(r.get("replies") == r.get("calls") and r.get("in_order"),
             f"replies {r.get('replies')}/{r.get('calls')} (in order: {r.get('in_order')}) in {r.get('seconds')} s"
             f"{', read error ' + r['read_error'] if r.get('read_error') else ''}")]


def tcp_inject(ctx):
    r = ctx["result"]
    if "cases" not in r:
        return [(False, f"raw connection: {r.get('error')}")]
    checks = [(c["survived"], f"{c['case']}: {'survived' if c['survived'] else 'connection lost'}"
                              f" (ACKs {c['acks']}, RSTs {c['rst']})") for c in r["cases"]]
    g = r.get("garbage") or {}
    if g:
        checks.append((g["survived"], f"200 garbage segments: {'survived' if g['survived'] else 'connection lost'}"))
        checks.append((g["acks"] <= g["segments"] // 2,
                       f"ACKs drawn by {g['segments']} garbage segments over {g['spread_s']} s: {g['acks']}"
                       f" (target <= {g['segments'] // 2}); per kind, {ctx['params']['per_kind']} each at the same pace:"
                       f" {g['acks_by_kind']}"))
    return checks


def arp_spoof(ctx):
    r = ctx["result"]
    return [(r.get("frames_to_fake_mac") == 0 and r.get("frames_to_client_mac", 0) > 0,
             f"server frames to the client's address after the spoof: {r.get('frames_to_client_mac')} to its real MAC,"
             f" {r.get('frames_to_fake_mac')} to the spoofed one")] + new_conns(ctx)


def unanswered(*kinds):
    def check(ctx):
        r = ctx["result"]
        out = [(r.get(k, {}).get("synack_untagged", 1) == 0 and r.get(k, {}).get("synack_tagged", 1) == 0,
                f"{k}: SYN-ACKs {r.get(k, {}).get('synack_untagged')} untagged, {r.get(k, {}).get('synack_tagged')} tagged"
                f" to {r.get(k, {}).get('sent')} SYN(s) x3") for k in kinds]
        ctl = r.get("control", {})
        return out + [(ctl.get("synack_untagged", 0) > 0, f"control (normal SYN): {ctl.get('synack_untagged')} SYN-ACKs")]
    return check


ODD = ["bcast-ip", "subnet-bcast", "mcast-ip", "zero-ip", "bcast-mac", "mcast-mac"]

ATTACKS = [
    Attack("syn-flood", "spoofed SYNs as fast as possible", "syn-flood",
           lambda s: {"count": 20000 if s else 100000, "seconds": 60}, probe=True, check=syn_flood),
    Attack("forged-cookies", "bare ACKs (1/3 with a Thrift call) guessing cookies, calm and in cookie mode",
           "forged-cookies", lambda s: {"count": 3000, "flood": 6000, "rate": 20000}, check=forged_cookies),
    Attack("isn-predict", "ISNs of 8 tuples back to back and of one tuple 3 times", "isn-predict",
           lambda s: {"distinct": 8, "repeats": 2}, during=False, check=isn_predict),
    Attack("idle-conns", "idle kernel TCP connections held open", "idle-conns",
           lambda s: {"count": 2000 if s else 10000, "hold": 5 if s else 8}, probe=True, timeout=240, check=idle_conns),
    Attack("slowloris", "framed header announcing 16,384,000 B, then 1 byte every 20 s", "slowloris",
           lambda s: {"count": 200 if s else 1000, "announce": SLOWLORIS_SIZE, "every": 20,
                      "deadline": 3 if s else 10, "slack": 3 if s else 5},
           server=lambda s: ["--read-timeout", "3"] if s else [], timeout=120, check=slowloris),
    Attack("unframed-trickle", "unframed echo calls fed 1 byte per segment", "unframed-trickle",
           lambda s: {"count": 20 if s else 50, "payload": 100, "interval": 0.02, "seconds": 5 if s else 10},
           check=unframed_trickle),
    Attack("reply-amplify", "4 MB value, 50 pipelined gets per connection, replies never read", "reply-amplify",
           lambda s: {"count": 2 if s else 4, "value_mb": 4, "calls": 50, "hold": 4 if s else 6}, check=reply_amplify),
    Attack("zero-window", "pipelined echo calls behind a tiny receive window, read slowly, then drained",
           "zero-window", lambda s: {"calls": 100 if s else 200, "payload": 2000, "stall": 3 if s else 5,
                                     "slow": 2 if s else 3, "timeout": 30 if s else 60}, check=zero_window),
    Attack("tcp-inject", "blind-injection segments against a raw-socket connection", "tcp-inject",
           lambda s: {"garbage": 200, "per_kind": 0 if s else 40, "spread": 1.0}, during=False, check=tcp_inject),
    Attack("arp-spoof", "one unsolicited ARP reply claiming the client's address", "arp-spoof",
           lambda s: {"hold": 4 if s else 6}, probe=True, check=arp_spoof),
    Attack("bcast-syn", "SYNs from broadcast/multicast/zero addresses and broadcast/multicast MACs", "odd-syns",
           lambda s: {"variants": ODD}, during=False, check=unanswered(*ODD)),
    Attack("pseudo-csum", "SYN whose checksum holds only the pseudo-header sum (and zero, wrong)", "odd-syns",
           lambda s: {"variants": ["pseudo-csum", "zero-csum", "bad-csum"]}, during=False,
           check=unanswered("pseudo-csum", "zero-csum", "bad-csum")),
    Attack("vlan-tagged", "802.1Q-tagged SYN (VID 5) to the owned address", "odd-syns",
           lambda s: {"variants": ["vlan"]}, during=False, check=unanswered("vlan")),
    Attack("crash-restart", "kill -9 the server mid-bench, restart it", None, during=False, timeout=60),
]

BY_NAME = {a.name: a for a in ATTACKS}
