"""Ethernet, 802.1Q, ARP, IPv4 and TCP frames built and parsed with `struct`,
plus the raw AF_PACKET sockets that send and sniff them."""
import ctypes
import os
import random
import select
import socket
import struct
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
SOL_PACKET = 263
PACKET_AUXDATA = 8
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
TP_STATUS_VLAN_VALID = 0x10

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def mac_bytes(text):
    return bytes(int(part, 16) for part in text.split(":"))


def mac_text(raw):
    return ":".join(f"{b:02x}" for b in raw)


def random_mac(rng=random):
    """A random locally administered unicast MAC (bit 1 set, bit 0 clear)."""
    first = (rng.randrange(256) & 0xFC) | 0x02
    return bytes([first] + [rng.randrange(256) for _ in range(5)])


def ip_bytes(text):
    return socket.inet_aton(text)


def ones_sum(data):
    """The unfolded 16-bit one's-complement sum of `data` (padded to even length)."""
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data):
    return ~fold(ones_sum(data)) & 0xFFFF


def ethernet(dst, src, ethertype, payload, vlan=None):
    """A frame; `vlan` = VID puts one 802.1Q tag in front of `ethertype`."""
    if vlan is not None:
        return dst + src + struct.pack("!HHH", ETH_P_8021Q, vlan & 0xFFF, ethertype) + payload
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=0, ttl=64):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, ttl, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def tcp_options(mss=None, tsval=None, tsecr=0, wscale=None):
    out = b""
    if mss is not None:
        out += struct.pack("!BBH", 2, 4, mss)
    if wscale is not None:
        out += struct.pack("!BBBB", 1, 3, 3, wscale)
    if tsval is not None:
        out += struct.pack("!BBBBII", 1, 1, 8, 10, tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)
    return out + b"\0" * (-len(out) % 4)


def pseudo_sum(src, dst, length):
    return ones_sum(src + dst + struct.pack("!BBH", 0, 6, length))


def tcp(src, dst, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b"", csum="ok"):
    """A TCP segment. csum: "ok" (full checksum), "pseudo" (only the folded
    pseudo-header sum, what a CHECKSUM_PARTIAL skb carries) or an int."""
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                         offset << 4, flags, window, 0, 0) + options
    length = len(header) + len(payload)
    if csum == "ok":
        value = ~fold(pseudo_sum(src, dst, length) + ones_sum(header + payload)) & 0xFFFF
    elif csum == "pseudo":
        value = fold(pseudo_sum(src, dst, length))
    else:
        value = csum
    return header[:16] + struct.pack("!H", value) + header[18:] + payload


def tcp_frame(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags, vlan=None, **kw):
    segment = tcp(src, dst, sport, dport, seq, ack, flags, **kw)
    return ethernet(dst_mac, src_mac, ETH_P_IP, ipv4(src, dst, 6, segment), vlan=vlan)


def arp(op, sender_mac, sender_ip, target_mac, target_ip):
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, sender_mac, sender_ip, target_mac, target_ip)


class Segment:
    """A parsed TCP/IPv4 frame (None from `parse` for anything else)."""
    __slots__ = ("src_mac", "dst_mac", "vlan", "src", "dst", "sport", "dport", "seq", "ack", "flags",
                 "window", "payload", "tsval", "tsecr", "mss", "at")


def parse(frame, vlan=None, at=0.0):
    if len(frame) < 54:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    offset = 14
    if ethertype == ETH_P_8021Q:
        vlan = struct.unpack_from("!H", frame, 14)[0] & 0xFFF
        ethertype = struct.unpack_from("!H", frame, 16)[0]
        offset = 18
    if ethertype != ETH_P_IP or frame[offset + 9] != 6:
        return None
    ihl = (frame[offset] & 0xF) * 4
    total = struct.unpack_from("!H", frame, offset + 2)[0]
    t = offset + ihl
    seg = Segment()
    seg.dst_mac, seg.src_mac, seg.vlan, seg.at = frame[:6], frame[6:12], vlan, at
    seg.src, seg.dst = socket.inet_ntoa(frame[offset + 12:offset + 16]), socket.inet_ntoa(frame[offset + 16:offset + 20])
    seg.sport, seg.dport, seg.seq, seg.ack, off, seg.flags, seg.window = struct.unpack_from("!HHIIBBH", frame, t)
    data_at = t + (off >> 4) * 4
    seg.payload = frame[data_at:offset + total]
    seg.tsval = seg.tsecr = seg.mss = None
    opts, i = frame[t + 20:data_at], 0
    while i < len(opts) and opts[i] != 0:
        if opts[i] == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        kind, size = opts[i], opts[i + 1]
        if kind == 2 and size == 4:
            seg.mss = struct.unpack_from("!H", opts, i + 2)[0]
        elif kind == 8 and size == 10:
            seg.tsval, seg.tsecr = struct.unpack_from("!II", opts, i + 2)
        i += size
    return seg


