"""The codec table (ns per op, C++ against Apus) and its raw results, as the bash tool's awk
printed it: the e+d sums are rounded to 0.1 ns before the C++/Apus ratio is taken, and the
last ratio, C++/Apus*, is C++ enc+dec over Apus enc + the owned decode a generated handler gets.
C++/Apus+ is over Apus enc + the owned decode into a reused value (`decode(from:)`), which is
what the C++ side measures: it reads into one object again and again."""
import sys

from bench import report

CODECS, PROTOS = ("small", "large"), ("binary", "compact")


def parse(text, side, ns, sizes):
    """codec=<c> proto=<p> op=<op> ns=<f> bytes=<n> lines into ns[(side, codec, proto, op)]."""
    for line in text.splitlines():
        if not line.startswith("codec="):
            continue
        kv = {}
        for field in line.split():
            parts = field.split("=")
            if len(parts) == 2:
                kv[parts[0]] = parts[1]
        try:
            if not all(k in kv for k in ("codec", "proto", "op", "ns", "bytes")):
                raise ValueError
            value = float(kv["ns"])
        except ValueError:
            print("bench-codec: warning: %s: unparsable line: %s" % (side, line), file=sys.stderr)
            continue
        key = (side, kv["codec"], kv["proto"])
        # Several rounds: each measurement's best.
        ns[key + (kv["op"],)] = min(value, ns.get(key + (kv["op"],), value))
        if key in sizes and sizes[key] != kv["bytes"]:
            print("bench-codec: warning: %s reports two sizes for %s %s" % (side, kv["codec"], kv["proto"]), file=sys.stderr)
        sizes[key] = kv["bytes"]


def table(cpp_text, apus_text, status, results, stamp, seconds):
    ns, sizes = {}, {}
    parse(cpp_text, "cpp", ns, sizes)
    parse(apus_text, "apus", ns, sizes)

    def fmt(side, c, p, op):
        v = ns.get((side, c, p, op))
        return "-" if v is None else "%.1f" % v

    def total(side, c, p):
        e, d = ns.get((side, c, p, "encode")), ns.get((side, c, p, "decode"))
        return "-" if e is None or d is None else "%.1f" % (e + d)

    open(results, "w").close()
    for (side, c, p, op), v in sorted(ns.items()):
        report.append(results, {"mode": "codec", "stamp": stamp, "side": side, "codec": c, "proto": p, "op": op,
                                "ns": v, "bytes": int(sizes[(side, c, p)]), "seconds": float(seconds)})
    print()
    print("== codec benchmark: ns per op (lower is better); C++/Apus = how many times faster Apus is at enc+dec")
    hdr = "%-6s %-8s | %9s %9s %9s | %9s %9s %9s | %8s | %9s %9s | %9s %9s | %9s %10s"
    print(hdr % ("codec", "proto", "C++ enc", "C++ dec", "C++ e+d", "Apus enc", "Apus dec", "Apus e+d", "C++/Apus",
                 "Apus dec+", "C++/Apus+", "Apus dec*", "C++/Apus*", "bytes C++", "bytes Apus"))
    line = "-" * 152
    print(line)
    warnings = []
    for c in CODECS:
        for p in PROTOS:
            ce, ae = total("cpp", c, p), total("apus", c, p)
            ratio = "%.2fx" % (float(ce) / float(ae)) if ce != "-" and ae != "-" and float(ae) > 0 else "-"
            # *: decoding into owned Strings/arrays/dictionaries (what a generated handler gets)
            ao = fmt("apus", c, p, "decode-owned")
            enc = ns.get(("apus", c, p, "encode"))
            aeo = enc + ns[("apus", c, p, "decode-owned")] if ao != "-" and enc is not None else 0
            ratio_owned = "%.2fx" % (float(ce) / aeo) if ce != "-" and aeo > 0 else "-"
            # +: decoding into a reused owned value (its containers' storage kept), as the C++ side does
            ar = fmt("apus", c, p, "decode-reused")
            aer = enc + ns[("apus", c, p, "decode-reused")] if ar != "-" and enc is not None else 0
            ratio_reused = "%.2fx" % (float(ce) / aer) if ce != "-" and aer > 0 else "-"
            cb, ab = sizes.get(("cpp", c, p), "-"), sizes.get(("apus", c, p), "-")
            print(hdr % (c, p, fmt("cpp", c, p, "encode"), fmt("cpp", c, p, "decode"), ce, fmt("apus", c, p, "encode"),
                         fmt("apus", c, p, "decode"), ae, ratio, ar, ratio_reused, ao, ratio_owned, cb, ab))
            if ce != "-":
                report.append(results, {"mode": "codec", "stamp": stamp, "kind": "ratio", "codec": c, "proto": p,
                                        "cpp_enc_dec_ns": float(ce), "apus_enc_dec_ns": None if ae == "-" else float(ae),
                                        "apus_enc_owned_dec_ns": round(aeo, 3) or None,
                                        "apus_enc_reused_dec_ns": round(aer, 3) or None,
                                        "cpp_over_apus_reused": None if ratio_reused == "-" else float(ratio_reused[:-1]),
                                        "cpp_over_apus": None if ratio == "-" else float(ratio[:-1]),
                                        "cpp_over_apus_owned": None if ratio_owned == "-" else float(ratio_owned[:-1])})
            if cb != "-" and ab != "-" and cb != ab:
                warnings.append("WARNING: encoded sizes differ for codec=%s proto=%s: C++ %s bytes, Apus %s bytes" % (c, p, cb, ab))
            if status == "ok" and ae == "-":
                warnings.append("WARNING: Apus printed no encode and/or decode result for codec=%s proto=%s" % (c, p))
    print(line)
    print("Apus dec = decode through the generated view (strings, lists, maps stay in the input, validated); Apus dec* = decode into")
    print("a new generated owned struct (what a handler gets); Apus dec+ = decode into one owned struct again and again")
    print("(`decode(from:)`: its lists' and maps' storage kept, strings new), as Apache C++ decodes into a reused object;")
    print("C++/Apus+ and C++/Apus* = C++ enc+dec over Apus enc + that decode.")
    for w in warnings:
        print(w)
    if status == "missing":
        print("NOTE: Apus side missing (no CodecCompare product yet): C++ half only.")
    if status == "failed":
        print("NOTE: Apus side FAILED (see errors above): C++ half only.")
    print("raw results: %s" % results)
