"""Attacks over the client kernel's own TCP: idle connections, slowloris, byte-wise
trickle, reply amplification, a zero window, and the new-connection probe."""
import errno
import resource
import select
import signal
import socket
import struct
import threading
import time

from . import thrift


def mark(name):
    """Tells the driver a phase began (it timestamps the line)."""
    print(f"MARK {name}", flush=True)


def raise_nofile(count):
    want = count + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))


def open_many(env, count, wave=256, timeout=10.0, rcvbuf=None, on_connect=None):
    """`count` connections, `wave` handshakes in flight at a time; returns (connected, failed)."""
    raise_nofile(count)
    connected, failed, pending = [], 0, {}
    poller = select.epoll()
    deadline = time.monotonic() + timeout + count / 200
    while (len(connected) + failed < count or pending) and time.monotonic() < deadline:
        while len(pending) < wave and len(connected) + failed + len(pending) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.setblocking(False)
            s.connect_ex((env["owned"], env["port"]))
            pending[s.fileno()] = s
            poller.register(s.fileno(), select.EPOLLOUT)
        for fd, _ in poller.poll(0.5):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected.append(s)
                if on_connect:
                    on_connect(s)
            else:
                failed += 1
                s.close()
    for s in pending.values():
        s.close()
    poller.close()
    return connected, failed + len(pending)


def alive(socks):
    """How many of `socks` the server has not closed or reset."""
    closed = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return len(socks) - closed


def close_all(socks, reset=True):
    for s in socks:
        if reset:  # RST at once: no TIME_WAIT left for the next attack's ports
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def idle_conns(env, params):
    socks, failed = open_many(env, params["count"])
    mark("hold")
    time.sleep(params["hold"])
    still = alive(socks)
    mark("end")
    close_all(socks)
    return {"wanted": params["count"], "connected": len(socks), "failed": failed, "alive_after_hold": still}


def slowloris(env, params):
    """Each connection announces a 16,384,000-byte frame, then sends 1 byte every `every` s;
    records when the server resets or closes each, measured from its header."""
    sent_at, header = {}, struct.pack("!I", params["announce"])

    def start(s):
        s.send(header)
        sent_at[s.fileno()] = time.monotonic()

    socks, failed = open_many(env, params["count"], on_connect=start)
    mark("hold")
    by_fd = {s.fileno(): s for s in socks}
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
    ended, kinds = {}, {"rst": 0, "eof": 0, "data": 0}
    limit = time.monotonic() + params["deadline"] + params["slack"] + 2
    next_byte = time.monotonic() + params["every"]
    while len(ended) < len(socks) and time.monotonic() < limit:
        if time.monotonic() >= next_byte:
            next_byte += params["every"]
            for fd, s in by_fd.items():
                if fd not in ended:
                    try:
                        s.send(b"\x80")
                    except OSError:
                        pass
        for fd, _ in poller.poll(0.2):
            if fd in ended:
                continue
            try:
                data = by_fd[fd].recv(65536)
                kind = "data" if data else "eof"
            except ConnectionResetError:
                kind = "rst"
            except OSError as error:
                kind = "rst" if error.errno in (errno.ECONNRESET, errno.EPIPE) else "eof"
            if kind == "data":
                kinds["data"] += 1
                continue
            ended[fd] = time.monotonic() - sent_at.get(fd, time.monotonic())
            kinds[kind] += 1
            poller.unregister(fd)
    mark("end")
    within = sum(1 for t in ended.values() if t <= params["deadline"] + params["slack"])
    times = sorted(ended.values())
    close_all(socks)
    return {"wanted": params["count"], "connected": len(socks), "failed": failed, "ended": len(ended),
            "ended_within": within, "still_open": len(socks) - len(ended), **kinds,
            "first_s": round(times[0], 2) if times else None, "last_s": round(times[-1], 2) if times else None}


