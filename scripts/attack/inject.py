"""Blind-injection segments (RFC 5961, RFC 9293 §3.10.7.4) against a raw-socket
connection: each must leave it working, and the ACKs they draw must be rate-limited."""
import random
import time

from . import packets as P
from .rawtcp import RawConnection

JUNK = b"JUNK"


def injections(conn):
    """(label, kwargs for RawConnection.send): each unacceptable or harmless."""
    nxt, peer = conn.snd_nxt, conn.rcv_nxt
    return [
        ("in-window SYN", dict(flags=P.SYN, seq=nxt + 100, ack=0)),
        ("ACK above SND.MAX", dict(flags=P.ACK, ack=peer + 100000)),
        ("no flags + data", dict(flags=0, payload=JUNK)),
        ("PSH without ACK + data", dict(flags=P.PSH, payload=JUNK)),
        ("out-of-window data", dict(flags=P.ACK | P.PSH, seq=nxt + 1000000, payload=JUNK)),
        ("old (duplicate) data", dict(flags=P.ACK | P.PSH, seq=nxt - 2000, payload=JUNK)),
        ("in-window RST + payload + future TSval", dict(flags=P.RST | P.ACK, seq=nxt + 1000, payload=b"bye",
                                                        tsval=conn.tsval() + (1 << 30))),
        ("RST outside the window", dict(flags=P.RST, seq=nxt + 5000000)),
    ]


# The injections a receiver answers with an ACK (RFC 9293 §3.10.7.4, RFC 5961 §4-5).
ANSWERED = ("in-window SYN", "ACK above SND.MAX", "out-of-window data", "old (duplicate) data",
            "in-window RST + payload + future TSval")


def paced(conn, segments, spread):
    """Sends `segments` (kwargs) evenly over `spread` s, so that the server sees them one
    by one rather than coalesced in one receive batch; returns the ACKs they drew."""
    start, seen = time.monotonic(), []
    for i, kwargs in enumerate(segments):
        while time.monotonic() < start + spread * i / len(segments):
            seen += conn.collect(0.002, first=True)
        conn.send(**kwargs)
    return answers(seen + conn.collect(1.0))


def by_kind(conn, count, spread):
    """ACKs drawn by `count` segments of each answered kind, each kind in its own second(s)."""
    out = {}
    for label, kwargs in injections(conn):
        if label in ANSWERED:
            time.sleep(1.1)
            out[label] = paced(conn, [kwargs] * count, spread)[0]
    return out


def answers(segs):
    acks = sum(1 for s in segs if s.flags & (P.ACK | P.SYN | P.RST) == P.ACK)
    return acks, sum(1 for s in segs if s.flags & P.RST)


def tcp_inject(env, params):
    rng = random.Random(P.seed())
    tx = P.sender(env["ifname"])
    sniffer = P.Sniffer(env["ifname"], env["owned"], tx, env["subnet"], env["client_ip"])
    P.announce(tx, env)
    sniffer.recv(0.3)
    conn = RawConnection(env, tx, sniffer, rng=rng)
    synack = conn.connect(2.0)
    if synack is None:
        return {"error": "no SYN-ACK"}
    ok, _ = conn.echo_ok("before")
    if not ok:
        return {"error": "the first call over the raw connection failed", "timestamps": synack.tsval is not None}
    cases = []
    for label, kwargs in injections(conn):
        time.sleep(1.1)  # a fresh challenge-ACK second for each case
        conn.send(**kwargs)
        acks, rsts = answers(conn.collect(0.4))
        survived, seen = conn.echo_ok(f"after {label}")
        rsts += sum(1 for s in seen if s.flags & P.RST)
        cases.append({"case": label, "acks": acks, "rst": rsts, "survived": bool(survived and not rsts)})
        if not survived:
            break
    garbage = {}
    if all(c["survived"] for c in cases):
        time.sleep(1.1)
        kinds = [c[1] for c in injections(conn) if c[0] in ANSWERED]
        segments = []
        for i in range(params["garbage"]):
            kwargs = dict(kinds[i % len(kinds)])
            if kwargs.get("payload"):
                kwargs["payload"] = bytes([rng.randrange(256) for _ in range(8)])
            segments.append(kwargs)
        acks, rsts = paced(conn, segments, params["spread"])
        survived, seen = conn.echo_ok("after garbage")
        rsts += sum(1 for s in seen if s.flags & P.RST)
        garbage = {"segments": params["garbage"], "spread_s": params["spread"], "acks": acks, "rst": rsts,
                   "survived": bool(survived and not rsts),
                   "acks_by_kind": by_kind(conn, params["per_kind"], params["spread"] * params["per_kind"] / params["garbage"])
                   if params["per_kind"] else "skipped (--short)"}
    conn.reset()
    return {"timestamps": synack.tsval is not None, "cases": cases, "garbage": garbage}