def sender(ifname):
    """A raw socket that only sends (protocol 0: it receives nothing)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((ifname, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return s


class Sniffer:
    """Receives the IPv4 frames whose source is `server_ip` on `ifname` (a classic BPF
    filter in the kernel keeps the flood's own frames out), with their VLAN tag
    from PACKET_AUXDATA since the kernel strips tags before packet sockets see them.
    Answers the server's ARP requests for spoofed addresses with `spoof_mac` (via `tx`)."""

    def __init__(self, ifname, server_ip, tx=None, subnet=None, exclude_dst=None):
        self.tx, self.subnet, self.arp_answered = tx, subnet, 0
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        owned = struct.unpack("!I", ip_bytes(server_ip))[0]
        skip = struct.unpack("!I", ip_bytes(exclude_dst or "0.0.0.0"))[0] if exclude_dst else None
        # ARP (the server resolves the spoofed sources), or IPv4 from the server and, with
        # exclude_dst, not to that address (the legit load's replies would swamp the reader).
        code = [(0x28, 0, 0, 12), (0x15, 5, 0, ETH_P_ARP), (0x15, 0, 5, ETH_P_IP), (0x20, 0, 0, 26),
                (0x15, 0, 3, owned), (0x20, 0, 0, 30), (0x15, 1, 0, skip if skip is not None else owned),
                (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)]
        program = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in code))
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(code), ctypes.addressof(program)))
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)  # a flood's answers wait here unread
        s.bind((ifname, 0))
        s.setblocking(False)
        self.sock = s
        self.drain()

    def drain(self):
        """Frames that arrived before the filter was attached are dropped."""
        for _ in range(100000):
            try:
                self.sock.recv(65536)
            except BlockingIOError:
                return

    def recv(self, timeout, first=False):
        """Parsed segments that arrive within `timeout` s (at least one wait);
        `first`: return as soon as any arrived."""
        out, deadline = [], time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if not select.select([self.sock], [], [], max(0.0, left))[0]:
                return out
            for _ in range(10000):
                try:
                    frame, ancdata, _flags, addr = self.sock.recvmsg(65536, 64)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                if frame[12:14] == b"\x08\x06":
                    self.answer_arp(frame)
                    continue
                vlan = None
                for level, kind, data in ancdata:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 20:
                        status, _l, _s, _m, _n, tci = struct.unpack_from("IIIHHH", data)
                        if status & TP_STATUS_VLAN_VALID:
                            vlan = tci & 0xFFF
                seg = parse(frame, vlan, time.monotonic())
                if seg is not None:
                    out.append(seg)
            if time.monotonic() >= deadline or (first and out):
                return out

    def answer_arp(self, frame):
        if self.tx is None or len(frame) < 42 or frame[20:22] != b"\0\1":
            return
        target = socket.inet_ntoa(frame[38:42])
        if not is_spoofed(target, self.subnet):
            return
        mac = spoof_mac(target)
        self.tx.send(ethernet(frame[6:12], mac, ETH_P_ARP, arp(2, mac, frame[38:42], frame[22:28], frame[28:32])))
        self.arp_answered += 1

    def close(self):
        self.sock.close()


SPOOF_LOW, SPOOF_HIGH = 100, 250
_SPOOF_PREFIX = random_mac(random.Random(os.urandom(8)))[:5]


def spoofed_ip(prefix, rng=random):
    """An address of the client subnet that nothing else uses (.100-.250)."""
    return prefix + str(rng.randrange(SPOOF_LOW, SPOOF_HIGH + 1))


def is_spoofed(ip, subnet):
    return subnet is not None and ip.startswith(subnet) and SPOOF_LOW <= int(ip.rsplit(".", 1)[1]) <= SPOOF_HIGH


def spoof_mac(ip):
    """The MAC this run answers ARP with for spoofed address `ip`: a random locally
    administered unicast prefix (fixed per run) and the address's last byte."""
    return _SPOOF_PREFIX + bytes([int(ip.rsplit(".", 1)[1])])


def announce(tx, env):
    """ARP requests from every spoofed address for the server's, so it learns their MACs
    (`spoof_mac`) up front and its answers to spoofed flows are not lost while resolving."""
    owned = ip_bytes(env["owned"])
    for last in range(SPOOF_LOW, SPOOF_HIGH + 1):
        ip = env["subnet"] + str(last)
        mac = spoof_mac(ip)
        tx.send(ethernet(b"\xff" * 6, mac, ETH_P_ARP, arp(1, mac, ip_bytes(ip), b"\0" * 6, owned)))


def seed():
    return int.from_bytes(os.urandom(8), "little")
