#!/usr/bin/python3
"""Checks `apus serve` against Apache Thrift's Python client, and abuses it.

    check_server.py APUS_BINARY [--only NAME[,NAME...]]
    check_server.py --python-server [--only NAME[,NAME...]]
    check_server.py --remote HOST:PORT [--server-log FILE] [--only NAME[,NAME...]]

Interop: for every protocol x framing a server is started with exactly that
configuration and called through Apache's generated Python clients; one more
server with `--protocol auto --framing auto` is called by all four client
combinations. Each combination runs the RPC checks (echo, echoBinary,
echoItem, ping, fire, kv) over one connection, then `reuse` (that connection
still works) and `multiplexed` (all of them again over a new connection
through TMultiplexedProtocol, "Echo:echo" etc.).

Abuse (against the binary/framed and the auto/auto servers): garbage,
oversized and truncated frames, unknown methods, wrong message types and
malformed arguments on raw sockets. After each, a connection opened before
the abuse must still answer, i.e. one bad peer never harms another.

--remote checks a server somebody else started, with `--protocol auto
--framing auto --read-timeout 1` (e.g. `apus serve --transport xdp` on the
netns testbed, with this script run in the client namespace): the RPC checks
in all four combinations, then the abuse checks. --server-log names the
server's output file, whose tail is shown with a failure.

--python-server runs the interop checks against Apache's own server
(py_server.py) instead, to validate the checks themselves; the auto/auto
configuration and the abuse checks are Apus-specific and skipped there.

Prints `ok   <config> <check>` or `FAIL <config> <check>: <reason>` (plus the
server's last output lines) per check and exits 1 if any failed.
"""
import argparse
import atexit
import collections
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import thriftgen
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.transport import TSocket, TTransport

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOLS = {"binary": TBinaryProtocol.TBinaryProtocol, "compact": TCompactProtocol.TCompactProtocol}
FRAMINGS = {"framed": TTransport.TFramedTransport, "buffered": TTransport.TBufferedTransport}
COMBOS = [(p, f) for p in PROTOCOLS for f in FRAMINGS]

TIME_BUDGET = 180       # s, hard cap for the whole run (normally well under 60)
READY_TIMEOUT = 20      # s for a server to announce its port
CLIENT_TIMEOUT = 10     # s per socket operation of the generated clients
RAW_TIMEOUT = 5         # s per socket operation of the raw abuse sockets
READ_TIMEOUT = 1        # s, passed to `apus serve --read-timeout`
STOP_GRACE = 3          # s between SIGTERM and SIGKILL
LOG_TAIL = 30           # server output lines shown with a failure

MESSAGE_TYPES = {v: k for k, v in vars(TMessageType).items() if k.isupper()}
APP_ERRORS = {v: k for k, v in vars(TApplicationException).items() if k.isupper() and isinstance(v, int)}

# The generated modules, imported once thriftgen has produced them.
Echo = KV = ttypes = None


class CheckFailed(Exception):
    pass


