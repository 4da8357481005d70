"""The few Thrift binary-protocol messages the attacks send (Echo and KV of
Examples/echo.thrift), and a blocking framed-reply reader for kernel sockets."""
import socket
import struct
import time

CALL, REPLY, EXCEPTION = 1, 2, 3
T_STRING = 11


def message(name, seqid, fields=b"", kind=CALL):
    """A strict binary message: header, the argument struct's fields, STOP."""
    raw = name.encode()
    return struct.pack("!Ii", 0x80010000 | kind, len(raw)) + raw + struct.pack("!i", seqid) + fields + b"\0"


def string_field(field_id, value):
    value = value.encode() if isinstance(value, str) else value
    return struct.pack("!BhI", T_STRING, field_id, len(value)) + value


def framed(msg):
    return struct.pack("!I", len(msg)) + msg


def echo(text, seqid=1):
    return message("echo", seqid, string_field(1, text))


def ping(seqid=1):
    return message("ping", seqid)


def put(key, value, seqid=1):
    return message("put", seqid, string_field(1, key) + string_field(2, value))


def get(key, seqid=1):
    return message("get", seqid, string_field(1, key))


def reply_header(msg):
    """(message type, name, seqid) of a binary-protocol message."""
    version, size = struct.unpack_from("!Ii", msg)
    name = msg[8:8 + size].decode(errors="replace")
    return version & 0xFF, name, struct.unpack_from("!i", msg, 8 + size)[0]


def split_frames(buffer):
    """Complete frames at the front of `buffer` and what is left."""
    frames = []
    while len(buffer) >= 4:
        size = struct.unpack_from("!I", buffer)[0]
        if len(buffer) < 4 + size:
            break
        frames.append(bytes(buffer[4:4 + size]))
        buffer = buffer[4 + size:]
    return frames, buffer


def recv_exact(sock, count, deadline):
    data = bytearray()
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(data)} of {count} bytes")
        sock.settimeout(left)
        chunk = sock.recv(min(count - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError("EOF")
        data += chunk
    return bytes(data)


def call(sock, msg, timeout=3.0):
    """Sends one framed call on a kernel socket and returns the reply's message bytes."""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    sock.sendall(framed(msg))
    size = struct.unpack("!I", recv_exact(sock, 4, deadline))[0]
    return recv_exact(sock, size, deadline)


def connect(host, port, timeout=3.0, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s
