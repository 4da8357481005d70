#!/usr/bin/python3
"""Apache Thrift's Python THeader clients against `apus serve` (kernel transport).

    /usr/bin/python3 scripts/interop/check_theader.py [APUS_BINARY]     (default .build/debug/apus)

Starts `apus serve --transport kernel --port 0` (protocol and framing sniffed), then, for the
binary and compact inner protocols, calls Echo through THeaderTransport/THeaderProtocol
(Apache's own generated client) with info headers, and checks the reply, that it came back
as THeader (Apache's reader accepts nothing else from a HEADERS client), and that the
example's response headers (echo-K for each request header K) arrived; the same with the
zlib transform both ways. A frame with an unknown transform closes its connection and the
server keeps serving. Prints one line per check; exits 1 on any failure.
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

APUS = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/apus"
failures = 0


def result(ok, text):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {text}")


def client(port, protocol, headers=None, transforms=()):
    socket = TSocket.TSocket("127.0.0.1", port)
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
    """`apus dump` on THeader frames written by Apache's library: the header beside the message."""
    import json
    golden = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "ApusThriftTests", "Fixtures",
                          "theader.json")
    cases = json.load(open(golden))
    data = b"".join(bytes.fromhex(case["hex"]) for case in cases)
    out = subprocess.run([APUS, "dump"], input=data, capture_output=True, timeout=30)
    lines = out.stdout.decode().splitlines()
    good = out.returncode == 0 and len(lines) == len(cases)
    for case, line in zip(cases, lines):
        dumped = json.loads(line)
        header = dumped.get("theader", {})
        good = good and header.get("headers") == case["headers"] and header.get("seq") == case["seq"] \
            and header.get("protocol") == case["protocol"] and dumped.get("name") == "echo"
    result(good, f"apus dump: {len(lines)} THeader frames from Apache's Python printed with their headers"
           + ("" if good else f": {out.stdout.decode()[:300]} {out.stderr.decode()[:300]}"))


def main():
    check_dump()
    tmp = tempfile.mkdtemp(prefix="apus-theader-")
    thriftgen.generate(tmp)
    server = subprocess.Popen([APUS, "serve", "--transport", "kernel", "--host", "127.0.0.1", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        deadline = time.time() + 20
        while time.time() < deadline and port is None:
            line = server.stdout.readline()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line or "")
            if match:
                port = int(match.group(1))
        if port is None:
            result(False, "apus serve did not start")
            return
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
        raw = sockets.create_connection(("127.0.0.1", port), timeout=5)
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
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"check_theader: {failures} failed")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