class BudgetExceeded(BaseException):
    """Raised by SIGALRM; a BaseException so no check can swallow it."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def short(value, limit=60):
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} long)" if isinstance(value, (str, bytes, dict, list)) else ""
    return f"{text[:limit]}...{size}"


def expect_eq(got, want, what):
    if got != want:  # (formatting only on failure: values can be megabytes)
        raise CheckFailed(f"{what}: got {short(got)}, want {short(want)}")


def describe(error):
    if isinstance(error, TApplicationException):
        return f"TApplicationException {APP_ERRORS.get(error.type, error.type)}: {error.message}"
    if isinstance(error, CheckFailed):
        return str(error)
    return f"{type(error).__name__}: {error}"


# -- server processes ---------------------------------------------------------

class Server:
    """A server subprocess, started on first use, its output kept for diagnostics.

    Lazy start keeps `--only` runs from starting servers no check needs; a
    failed start is remembered so every check that needs the server reports it.
    """

    running = []  # for the atexit safety net

    def __init__(self, label, argv, ready_pattern):
        self.label = label
        self.argv = argv
        self.ready = re.compile(ready_pattern)
        self.host = "127.0.0.1"
        self.port = None
        self.error = None
        self.proc = None
        self.lines = collections.deque(maxlen=200)
        self._lock = threading.Lock()
        self._announced = threading.Event()
        self._readers = []

    def ensure(self):
        """Returns the port, starting the server if needed."""
        if self.error:
            raise CheckFailed(self.error)
        if self.proc is None:
            self._start()
        status = self.proc.poll()
        if status is not None:
            self.error = f"server {self.label} exited with status {status}"
            raise CheckFailed(self.error)
        return self.port

    def _start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        Server.running.append(self)
        # Both streams are drained for the server's whole life: a full pipe
        # would block the server, and the lines are the failure diagnostics.
        for stream, tag in ((self.proc.stdout, "out"), (self.proc.stderr, "err")):
            reader = threading.Thread(target=self._drain, args=(stream, tag), daemon=True)
            reader.start()
            self._readers.append(reader)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._announced.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = (f"exited with status {self.proc.returncode}" if self.proc.poll() is not None
                       else f"did not announce its port within {READY_TIMEOUT} s")
                self.error = f"server {self.label} {why} (expected /{self.ready.pattern}/)"
                raise CheckFailed(self.error)

    def _drain(self, stream, tag):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._lock:
                self.lines.append(f"{tag}: {line}")
            match = self.port is None and self.ready.search(line)
            if match:
                self.host = match.groupdict().get("host") or self.host
                self.port = int(match.group("port"))
                self._announced.set()

    def tail(self, n=LOG_TAIL):
        with self._lock:
            lines = list(self.lines)[-n:]
        status = self.proc.poll() if self.proc else None
        if status is not None:
            lines.append(f"(server exited with status {status})")
        return lines or ["(server printed nothing)"]

    def stop(self):
        """Closes stdin, then SIGTERM, then SIGKILL after STOP_GRACE seconds."""
        if self.proc is None or self not in Server.running:
            return
        Server.running.remove(self)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                print(f"note: server {self.label} ignored SIGTERM for {STOP_GRACE} s; killing it",
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait(STOP_GRACE)
        for reader in self._readers:
            reader.join(1)

    @staticmethod
    def stop_all():
        for server in list(Server.running):
            server.stop()


def apus_server(apus, label, protocol, framing, *extra):
    argv = [apus, "serve", "--transport", "kernel", "--host", "127.0.0.1", "--port", "0",
            "--protocol", protocol, "--framing", framing, "--read-timeout", str(READ_TIMEOUT), *extra]
    return Server(label, argv, r"listening on (?P<host>[0-9.]+):(?P<port>\d+)")


def python_server(label, protocol, framing, *extra):
    argv = [sys.executable, os.path.join(HERE, "py_server.py"), "--port", "0",
            "--protocol", protocol, "--framing", framing, *extra]
    return Server(label, argv, r"^READY (?P<port>\d+)$")


class RemoteServer:
    """A server this script did not start (--remote)."""

    def __init__(self, address, log=None):
        host, _, port = address.rpartition(":")
        self.label, self.host, self.port, self.log = address, host, int(port), log

    def ensure(self):
        return self.port

    def tail(self, n=LOG_TAIL):
        if not self.log:
            return ["(no --server-log given)"]
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return [line.rstrip("\n") for line in f.readlines()[-n:]] or ["(server printed nothing)"]
        except OSError as error:
            return [f"(cannot read {self.log}: {error})"]

    def stop(self):
        pass


# -- check bookkeeping --------------------------------------------------------

class Runner:
    def __init__(self, only):
        self.only = only
        self.total = 0
        self.failed = 0

    def check(self, config, name, server, fn, *args):
        """Runs one check; returns True/False, or None if --only skipped it."""
        if self.only and name not in self.only:
            return None
        self.total += 1
        try:
            fn(*args)
        except Exception as error:  # a check failing in any way is a result, not a crash
            self.failed += 1
            print(f"FAIL {config} {name}: {describe(error)}")
            for line in server.tail():
                print(f"    | {line}")
            sys.stdout.flush()
            return False
        print(f"ok   {config} {name}", flush=True)
        return True


# -- generated-client checks --------------------------------------------------

class Client:
    """Generated Echo and KV clients sharing one connection."""

    def __init__(self, server, protocol, framing, multiplexed=False):
        port = server.ensure()
        sock = TSocket.TSocket(server.host, port)
        sock.setTimeout(CLIENT_TIMEOUT * 1000)
        self.transport = FRAMINGS[framing](sock)
        self.transport.open()
        proto = PROTOCOLS[protocol](self.transport)
        if multiplexed:
            self.echo = Echo.Client(TMultiplexedProtocol(proto, "Echo"))
            self.kv = KV.Client(TMultiplexedProtocol(proto, "KV"))
        else:
            self.echo = Echo.Client(proto)
            self.kv = KV.Client(proto)

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


# Each step gets a client and a tag unique to its configuration and client
# combination: one auto/auto server serves all combinations, so the stateful
# steps (fire, kv) only ever compare against values they read themselves.

def step_echo(client, tag):
    for text in ["", "hello", "héllo wörld ✓ 日本", "0123456789abcdef" * 6400]:
        expect_eq(client.echo.echo(text), text, f"echo({short(text, 20)})")


def step_echo_binary(client, tag):
    for payload in [b"", bytes(range(256)), os.urandom(4 << 20)]:
        got = client.echo.echoBinary(payload)
        expect(got == payload, f"echoBinary of {len(payload)} bytes came back as {len(got)} bytes that differ")


def step_echo_item(client, tag):
    Item = ttypes.Item
    items = [
        Item(id=1, title="no extra"),
        Item(id=-(2 ** 63), title="empty extra ✓", extra={}),
        Item(id=2 ** 63 - 1, title="", extra={f"key {i} ✓": "v" * i for i in range(100)}),
    ]
    for item in items:
        expect_eq(client.echo.echoItem(item), item, f"echoItem(id={item.id})")


def step_ping(client, tag):
    expect_eq(client.echo.ping(), None, "ping()")


def step_fire(client, tag):
    before = client.echo.firedCount()
    for i in range(10):
        client.echo.fire(i)
    # fire is oneway: nothing says the server has run it when the call returns.
    deadline = time.monotonic() + 5
    while (now := client.echo.firedCount()) < before + 10:
        expect(time.monotonic() < deadline, f"firedCount is {now} 5 s after 10 fires from {before}")
        time.sleep(0.05)


def step_kv(client, tag):
    kv = client.kv
    before = kv.count()
    values = {
        f"{tag}/small": b"value",
        f"{tag}/empty": b"",
        f"{tag}/1MB": os.urandom(1 << 20),
        f"{tag}/ключ ✓": bytes(range(256)),
    }
    kv.put(f"{tag}/small", b"to be overwritten")
    for key, value in values.items():
        kv.put(key, value)
    for key, value in values.items():
        expect_eq(kv.get(key), value, f"get({key!r})")
    expect_eq(kv.count(), before + len(values), "count() after putting 4 distinct keys")

    gone = f"{tag}/small"
    expect_eq(kv.remove(gone), True, f"first remove({gone!r})")
    expect_eq(kv.remove(gone), False, f"second remove({gone!r})")
    for missing in (gone, f"{tag}/never put"):
        try:
            got = kv.get(missing)
        except ttypes.NotFound as error:
            expect_eq(error.key, missing, "NotFound.key")
        else:
            raise CheckFailed(f"get({missing!r}) returned {short(got)} instead of throwing NotFound")

    for key in values:
        kv.remove(key)
    expect_eq(kv.count(), before, "count() after removing every key again")


RPC_STEPS = [("echo", step_echo), ("echoBinary", step_echo_binary), ("echoItem", step_echo_item),
             ("ping", step_ping), ("fire", step_fire), ("kv", step_kv)]


class Session:
    """The connection the RPC steps of one client combination share.

    A failed step may leave the connection mid-message, so it is replaced to
    keep later steps meaningful; `reuse` then reports that it was.
    """

    def __init__(self, server, protocol, framing):
        self.args = (server, protocol, framing)
        self.conn = None
        self.replaced = False
        self.opened = False

    def client(self):
        if self.conn is None:
            self.replaced = self.opened
            self.conn = Client(*self.args)
            self.opened = True
        return self.conn

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check_reuse(session):
    expect(not session.replaced, "an earlier check failed, so its connection had been replaced")
    client = session.client()
    expect_eq(client.echo.ping(), None, "ping() on the connection used by all checks")
    expect_eq(client.echo.echo("reused"), "reused", "echo on the connection used by all checks")


def check_multiplexed(server, protocol, framing, tag):
    with Client(server, protocol, framing, multiplexed=True) as client:
        for name, step in RPC_STEPS:
            try:
                step(client, f"{tag}/multiplexed")
            except Exception as error:
                raise CheckFailed(f"{name}: {describe(error)}") from error


def run_step(session, step, tag):
    step(session.client(), tag)


def run_rpc_checks(runner, config, server, protocol, framing, multiplexed_server):
    session = Session(server, protocol, framing)
    try:
        for name, step in RPC_STEPS:
            if runner.check(config, name, server, run_step, session, step, config) is False:
                session.drop()
        runner.check(config, "reuse", server, check_reuse, session)
    finally:
        session.drop()
    runner.check(config, "multiplexed", multiplexed_server,
                 check_multiplexed, multiplexed_server, protocol, framing, config)


# -- raw-socket abuse ---------------------------------------------------------

def encode(name, message_type, seqid, write_body, protocol="binary"):
    """One message as bytes, written by Apache's protocol classes."""
    buffer = TTransport.TMemoryBuffer()
    proto = PROTOCOLS[protocol](buffer)
    proto.writeMessageBegin(name, message_type, seqid)
    write_body(proto)
    proto.writeMessageEnd()
    return buffer.getvalue()


