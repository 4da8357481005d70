#!/usr/bin/env python3
"""What `apus` says to a user, checked against golden files (issue 18's list of messages).

    python3 scripts/cli-check.py [APUS_BINARY] [--update]     (default .build/debug/apus)

Each case runs the binary the way a user would (a busy port, nothing listening, a concurrency
limit hit by Apache's Python client, a wrong flag, --help, --log-calls, the progress line) and
compares what it printed, with ports, timestamps and numbers that change between runs replaced
by placeholders, and its exit status with scripts/cli-golden/NAME.txt. --update rewrites the
golden files from this run (then read the diff before committing it).
One line per case, then "cli: N passed, M failed".
"""
import difflib
import os
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "scripts", "cli-golden")
args = [a for a in sys.argv[1:] if a != "--update"]
UPDATE = "--update" in sys.argv[1:]
APUS = os.path.abspath(args[0] if args else os.path.join(ROOT, ".build/debug/apus"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from checks import check, finish, free_port, spawn, stop  # noqa: E402

# Help text wraps at the terminal's width; a fixed width keeps it the same everywhere.
ENV = dict(os.environ, COLUMNS="100", LINES="50")


def normalize(text, ports=()):
    for port in ports:
        text = re.sub(rf"\b{port}\b", "PORT", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", "TIME", text)
    text = re.sub(r"127\.0\.0\.1:\d{4,5}\b", "127.0.0.1:EPHEMERAL", text)
    text = re.sub(r"duration=\d+(\.\d+)?(ns|µs|ms|s)\b", "duration=DURATION", text)
    text = re.sub(r"seqid=\d+", "seqid=N", text)
    return text


def golden(name, text, status):
    """Compares `text` and `status` with the golden file NAME.txt (or writes it with --update)."""
    path = os.path.join(GOLDEN, name + ".txt")
    got = f"{text.rstrip()}\n[exit {status}]\n"
    if UPDATE:
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(got)
    try:
        with open(path) as f:
            want = f.read()
    except FileNotFoundError:
        return check(name, False, f"no golden file {os.path.relpath(path, ROOT)} (run with --update)")
    diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "golden", "this run", n=1))
    check(name, got == want, "" if got == want else "differs from the golden file:\n" + diff)


def run(*argv, timeout=30):
    p = subprocess.run([APUS, *argv], capture_output=True, text=True, timeout=timeout, env=ENV)
    return p.stdout + p.stderr, p.returncode


def start_server(*argv):
    """`apus serve` on a free port; returns (process, port) once it listens."""
    port = free_port()
    process = spawn([APUS, "serve", "--port", str(port), *argv], env=ENV)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise SystemExit(f"cli-check: apus serve did not listen on {port}: {stop(process)[1][-2000:]}")


def case_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out, status = run("serve", "--port", str(port))
    golden("serve-port-in-use", normalize(out, [port]), status)


def case_refused():
    port = free_port()
    out, status = run("bench", "--port", str(port), "--calls", "1")
    golden("bench-connection-refused", normalize(out, [port]), status)


def case_concurrency_limit():
    """Apache's Python client, one call beyond --max-concurrent-calls: the message it gets."""
    server, port = start_server("--max-concurrent-calls", "1", "--echo-delay", "1000")

    def client():
        return echo_client(port)

    slow, slow_transport = client()
    holder = threading.Thread(target=lambda: slow.echo("held"), daemon=True)
    holder.start()
    time.sleep(0.3)
    refused, transport = client()
    try:
        refused.echo("one too many")
        message = "the call was not refused"
    except Exception as error:  # noqa: BLE001 - the message is what is checked
        message = f"{type(error).__name__}: {error}"
    transport.close()
    holder.join(5)
    slow_transport.close()
    stop(server)
    golden("serve-concurrency-limit", normalize(message, [port]), 0)


def case_usage_errors():
    out, status = run("serve", "--transport", "xdp")
    golden("serve-xdp-without-interface", out, status)
    out, status = run("bench", "--duration", "-1")
    golden("bench-negative-duration", out, status)
    out, status = run("bench", "--transport", "xdp", "--queues", "0,1", "--interface", "lo", "--address", "10.0.0.1")
    golden("bench-queue-list", out, status)


def case_help():
    for argv in (["--version"], ["serve", "--help"], ["bench", "--help"], ["net", "serve", "--help"], ["xdp", "reflect", "--help"]):
        out, status = run(*argv)
        golden("help-" + "-".join(a.lstrip("-") for a in argv if a != "--help"), out, status)


def case_log_calls():
    server, port = start_server("--log-calls")
    _, bench_status = run("bench", "--port", str(port), "--calls", "2")
    status, err = stop(server)
    lines = [line for line in err.splitlines() if " call" in line or "shutting down" in line]
    golden("serve-log-calls", normalize("\n".join(lines), [port]) + f"\n(bench exit {bench_status})", status)


def case_progress():
    """The progress line's qps is the last second's calls, not the run's average."""
    server, port = start_server("--echo-delay", "0")
    out, status = run("bench", "--port", str(port), "--duration", "3.5")
    stop(server)
    points = [tuple(map(int, m)) for m in re.findall(r"progress: (\d+)s calls=(\d+) qps=(\d+) errors=0", out)]
    ok = len(points) == 3 and all(qps == calls - (points[i - 1][1] if i else 0) for i, (_, calls, qps) in enumerate(points))
    check("bench-progress-interval-qps", ok and status == 0, f"progress {points}, exit {status}")
    shape = re.sub(r"\d+(\.\d+)?", "N", out)
    golden("bench-summary", normalize(shape, [port]), status)


def case_warmup():
    """--warmup: calls made before the measured run are served but counted in neither QPS nor calls
    (the server's own count, from its Prometheus endpoint, is the truth)."""
    metrics_port = free_port()
    server, port = start_server("--metrics", f"127.0.0.1:{metrics_port}")
    out, status = run("bench", "--port", str(port), "--warmup", "1", "--duration", "1", "--json")
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    stop(server)
    served = sum(float(m) for m in re.findall(r'^apus_rpc_calls_total\{[^}]*method="echo"[^}]*\} (\S+)$', text, re.M))
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    calls = result.get("calls", 0)
    check("bench-warmup-not-counted", status == 0 and result.get("errors") == 0 and 0 < calls < served,
          f"exit {status}, bench counted {calls} calls, the server answered {served:.0f}")


def echo_client(port):
    """Apache Thrift's Python Echo client over framed binary, connected to `port`."""
    sys.path.insert(0, os.path.join(ROOT, "scripts", "interop"))
    import thriftgen
    thriftgen.generate(tempfile.mkdtemp(prefix="apus-cli-"))
    from apus_echo import Echo
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport
    transport = TTransport.TFramedTransport(TSocket.TSocket("127.0.0.1", port))
    transport.open()
    return Echo.Client(TBinaryProtocol.TBinaryProtocol(transport)), transport


def case_out_of_descriptors():
    """With RLIMIT_NOFILE too low for the clients, the server says what is wrong and what to do
    (once a second, not once per connection), the connection it has keeps being served, and new
    ones are accepted once descriptors free up."""
    import resource
    limit = 64
    port = free_port()
    server = spawn([APUS, "serve", "--port", str(port), "--threads", "1"], env=ENV,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    deadline = time.monotonic() + 30
    while True:
        try:
            echo, first = echo_client(port)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            if time.monotonic() > deadline or server.poll() is not None:
                return check("serve-out-of-descriptors", False, f"apus serve did not start: {stop(server)[1][-2000:]}")
            time.sleep(0.1)
    flood = []
    for _ in range(2 * limit):  # the kernel completes these handshakes; the server cannot accept them all
        try:
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    time.sleep(1.5)
    served = echo.echo("while out of descriptors") == "while out of descriptors"
    for sock in flood:
        sock.close()
    first.close()
    time.sleep(0.5)
    try:
        again, transport = echo_client(port)
        reopened = again.echo("after") == "after"
        transport.close()
    except Exception as error:  # noqa: BLE001 - reported below
        reopened = f"{type(error).__name__}: {error}"
    status, err = stop(server)
    lines = [line for line in err.splitlines() if "cannot accept" in line]
    ok = served is True and reopened is True and 1 <= len(lines) <= 4 and "ulimit -n" in lines[0] and status == 0
    check("serve-out-of-descriptors", ok,
          f"served {served}, reopened {reopened}, exit {status}, {len(lines)} log lines: {lines[:2]}")


def case_xdp_hint():
    """A binary-only user is told what to load, and where the steps are, not just a script name."""
    if os.geteuid() != 0:
        return print("skip xdp-stats-not-loaded: needs root (without it the pinned maps cannot be opened at all)")
    out, status = run("xdp", "stats", "--interface", "lo")
    golden("xdp-stats-not-loaded", out, status)


for case in (case_port_in_use, case_refused, case_concurrency_limit, case_usage_errors, case_help,
             case_log_calls, case_progress, case_warmup, case_out_of_descriptors, case_xdp_hint):
    case()
finish("cli")
