#!/usr/bin/env python3
"""Checks `apus dump` against Apache Thrift's Python reader.

Every golden vector (Tests/ApusThriftTests/Fixtures/golden.json, written and
read back by Apache's library, see scripts/gen-golden.py) is fed to the CLI
alone, all of one framing/protocol together as one stream, and with the
protocol forced; malformed input must print one {"error":...} line and exit 1.
Prints `N passed, N failed`.
"""
import json, subprocess, sys

apus = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/apus"
cases = json.load(open("Tests/ApusThriftTests/Fixtures/golden.json", encoding="utf-8"))
passed = failed = 0


def run(data, *args):
    p = subprocess.run([apus, "dump", *args], input=data, capture_output=True, timeout=60)
    # split on "\n" only: str.splitlines() would also split at U+2028 inside strings
    text = p.stdout.decode("utf-8")
    return p.returncode, (text[:-1] if text.endswith("\n") else text).split("\n") if text else []


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)


for c in cases:
    data = bytes.fromhex(c["hex"])
    framing = ["--framing", c["framing"]]
    rc, lines = run(data, *framing)
    check(rc == 0 and lines == [c["dump"]], f"{c['name']}: rc={rc} got {lines!r}")
    rc, lines = run(data, "--protocol", c["protocol"], *framing)
    check(rc == 0 and lines == [c["dump"]], f"{c['name']} (--protocol {c['protocol']}): rc={rc}")

# A stream of many messages, protocols mixed (auto sniffs each message).
for framing in ("framed", "buffered"):
    group = [c for c in cases if c["framing"] == framing]
    rc, lines = run(b"".join(bytes.fromhex(c["hex"]) for c in group), "--framing", framing)
    check(rc == 0 and lines == [c["dump"] for c in group], f"stream of {len(group)} {framing} messages: rc={rc}")

# Malformed input: valid messages, then a broken one: the good ones print, then one error line, exit 1.
good = [c for c in cases if c["framing"] == "framed"][:3]
stream = b"".join(bytes.fromhex(c["hex"]) for c in good)
for bad, why in [
    (bytes.fromhex("7fffffff"), "frame length 2^31-1"),
    (bytes.fromhex("0000000580010001"), "truncated frame"),
    (bytes.fromhex("00000004deadbeef"), "not thrift"),
    (bytes.fromhex("0000000c80010005000000000000000100"), "bad message type"),
]:
    rc, lines = run(stream + bad)
    ok = rc == 1 and lines[:-1] == [c["dump"] for c in good] and json.loads(lines[-1]).keys() == {"error"}
    check(ok, f"malformed ({why}): rc={rc} last={lines[-1:]!r}")

# A missing file names the problem.
p = subprocess.run([apus, "dump", "/nonexistent/capture.bin"], capture_output=True, timeout=60)
check(p.returncode == 1 and b"cannot open /nonexistent/capture.bin" in p.stdout, "missing file")

print(f"dump: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
