#!/usr/bin/python3
"""Generate Tests/ApusThriftTests/Fixtures/golden.json, the golden vectors for Apus.

Run with Debian's python (python3-thrift 0.17) and the `thrift` 0.17 compiler on PATH:

    /usr/bin/python3 scripts/gen-golden.py          (or: bash scripts/gen-golden.sh)

Bytes come from Apache Thrift's own Python library: the classes that `thrift --gen py`
produces for golden.thrift, written through the pure-Python TBinaryProtocol /
TCompactProtocol into a TMemoryBuffer (a few "raw" cases call the same protocol
objects directly, e.g. to write fields out of id order). Every generated-class body is
cross-checked against the C-accelerated writer (fastbinary) and read back with the
generated classes.

The expected `apus dump` line is produced by an independent, schema-less reader
(`Dumper` below) that walks the bytes with Apache's protocol objects only
(readMessageBegin / readStructBegin / readFieldBegin / readListBegin / ...).

golden.json: a JSON array, one object per line, in a fixed construction order:
  {"name", "protocol": "binary"|"compact", "strict": bool, "framing": "framed"|"buffered",
   "hex": lowercase hex of all bytes (incl. the 4-byte big-endian length when framed),
   "dump": the exact `apus dump` output line (no newline)}
"strict" is false only for TBinaryProtocol(strictWrite=False) (old header: name length,
name, type byte, seqid). Compact cases are marked strict:true (the compact header always
carries protocol id and version).

DUMP FORMAT RULES (the Swift side must match these exactly)
  * One JSON object, no whitespace: {"name":N,"type":T,"seqid":S,"body":{...}}
    T in call|reply|exception|oneway. body is the args/result struct (for EXCEPTION
    messages the TApplicationException struct), printed as a struct's "v" object.
  * Value objects are {"t":<type>,"v":<value>}; t in
    bool|i8|i16|i32|i64|double|string|binary|uuid|struct|list|set|map (i8 = TType 3).
  * Struct: "v":{"<field id decimal>":<value>,...} in wire order (duplicates/out-of-order
    ids are printed as read; nothing is sorted).
  * list/set: {"t":"list","elem":<wire elem type>,"v":[<value>,...]}
    map: {"t":"map","key":<wire key type>,"val":<wire val type>,"v":[[<k>,<v>],...]}
    elem/key/val name the WIRE type, so TType 11 is always "string" there, while each
    element's own object says "string" or "binary".
  * TType 11 (string/binary) is read as raw bytes: valid UTF-8 (Python's strict
    bytes.decode('utf-8'), i.e. no surrogates, no overlongs) -> {"t":"string","v":<text>},
    otherwise {"t":"binary","v":<standard base64 with padding>}. Note that a `binary`
    field whose bytes happen to be valid UTF-8 (including b"") prints as "string".
  * JSON strings are escaped exactly like Python json.dumps(s, ensure_ascii=False):
    non-ASCII stays raw UTF-8 (including U+007F and U+2028/U+2029), short escapes
    \\" \\\\ \\n \\r \\t \\b \\f, every other char < 0x20 as \\u00XX (lowercase hex);
    "/" is NOT escaped.
  * bool: true/false. Integers: plain decimal (negative with "-").
  * double: Python repr(float) (shortest round-trip; e.g. 0.1, 1.0, -0.0, 1e+300,
    5e-324, 1e+16, 1000000000000000.0, 0.0001, 1e-05) or the JSON *strings* "NaN",
    "Infinity", "-Infinity". Every NaN bit pattern prints as "NaN".
  * uuid: lowercase 8-4-4-4-12 text.
  * EMPTY COMPACT MAP RULE: a compact empty map is the single byte 0x00 and carries no
    key/value types. Apache's Python reader then reports ktype = vtype = 0 (TType.STOP).
    Rule: whenever a map header carries no types (compact, size 0) print
    "key":"none","val":"none". (Binary maps always carry their types, so an empty binary
    map prints the declared types, e.g. "key":"string","val":"i32".)
  * COMPACT BOOL ELEMENTS: Apache's Python (like Java/C++) writes the element type of
    list<bool>/set<bool>/map bool keys/values as compact type 1 (BOOLEAN_TRUE) and
    each element as one byte 1 (true) / 2 (false). Its reader maps element types 1 AND 2
    to TType.BOOL and reads an element as (byte == 1). These print as "elem":"bool" and
    {"t":"bool","v":true|false}. (The compact spec text says element type 2 and
    values 1/0; a tolerant reader should accept element type 1 or 2 and treat byte 1 as
    true, 0 or 2 as false.)
  * Compact bool FIELDS carry the value in the field header (type 1 true, 2 false) and
    print the same way as binary bool fields.
  * -0.0 is written as its IEEE bits (binary big-endian 80 00.., compact little-endian
    .. 00 80) and prints as -0.0.
  * uuid-* cases (hand-written, Thrift 0.17 has no uuid): binary TType 16, compact type
    13, value = the 16 bytes in order; printed "t":"uuid" / "elem":"uuid".
"""

