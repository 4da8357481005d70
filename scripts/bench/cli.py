"""The command line of scripts/bench.sh, parsed as the bash tool parsed it: the same options
per mode, the same defaults (--quick, explicit flags winning), checked in the same order with
the same messages, so every existing command line and its errors stay as they were."""
import os
import re
import sys

import bench
from bench import runner
from bench.runner import die

MODES = ("kernel", "xdp", "tcp", "rpc", "codec")
MODE_LIST = "kernel xdp tcp rpc codec"


def usage(code, stream=sys.stdout):
    stream.write(bench.__doc__)
    return code


class Options:
    duration = None
    connections = "-"  # "-": not given on the command line
    depth = "-"
    payload = "64"
    protocol = "binary"
    quick = False
    busy_poll = False
    rounds = None
    window = "256"
    client = "xdp"
    paced_client = "xdp"
    framing = "framed"
    warmup = "1"
    client_spin_limit = None  # None: apus bench's own default
    client_given = paced_client_given = False


# option -> (the modes it belongs to, the Options attribute); None: every mode.
VALUED = {
    "--duration": (None, "duration"),
    "--connections": ("kernel tcp rpc", "connections"),
    "--depth": ("kernel rpc", "depth"),
    "--payload": (None, "payload"),
    "--protocol": ("kernel", "protocol"),
    "--rounds": ("kernel xdp tcp rpc", "rounds"),
    "--window": ("xdp", "window"),
    "--client": ("rpc", "client"),
    "--paced-client": ("rpc", "paced_client"),
    # The Apus servers' calls in a THeader/TTHeader frame (no info headers: --timeout 0, so no
    # deadline travels either); cpp, which takes neither, stays framed binary as the baseline.
    "--framing": ("rpc", "framing"),
    # Seconds of calls before the measured ones (connections open, warm), out of every figure.
    "--warmup": ("rpc", "warmup"),
    # The Apus client's polling before it sleeps (`apus bench --spin-limit`), for every run.
    "--client-spin-limit": ("rpc", "client_spin_limit"),
}


def whole(v):
    return re.fullmatch(r"[1-9][0-9]*", v) is not None


def counts(text, option):
    """The whitespace-separated positive integers of `option` (as strings), or die naming it."""
    values = text.split()
    if not values:
        die("%s is empty" % option)
    for v in values:
        if not whole(v):
            die("%s takes positive integers, got '%s'" % (option, v))
    return values


def parse(mode, args):
    o = Options()
    o.mode = mode
    i = 0
    while i < len(args):
        a = args[i]
        if a in VALUED:
            modes, attr = VALUED[a]
            if modes and mode not in modes.split():
                die("%s is an option of mode(s) %s, not %s" % (a, modes, mode))
            if i + 1 >= len(args):
                die("%s needs a value" % a)
            setattr(o, attr, args[i + 1])
            i += 2
            if a == "--connections" and not re.search(r"[0-9]", o.connections):
                die("--connections needs at least one count, got '%s'" % o.connections)
            if a == "--framing" and o.framing not in ("framed", "theader", "ttheader"):
                die("--framing must be framed, theader or ttheader")
            o.client_given |= a == "--client"
            o.paced_client_given |= a == "--paced-client"
        elif a == "--quick":
            o.quick = True
            i += 1
        elif a == "--busy-poll":
            if mode != "rpc":
                die("--busy-poll is an option of mode rpc, not %s" % mode)
            o.busy_poll = True
            i += 1
        elif a in ("-h", "--help"):
            sys.exit(usage(0))
        else:
            die("unknown argument '%s' (see: bash scripts/bench.sh --help)" % a)
    # The Apus XDP client serves one queue: with several, the kernel's servers (whose replies
    # veth puts on any of the client's queues) would answer into its other queues, so the
    # kernel client calls then (the XDP server serves every queue with --queues all).
    if os.environ.get("APUS_QUEUES", "1") != "1":
        o.client = o.client if o.client_given else "kernel"
        o.paced_client = o.paced_client if o.paced_client_given else "kernel"
    if mode == "tcp" and o.connections == "-":
        o.connections = "1 64"
    if mode == "rpc":
        if o.quick and o.connections == "-":
            o.connections = "1 16"
        if o.connections == "-":
            o.connections = "1 16 64"
        if o.depth == "-":
            o.depth = "1 8"
        o.rounds = o.rounds or "1"
    if o.quick:
        o.duration = o.duration or "2"
        o.connections = "1 4" if o.connections == "-" else o.connections
        o.rounds = o.rounds or "1"
    o.duration = o.duration or "5"
    o.connections = "1 4 16" if o.connections == "-" else o.connections
    o.rounds = o.rounds or "3"
    check(o)
    return o