def framed(payload):
    return struct.pack("!i", len(payload)) + payload


def empty_struct(proto):
    proto.writeStructBegin("args")
    proto.writeFieldStop()
    proto.writeStructEnd()


def echo_call(seqid, text):
    return framed(encode("echo", TMessageType.CALL, seqid, Echo.echo_args(message=text).write))


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        expect(chunk, f"connection closed after {len(data)} of {n} expected bytes")
        data += chunk
    return data


def read_framed_message(sock):
    """Reads one framed binary message: (name, type, seqid, protocol at the body)."""
    (size,) = struct.unpack("!i", recv_exactly(sock, 4))
    expect(0 < size <= 1 << 24, f"reply frame length {size}")
    proto = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(recv_exactly(sock, size)))
    return (*proto.readMessageBegin(), proto)


def expect_exception_reply(sock, seqid, error_type, name=None):
    got_name, message_type, got_seqid, proto = read_framed_message(sock)
    expect_eq(MESSAGE_TYPES.get(message_type, message_type), "EXCEPTION", "reply message type")
    expect_eq(got_seqid, seqid, "reply seqid")
    if name is not None:
        expect_eq(got_name, name, "reply name")
    error = TApplicationException()
    error.read(proto)
    expect_eq(APP_ERRORS.get(error.type, error.type), APP_ERRORS[error_type],
              f"TApplicationException type (message {error.message!r})")