import base64
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.protocol import TCompactProtocol as TCompactModule
from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocol, TCompactProtocolAccelerated
from thrift.transport.TTransport import TFramedTransport, TMemoryBuffer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "Tests", "ApusThriftTests", "Fixtures")
IDL = os.path.join(FIXTURES, "golden.thrift")
OUT = os.path.join(FIXTURES, "golden.json")

TTYPE_UUID = 16  # apache/thrift doc/specs: binary TType UUID (Python 0.17 calls 16 "UTF8")
COMPACT_UUID = 13

# --------------------------------------------------------------------------------------
# Independent dump reader (schema-less; uses only Apache's protocol read methods)
# --------------------------------------------------------------------------------------

TYPE_NAMES = {
    TType.BOOL: "bool",
    TType.BYTE: "i8",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    TType.DOUBLE: "double",
    TType.STRING: "string",
    TType.STRUCT: "struct",
    TType.MAP: "map",
    TType.SET: "set",
    TType.LIST: "list",
    TTYPE_UUID: "uuid",
}
MESSAGE_TYPES = {
    TMessageType.CALL: "call",
    TMessageType.REPLY: "reply",
    TMessageType.EXCEPTION: "exception",
    TMessageType.ONEWAY: "oneway",
}


def jstr(s):
    return json.dumps(s, ensure_ascii=False)


def jdouble(x):
    if math.isnan(x):
        return '"NaN"'
    if math.isinf(x):
        return '"Infinity"' if x > 0 else '"-Infinity"'
    return repr(x)


def tname(ttype):
    if ttype not in TYPE_NAMES:
        raise ValueError("unexpected wire type %r" % (ttype,))
    return TYPE_NAMES[ttype]


class Dumper(object):
    def __init__(self, prot):
        self.p = prot

    def value(self, ttype):
        p = self.p
        if ttype == TType.BOOL:
            return '{"t":"bool","v":%s}' % ("true" if p.readBool() else "false")
        if ttype == TType.BYTE:
            return '{"t":"i8","v":%d}' % p.readByte()
        if ttype == TType.I16:
            return '{"t":"i16","v":%d}' % p.readI16()
        if ttype == TType.I32:
            return '{"t":"i32","v":%d}' % p.readI32()
        if ttype == TType.I64:
            return '{"t":"i64","v":%d}' % p.readI64()
        if ttype == TType.DOUBLE:
            return '{"t":"double","v":%s}' % jdouble(p.readDouble())
        if ttype == TType.STRING:
            raw = p.readBinary()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return '{"t":"binary","v":%s}' % jstr(base64.b64encode(raw).decode("ascii"))
            return '{"t":"string","v":%s}' % jstr(text)
        if ttype == TTYPE_UUID:
            # only reached by the hand-written uuid-* cases (verification of the
            # hand-written dump); 16 raw bytes in both protocols.
            raw = p.trans.readAll(16)
            h = raw.hex()
            return '{"t":"uuid","v":"%s-%s-%s-%s-%s"}' % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
        if ttype == TType.STRUCT:
            return '{"t":"struct","v":%s}' % self.struct()
        if ttype in (TType.LIST, TType.SET):
            if ttype == TType.LIST:
                etype, size = p.readListBegin()
            else:
                etype, size = p.readSetBegin()
            elems = [self.value(etype) for _ in range(size)]
            if ttype == TType.LIST:
                p.readListEnd()
            else:
                p.readSetEnd()
            return '{"t":"%s","elem":"%s","v":[%s]}' % (tname(ttype), tname(etype), ",".join(elems))
        if ttype == TType.MAP:
            ktype, vtype, size = p.readMapBegin()
            pairs = []
            for _ in range(size):
                k = self.value(ktype)
                v = self.value(vtype)
                pairs.append("[%s,%s]" % (k, v))
            p.readMapEnd()
            if size == 0 and ktype == TType.STOP and vtype == TType.STOP:
                kn, vn = "none", "none"  # EMPTY COMPACT MAP RULE (see module docstring)
            else:
                kn, vn = tname(ktype), tname(vtype)
            return '{"t":"map","key":"%s","val":"%s","v":[%s]}' % (kn, vn, ",".join(pairs))
        raise ValueError("unexpected wire type %r" % (ttype,))

    def struct(self):
        p = self.p
        p.readStructBegin()
        fields = []
        while True:
            _, ftype, fid = p.readFieldBegin()
            if ftype == TType.STOP:
                break
            fields.append('"%d":%s' % (fid, self.value(ftype)))
            p.readFieldEnd()
        p.readStructEnd()
        return "{%s}" % ",".join(fields)

    def message(self):
        p = self.p
        name, mtype, seqid = p.readMessageBegin()
        if isinstance(name, bytes):  # TBinaryProtocol old header returns raw bytes
            name = name.decode("utf-8")
        body = self.struct()
        p.readMessageEnd()
        return '{"name":%s,"type":"%s","seqid":%d,"body":%s}' % (jstr(name), MESSAGE_TYPES[mtype], seqid, body)


