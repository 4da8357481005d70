#!/usr/bin/python3
"""Apache Thrift's Python library against Apus's generated code, by value.

Tests/ApusCrossLanguageTests drives this script in two steps over files in
one directory, for one protocol (records: 4-byte big-endian length, then one
encoded `Everything` of Tests/ApusCrossLanguageTests/crosslang.thrift):

  echo   reads swift.bin (random values Apus encoded), decodes each with the
         code `thrift --gen py` generates, checks nothing was skipped or left
         unset, and writes the re-encodings to swift-echoed.bin for Swift to
         compare with its originals. Checks swift-defaults.bin against
         `Defaults()`, writes python-defaults.bin, and writes --count seeded
         random values to python.bin.
  check  regenerates the same random values from --seed and compares them
         with python-echoed.bin (what Swift decoded and re-encoded).

    crosslang.py echo|check --dir DIR --protocol binary|compact --seed N --count N

Exits 1 naming the protocol, value and field of the first differences;
exits 2 when python3-thrift or thrift-compiler is missing (or the IDL does not compile).
"""
import argparse
import json
import math
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import thriftgen  # noqa: E402

try:
    from thrift.Thrift import TType
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.transport import TTransport
except ImportError as error:
    print(f"crosslang: Apache Thrift's Python library is missing ({error}); run `bash scripts/setup.sh`", file=sys.stderr)
    sys.exit(2)

IDL = os.path.join(thriftgen.REPO_ROOT, "Tests", "ApusCrossLanguageTests", "crosslang.thrift")
# The pure-Python protocols: the accelerated ones would test Apache's C extension instead.
PROTOCOLS = {"binary": TBinaryProtocol.TBinaryProtocol, "compact": TCompactProtocol.TCompactProtocol}
# Structs nested this deep get empty containers, which ends Post's recursion.
MAX_DEPTH = 4
MAX_FAILURES = 10

# Code points whose strings are all in NFC with no combining marks: Swift
# compares strings by canonical equivalence, Python by code points, and the
# two agree on such strings (so set elements and map keys stay distinct).
SCALARS = [(0x20, 0x7E), (0x20, 0x7E), (0x00, 0x1F), (0xA0, 0xFF), (0x3B1, 0x3C9), (0x410, 0x44F),
           (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x1F600, 0x1F64F), (0x10400, 0x1044F)]


