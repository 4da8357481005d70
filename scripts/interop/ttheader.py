"""CloudWeGo's TTHeader frame, written and read from its published layout (cloudwego.io, Kitex
reference "transport_protocol_ttheader"; field widths and info ids as cloudwego/gopkg's
protocol/ttheader has them), independently of Apus's Swift codec. Used to make golden vectors
(scripts/gen-ttheader-golden.py) and to call Apus as a TTHeader client would
(scripts/interop/check_theader.py); no Kitex runs here (no Go modules offline).

    LENGTH u32 | MAGIC 0x1000 u16 | FLAGS u16 | SEQUENCE NUMBER u32 | HEADER SIZE/4 u16
    | PROTOCOL ID u8 | TRANSFORM COUNT u8 | TRANSFORM IDS u8...
    | info blocks, in Kitex's writing order: 0x11 ACL token (u16-sized string),
      0x01 string pairs (u16 count, u16-sized key and value), 0x10 int pairs (u16 count,
      u16 key, u16-sized value) | zero padding to 4 | PAYLOAD
"""
import struct

PROTOCOL_IDS = {"binary": 0, "compact": 2}
# Kitex's transmeta int keys Apus uses.
FROM_SERVICE, TO_SERVICE, TO_METHOD, RPC_TIMEOUT = 3, 6, 9, 12


def _string16(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def encode(protocol, payload, seq=0, flags=0, headers=None, int_headers=None, acl_token=None):
    """A whole frame, LENGTH included; keys are written sorted."""
    headers, int_headers = headers or {}, int_headers or {}
    block = struct.pack(">BB", PROTOCOL_IDS[protocol], 0)
    if acl_token is not None:
        block += b"\x11" + _string16(acl_token)
    if headers:
        block += b"\x01" + struct.pack(">H", len(headers))
        for key in sorted(headers):
            block += _string16(key) + _string16(headers[key])
    if int_headers:
        block += b"\x10" + struct.pack(">H", len(int_headers))
        for key in sorted(int_headers):
            block += struct.pack(">H", key) + _string16(int_headers[key])
    block += b"\x00" * (-len(block) % 4)
    return raw_frame(block, payload, seq=seq, flags=flags)


def raw_frame(block, payload, seq=0, flags=0, words=None):
    """A frame around any header block (for malformed ones): `words` overrides HEADER SIZE."""
    rest = struct.pack(">HHIH", 0x1000, flags, seq, len(block) // 4 if words is None else words) + block + payload
    return struct.pack(">I", len(rest)) + rest


class Frame:
    def __init__(self, flags, seq, protocol_id, transforms, headers, int_headers, acl_token, payload):
        self.flags, self.seq, self.protocol_id, self.transforms = flags, seq, protocol_id, transforms
        self.headers, self.int_headers, self.acl_token, self.payload = headers, int_headers, acl_token, payload

    def as_tuple(self):
        return (self.flags, self.seq, self.protocol_id, self.headers, self.int_headers, self.acl_token, self.payload)


def decode(data):
    """Reads one whole frame (LENGTH included) the way the layout says."""
    (length,) = struct.unpack_from(">I", data, 0)
    if length != len(data) - 4:
        raise ValueError(f"LENGTH {length} but {len(data) - 4} bytes follow")
    magic, flags, seq, words = struct.unpack_from(">HHIH", data, 4)
    if magic != 0x1000:
        raise ValueError(f"magic 0x{magic:04x}, not TTHeader's 0x1000")
    block, payload = data[14:14 + words * 4], data[14 + words * 4:]
    protocol_id, count = block[0], block[1]
    transforms = list(block[2:2 + count])
    at = 2 + count
    headers, int_headers, acl = {}, {}, None

    def string(at):
        (size,) = struct.unpack_from(">H", block, at)
        return block[at + 2:at + 2 + size].decode(), at + 2 + size
    while at < len(block):
        kind = block[at]
        at += 1
        if kind == 0:
            continue
        if kind == 0x11:
            acl, at = string(at)
            continue
        if kind not in (0x01, 0x10):
            raise ValueError(f"unknown info id 0x{kind:02x}")
        (pairs,) = struct.unpack_from(">H", block, at)
        at += 2
        for _ in range(pairs):
            if kind == 0x01:
                key, at = string(at)
            else:
                (key,) = struct.unpack_from(">H", block, at)
                at += 2
            value, at = string(at)
            (headers if kind == 0x01 else int_headers)[key] = value
    return Frame(flags, seq, protocol_id, transforms, headers, int_headers, acl, payload)


def read_frame(sock):
    """One whole frame from a socket, LENGTH included; b"" when the peer closed first."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    head = exactly(4)
    if head is None:
        return b""
    rest = exactly(struct.unpack(">I", head)[0])
    return b"" if rest is None else head + rest
