#!/usr/bin/python3
"""A few KV calls on an `apus serve` through Apache Thrift's Python client (scripts/demo.sh).

    demo_kv.py HOST PORT

Generates Apache's Python code for Examples/echo.thrift (thriftgen.py), connects
with TSocket + TFramedTransport + TBinaryProtocol and calls the KV service by its
plain method names: put, get, count, remove, and get of a key that is not there,
which must raise NotFound. Prints one line per call, `kv: CALL -> RESULT`, and
`kv: ok`; exits 1 (with `kv: FAILED: reason`) if a call fails or returns
something other than expected.
"""
import os
import signal
import sys
import tempfile

import thriftgen
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

TIME_BUDGET = 60    # s for the whole run, code generation included
CALL_TIMEOUT = 10   # s per socket operation


class Mismatch(Exception):
    pass


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"kv: FAILED: gave up after {TIME_BUDGET} s"))
    signal.alarm(TIME_BUDGET)

    with tempfile.TemporaryDirectory(prefix="apus-demo-kv-") as gen_dir:
        thriftgen.generate(gen_dir)
        from apus_echo import KV
        from apus_echo.ttypes import NotFound

        sock = TSocket.TSocket(host, port)
        sock.setTimeout(CALL_TIMEOUT * 1000)
        transport = TTransport.TFramedTransport(sock)
        kv = KV.Client(TBinaryProtocol.TBinaryProtocol(transport))

        # The key carries this process's pid: a server that outlived another demo still counts right.
        key, value, missing = f"demo/{os.getpid()}/greeting", b"hello from Apache Thrift", f"demo/{os.getpid()}/missing"

        def call(text, function, expect):
            got = function()
            print(f"kv: {text} -> {got!r}", flush=True)
            if not expect(got):
                raise Mismatch(f"{text} returned {got!r}")
            return got

        try:
            transport.open()
            before = call("count()", kv.count, lambda n: isinstance(n, int) and n >= 0)
            call(f"put({key!r}, {value!r})", lambda: kv.put(key, value), lambda r: r is None)
            call(f"get({key!r})", lambda: kv.get(key), lambda r: r == value)
            call("count()", kv.count, lambda n: n == before + 1)
            try:
                got = kv.get(missing)
                raise Mismatch(f"get({missing!r}) returned {got!r} instead of raising NotFound")
            except NotFound as error:
                print(f"kv: get({missing!r}) -> raised NotFound(key={error.key!r})", flush=True)
                if error.key != missing:
                    raise Mismatch(f"NotFound names {error.key!r}, not {missing!r}")
            call(f"remove({key!r})", lambda: kv.remove(key), lambda r: r is True)
            call(f"remove({key!r})", lambda: kv.remove(key), lambda r: r is False)
            call("count()", kv.count, lambda n: n == before)
        except Mismatch as error:
            print(f"kv: FAILED: {error}", flush=True)
            return 1
        except Exception as error:  # transport and protocol errors: one line, not a traceback
            print(f"kv: FAILED: {type(error).__name__}: {error}", flush=True)
            return 1
        finally:
            transport.close()
    print("kv: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