def expect_raw_echo(sock, seqid, text):
    """A normal echo call on a raw connection gets its normal reply."""
    sock.sendall(echo_call(seqid, text))
    name, message_type, got_seqid, proto = read_framed_message(sock)
    expect_eq((name, MESSAGE_TYPES.get(message_type, message_type), got_seqid),
              ("echo", "REPLY", seqid), "echo reply (name, type, seqid)")
    result = Echo.echo_result()
    result.read(proto)
    expect_eq(result.success, text, "echo result on the same connection")


def wait_closed(sock, timeout, witness):
    """Waits for the server to close `sock`; returns the seconds that took.

    EOF and a reset both count as closed (the kernel resets when the server
    closes with our bytes still unread); any reply is a failure. Meanwhile
    the witness is called every 0.25 s: other connections must keep working,
    and the checks must not depend on whether the server's read timeout also
    closes idle connections.
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        now = time.monotonic()
        expect(now < deadline, f"connection still open after {timeout:g} s")
        sock.settimeout(max(0.01, min(deadline - now, 0.25)))
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return time.monotonic() - start
        except socket.timeout:
            expect_witness(witness, "while the abused connection is pending")
            continue
        expect(data == b"", f"got a {len(data)}-byte reply {short(data, 24)} instead of the connection closing")
        return time.monotonic() - start


def expect_prompt_close(sock, witness):
    """The server must drop the connection on seeing the frame header, not on its read timeout."""
    took = wait_closed(sock, 2, witness)
    expect(took < READ_TIMEOUT / 2, f"closed only after {took:.2f} s: the frame header alone must be "
                                    f"refused, not the {READ_TIMEOUT} s read timeout waited for")


def abuse_garbage(server, witness):
    with raw_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_closed(sock, 5, witness)


def abuse_huge_frame(server, witness):
    with raw_connection(server) as sock:
        sock.sendall(b"\x7f\xff\xff\xff")  # a 2^31-1 byte frame, and no body
        expect_prompt_close(sock, witness)


def abuse_truncated(server, witness):
    # The first 10 bytes of a genuine 100-byte echo call frame, then silence.
    padding = 100 - len(encode("echo", TMessageType.CALL, 1, Echo.echo_args(message="").write))
    message = encode("echo", TMessageType.CALL, 1, Echo.echo_args(message="x" * padding).write)
    assert len(message) == 100
    with raw_connection(server) as sock:
        sock.sendall(framed(message)[:4 + 10])
        expect_witness(witness, "while another waits in a partial frame")
        took = wait_closed(sock, 5, witness)
        expect(took >= READ_TIMEOUT / 2, f"closed after {took:.2f} s, before the {READ_TIMEOUT} s read "
                                         "timeout: a partial frame must be waited for")


def abuse_trickle(server, witness):
    """Slowloris: a genuine frame sent a byte every 0.2 s keeps the connection busy but far
    below the minimum rate (1 KiB/s); it must be reset near --read-timeout, not kept forever
    because bytes keep coming."""
    message = framed(encode("echo", TMessageType.CALL, 1, Echo.echo_args(message="t" * 200).write))
    with raw_connection(server) as sock:
        start = time.monotonic()
        for byte in message:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.2)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            expect(data == b"", f"got a {len(data)}-byte reply to a trickled message")
            break
        took = time.monotonic() - start
        expect(took < READ_TIMEOUT + 2, f"a trickle of 5 bytes/s kept the connection for {took:.1f} s; "
                                        f"it must be reset about {READ_TIMEOUT} s after its first byte")
        expect_witness(witness, "after a trickling peer")


def abuse_unknown_method(server, witness):
    with raw_connection(server) as sock:
        sock.sendall(framed(encode("noSuchMethod", TMessageType.CALL, 7, empty_struct)))
        expect_exception_reply(sock, 7, TApplicationException.UNKNOWN_METHOD, name="noSuchMethod")
        expect_raw_echo(sock, 8, "after noSuchMethod")


def abuse_reply_type(server, witness):
    with raw_connection(server) as sock:
        body = Echo.echo_result(success="unsolicited").write
        sock.sendall(framed(encode("echo", TMessageType.REPLY, 9, body)))
        expect_exception_reply(sock, 9, TApplicationException.INVALID_MESSAGE_TYPE)
        expect_raw_echo(sock, 10, "after a REPLY")


def abuse_malformed_args(server, witness):
    with raw_connection(server) as sock:
        sock.sendall(bad_args_call(11))
        expect_exception_reply(sock, 11, TApplicationException.PROTOCOL_ERROR)


def abuse_frame_limit(server, witness):
    """Against a server started with --max-frame 1000."""
    with raw_connection(server) as sock:
        sock.sendall(echo_call(12, "y" * 2000))
        expect_prompt_close(sock, witness)
    with Client(server, "binary", "framed") as client:
        expect_eq(client.echo.echo("z" * 500), "z" * 500, "a 500-byte echo on a new connection")


def raw_connection(server):
    return socket.create_connection((server.host, server.ensure()), timeout=RAW_TIMEOUT)


def reset(sock):
    """Closes with SO_LINGER 0: the kernel sends RST, as a crashing client or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def kv_get_call(seqid, key):
    return framed(encode("get", TMessageType.CALL, seqid, KV.get_args(key=key).write))