def check(o):
    """The bash tool's checks, in its order (the first failing one is the message)."""
    # Whole seconds: the client's --duration and `timeout` both take them as-is.
    if not whole(o.duration):
        die("--duration must be a positive whole number of seconds, got '%s'" % o.duration)
    if not re.fullmatch(r"[0-9]+", o.warmup):
        die("--warmup must be a whole number of seconds (0: none), got '%s'" % o.warmup)
    o.warmup = int(o.warmup)
    if o.client_spin_limit is not None and not re.fullmatch(r"[0-9]+", o.client_spin_limit):
        die("--client-spin-limit must be a whole number of microseconds (0: no polling), got '%s'" % o.client_spin_limit)
    if not whole(o.rounds):
        die("--rounds must be a positive integer, got '%s'" % o.rounds)
    if not (whole(o.window) and int(o.window) <= 65536):
        die("--window must be 1..65536, got '%s'" % o.window)
    digits = re.fullmatch(r"[0-9]+", o.payload) is not None
    if o.mode == "xdp" and not (digits and 16 <= int(o.payload) <= 1472):
        # The blaster's datagram carries a sequence number and a send time; one frame at most.
        die("--payload must be 16..1472 bytes in xdp mode (one UDP datagram in one frame), got '%s'" % o.payload)
    if o.mode == "tcp" and not (digits and 1 <= int(o.payload) <= 65536):
        die("--payload (the rr request size) must be 1..65536 bytes in tcp mode, got '%s'" % o.payload)
    o.depth = "1 4" if o.depth == "-" else o.depth
    # A list of depths (calls in flight per connection): each is a run of its own.
    o.depths = counts(o.depth, "--depth")
    if o.client not in ("kernel", "xdp"):
        die("--client must be kernel or xdp, got '%s'" % o.client)
    if o.paced_client not in ("kernel", "xdp"):
        die("--paced-client must be kernel or xdp, got '%s'" % o.paced_client)
    if not digits:
        die("--payload must be a byte count, got '%s'" % o.payload)
    if o.protocol not in ("binary", "compact"):
        die("--protocol must be binary or compact, got '%s'" % o.protocol)
    o.conns = counts(o.connections, "--connections")
    for c in o.conns:
        if o.mode == "tcp" and int(c) > 4096:
            die("--connections: at most 4096 per run in tcp mode, got '%s'" % c)
    o.conns = [int(c) for c in o.conns]
    o.depths = [int(d) for d in o.depths]
    o.duration, o.rounds, o.window, o.payload = int(o.duration), int(o.rounds), int(o.window), int(o.payload)


def main(argv):
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    os.environ["PATH"] = "/opt/swift/usr/bin:" + os.environ.get("PATH", "")
    mode = argv[0] if argv else ""
    if mode in ("-h", "--help", "help"):
        return usage(0)
    if mode == "":
        print("bench: which benchmark? modes: %s" % MODE_LIST, file=sys.stderr)
        return usage(2, sys.stderr)
    if mode not in MODES:
        print("bench: unknown mode '%s' (modes: %s)" % (mode, MODE_LIST), file=sys.stderr)
        return usage(2, sys.stderr)
    runner.on_signals()
    try:
        if mode == "codec":
            from bench import codec
            return codec.main(argv[1:])
        o = parse(mode, argv[1:])
        module = __import__("bench." + mode, fromlist=["run"])
        return module.run(o)
    except runner.Failure as x:
        print("%s: error: %s" % (runner.PROG, x), file=sys.stderr)
        return 1
    except runner.Interrupted:
        return 130
    finally:
        runner.cleanup()
