#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/Corpus/<target>/: valid messages from the codec's
golden vectors (Tests/ApusThriftTests/Fixtures/golden.json) and valid frames, laid out
as each harness reads its input (see the doc comment of each Fuzz/<target>/<target>.swift).
Run again after changing a harness's input layout; `scripts/fuzz.sh` only reads the seeds."""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
golden = json.load(open(os.path.join(ROOT, "Tests", "ApusThriftTests", "Fixtures", "golden.json")))


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(bytes(data))


def vectors(framing, limit=600):
    return [(v["name"], v["protocol"], bytes.fromhex(v["hex"])) for v in golden
            if v["framing"] == framing and len(v["hex"]) // 2 <= limit]


# Thrift readers: whole unframed messages, both protocols.
for name, _, data in vectors("buffered"):
    write("FuzzThriftProtocols", name, data)

# Framing and the stream core: config byte, split seed, then three messages back to back.
framing_index = {"framed": 1, "buffered": 2}
for framing in ("framed", "buffered"):
    for name, protocol, data in vectors(framing, 300)[::3]:
        scanner = 0 if protocol == "binary" else 1
        stream = data * 3
        write("FuzzMessageFraming", f"{name}-sniffed", [scanner | 0 << 1, 7] + list(stream))
        write("FuzzMessageFraming", f"{name}-configured", [scanner | framing_index[framing] << 1, 42] + list(stream))
        if "call" in name:
            write("FuzzServerConnection", f"{name}-sniffed", [0x40, 3] + list(stream))
            write("FuzzServerConnection", f"{name}-owed1", [framing_index[framing] | 0x80, 9] + list(stream))


# THeader frames written by Apache's Python (Tests/ApusThriftTests/Fixtures/theader.json) and
# TTHeader frames built from CloudWeGo's layout (ttheader.json), sniffed among framed
# messages: three back to back, zlib included.
for kind in ["theader", "ttheader"]:
    with open(os.path.join(ROOT, "Tests", "ApusThriftTests", "Fixtures", f"{kind}.json")) as f:
        cases = json.load(f)
    for index, case in enumerate(cases):
        stream = bytes.fromhex(case["hex"]) * 3
        write("FuzzMessageFraming", f"{kind}-{index}-sniffed", [0, 11] + list(stream))
        write("FuzzServerConnection", f"{kind}-{index}-sniffed", [0x40, 5] + list(stream))


# Frames: the peer 10.10.0.1 (02:..:02) talking to Apus at 10.10.0.10 (02:..:01).
LOCAL_MAC, REMOTE_MAC = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2])
LOCAL_IP, REMOTE_IP = bytes([10, 10, 0, 10]), bytes([10, 10, 0, 1])


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(ether_type, payload, destination=LOCAL_MAC):
    return destination + REMOTE_MAC + struct.pack("!H", ether_type) + payload


def ipv4(protocol, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, protocol, 0, REMOTE_IP, LOCAL_IP)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def transport(protocol, segment, field):
    pseudo = REMOTE_IP + LOCAL_IP + struct.pack("!BBH", 0, protocol, len(segment))
    value = checksum(pseudo + segment)
    return segment[:field] + struct.pack("!H", value) + segment[field + 2:]


def tcp(seq, ack, flags, payload=b"", options=b"", port=80):
    offset = (20 + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", 49500, port, seq, ack, offset << 4, flags, 65535, 0, 0) + options + payload
    return transport(6, segment, 16)


def udp(payload, port=7):
    return transport(17, struct.pack("!HHHH", 49500, port, 8 + len(payload), 0) + payload, 6)


def icmp_echo(payload=b"ping"):
    message = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + payload
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


arp_request = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, REMOTE_MAC, REMOTE_IP, bytes(6), LOCAL_IP)
syn_options = bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
frames = {
    "arp-request": ethernet(0x0806, arp_request, destination=b"\xff" * 6),
    "icmp-echo": ethernet(0x0800, ipv4(1, icmp_echo())),
    "udp": ethernet(0x0800, ipv4(17, udp(b"hello"))),
    "tcp-syn": ethernet(0x0800, ipv4(6, tcp(1000, 0, 0x02, options=syn_options))),
    "tcp-data": ethernet(0x0800, ipv4(6, tcp(1001, 5000, 0x18, b"hello"))),
    "vlan-udp": (LOCAL_MAC + REMOTE_MAC + bytes([0x81, 0, 0, 5, 0x08, 0]) + ipv4(17, udp(b"x"))),
}

# ApusWire: the first byte picks the layer to start at.
for name, frame in frames.items():
    write("FuzzWire", f"ethernet-{name}", [0] + list(frame))
write("FuzzWire", "ipv4-tcp-syn", [1] + list(frames["tcp-syn"][14:]))
write("FuzzWire", "tcp-syn", [2] + list(frames["tcp-syn"][34:]))
write("FuzzWire", "tcp-data", [2] + list(frames["tcp-data"][34:]))
write("FuzzWire", "udp", [3] + list(frames["udp"][34:]))
write("FuzzWire", "icmp-echo", [4] + list(frames["icmp-echo"][34:]))
write("FuzzWire", "arp", [5] + list(arp_request))
write("FuzzWire", "tcp-options", [6] + list(syn_options))
write("FuzzWire", "checksum", [7] + list(frames["tcp-data"][14:34]))


# NetStack: records of op, 2-byte length, frame. op 0x07: addressed to the stack, TCP
# numbers relative to what the stack sent, checksums fixed; 0x08: the clock moves 1 ms.
def record(op, frame):
    return bytes([op]) + struct.pack("!H", len(frame)) + frame


relative_ack = ethernet(0x0800, ipv4(6, tcp(0, 0, 0x10)))
relative_data = ethernet(0x0800, ipv4(6, tcp(0, 0, 0x18, b"hello, apus")))
relative_fin = ethernet(0x0800, ipv4(6, tcp(0, 0, 0x11)))
handshake = record(0x0F, frames["tcp-syn"]) + record(0x0F, relative_ack)
write("FuzzNetStack", "arp-ping-udp", record(0x05, frames["arp-request"]) + record(0x0D, frames["icmp-echo"])
      + record(0x0D, frames["udp"]))
write("FuzzNetStack", "tcp-handshake-data-fin", handshake + record(0x0F, relative_data) + record(0x4F, relative_ack)
      + record(0x0F, relative_fin) + record(0x2F, relative_ack))
write("FuzzNetStack", "tcp-handshake-close", handshake + record(0x8F, relative_data) + record(0x3F, relative_ack))
