#!/usr/bin/python3
"""Apache Thrift's Python THeader clients, and TTHeader clients written from CloudWeGo's
layout, against `apus serve`.

    /usr/bin/python3 scripts/interop/check_theader.py [APUS_BINARY]     (default .build/debug/apus)
    /usr/bin/python3 scripts/interop/check_theader.py --remote HOST:PORT (a running server, e.g. XDP)

Starts `apus serve --transport kernel --port 0` (protocol and framing sniffed), then, for the
binary and compact inner protocols, calls Echo through THeaderTransport/THeaderProtocol
(Apache's own generated client) with info headers, and checks the reply, that it came back
as THeader (Apache's reader accepts nothing else from a HEADERS client), and that the
example's response headers (echo-K for each request header K) arrived; the same with the
zlib transform both ways. A frame with an unknown transform closes its connection and the
server keeps serving.

TTHeader (Kitex's framing; no Kitex here, so frames come from scripts/interop/ttheader.py, written
from the published layout, around messages from Apache's generated client): binary and compact
calls answered in TTHeader with the same sequence number, string info echoed as echo-K and int
info (the method, key 9) as echo-int-N; RPC timeout (int key 12) 0 refused before the handler;
malformed headers (size 0, over 64 KiB, past the frame, an unknown info id, a protobuf payload,
transforms past the header, a string past the header, a streaming frame) each close their
connection while the server keeps serving. Prints one line per check; exits 1 on any failure.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import thriftgen  # noqa: E402

from thrift.protocol.THeaderProtocol import THeaderProtocol  # noqa: E402
from thrift.transport import TSocket  # noqa: E402
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID, THeaderTransformID  # noqa: E402

import ttheader  # noqa: E402

REMOTE = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--remote" else None
APUS = sys.argv[1] if len(sys.argv) > 1 and not REMOTE else ".build/debug/apus"
HOST = REMOTE.rsplit(":", 1)[0] if REMOTE else "127.0.0.1"
failures = 0


def result(ok, text):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {text}")


def client(port, protocol, headers=None, transforms=()):
    socket = TSocket.TSocket(HOST, port)
    socket.setTimeout(5000)
    proto = THeaderProtocol(socket, [THeaderClientType.HEADERS], default_protocol=protocol)
    for key, value in (headers or {}).items():
        proto.set_header(key.encode(), value.encode())
    for transform in transforms:
        proto.add_transform(transform)
    socket.open()
    from apus_echo import Echo
    return Echo.Client(proto), proto, socket


def check_dump():
    """`apus dump` on THeader frames written by Apache's library and TTHeader frames built from the
    published layout: the header beside the message."""
    import json
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "ApusThriftTests", "Fixtures")
    for kind, source in [("theader", "Apache's Python"), ("ttheader", "the published layout")]:
        cases = json.load(open(os.path.join(fixtures, f"{kind}.json")))
        data = b"".join(bytes.fromhex(case["hex"]) for case in cases)
        out = subprocess.run([APUS, "dump"], input=data, capture_output=True, timeout=30)
        lines = out.stdout.decode().splitlines()
        good = out.returncode == 0 and len(lines) == len(cases)
        for case, line in zip(cases, lines):
            dumped = json.loads(line)
            header = dumped.get(kind, {})
            good = good and header.get("headers") == case["headers"] and header.get("seq") == case["seq"] \
                and header.get("protocol") == case["protocol"] and dumped.get("name") == "echo" \
                and header.get("int_headers", {}) == case.get("int_headers", {}) \
                and header.get("acl_token") == case.get("acl_token")
        result(good, f"apus dump: {len(lines)} {kind} frames from {source} printed with their headers"
               + ("" if good else f": {out.stdout.decode()[:300]} {out.stderr.decode()[:300]}"))


def tt_call(port, protocol, message, seq, headers=None, int_headers=None, acl_token=None):
    """One echo call in a TTHeader frame over a fresh socket: (reply text or error, reply Frame)."""
    import socket as sockets
    from apus_echo import Echo
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.transport.TTransport import TMemoryBuffer
    protocol_class = TBinaryProtocol if protocol == "binary" else TCompactProtocol
    out = TMemoryBuffer()
    Echo.Client(protocol_class(out)).send_echo(message)
    frame = ttheader.encode(protocol, out.getvalue(), seq=seq, headers=headers, int_headers=int_headers, acl_token=acl_token)
    raw = sockets.create_connection((HOST, port), timeout=5)
    try:
        raw.sendall(frame)
        data = ttheader.read_frame(raw)
    finally:
        raw.close()
    if not data:
        return "connection closed", None
    reply = ttheader.decode(data)
    try:
        return Echo.Client(protocol_class(TMemoryBuffer(reply.payload))).recv_echo(), reply
    except Exception as error:  # noqa: BLE001
        return f"error: {error}", reply


def closes(port, frame):
    """True when the server closes the connection after `frame` without answering it."""
    import socket as sockets
    raw = sockets.create_connection((HOST, port), timeout=5)
    try:
        raw.sendall(frame)
        return ttheader.read_frame(raw) == b""
    except sockets.timeout:
        return False  # a hang is not a refusal
    except OSError:
        return True  # reset
    finally:
        raw.close()


def check_ttheader(port):
    for protocol in ["binary", "compact"]:
        headers = {"isn": "Echo", "request-id": f"{protocol}-7"}
        got, reply = tt_call(port, protocol, "hello over TTHeader", 0x01020304, headers,
                             {ttheader.TO_METHOD: "echo", ttheader.FROM_SERVICE: "check_theader"})
        result(got == "hello over TTHeader" and reply.seq == 0x01020304 and reply.protocol_id == ttheader.PROTOCOL_IDS[protocol],
               f"TTHeader({protocol}): echo answered in TTHeader, same sequence number: {got!r}")
        want = {"echo-isn": "Echo", "echo-request-id": f"{protocol}-7", "echo-int-9": "echo", "echo-int-3": "check_theader"}
        result(reply is not None and reply.headers == want, f"TTHeader({protocol}): response info {reply and reply.headers} (want {want})")
    got, _ = tt_call(port, "binary", "x", 1, acl_token="secret", headers={"k": "v"})
    result(got == "x", f"TTHeader with an ACL token block: answered: {got!r}")
    got, _ = tt_call(port, "binary", "too late", 2, int_headers={ttheader.RPC_TIMEOUT: "0"})
    result("deadline" in got.lower(), f"TTHeader RPC timeout 0 (int key 12): refused before the handler: {got}")
    got, _ = tt_call(port, "binary", "in time", 3, int_headers={ttheader.RPC_TIMEOUT: "5000"})
    result(got == "in time", f"TTHeader RPC timeout 5000: answered: {got!r}")
    call = b"\x80\x01\x00\x01\x00\x00\x00\x04echo\x00\x00\x00\x01\x00"
    for name, frame in [
        ("header size 0", ttheader.raw_frame(b"", call, words=0)),
        ("header over 64 KiB", ttheader.raw_frame(bytes(65540), call)),
        ("header past the frame", ttheader.raw_frame(bytes([0, 0, 0, 0]), b"", words=3)),
        ("unknown info id 0x07", ttheader.raw_frame(bytes([0, 0, 7, 0]), call)),
        ("Kitex protobuf payload (protocol id 4)", ttheader.raw_frame(bytes([4, 0, 0, 0]), call)),
        ("transforms past the header", ttheader.raw_frame(bytes([0, 9, 1, 1]), call)),
        ("string past the header", ttheader.raw_frame(bytes([0, 0, 1, 0, 1, 0, 200, 0x61]), call)),
        ("streaming flag", ttheader.raw_frame(bytes([0, 0, 0, 0]), call, flags=0x0002)),
    ]:
        result(closes(port, frame), f"TTHeader with {name}: the connection is closed")
    got, _ = tt_call(port, "binary", "still serving", 4)
    result(got == "still serving", f"the server keeps serving after the malformed TTHeader frames: {got!r}")


def main():
    tmp = tempfile.mkdtemp(prefix="apus-theader-")
    thriftgen.generate(tmp)
    if REMOTE:
        server = None
        port = int(REMOTE.rsplit(":", 1)[1])
    else:
        check_dump()
        port = None
        server = subprocess.Popen([APUS, "serve", "--transport", "kernel", "--host", "127.0.0.1", "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 20
        while server and time.time() < deadline and port is None:
            line = server.stdout.readline()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line or "")
            if match:
                port = int(match.group(1))
        if port is None:
            result(False, "apus serve did not start")
            return
        check_ttheader(port)
        for name, protocol in [("binary", THeaderSubprotocolID.BINARY), ("compact", THeaderSubprotocolID.COMPACT)]:
            headers = {"client": "check_theader", "request-id": f"{name}-42"}
            echo, proto, socket = client(port, protocol, headers)
            try:
                got = echo.echo("hello over THeader")
                replied = proto.get_headers()
                result(got == "hello over THeader", f"THeader({name}): echo answered: {got!r}")
                want = {b"echo-" + k.encode(): v.encode() for k, v in headers.items()}
                result(replied == want, f"THeader({name}): response headers {replied} (want {want})")
                # A second call on the same connection, with other headers: per-message, not sticky.
                proto.set_header(b"request-id", b"second")
                got = echo.echo("again")
                replied = proto.get_headers()
                result(got == "again" and replied.get(b"echo-request-id") == b"second",
                       f"THeader({name}): second call's headers are its own: {replied}")
                result(echo.echoBinary(bytes(range(256)) * 1024) == bytes(range(256)) * 1024,
                       f"THeader({name}): 256 KiB echoBinary")
            finally:
                socket.close()
        for name, protocol in [("binary", THeaderSubprotocolID.BINARY), ("compact", THeaderSubprotocolID.COMPACT)]:
            echo, proto, socket = client(port, protocol, {"k": "v"}, [THeaderTransformID.ZLIB])
            try:
                payload = b"compressible " * 50000
                got = echo.echoBinary(payload)
                result(got == payload, f"THeader({name}) + zlib: 650 KB echoBinary compressed both ways")
                proto.set_header(b"k", b"v")
                got = echo.echo("z")
                result(got == "z" and proto.get_headers() == {b"echo-k": b"v"},
                       f"THeader({name}) + zlib: echo with headers: {got!r}, {proto.get_headers()}")
            finally:
                socket.close()
        # The caller's deadline (fbthrift's client_timeout, ms): spent already, the call is
        # refused before the handler; with time left, answered.
        echo, proto, socket = client(port, THeaderSubprotocolID.BINARY, {"client_timeout": "0"})
        try:
            try:
                echo.echo("too late")
                result(False, "client_timeout 0: answered (expected DEADLINE_EXCEEDED)")
            except Exception as error:  # noqa: BLE001
                result("deadline" in str(error), f"client_timeout 0: refused before the handler: {error}")
            proto.set_header(b"client_timeout", b"5000")
            result(echo.echo("in time") == "in time", "client_timeout 5000: answered")
        finally:
            socket.close()
        # An unknown transform (snappy, 3, which Apache's Python cannot even write) is refused
        # with the connection closed; the server goes on serving others.
        import socket as sockets
        import struct
        raw = sockets.create_connection((HOST, port), timeout=5)
        block = bytes([0, 1, 3, 0])  # binary, one transform: 3
        frame = struct.pack("!HHIH", 0x0FFF, 0, 1, len(block) // 4) + block + b"\x80\x01\x00\x01"
        raw.sendall(struct.pack("!I", len(frame)) + frame)
        try:
            closed = raw.recv(1) == b""
        except OSError:
            closed = True
        raw.close()
        result(closed, "THeader with an unknown transform: the connection is closed")
        echo, proto, socket = client(port, THeaderSubprotocolID.BINARY)
        try:
            result(echo.echo("still serving") == "still serving", "the server keeps serving after the refusal")
        finally:
            socket.close()
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"check_theader: {failures} failed")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