def bad_args_call(seqid):
    def negative_length_string(proto):
        proto.writeStructBegin("echo_args")
        proto.writeFieldBegin("message", TType.STRING, 1)
        proto.writeI32(-5)  # the string's length
        proto.writeFieldStop()
        proto.writeStructEnd()
    return framed(encode("echo", TMessageType.CALL, seqid, negative_length_string))


RESET_CALLS = [
    ("success", lambda seqid: echo_call(seqid, "reset me")),
    ("declared exception", lambda seqid: kv_get_call(seqid, "no such key")),
    ("unknown method", lambda seqid: framed(encode("noSuchMethod", TMessageType.CALL, seqid, empty_struct))),
    ("bad arguments", bad_args_call),
]


def abuse_reset_after_call(server, witness):
    """A client that makes one call and resets, before, while or after the reply comes, for
    every kind of reply: the server keeps serving (it used to crash on the first one)."""
    for kind, call in RESET_CALLS:
        for when in ("at once", "after the reply"):
            for attempt in range(5):
                with raw_connection(server) as sock:
                    sock.sendall(call(20 + attempt))
                    if when == "after the reply":
                        read_framed_message(sock)
                    reset(sock)
            expect_witness(witness, f"after 5 clients reset {when} ({kind})")
            with raw_connection(server) as sock:
                expect_raw_echo(sock, 30, f"new connection after resets {when} ({kind})")


