"""A TCP client on raw frames from a spoofed address and MAC, for the attacks
that need control of every segment (ISNs, injection). The client kernel never
sees its traffic: the server answers the spoofed MAC, which no interface has."""
import random
import time

from . import packets as P
from . import thrift


class RawConnection:
    def __init__(self, env, tx, sniffer, src_ip=None, sport=None, rng=random, timestamps=True):
        self.env, self.tx, self.sniffer = env, tx, sniffer
        self.src_ip = src_ip or P.spoofed_ip(env["subnet"], rng)
        self.src_mac = P.spoof_mac(self.src_ip)
        self.src, self.dst = P.ip_bytes(self.src_ip), P.ip_bytes(env["owned"])
        self.dst_mac = P.mac_bytes(env["server_mac"])
        self.sport = sport or rng.randrange(20000, 60000)
        self.dport = env["port"]
        self.iss = rng.randrange(1 << 32)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.timestamps = timestamps
        self.ts0 = rng.randrange(1 << 30)
        self.peer_ts = 0
        self.backlog = []       # segments of this connection seen but not consumed
        self.sent_acks = 0

    def tsval(self):
        return self.ts0 + int(time.monotonic() * 1000)

    def send(self, flags, seq=None, ack=None, payload=b"", tsval=None, window=65535, csum="ok"):
        opts = P.tcp_options(tsval=tsval if tsval is not None else self.tsval(), tsecr=self.peer_ts) if self.timestamps else b""
        frame = P.tcp_frame(self.src_mac, self.dst_mac, self.src, self.dst, self.sport, self.dport,
                            self.snd_nxt if seq is None else seq,
                            (self.rcv_nxt or 0) if ack is None else ack, flags,
                            window=window, options=opts, payload=payload, csum=csum)
        self.tx.send(frame)

    def ours(self, seg):
        return seg.dst == self.src_ip and seg.dport == self.sport and seg.sport == self.dport

    def collect(self, timeout, first=False):
        """This connection's segments from the server within `timeout` s (plus any held back)."""
        segs = [s for s in self.sniffer.recv(timeout, first) if self.ours(s)]
        out, self.backlog = self.backlog + segs, []
        for seg in out:
            if seg.tsval is not None:
                self.peer_ts = seg.tsval
        return out

    def syn(self, timeout=2.0):
        """Sends a SYN and returns the SYN-ACK (or None)."""
        opts = P.tcp_options(mss=1460, tsval=self.tsval(), wscale=None) if self.timestamps else P.tcp_options(mss=1460)
        frame = P.tcp_frame(self.src_mac, self.dst_mac, self.src, self.dst, self.sport, self.dport,
                            self.iss, 0, P.SYN, options=opts)
        self.tx.send(frame)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seg in self.collect(min(0.2, max(0.0, deadline - time.monotonic())), first=True):
                if seg.flags & (P.SYN | P.ACK) == P.SYN | P.ACK and seg.ack == (self.iss + 1) & 0xFFFFFFFF:
                    self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
                    self.rcv_nxt = (seg.seq + 1) & 0xFFFFFFFF
                    return seg
        return None

    def connect(self, timeout=2.0):
        synack = self.syn(timeout)
        if synack is None:
            return None
        self.send(P.ACK)
        return synack

    def reset(self):
        self.send(P.RST | P.ACK)

    def exchange(self, msg, timeout=3.0):
        """Sends one framed call and reads its framed reply, ACKing in-order data.
        Returns (reply bytes or None, every segment the server sent meanwhile)."""
        data = thrift.framed(msg)
        self.send(P.ACK | P.PSH, payload=data)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xFFFFFFFF
        buffer, seen = b"", []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seg in self.collect(0.1, first=True):
                seen.append(seg)
                if seg.flags & P.RST:
                    return None, seen
                if seg.payload and seg.seq == self.rcv_nxt:
                    buffer += seg.payload
                    self.rcv_nxt = (self.rcv_nxt + len(seg.payload)) & 0xFFFFFFFF
                if seg.payload:
                    self.send(P.ACK)
            frames, _ = thrift.split_frames(buffer)
            if frames:
                return frames[0], seen
        return None, seen

    def echo_ok(self, text, timeout=3.0):
        """True when an echo call over this connection comes back intact."""
        reply, seen = self.exchange(thrift.echo(text, seqid=7), timeout)
        return reply is not None and text.encode() in reply, seen


def forward_delta(a, b):
    """How far sequence number b is ahead of a, modulo 2^32."""
    return (b - a) & 0xFFFFFFFF