def unframed_trickle(env, params):
    """Unframed (buffered) echo calls fed one byte per segment on `count` connections."""
    text = "t" * params["payload"]
    msg = thrift.echo(text, seqid=3)
    reply_size = len(thrift.message("echo", 3, thrift.string_field(0, text), kind=thrift.REPLY))
    socks, failed = open_many(env, params["count"])
    for s in socks:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    mark("hold")
    received, sent_bytes, position = [0] * len(socks), 0, 0
    end = time.monotonic() + params["seconds"]
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            try:
                s.send(msg[position:position + 1])
                sent_bytes += 1
                received[i] += len(s.recv(65536, socket.MSG_DONTWAIT))
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                continue
        position = (position + 1) % len(msg)
        time.sleep(params["interval"])
    time.sleep(1.0)
    for i, s in enumerate(socks):
        try:
            received[i] += len(s.recv(1 << 20, socket.MSG_DONTWAIT))
        except OSError:
            pass
    mark("end")
    still = alive(socks)
    close_all(socks)
    complete = (sent_bytes // len(socks) if socks else 0) // len(msg)
    return {"connected": len(socks), "failed": failed, "bytes_sent": sent_bytes,
            "calls_sent": complete * len(socks), "replies": sum(r // reply_size for r in received), "alive": still}


def reply_amplify(env, params):
    """One `value_mb` MB value put once, then `calls` gets pipelined on each of `count`
    connections with a small receive buffer, never read, for `hold` s."""
    value = b"v" * (params["value_mb"] << 20)
    with thrift.connect(env["owned"], env["port"], timeout=30) as s:
        kind, _, _ = thrift.reply_header(thrift.call(s, thrift.put("amp", value), timeout=30))
    socks, failed = open_many(env, params["count"], rcvbuf=4096)
    burst = b"".join(thrift.framed(thrift.get("amp", seqid=i)) for i in range(params["calls"]))
    for s in socks:
        s.setblocking(True)
        s.settimeout(5)
        try:
            s.sendall(burst)
        except OSError:
            pass
    mark("hold")
    time.sleep(params["hold"])
    mark("end")
    still = alive(socks)
    close_all(socks)
    return {"put_ok": kind == thrift.REPLY, "connected": len(socks), "failed": failed,
            "calls_each": params["calls"], "reply_bytes_each": len(value), "alive": still}


def zero_window(env, params):
    """Pipelines `calls` echo calls behind a tiny receive buffer, reads nothing for
    `stall` s, trickles for `slow` s, then drains; every reply must arrive in order."""
    text = "z" * params["payload"]
    s = thrift.connect(env["owned"], env["port"], timeout=5, rcvbuf=2048)
    burst = b"".join(thrift.framed(thrift.echo(text, seqid=i)) for i in range(params["calls"]))
    sender = threading.Thread(target=lambda: _send_quietly(s, burst), daemon=True)
    s.settimeout(params["timeout"])
    sender.start()
    mark("hold")
    start = time.monotonic()
    time.sleep(params["stall"])
    buffer, frames, failure = b"", [], None
    deadline = start + params["timeout"]
    slow_until = time.monotonic() + params["slow"]
    s.setblocking(False)
    while len(frames) < params["calls"] and time.monotonic() < deadline:
        slow = time.monotonic() < slow_until
        if not select.select([s], [], [], 0.2)[0]:
            continue
        try:
            chunk = s.recv(512 if slow else 1 << 20)
        except OSError as error:
            failure = str(error)
            break
        if not chunk:
            failure = "EOF"
            break
        done, buffer = thrift.split_frames(buffer + chunk)
        frames += done
        if slow:
            time.sleep(0.05)
    mark("end")
    in_order = all(thrift.reply_header(f)[2] == i and text.encode() in f for i, f in enumerate(frames))
    s.close()
    return {"calls": params["calls"], "replies": len(frames), "in_order": in_order, "read_error": failure,
            "seconds": round(time.monotonic() - start, 2)}


def _send_quietly(sock, data):
    try:
        sock.setblocking(True)
        sock.sendall(data)
    except OSError:
        pass


def probe(env, params):
    """New connections, one call each, every `interval` s until SIGTERM (or `seconds`)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    attempts, ok, slowest, errors = 0, 0, 0.0, {}
    end = time.monotonic() + params.get("seconds", 600)
    while not stop.is_set() and time.monotonic() < end:
        attempts += 1
        began = time.monotonic()
        try:
            with thrift.connect(env["owned"], env["port"], timeout=params.get("timeout", 3.0)) as s:
                kind, name, _ = thrift.reply_header(thrift.call(s, thrift.ping(), timeout=params.get("timeout", 3.0)))
            if kind == thrift.REPLY and name == "ping":
                ok += 1
                slowest = max(slowest, time.monotonic() - began)
        except OSError as error:
            key = type(error).__name__
            errors[key] = errors.get(key, 0) + 1
        stop.wait(params.get("interval", 0.1))
    return {"attempts": attempts, "ok": ok, "slowest_s": round(slowest, 3), "errors": errors}