def abuse_reset_during_large_reply(server, witness):
    """A client that resets while a 4 MiB reply is being written to it."""
    payload = bytes(range(256)) * (4 * 4096)
    call = framed(encode("echoBinary", TMessageType.CALL, 40, Echo.echoBinary_args(payload=payload).write))
    for attempt in range(3):
        with raw_connection(server) as sock:
            sock.sendall(call)
            recv_exactly(sock, 64 * 1024 * attempt + 4)  # some of the reply, or none
            reset(sock)
        expect_witness(witness, f"after a reset during a 4 MiB reply (attempt {attempt + 1})")
    with Client(server, "binary", "framed") as client:
        expect_eq(client.echo.echoBinary(payload), payload, "a 4 MiB echo on a new connection")


def expect_witness(witness, when, text="still here"):
    """The witness (another client's connection) still gets its echo."""
    try:
        got = witness.echo.echo(text)
    except Exception as error:
        raise CheckFailed(f"other connection {when}: {describe(error)}") from error
    expect_eq(got, text, f"other connection {when}")


def with_witness(server, abuse):
    """Runs `abuse` while a generated-client connection, opened before it, watches."""
    with Client(server, "binary", "framed") as witness:
        expect_witness(witness, "before the abuse", "before")
        abuse(server, witness)
        expect_witness(witness, "after the abuse")