class Model:
    """What the Python classes do not record, from `thrift --gen json`: unions and requiredness."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        self.unions = {s["name"] for s in document["structs"] if s["isUnion"]}
        self.optional = {(s["name"], f["name"]) for s in document["structs"] for f in s["fields"]
                         if f["required"] == "optional"}


def load(directory):
    gen = os.path.join(directory, "gen")
    if not os.path.isdir(os.path.join(gen, "apus_crosslang")):
        os.makedirs(gen, exist_ok=True)
        thriftgen.compile_idl(gen, IDL, "json")
        thriftgen.generate(gen, IDL)
    elif gen not in sys.path:
        sys.path.insert(0, gen)
    from apus_crosslang import ttypes
    return ttypes, Model(os.path.join(gen, "crosslang.json"))


def fields(cls):
    return [spec for spec in cls.thrift_spec if spec is not None]


def is_struct(value):
    return getattr(value, "thrift_spec", None) is not None


class Randomizer:
    """Seeded random values of any generated class, driven by its thrift_spec."""

    def __init__(self, seed, model):
        self.rng = random.Random(seed)
        self.model = model

    def struct(self, cls, depth=0):
        """`depth` counts enclosing structs; containers are empty from MAX_DEPTH on, which ends recursion."""
        rng = self.rng
        if cls.__name__ in self.model.unions:
            _, ttype, name, args, _ = rng.choice(fields(cls))
            return cls(**{name: self.value(ttype, args, depth + 1)})
        values = {}
        for _, ttype, name, args, default in fields(cls):
            is_union = ttype == TType.STRUCT and args[0].__name__ in self.model.unions
            # Absent only where Apus can say so: optional fields without a default
            # (absent ones with a default read back as the default) and unions.
            may_be_absent = ((cls.__name__, name) in self.model.optional and default is None) or is_union
            if may_be_absent and rng.random() < 0.4:
                continue
            values[name] = self.value(ttype, args, depth + 1)
        return cls(**values)

    def value(self, ttype, args, depth):
        rng = self.rng
        if ttype == TType.BOOL:
            return rng.random() < 0.5
        if ttype == TType.BYTE:
            return self.signed(8)
        if ttype == TType.I16:
            return self.signed(16)
        if ttype == TType.I32:
            # Half small, so enum fields often hold declared values.
            return rng.randint(-2, 5) if rng.random() < 0.5 else self.signed(32)
        if ttype == TType.I64:
            return self.signed(64)
        if ttype == TType.DOUBLE:
            return self.double()
        if ttype == TType.STRING:
            if args == "BINARY":
                return rng.randbytes(rng.randint(128, 300) if rng.random() < 0.1 else rng.randint(0, 8))
            return self.string()
        if ttype == TType.STRUCT:
            return self.struct(args[0], depth)
        size = self.size(depth)
        if ttype == TType.LIST:
            return [self.value(args[0], args[1], depth) for _ in range(size)]
        if ttype == TType.SET:
            return {self.value(args[0], args[1], depth) for _ in range(size)}
        if ttype == TType.MAP:
            return {self.value(args[0], args[1], depth): self.value(args[2], args[3], depth) for _ in range(size)}
        raise ValueError(f"no random values for thrift type {ttype}")

    def size(self, depth):
        """0–4 elements; one container in fifty holds 15–20 (compact's long-form list header)."""
        rng = self.rng
        if depth >= MAX_DEPTH:
            return 0
        return rng.randint(15, 20) if rng.random() < 0.02 else rng.randint(0, 4)

    def signed(self, bits):
        return self.rng.getrandbits(bits) - (1 << (bits - 1))

    def double(self):
        rng = self.rng
        choice = rng.random()
        if choice < 0.2:
            return rng.choice([0.0, -0.0, 1.0, -1.5, math.inf, -math.inf, 5e-324, 1.7976931348623157e308])
        if choice < 0.6:
            return rng.uniform(-1e6, 1e6)
        while True:
            value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if not math.isnan(value):
                return value

    def string(self):
        rng = self.rng
        length = rng.randint(40, 80) if rng.random() < 0.05 else rng.randint(0, 12)
        scalars = []
        for _ in range(length):
            low, high = SCALARS[int(rng.random() * len(SCALARS))]
            scalars.append(chr(low + int(rng.random() * (high - low + 1))))
        return "".join(scalars)


def encode(value, protocol):
    buffer = TTransport.TMemoryBuffer()
    value.write(PROTOCOLS[protocol](buffer))
    return buffer.getvalue()


def strict(protocol_class):
    """`protocol_class` failing where generated code would skip a field it does not expect."""

    class Strict(protocol_class):
        def readFieldBegin(self):
            self.last_field = super().readFieldBegin()
            return self.last_field

        def skip(self, ttype):
            _, _, field_id = self.last_field
            raise ValueError(f"skipped field {field_id} of thrift type {ttype}: an ID or type the IDL does not have there")

    return Strict


STRICT = {name: strict(protocol_class) for name, protocol_class in PROTOCOLS.items()}


def decode(cls, data, protocol):
    buffer = TTransport.TMemoryBuffer(data)
    value = cls()
    value.read(STRICT[protocol](buffer))
    if buffer._buffer.tell() != len(data):
        raise ValueError(f"decoding used {buffer._buffer.tell()} of {len(data)} bytes")
    return value


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    records, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        records.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return records


def write_records(path, records):
    with open(path, "wb") as f:
        for record in records:
            f.write(struct.pack(">I", len(record)) + record)


def short(value):
    text = repr(value)
    return text if len(text) <= 160 else text[:160] + "…"


def difference(expected, actual, path):
    """The first place `actual` differs from `expected`, as `path: …`, or None."""
    if expected == actual and type(expected) is type(actual):
        return None
    if is_struct(expected) and type(expected) is type(actual):
        for _, _, name, _, _ in fields(type(expected)):
            found = difference(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
            if found:
                return found
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (e, a) in enumerate(zip(expected, actual)):
            found = difference(e, a, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(expected, dict) and isinstance(actual, dict) and expected.keys() == actual.keys():
        for key in expected:
            found = difference(expected[key], actual[key], f"{path}[{key!r}]")
            if found:
                return found
    return f"{path}: expected {short(expected)}, got {short(actual)}"


def unset_fields(value, model, path):
    """Fields Apus always writes that Python left unset (None) after decoding."""
    missing = []
    if is_struct(value):
        name = type(value).__name__
        for _, ttype, field, args, _ in fields(type(value)):
            member = getattr(value, field)
            is_union = ttype == TType.STRUCT and args[0].__name__ in model.unions
            if member is None:
                if name not in model.unions and (name, field) not in model.optional and not is_union:
                    missing.append(f"{path}.{field}")
            else:
                missing += unset_fields(member, model, f"{path}.{field}")
    elif isinstance(value, (list, set)):
        for index, element in enumerate(value):
            missing += unset_fields(element, model, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, element in value.items():
            missing += unset_fields(element, model, f"{path}[{key!r}]")
    return missing


class Failures:
    def __init__(self, protocol):
        self.protocol = protocol
        self.messages = []

    def add(self, where, message):
        """`where` names the value: `value 17`, `Defaults()`."""
        self.messages.append(f"{self.protocol} {where}: {message}")

    def exit_if_any(self, step):
        if self.messages:
            shown = self.messages[:MAX_FAILURES]
            more = len(self.messages) - len(shown)
            print(f"crosslang {step}: {len(self.messages)} mismatches\n" + "\n".join(shown)
                  + (f"\n… and {more} more" if more else ""), file=sys.stderr)
            sys.exit(1)


def python_values(args, ttypes, model):
    randomizer = Randomizer(args.seed, model)
    return [randomizer.struct(ttypes.Everything) for _ in range(args.count)]


def echo(args, ttypes, model):
    """Swift's bytes through Python and back; Python's defaults and random values out."""
    failures = Failures(args.protocol)
    echoed = []
    for index, data in enumerate(read_records(os.path.join(args.dir, "swift.bin"))):
        try:
            value = decode(ttypes.Everything, data, args.protocol)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            failures.add(f"value {index}", f"Python cannot decode Apus's bytes: {error!r}")
            echoed.append(b"")
            continue
        again = encode(value, args.protocol)
        # Binary's size does not depend on field order (Apus writes declaration
        # order, Python ID order), so there equal lengths mean nothing was lost.
        if args.protocol == "binary" and len(again) != len(data):
            failures.add(f"value {index}", f"Python re-encodes {len(data)} bytes as {len(again)}: it lost a field")
        for path in unset_fields(value, model, "Everything"):
            failures.add(f"value {index}", f"{path} is unset after decoding Apus's bytes")
        echoed.append(again)
    write_records(os.path.join(args.dir, "swift-echoed.bin"), echoed)

    (swift_defaults,) = read_records(os.path.join(args.dir, "swift-defaults.bin"))
    found = difference(ttypes.Defaults(), decode(ttypes.Defaults, swift_defaults, args.protocol), "Defaults")
    if found:
        failures.add("Defaults()", f"Apus's Defaults() decodes differently from Python's: {found}")
    write_records(os.path.join(args.dir, "python-defaults.bin"), [encode(ttypes.Defaults(), args.protocol)])
    write_records(os.path.join(args.dir, "python.bin"), [encode(v, args.protocol) for v in python_values(args, ttypes, model)])
    failures.exit_if_any("echo")


def check(args, ttypes, model):
    """Python's random values as Apus decoded and re-encoded them."""
    failures = Failures(args.protocol)
    originals = python_values(args, ttypes, model)
    echoed = read_records(os.path.join(args.dir, "python-echoed.bin"))
    if len(echoed) != len(originals):
        failures.add("values", f"Apus returned {len(echoed)} values for {len(originals)}")
    for index, (original, data) in enumerate(zip(originals, echoed)):
        try:
            value = decode(ttypes.Everything, data, args.protocol)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            failures.add(f"value {index}", f"Python cannot decode Apus's re-encoding: {error!r}")
            continue
        found = difference(original, value, "Everything")
        if found:
            failures.add(f"value {index}", f"Apus's re-encoding differs at {found}")
        elif args.protocol == "binary" and len(data) != len(sent := encode(original, args.protocol)):
            failures.add(f"value {index}", f"Apus re-encodes {len(sent)} bytes as {len(data)}")
    failures.exit_if_any("check")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["echo", "check"])
    ap.add_argument("--dir", required=True, help="the exchange directory (generated code goes in DIR/gen)")
    ap.add_argument("--protocol", choices=PROTOCOLS, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    args = ap.parse_args()
    try:
        ttypes, model = load(args.dir)
    except SystemExit as error:
        print(error, file=sys.stderr)
        sys.exit(2)
    {"echo": echo, "check": check}[args.step](args, ttypes, model)


if __name__ == "__main__":
    main()