class compact_uuid_reading(object):
    """Temporarily teach Apache's compact reader that compact type 13 is uuid."""

    def __enter__(self):
        TCompactModule.TTYPES[COMPACT_UUID] = TTYPE_UUID

    def __exit__(self, *exc):
        del TCompactModule.TTYPES[COMPACT_UUID]


def read_protocol(protocol, trans):
    if protocol == "compact":
        return TCompactProtocol(trans)
    # strictRead=False: accepts both the strict and the old header
    return TBinaryProtocol(trans, strictRead=False)


def dump_bytes(protocol, framing, data):
    if framing == "framed":
        (n,) = struct.unpack(">i", data[:4])
        assert n == len(data) - 4, "frame length mismatch"
        mem = TMemoryBuffer(data)
        trans = TFramedTransport(mem)  # Apache's own frame reader
        line = Dumper(read_protocol(protocol, trans)).message()
        assert trans._TFramedTransport__rbuf.read() == b"", "trailing bytes inside frame"
        assert mem.read(1) == b"", "trailing bytes after frame"
    else:
        trans = TMemoryBuffer(data)
        line = Dumper(read_protocol(protocol, trans)).message()
        assert trans.read(1) == b"", "trailing bytes"
    return line


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

# (label, protocol, strict)
BIN = ("binary-strict", "binary", True)
OLD = ("binary-nonstrict", "binary", False)
CMP = ("compact", "compact", True)
BUF, FRM = "buffered", "framed"

ALL6 = [(v, f) for v in (BIN, OLD, CMP) for f in (BUF, FRM)]
TRIO_A = [(BIN, BUF), (OLD, FRM), (CMP, BUF)]
TRIO_B = [(BIN, FRM), (OLD, BUF), (CMP, FRM)]
DUO_A = [(BIN, BUF), (CMP, FRM)]
DUO_B = [(BIN, FRM), (CMP, BUF)]


def write_protocol(protocol, strict, trans, accelerated=False):
    if protocol == "compact":
        if accelerated:
            return TCompactProtocolAccelerated(trans, fallback=False)
        return TCompactProtocol(trans)
    if accelerated:
        return TBinaryProtocolAccelerated(trans, strictWrite=strict, fallback=False)
    return TBinaryProtocol(trans, strictWrite=strict)


def encode(protocol, strict, name, mtype, seqid, write_body, accelerated=False):
    trans = TMemoryBuffer()
    p = write_protocol(protocol, strict, trans, accelerated)
    p.writeMessageBegin(name, mtype, seqid)
    write_body(p)
    p.writeMessageEnd()
    return trans.getvalue()


def frame(msg):
    manual = struct.pack(">i", len(msg)) + msg
    # cross-check with Apache's TFramedTransport
    mem = TMemoryBuffer()
    ft = TFramedTransport(mem)
    ft.write(msg)
    ft.flush()
    assert mem.getvalue() == manual
    return manual


def check_header(protocol, strict, data, name, mtype, seqid):
    """Spec-level sanity check of the message header bytes."""
    nb = name.encode("utf-8")
    if protocol == "compact":
        assert data[0] == 0x82 and data[1] == (mtype << 5) | 1, data[:2].hex()
    elif strict:
        assert data[:4] == bytes([0x80, 0x01, 0x00, mtype]), data[:4].hex()
        assert data[4:8] == struct.pack(">i", len(nb)) and data[8:8 + len(nb)] == nb
        assert data[8 + len(nb):12 + len(nb)] == struct.pack(">i", seqid)
    else:
        assert data[:4] == struct.pack(">i", len(nb)) and data[4:4 + len(nb)] == nb
        assert data[4 + len(nb)] == mtype
        assert data[5 + len(nb):9 + len(nb)] == struct.pack(">i", seqid)