ABUSES = [("garbage", abuse_garbage), ("huge-frame", abuse_huge_frame),
          ("truncated-silence", abuse_truncated), ("trickle", abuse_trickle), ("unknown-method", abuse_unknown_method),
          ("reply-type", abuse_reply_type), ("malformed-args", abuse_malformed_args),
          ("reset-after-call", abuse_reset_after_call), ("reset-during-large-reply", abuse_reset_during_large_reply)]


def run_abuse_checks(runner, config, server):
    for name, abuse in ABUSES:
        runner.check(config, name, server, with_witness, server, abuse)


# -- main ---------------------------------------------------------------------

def run(args, runner):
    if args.remote:
        remote = RemoteServer(args.remote, args.server_log)
        for protocol, framing in COMBOS:
            run_rpc_checks(runner, f"remote:{protocol}/{framing}", remote, protocol, framing, remote)
        run_abuse_checks(runner, "remote", remote)
        return

    for protocol, framing in COMBOS:
        config = f"{protocol}/{framing}"
        if args.python_server:
            server = python_server(config, protocol, framing)
            multiplexed = python_server(f"{config}+multiplexed", protocol, framing, "--multiplexed")
        else:
            server = multiplexed = apus_server(args.apus, config, protocol, framing)
        try:
            run_rpc_checks(runner, config, server, protocol, framing, multiplexed)
            if not args.python_server and config == "binary/framed":
                run_abuse_checks(runner, config, server)
        finally:
            server.stop()
            multiplexed.stop()

    if args.python_server:
        print("note: --python-server: auto/auto and abuse checks skipped (Apus-specific)", file=sys.stderr)
        return

    auto = apus_server(args.apus, "auto", "auto", "auto")
    try:
        for protocol, framing in COMBOS:
            config = f"auto:{protocol}/{framing}"
            run_rpc_checks(runner, config, auto, protocol, framing, auto)
        run_abuse_checks(runner, "auto", auto)
    finally:
        auto.stop()

    limited = apus_server(args.apus, "max-frame", "binary", "framed", "--max-frame", "1000")
    try:
        runner.check("binary/framed,max-frame=1000", "frame-limit", limited,
                     with_witness, limited, abuse_frame_limit)
    finally:
        limited.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("apus", nargs="?", help="the apus binary")
    ap.add_argument("--python-server", action="store_true",
                    help="check Apache's Python server (py_server.py) instead, to validate the checks")
    ap.add_argument("--only", help="comma-separated check names to run (e.g. kv,garbage)")
    ap.add_argument("--remote", metavar="HOST:PORT", help="check a running auto/auto server instead of starting servers")
    ap.add_argument("--server-log", metavar="FILE", help="with --remote: the server's output, shown with failures")
    args = ap.parse_args()
    if not args.python_server and not args.apus and not args.remote:
        ap.error("give the apus binary, --python-server or --remote HOST:PORT")
    if args.apus and not (os.path.isfile(args.apus) and os.access(args.apus, os.X_OK)):
        ap.error(f"{args.apus}: not an executable file")

    global Echo, KV, ttypes
    atexit.register(Server.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwind, so servers get stopped

    def over_budget(*_):
        raise BudgetExceeded(f"check_server: gave up after {TIME_BUDGET} s")

    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(TIME_BUDGET)

    only = set(args.only.split(",")) if args.only else None
    known = [name for name, _ in RPC_STEPS + ABUSES] + ["reuse", "multiplexed", "frame-limit"]
    if only and not only <= set(known):
        ap.error(f"--only: unknown {', '.join(sorted(only - set(known)))}; checks are {', '.join(known)}")

    runner = Runner(only)
    with tempfile.TemporaryDirectory(prefix="apus-interop-") as gen_dir:
        thriftgen.generate(gen_dir)
        from apus_echo import Echo, KV, ttypes
        try:
            run(args, runner)
        except BudgetExceeded as error:
            runner.failed += 1
            print(f"FAIL {error}")
        finally:
            signal.alarm(0)
            Server.stop_all()

    print(f"check_server: {runner.total} checks, {runner.failed} failed")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
