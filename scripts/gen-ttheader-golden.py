#!/usr/bin/python3
"""Generate Tests/ApusThriftTests/Fixtures/ttheader.json: TTHeader frames built from CloudWeGo's
published layout (cloudwego.io, Kitex reference "transport_protocol_ttheader"; the field widths
and info ids of cloudwego/gopkg protocol/ttheader), around messages written by Apache Thrift's
own Python protocols. No Kitex runs here (no Go modules offline), so the encoder
(scripts/interop/ttheader.py) is written from the spec alone, independently of Apus's, and
checked by a decoder written the same way.

    /usr/bin/python3 scripts/gen-ttheader-golden.py

Each line: {"name", "hex", "flags", "seq", "protocol", "headers", "int_headers" (keys as
decimal strings), "acl_token" (or null), "payload"}. Keys are written sorted, as Apus writes them.
"""
import json
import os
import sys

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ApusThriftTests", "Fixtures", "ttheader.json")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))
from ttheader import FROM_SERVICE, PROTOCOL_IDS, RPC_TIMEOUT, TO_METHOD, decode, encode  # noqa: E402


def message(protocol_class, name, seqid):
    """A CALL with one string field (1: "hello"), as Apache's protocol writes it."""
    buffer = TMemoryBuffer()
    protocol = protocol_class(buffer)
    protocol.writeMessageBegin(name, TMessageType.CALL, seqid)
    protocol.writeStructBegin("args")
    protocol.writeFieldBegin("message", 11, 1)
    protocol.writeString("hello")
    protocol.writeFieldEnd()
    protocol.writeFieldStop()
    protocol.writeStructEnd()
    protocol.writeMessageEnd()
    return buffer.getvalue()


def main():
    cases = []
    for name, protocol, seq, flags, headers, int_headers, acl in [
        ("binary, no info", "binary", 1, 0, {}, {}, None),
        ("compact, no info", "compact", 7, 0, {}, {}, None),
        ("binary, string info", "binary", 2, 0, {"isn": "Echo", "traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"}, {}, None),
        ("binary, Kitex int info", "binary", 3, 1, {}, {TO_METHOD: "echo", RPC_TIMEOUT: "250"}, None),
        ("compact, all three kinds", "compact", 0x12345678, 0, {"k": "v"}, {FROM_SERVICE: "caller", TO_METHOD: "echo"}, "token-1"),
        ("binary, long string value", "binary", 4, 0, {"x": "y" * 300}, {}, None),
    ]:
        payload = message(TBinaryProtocol if protocol == "binary" else TCompactProtocol, "echo", seq & 0x7FFF)
        data = encode(protocol, payload, seq, flags, headers, int_headers, acl)
        assert decode(data).as_tuple() == (flags, seq, PROTOCOL_IDS[protocol], headers, int_headers, acl, payload), name
        cases.append({"name": name, "hex": data.hex(), "flags": flags, "seq": seq, "protocol": protocol,
                      "headers": headers, "int_headers": {str(k): v for k, v in int_headers.items()},
                      "acl_token": acl, "payload": payload.hex()})
    with open(OUT, "w") as file:
        file.write("[\n" + ",\n".join(json.dumps(case, sort_keys=True) for case in cases) + "\n]\n")
    print(f"gen-ttheader-golden: {len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