# --------------------------------------------------------------------------------------
# Round-trip check through the generated classes
# --------------------------------------------------------------------------------------

def norm(v, ttype=TType.STRUCT, args=None):
    """Comparable, schema-directed form of a generated-class value: lists stay ordered,
    sets/maps become sorted, doubles compare by IEEE bits (any NaN equal)."""
    if v is None:
        return None
    if ttype == TType.STRUCT:
        spec = getattr(v, "thrift_spec", None)
        return (type(v).__name__, tuple((f[0], norm(getattr(v, f[2]), f[1], f[3])) for f in spec if f is not None))
    if ttype == TType.LIST:
        return tuple(norm(e, args[0], args[1]) for e in v)
    if ttype == TType.SET:
        return tuple(sorted((norm(e, args[0], args[1]) for e in v), key=repr))
    if ttype == TType.MAP:
        return tuple(sorted(((norm(k, args[0], args[1]), norm(x, args[2], args[3])) for k, x in v.items()), key=repr))
    if ttype == TType.DOUBLE:
        return "nan" if math.isnan(v) else struct.pack(">d", v)
    if ttype == TType.BOOL:
        return bool(v)
    if ttype == TType.STRING:
        return v  # str for string fields, bytes for binary fields
    return int(v)


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------

NAN = float("nan")
INF = float("inf")
UNICODE = "héllo wörld ✓ 日本語 🚀"
ESCAPES = 'quote " backslash \\ slash / newline \n cr \r tab \t bs \b ff \f nul \x00 ctl \x01 \x1f del \x7f ls \u2028 end'
LONG_ASCII = "".join("%03d," % i for i in range(75))  # 300 bytes -> varint ac 02 / i32 0000012c
LONG_UTF8 = "ü" * 64  # 128 bytes exactly (first 2-byte varint length: 80 01)
NOT_UTF8 = b"\xff\xfe\x00\x80"


