#!/usr/bin/env python3
"""`apus serve --metrics`: /metrics scraped while and after `apus bench` runs, parsed with
prometheus_client's own text parser (Debian python3-prometheus-client), checked against
what the bench did.

    python3 scripts/metrics-check.py [APUS_BINARY]     (default .build/debug/apus)

Kernel sockets on loopback: calls per method, errors by code (a concurrency limit refuses
some), the latency histogram, calls in flight back to 0, counters moving during a run, 404
and 405, a busy --metrics port. As root, on the netns testbed, an AF_XDP server's per-queue
series too (frames, drops, UMEM frames by place, TCP, messages). One line per check, then
"metrics: N passed, M failed".
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

APUS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/apus")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from checks import check, finish, free_port, in_testbed, kill_all, processes, spawn, testbed_down, testbed_up  # noqa: E402
from checks import stop as stop_process  # noqa: E402


def start(cmd):
    process = spawn(cmd)
    line = process.stdout.readline()
    if "listening" not in line:
        raise SystemExit(f"metrics: the server did not start: {line!r} {process.stderr.read()[:300]!r}")
    return process


def stop(process):
    return stop_process(process)[0]


def samples(text):
    """{(name, frozenset(labels)): value} from Prometheus text, through prometheus_client's parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(parsed, name, **labels):
    return parsed.get((name, frozenset(labels.items())))


def scrape(port, path="/metrics", method="GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def bench(port, *args):
    run = subprocess.run([APUS, "bench", "--port", str(port), "--json", *args], capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return lines[-1] if lines else {"calls": 0, "errors": -1}


def kernel_checks():
    port, metrics = free_port(), free_port()
    server = start([APUS, "serve", "--transport", "kernel", "--port", str(port), "--metrics", f"127.0.0.1:{metrics}",
                    "--max-concurrent-calls", "2", "--echo-delay", "5", "--log-level", "warning"])
    # 300 echo calls, 8 at a time against a limit of 2: some are refused (RESOURCE_EXHAUSTED).
    result = bench(port, "--calls", "300", "--concurrency", "8", "--timeout", "5")
    status, text = scrape(metrics)
    parsed = samples(text)
    echo = {"service": "Echo", "method": "echo"}
    calls = value(parsed, "apus_rpc_calls_total", **echo)
    check("GET /metrics answers 200 in Prometheus text format", status == 200 and calls is not None, f"status {status}")
    check("apus_rpc_calls_total counts every echo call (answered and refused)",
          calls == 300 and result["calls"] + result["errors"] == 300, f"counter {calls}, bench {result['calls']} ok + {result['errors']} failed")
    refused = value(parsed, "apus_rpc_errors_total", code="resource exhausted", **echo) or 0
    check("apus_rpc_errors_total by code matches the calls the limit refused", refused == result["errors"] and refused > 0,
          f"counter {refused}, bench errors {result['errors']}")
    check("apus_rpc_duration_seconds histogram: one observation per call, 5 ms handlers in the 5-10 ms buckets",
          value(parsed, "apus_rpc_duration_seconds_count", **echo) == 300
          and value(parsed, "apus_rpc_duration_seconds_bucket", le="0.005", **echo) <= refused
          and value(parsed, "apus_rpc_duration_seconds_bucket", le="0.01", **echo) >= result["calls"] * 0.9,
          f"count {value(parsed, 'apus_rpc_duration_seconds_count', **echo)}")
    check("apus_rpc_in_flight back to 0", value(parsed, "apus_rpc_in_flight", **echo) == 0)
    check("ping (the bench's first call) has its own series", value(parsed, "apus_rpc_calls_total", service="Echo", method="ping") == 1)

    # During a run the counter moves between two scrapes.
    running = subprocess.Popen([APUS, "bench", "--port", str(port), "--duration", "2", "--concurrency", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    first = value(samples(scrape(metrics)[1]), "apus_rpc_calls_total", **echo)
    time.sleep(0.7)
    second = value(samples(scrape(metrics)[1]), "apus_rpc_calls_total", **echo)
    running.wait(timeout=30)
    check("scraped during a run, the counter moves", first is not None and second is not None and second > first > 300,
          f"{first} then {second}")

    check("other paths are 404", scrape(metrics, "/")[0] == 404)
    check("POST /metrics is 405", scrape(metrics, method="POST")[0] == 405)
    busy = subprocess.run([APUS, "serve", "--port", str(free_port()), "--metrics", f"127.0.0.1:{metrics}"],
                          capture_output=True, text=True, timeout=20)
    check("a busy --metrics port is refused with one clear line",
          busy.returncode != 0 and "already in use" in busy.stderr, busy.stderr.strip().splitlines()[-1][:160] if busy.stderr else "-")
    stop(server)


def xdp_checks():
    if not testbed_up("metrics: AF_XDP queue series: skipped (not root; the testbed needs root)", "testbed up"):
        return
    try:
        server = start(in_testbed("srv", APUS, "serve", "--transport", "xdp", "--interface", "apus-s", "--address", "10.10.0.10",
                               "--port", "9090", "--metrics", "127.0.0.1:9464", "--grace-period", "2", "--log-level", "warning"))
        run = subprocess.run(in_testbed("cli", APUS, "bench", "--host", "10.10.0.10", "--port", "9090", "--calls", "2000",
                                     "--connections", "4", "--concurrency", "8", "--json"), capture_output=True, text=True, timeout=60)
        result = json.loads([l for l in run.stdout.splitlines() if l.startswith("{")][-1])
        time.sleep(1.5)  # the engines publish their counters about once a second
        scraped = subprocess.run(in_testbed("srv", "/usr/bin/python3", "-c",
                                         "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9464/metrics').read().decode())"),
                                 capture_output=True, text=True, timeout=30)
        parsed = samples(scraped.stdout)
        q = {"queue": "0"}
        check("AF_XDP: calls counted per method", value(parsed, "apus_rpc_calls_total", service="Echo", method="echo") == 2000,
              f"{value(parsed, 'apus_rpc_calls_total', service='Echo', method='echo')}")
        received = value(parsed, "apus_rpc_messages_received_total", **q) or 0
        check("AF_XDP: queue 0's Thrift messages in and out", received >= 2001 and (value(parsed, "apus_rpc_messages_sent_total", **q) or 0) >= 2001,
              f"in {received}")
        check("AF_XDP: frames received and sent, TCP segments, accepted connections",
              (value(parsed, "apus_xdp_rx_frames_total", **q) or 0) > 0 and (value(parsed, "apus_xdp_tx_frames_total", **q) or 0) > 0
              and (value(parsed, "apus_tcp_segments_received_total", **q) or 0) > 0
              and (value(parsed, "apus_tcp_connections_accepted_total", **q) or 0) >= 4, f"bench {result['calls']} calls")
        places = ["free", "fill", "rx", "tx", "completion", "application"]
        frames = [value(parsed, "apus_xdp_umem_frames", place=p, **q) for p in places]
        check("AF_XDP: UMEM frames by place add up to the UMEM", None not in frames and sum(frames) == 16384, f"{dict(zip(places, frames))}")
        kernel = [value(parsed, "apus_xdp_kernel_dropped_total", reason=r, **q) for r in ["rx_dropped", "rx_ring_full", "fill_ring_empty"]]
        check("AF_XDP: the kernel's socket counters are there", None not in kernel, f"{kernel}")
        stop(server)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        testbed_down()


try:
    kernel_checks()
    xdp_checks()
finally:
    kill_all()
finish("metrics")
