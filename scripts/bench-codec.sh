#!/usr/bin/env bash
# Codec benchmark: Apache Thrift C++ vs Apus, on the Small and Large structs of
# Benchmarks/Thrift/codec.thrift, Binary and Compact protocols, encode and decode.
#
#   bash scripts/bench-codec.sh [--seconds S]
#
# C++ side:  Benchmarks/cpp/codec_bench.cpp over `thrift --gen cpp:templates` code
#            (templated TBinaryProtocolT/TCompactProtocolT<TMemoryBuffer>, Apache's
#            fastest in-memory path), built in build/bench-codec/ when its inputs change.
# Apus side: Benchmarks/.build/release/CodecCompare (swift build -c release
#            --package-path Benchmarks --product CodecCompare).
# Both print `codec=<c> proto=<p> op=<encode|decode> ns=<f> bytes=<n>` lines and run
# pinned to CPU 1 (taskset -c 1). S = minimum seconds per repetition (default 0.5);
# each measurement is the best of 3 repetitions.
set -euo pipefail

die() { echo "bench-codec: error: $*" >&2; exit 1; }
note() { echo "bench-codec: $*" >&2; }

seconds=0.5
while (($#)); do
  case "$1" in
    --seconds)
      (($# >= 2)) || die "--seconds needs a value"
      seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    -h|--help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (usage: bash scripts/bench-codec.sh [--seconds S])" ;;
  esac
done
[[ "$seconds" =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] && awk -v s="$seconds" 'BEGIN { exit !(s > 0) }' \
  || die "--seconds must be a positive number, got '$seconds'"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

thrift_idl="Benchmarks/Thrift/codec.thrift"
cpp_src="Benchmarks/cpp/codec_bench.cpp"
out="build/bench-codec"
gen_opts="cpp:templates,no_skeleton"
[ -f "$thrift_idl" ] || die "$thrift_idl not found"
[ -f "$cpp_src" ] || die "$cpp_src not found"
command -v thrift >/dev/null || die "the thrift compiler is not on PATH (Debian: thrift-compiler)"
command -v g++ >/dev/null || die "g++ not found"
pkg-config --exists thrift || die "pkg-config does not know 'thrift' (Debian: libthrift-dev)"

# Debian's libthrift-dev 0.17 includes Boost headers (TTransportException.h ->
# boost/numeric/conversion/cast.hpp) but does not depend on libboost-dev.
if ! echo '#include <boost/numeric/conversion/cast.hpp>' | g++ -x c++ -E - -o /dev/null 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    note "installing libboost-dev (Thrift C++ headers need Boost)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends libboost-dev >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends libboost-dev >/dev/null; } \
      || die "could not install libboost-dev"
  else
    die "Boost headers missing (Thrift C++ headers need them): sudo apt-get install -y libboost-dev"
  fi
fi

# Pin both sides to the same CPU.
pin=()
if command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
else
  note "warning: cannot pin to CPU 1 (taskset missing or fewer than 2 CPUs); running unpinned"
fi

# ---- C++ side: generate + build (only when an input changed), then run --------
mkdir -p "$out"
cxx_flags=(-O2 -std=c++17 -Wall -Wextra)
build_id="$(
  {
    sha256sum "$thrift_idl" "$cpp_src"
    echo "$gen_opts ${cxx_flags[*]} $(pkg-config --cflags --libs thrift)"
    thrift --version
    g++ --version | head -1
  } | sha256sum | cut -d' ' -f1
)"
if [ -x "$out/codec_bench" ] && [ "$(cat "$out/build-id" 2>/dev/null)" = "$build_id" ]; then
  note "C++: $out/codec_bench is up to date"
else
  note "C++: generating $gen_opts code and building $out/codec_bench"
  rm -rf "$out/gen-cpp" "$out/build-id"
  mkdir -p "$out/gen-cpp"
  thrift --gen "$gen_opts" -out "$out/gen-cpp" "$thrift_idl" || die "thrift --gen $gen_opts failed"
  # shellcheck disable=SC2046  # pkg-config output must word-split
  g++ "${cxx_flags[@]}" -I "$out/gen-cpp" "$cpp_src" "$out/gen-cpp/codec_types.cpp" \
    -o "$out/codec_bench.tmp" $(pkg-config --cflags --libs thrift) \
    || die "building codec_bench failed"
  mv -f "$out/codec_bench.tmp" "$out/codec_bench"
  echo "$build_id" >"$out/build-id"
fi

cpp_txt="$out/cpp.txt"
apus_txt="$out/apus.txt"
rm -f "$cpp_txt" "$apus_txt"

echo "== Apache Thrift C++ $(thrift --version | awk '{print $3}') (--seconds $seconds, ${pin[*]:-unpinned})"
"${pin[@]}" "$out/codec_bench" --seconds "$seconds" | tee "$cpp_txt" \
  || die "codec_bench failed"
[ "$(grep -c '^codec=' "$cpp_txt")" -eq 8 ] || die "codec_bench printed $(grep -c '^codec=' "$cpp_txt") result lines, expected 8"

# ---- Apus side -----------------------------------------------------------------
apus_status=ok
swift_bin="Benchmarks/.build/release/CodecCompare"
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
  PATH="/opt/swift/usr/bin:$PATH"
fi
if [ ! -f Benchmarks/Package.swift ] || ! grep -q 'CodecCompare' Benchmarks/Package.swift; then
  apus_status=missing
  note "Apus side MISSING: Benchmarks/Package.swift has no CodecCompare product yet; printing the C++ half only"
elif ! command -v swift >/dev/null; then
  apus_status=missing
  note "Apus side MISSING: no swift toolchain on PATH (nor /opt/swift/usr/bin); printing the C++ half only"
else
  note "Apus: swift build -c release --package-path Benchmarks --product CodecCompare"
  if ! swift build -c release --package-path Benchmarks --product CodecCompare >&2; then
    apus_status=failed
    note "error: swift build of CodecCompare FAILED; printing the C++ half only"
  elif [ ! -x "$swift_bin" ]; then
    apus_status=failed
    note "error: swift build succeeded but $swift_bin does not exist"
  else
    echo "== Apus (--seconds $seconds, ${pin[*]:-unpinned})"
    if ! "${pin[@]}" "$swift_bin" --seconds "$seconds" | tee "$apus_txt"; then
      apus_status=failed
      note "error: $swift_bin failed"
    fi
  fi
fi
[ -f "$apus_txt" ] || : >"$apus_txt"

# ---- table ----------------------------------------------------------------------
echo
echo "== codec benchmark: ns per op (lower is better); C++/Apus = how many times faster Apus is at enc+dec"
awk -v apus_status="$apus_status" '
  function parse(line, side,    n, i, kv, f, k, p) {
    n = split(line, f, " ")
    delete kv
    for (i = 1; i <= n; i++) { if (split(f[i], p, "=") == 2) kv[p[1]] = p[2] }
    if (!("codec" in kv) || !("proto" in kv) || !("op" in kv) || !("ns" in kv) || !("bytes" in kv)) {
      printf "bench-codec: warning: %s: unparsable line: %s\n", side, line > "/dev/stderr"
      return
    }
    k = kv["codec"] SUBSEP kv["proto"]
    ns[side, k, kv["op"]] = kv["ns"] + 0
    have[side, k, kv["op"]] = 1
    if ((side, k) in bytes && bytes[side, k] != kv["bytes"])
      printf "bench-codec: warning: %s reports two sizes for %s %s\n", side, kv["codec"], kv["proto"] > "/dev/stderr"
    bytes[side, k] = kv["bytes"]
  }
  FNR == 1 { side = (FILENAME ~ /cpp\.txt$/) ? "cpp" : "apus" }
  /^codec=/ { parse($0, side) }
  function fmt(side, k, op) { return ((side, k, op) in have) ? sprintf("%.1f", ns[side, k, op]) : "-" }
  function sum(side, k) {
    if (((side, k, "encode") in have) && ((side, k, "decode") in have))
      return sprintf("%.1f", ns[side, k, "encode"] + ns[side, k, "decode"])
    return "-"
  }
  END {
    hdr = "%-6s %-8s | %9s %9s %9s | %9s %9s %9s | %8s | %9s %9s | %9s %10s\n"
    printf hdr, "codec", "proto", "C++ enc", "C++ dec", "C++ e+d", "Apus enc", "Apus dec", "Apus e+d", "C++/Apus", "Apus dec*", "C++/Apus*", "bytes C++", "bytes Apus"
    line = "----------------------------------------------------------------------------------------------------------------------------------"
    print line
    nc = split("small large", codecs, " "); np = split("binary compact", protos, " ")
    warn = 0
    for (i = 1; i <= nc; i++) for (j = 1; j <= np; j++) {
      k = codecs[i] SUBSEP protos[j]
      ce = sum("cpp", k); ae = sum("apus", k)
      ratio = (ce != "-" && ae != "-" && ae + 0 > 0) ? sprintf("%.2fx", ce / ae) : "-"
      # *: decoding into owned Strings/arrays/dictionaries instead of zero-copy views
      ao = fmt("apus", k, "decode-owned")
      aeo = (ao != "-" && ((("apus", k, "encode") in have))) ? ns["apus", k, "encode"] + ns["apus", k, "decode-owned"] : 0
      ratio_owned = (ce != "-" && aeo > 0) ? sprintf("%.2fx", ce / aeo) : "-"
      cb = (("cpp", k) in bytes) ? bytes["cpp", k] : "-"
      ab = (("apus", k) in bytes) ? bytes["apus", k] : "-"
      printf hdr, codecs[i], protos[j], fmt("cpp", k, "encode"), fmt("cpp", k, "decode"), ce, \
        fmt("apus", k, "encode"), fmt("apus", k, "decode"), ae, ratio, ao, ratio_owned, cb, ab
      if (cb != "-" && ab != "-" && cb != ab) {
        mism[++warn] = sprintf("WARNING: encoded sizes differ for codec=%s proto=%s: C++ %s bytes, Apus %s bytes", codecs[i], protos[j], cb, ab)
      }
      if (apus_status == "ok" && ae == "-") {
        mism[++warn] = sprintf("WARNING: Apus printed no encode and/or decode result for codec=%s proto=%s", codecs[i], protos[j])
      }
    }
    print line
    print "Apus dec = zero-copy decode (strings, lists, maps stay in the input, validated); Apus dec* = decode into owned values;"
    print "C++/Apus* = C++ enc+dec over Apus enc + owned dec. Apache C++ decodes into a reused object (Apache users do that)."
    for (w = 1; w <= warn; w++) print mism[w]
    if (apus_status == "missing") print "NOTE: Apus side missing (no CodecCompare product yet): C++ half only."
    if (apus_status == "failed") print "NOTE: Apus side FAILED (see errors above): C++ half only."
  }
' "$cpp_txt" "$apus_txt"

[ "$apus_status" != failed ] || exit 1