def build_cases(g):
    T = g.ttypes
    S = g.Golden
    cases = []  # (base, method, mtype, seqid, writer, variants, gen_check)

    def gen(base, method, mtype, seqid, obj, variants, expect=None):
        # expect: what the generated reader gives back, when it differs from obj
        cases.append((base, method, mtype, seqid, obj.write, variants, obj, expect or obj))

    def raw(base, method, mtype, seqid, fn, variants):
        cases.append((base, method, mtype, seqid, fn, variants, None, None))

    CALL, REPLY, EXC, ONEWAY = TMessageType.CALL, TMessageType.REPLY, TMessageType.EXCEPTION, TMessageType.ONEWAY

    # --- ping / void ---------------------------------------------------------------
    gen("ping-call", "ping", CALL, 1, S.ping_args(), ALL6)
    gen("ping-reply", "ping", REPLY, 1, S.ping_result(), DUO_A)

    # --- scalars ---------------------------------------------------------------------
    gen("scalars-max-call", "echoScalars", CALL, 2147483647, S.echoScalars_args(s=T.Scalars(
        flag=True, b=127, small=32767, medium=2147483647, large=9223372036854775807,
        real=1.7976931348623157e308, text="max", blob=b"\xff" * 3, tiny=127, color=T.Color.BLUE)), ALL6)
    gen("scalars-min-call", "echoScalars", CALL, -2147483648, S.echoScalars_args(s=T.Scalars(
        flag=False, b=-128, small=-32768, medium=-2147483648, large=-9223372036854775808,
        real=5e-324, text="min", blob=b"\x00", tiny=-128, color=T.Color.RED)), TRIO_A)
    gen("scalars-zero-call", "echoScalars", CALL, 0, S.echoScalars_args(s=T.Scalars(
        flag=False, b=0, small=0, medium=0, large=0, real=0.0, text="", blob=b"", tiny=0, color=0)), TRIO_B)
    gen("scalars-neg1-reply", "echoScalars", REPLY, -5, S.echoScalars_result(success=T.Scalars(
        flag=True, b=-1, small=-1, medium=-1, large=-1, real=-1.0, text="-1", blob=b"\xff", tiny=-1, color=-1)), TRIO_A)
    gen("scalars-partial-call", "echoScalars", CALL, 3, S.echoScalars_args(s=T.Scalars(
        medium=1, real=0.1, text="hi")), DUO_B)
    gen("scalars-nan-call", "echoScalars", CALL, 4, S.echoScalars_args(s=T.Scalars(
        real=NAN, large=64, small=-64, medium=-65)), DUO_A)
    gen("scalars-negzero-reply", "echoScalars", REPLY, 4, S.echoScalars_result(success=T.Scalars(
        real=-0.0, large=8191, medium=-8192, small=8192)), DUO_B)

    # --- strings / binary --------------------------------------------------------------
    gen("string-unicode-call", "getItem", CALL, 7, S.getItem_args(id=5, name=UNICODE), TRIO_A)
    gen("string-escapes-call", "getItem", CALL, 8, S.getItem_args(id=-1, name=ESCAPES), TRIO_B)
    gen("string-long-call", "getItem", CALL, 9, S.getItem_args(id=300, name=LONG_ASCII), TRIO_A)
    gen("string-long-utf8-reply", "getItem", REPLY, 9, S.getItem_result(success=T.Item(
        id=128, name=LONG_UTF8, tags=["x" * 127, "y" * 128, ""])), DUO_A)
    gen("binary-not-utf8-call", "echoScalars", CALL, 10, S.echoScalars_args(s=T.Scalars(
        text="", blob=NOT_UTF8)), TRIO_B)
    gen("binary-bytes-call", "echoContainers", CALL, 11, S.echoContainers_args(c=T.Containers(
        blobs=[NOT_UTF8, b"", b"valid utf-8 bytes", bytes(range(256)), b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf"])),
        DUO_B)

    def unicode_name(p):
        g.Golden.ping_args().write(p)
    raw("raw-unicode-method-name-call", "naïve✓", CALL, 12, unicode_name, DUO_A)

    # --- containers ------------------------------------------------------------------
    gen("containers-empty-call", "echoContainers", CALL, 20, S.echoContainers_args(c=T.Containers(
        ints=[], names=[], counts={}, points=[], ids=[], byId={}, matrix=[], series={}, tags=[], flags={},
        bits=[], reals=[], blobs=[], strs=[], bytes=[], shorts=[], longs=[], weights={}, items=[],
        pointSet=[], listOfSets=[], boolKeys={})), ALL6)

    full = T.Containers(
        ints=list(range(-7, 8)),                               # 15 elements: first long-form size
        names=["alpha", "beta", "gamma"],                      # set<string> (list keeps order)
        counts={"one": 1, "two": 2, "": 0, UNICODE: -1},
        points=[T.Point(x=1, y=2), T.Point(x=-3, y=4), T.Point()],
        ids=[0, -1, 9223372036854775807],
        byId={1: T.Point(x=10, y=20), -2: T.Point(x=0, y=0)},
        matrix=[[1, 2, 3], [], [-4]],
        series={"a": [1, 2], "b": [], "c": [-9223372036854775808]},
        tags=["x", "y"],
        flags={1: {"on": True, "off": False}, 2: {}, 3: {"only": True}},
        bits=[True, False, True, True, False, False, True, False, True, False, True, False, True, False, True, True],
        reals=[0.5, -2.25],
        blobs=[NOT_UTF8],
        strs=["", UNICODE, ESCAPES],
        bytes=[-128, -1, 0, 1, 127],
        shorts=list(range(-10, 10)),                           # 20 elements
        longs=[1 << e for e in range(0, 56, 4)],               # 14 elements: largest short-form size
        weights={-1: 0.1, 2: -0.0},
        items=[T.Item(id=1, name="one"), T.Item(id=2, name="two", where=T.Point(x=5, y=6), tags=["t"])],
        pointSet=[T.Point(x=1, y=1), T.Point(x=2, y=2)],
        listOfSets=[[1, 2], [], [3]],
        boolKeys={True: 1, False: -1},
    )
    gen("containers-full-call", "echoContainers", CALL, 21, S.echoContainers_args(c=full), ALL6)
    gen("containers-doubles-call", "echoContainers", CALL, 22, S.echoContainers_args(c=T.Containers(reals=[
        NAN, INF, -INF, -0.0, 0.0, 0.1, 1e300, 5e-324, 1.0, -1.5, 1e16, 1e15, 1e-4, 1e-5, 2.0 ** 53,
        1.7976931348623157e308, 2.2250738585072014e-308, 123456.789, 1 / 3])), TRIO_A)
    gen("containers-reply", "echoContainers", REPLY, 21, S.echoContainers_result(success=T.Containers(
        counts={"k": 7}, series={"s": []}, flags={0: {}}, weights={}, bits=[False], byId={})), DUO_B)
    gen("containers-list15-call", "echoContainers", CALL, 23, S.echoContainers_args(c=T.Containers(
        strs=["s%d" % i for i in range(15)], bits=[True] * 14, points=[T.Point(x=i, y=-i) for i in range(15)],
        series={"k%02d" % i: [i] for i in range(16)})), TRIO_B)

    # --- optionals / defaults ---------------------------------------------------------
    gen("optionals-unset-call", "echoOptionals", CALL, 30, S.echoOptionals_args(o=T.Optionals(req=1)), TRIO_A)
    gen("optionals-set-reply", "echoOptionals", REPLY, 30, S.echoOptionals_result(success=T.Optionals(
        a=-1, b="b", c=T.Point(x=7), req=0, dflt=-42, li=[], flag=False, m={"k": "v", "": ""})), DUO_A)
    gen("optionals-null-default-call", "echoOptionals", CALL, 31, S.echoOptionals_args(o=T.Optionals(
        req=2, dflt=None, flag=True)), DUO_B,
        # dflt=None is not written; the generated reader then fills in the IDL default 42
        expect=S.echoOptionals_args(o=T.Optionals(req=2, flag=True)))

    # --- unions ----------------------------------------------------------------------
    gen("union-call", "pick", CALL, 40, S.pick_args(c=T.Choice(text="hi"), more=[
        T.Choice(num=1), T.Choice(pt=T.Point(x=1, y=2)), T.Choice(words=[]), T.Choice(yes=False),
        T.Choice(yes=True), T.Choice(words=["a", "b"])]), TRIO_B)
    gen("union-reply", "pick", REPLY, 40, S.pick_result(success=T.Choice(pt=T.Point(x=-1, y=1))), DUO_A)

    # --- declared exceptions and other results -----------------------------------------
    gen("item-success-reply", "getItem", REPLY, 7, S.getItem_result(success=T.Item(
        id=5, name=UNICODE, where=T.Point(x=3, y=4), tags=["new", "sale"])), DUO_B)
    gen("item-notfound-reply", "getItem", REPLY, 7, S.getItem_result(notFound=T.NotFound(
        message="no item 7", code=404)), TRIO_A)
    gen("item-invalid-reply", "getItem", REPLY, 8, S.getItem_result(invalid=T.Invalid(
        why="bad name", item=T.Item(id=-1, name=""))), DUO_A)
    gen("check-call", "check", CALL, 50, S.check_args(bits=[True, False] * 8 + [True], strict=True), ALL6)
    gen("check-reply", "check", REPLY, 50, S.check_result(success=False), DUO_B)
    gen("name-reply", "name", REPLY, 51, S.name_result(success=UNICODE), DUO_A)

    # --- TApplicationException (EXCEPTION messages) -------------------------------------
    gen("exception-unknown-method", "nope", EXC, 60, TApplicationException(
        TApplicationException.UNKNOWN_METHOD, "Invalid method name: 'nope'"), ALL6)
    gen("exception-internal-error", "getItem", EXC, 61, TApplicationException(
        TApplicationException.INTERNAL_ERROR, "boom ✓ \"quoted\""), TRIO_B)
    gen("exception-no-message", "echoWide", EXC, -1, TApplicationException(
        TApplicationException.PROTOCOL_ERROR), DUO_B)

    # --- Wide / sparse field ids ---------------------------------------------------------
    wide = T.Wide(first=1, twenty="twenty", threeHundred=300, five=True, sixteen=-16, thirtyTwo=-32,
                  last=3.5, two=T.Point(x=2, y=-2), seventeen=False, thousand=[1000, -1000])
    gen("wide-call", "echoWide", CALL, 70, S.echoWide_args(w=wide), TRIO_A)
    gen("oneway-fire", "fire", ONEWAY, 71, S.fire_args(w=wide, c=T.Choice(num=-1), note="fire&forget"), ALL6)

    def wide_unsorted(p):
        """echoWide_args{1: Wide} with Wide written in *declaration* order via Apache's
        protocol object: 1, 20, 300, 5, 16, 32, 32767, 2, 17, 1000 (negative deltas,
        delta 15 short form for 2->17, delta 16 long form for 16->32, long-form bool 5)."""
        p.writeStructBegin("echoWide_args")
        p.writeFieldBegin("w", TType.STRUCT, 1)
        p.writeStructBegin("Wide")
        p.writeFieldBegin("first", TType.I32, 1); p.writeI32(wide.first); p.writeFieldEnd()
        p.writeFieldBegin("twenty", TType.STRING, 20); p.writeString(wide.twenty); p.writeFieldEnd()
        p.writeFieldBegin("threeHundred", TType.I64, 300); p.writeI64(wide.threeHundred); p.writeFieldEnd()
        p.writeFieldBegin("five", TType.BOOL, 5); p.writeBool(wide.five); p.writeFieldEnd()
        p.writeFieldBegin("sixteen", TType.I16, 16); p.writeI16(wide.sixteen); p.writeFieldEnd()
        p.writeFieldBegin("thirtyTwo", TType.BYTE, 32); p.writeByte(wide.thirtyTwo); p.writeFieldEnd()
        p.writeFieldBegin("last", TType.DOUBLE, 32767); p.writeDouble(wide.last); p.writeFieldEnd()
        p.writeFieldBegin("two", TType.STRUCT, 2); wide.two.write(p); p.writeFieldEnd()
        p.writeFieldBegin("seventeen", TType.BOOL, 17); p.writeBool(wide.seventeen); p.writeFieldEnd()
        p.writeFieldBegin("thousand", TType.LIST, 1000)
        p.writeListBegin(TType.I32, len(wide.thousand))
        for v in wide.thousand:
            p.writeI32(v)
        p.writeListEnd()
        p.writeFieldEnd()
        p.writeFieldStop()
        p.writeStructEnd()
        p.writeFieldEnd()
        p.writeFieldStop()
        p.writeStructEnd()
    raw("wide-unsorted-call", "echoWide", CALL, 72, wide_unsorted, ALL6)

    return cases


# --------------------------------------------------------------------------------------
# Hand-written uuid cases (Thrift 0.17 has no uuid type)
# --------------------------------------------------------------------------------------

U1 = "00112233-4455-6677-8899-aabbccddeeff"
U2 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
U3 = "00000000-0000-0000-0000-000000000000"
U4 = "ffffffff-ffff-ffff-ffff-ffffffffffff"


def H(s):
    """hex with spaces/uuid dashes -> bytes"""
    return bytes.fromhex(s.replace("-", " "))


def A(s):
    return s.encode("ascii").hex()


UUID_CASES = [
    # lookup(1: UuidHolder{1: uuid U1, 2: list<uuid> [U2, U3], 3: string "ok"}), seqid 42
    ("uuid-struct", "binary",
     H("80 01 00 01  00 00 00 06 " + A("lookup") + " 00 00 00 2a"
       " 0c 00 01"
       "   10 00 01 " + U1 +
       "   0f 00 02  10 00 00 00 02 " + U2 + " " + U3 +
       "   0b 00 03  00 00 00 02 " + A("ok") +
       "   00"
       " 00"),
     '{"name":"lookup","type":"call","seqid":42,"body":{"1":{"t":"struct","v":{'
     '"1":{"t":"uuid","v":"%s"},'
     '"2":{"t":"list","elem":"uuid","v":[{"t":"uuid","v":"%s"},{"t":"uuid","v":"%s"}]},'
     '"3":{"t":"string","v":"ok"}}}}}' % (U1, U2, U3)),
    ("uuid-struct", "compact",
     H("82 21 2a 06 " + A("lookup") +
       " 1c"
       "   1d " + U1 +
       "   19 2d " + U2 + " " + U3 +
       "   18 02 " + A("ok") +
       "   00"
       " 00"),
     None),  # same dump as binary
    # lookupMany(1: list<uuid> [U1, U3, U4]), seqid 43
    ("uuid-list", "binary",
     H("80 01 00 01  00 00 00 0a " + A("lookupMany") + " 00 00 00 2b"
       " 0f 00 01  10 00 00 00 03 " + U1 + " " + U3 + " " + U4 +
       " 00"),
     '{"name":"lookupMany","type":"call","seqid":43,"body":{"1":{"t":"list","elem":"uuid","v":['
     '{"t":"uuid","v":"%s"},{"t":"uuid","v":"%s"},{"t":"uuid","v":"%s"}]}}}' % (U1, U3, U4)),
    ("uuid-list", "compact",
     H("82 21 2b 0a " + A("lookupMany") +
       " 19 3d " + U1 + " " + U3 + " " + U4 +
       " 00"),
     None),
]


# --------------------------------------------------------------------------------------

def generate_python(tmp):
    version = subprocess.run(["thrift", "-version"], capture_output=True, text=True).stdout.strip()
    if "0.17" not in version:
        print("warning: expected Thrift 0.17, found %r; vectors may differ" % version, file=sys.stderr)
    r = subprocess.run(["thrift", "--gen", "py", "-out", tmp, IDL], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("thrift --gen py failed")
    sys.path.insert(0, tmp)
    import golden  # noqa: F401
    import golden.Golden
    import golden.ttypes
    return golden


EMPTY_MAP_TYPES = re.compile(r'"key":"[a-z0-9]+","val":"[a-z0-9]+","v":\[\]')


def main():
    tmp = tempfile.mkdtemp(prefix="apus-golden-")
    try:
        g = generate_python(tmp)
        # generated structs define __eq__ but no __hash__; reading set<Point> back needs one
        g.ttypes.Point.__hash__ = lambda self: hash((self.x, self.y))
        out = []
        for (base, method, mtype, seqid, writer, variants, obj, expect) in build_cases(g):
            bodies = {}
            case_dumps = []
            for (label, protocol, strict), framing in variants:
                msg = encode(protocol, strict, method, mtype, seqid, writer)
                check_header(protocol, strict, msg, method, mtype, seqid)
                if obj is not None and not isinstance(obj, TApplicationException):
                    fast = encode(protocol, strict, method, mtype, seqid, writer, accelerated=True)
                    assert fast == msg, "%s: pure-Python and fastbinary bytes differ" % base
                    # read the body back with the generated class
                    cls = type(obj)
                    trans = TMemoryBuffer(msg)
                    rp = read_protocol(protocol, trans)
                    rp.readMessageBegin()
                    back = cls()
                    back.read(rp)
                    rp.readMessageEnd()
                    assert norm(back) == norm(expect), "%s: generated-class round trip differs" % base
                elif isinstance(obj, TApplicationException):
                    trans = TMemoryBuffer(msg)
                    rp = read_protocol(protocol, trans)
                    rp.readMessageBegin()
                    back = TApplicationException()
                    back.read(rp)
                    assert (back.type, back.message) == (obj.type, obj.message)
                # strict and old binary headers must carry identical bodies
                body_start = {("binary", True): 12, ("binary", False): 9}.get((protocol, strict))
                if body_start is not None:
                    b = msg[body_start + len(method.encode("utf-8")):]
                    assert bodies.setdefault("binary", b) == b
                data = frame(msg) if framing == FRM else msg
                dump = dump_bytes(protocol, framing, data)
                case_dumps.append(dump)
                out.append(case_obj("%s-%s-%s" % (base, label, framing), protocol, strict, framing, data, dump))
            # all variants must print the same dump, modulo the empty compact map rule
            dumps = {EMPTY_MAP_TYPES.sub('"key":"none","val":"none","v":[]', d) for d in case_dumps}
            assert len(dumps) == 1, "%s: dump differs between protocols/framings" % base
            assert len({d for d, c in zip(case_dumps, variants) if c[0][1] == "binary"}) <= 1

        # hand-written uuid cases
        expected = {}
        for (base, protocol, msg, dump) in UUID_CASES:
            if dump is None:
                dump = expected[base]
            expected[base] = dump
            for framing in (BUF, FRM):
                data = frame(msg) if framing == FRM else msg
                with compact_uuid_reading():
                    got = dump_bytes(protocol, framing, data)
                assert got == dump, "%s/%s: hand-written dump disagrees with reader:\n%s\n%s" % (
                    base, protocol, got, dump)
                label = "binary-strict" if protocol == "binary" else "compact"
                out.append(case_obj("%s-%s-%s" % (base, label, framing), protocol, True, framing, data, dump))

        names = [c["name"] for c in out]
        assert len(names) == len(set(names)), "duplicate case names"
        for c in out:
            json.loads(c["dump"])  # every dump line is valid JSON
            outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', c["dump"])
            assert not re.search(r"\s", outside), "whitespace in dump of " + c["name"]

        text = "[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in out) + "\n]\n"
        with open(OUT, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print("wrote %d cases to %s" % (len(out), os.path.relpath(OUT, REPO)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_obj(name, protocol, strict, framing, data, dump):
    return {"name": name, "protocol": protocol, "strict": strict, "framing": framing,
            "hex": data.hex(), "dump": dump}


if __name__ == "__main__":
    main()
