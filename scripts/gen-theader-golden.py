#!/usr/bin/python3
"""Generate Tests/ApusThriftTests/Fixtures/theader.json: THeader frames written by Apache
Thrift's own Python library (python3-thrift's THeaderTransport over a TMemoryBuffer).

    /usr/bin/python3 scripts/gen-theader-golden.py

Each line is one case: {"name", "hex" (the whole frame, LENGTH included), "flags", "seq",
"protocol": "binary"|"compact", "transforms": [ids], "headers": {k: v}, "payload": hex of
the inner message before any transform}. Header keys are set in sorted order, the order
Apus writes them, so Apus's encoding of the same header must give the same bytes.
"""
import json
import os

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID, THeaderTransformID, THeaderTransport
from thrift.transport.TTransport import TMemoryBuffer

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ApusThriftTests", "Fixtures", "theader.json")


def message(protocol_class, name, seqid):
    """A CALL with one string field (1: "hello"), as the plain protocol writes it."""
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


def frame(protocol, payload, seq, flags, headers, transforms):
    out = TMemoryBuffer()
    transport = THeaderTransport(out, [THeaderClientType.HEADERS],
                                 THeaderSubprotocolID.BINARY if protocol == "binary" else THeaderSubprotocolID.COMPACT)
    transport.sequence_id = seq
    transport.flags = flags
    for key in sorted(headers):
        transport.set_header(key.encode(), headers[key].encode())
    for transform in transforms:
        transport.add_transform(transform)
    transport.write(payload)
    transport.flush()
    return out.getvalue()


def main():
    cases = []
    for name, protocol, seq, flags, headers, transforms in [
        ("binary, no headers", "binary", 1, 0, {}, []),
        ("compact, no headers", "compact", 7, 0, {}, []),
        ("binary, two headers", "binary", 2, 0, {"client": "apus-test", "deadline_ms": "250"}, []),
        ("compact, headers and flags", "compact", 0x12345678, 1, {"traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"}, []),
        ("binary, zlib", "binary", 3, 0, {"k": "v"}, [THeaderTransformID.ZLIB]),
        ("binary, long header value", "binary", 4, 0, {"x": "y" * 300}, []),
    ]:
        payload = message(TBinaryProtocol if protocol == "binary" else TCompactProtocol, "echo", seq & 0x7FFF)
        data = frame(protocol, payload, seq, flags, headers, transforms)
        # Read it back with Apache's own reader: the case is what Apache itself accepts.
        reader = THeaderTransport(TMemoryBuffer(data), [THeaderClientType.HEADERS])
        assert reader.read(len(payload)) == payload and reader.get_headers() == {k.encode(): v.encode() for k, v in headers.items()}
        cases.append({"name": name, "hex": data.hex(), "flags": flags, "seq": seq, "protocol": protocol,
                      "transforms": transforms, "headers": headers, "payload": payload.hex()})
    with open(OUT, "w") as file:
        file.write("[\n" + ",\n".join(json.dumps(case, sort_keys=True) for case in cases) + "\n]\n")
    print(f"gen-theader-golden: {len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
