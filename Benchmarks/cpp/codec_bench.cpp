// Apache Thrift C++ side of the Apus codec benchmark.
//
// Encodes and decodes the Small and Large structs of Benchmarks/Thrift/codec.thrift
// (filled with the values given in that file's comment) with Apache Thrift's
// fastest in-memory path: the templated TBinaryProtocolT<TMemoryBuffer> /
// TCompactProtocolT<TMemoryBuffer> over a TMemoryBuffer. Built and run by
// scripts/bench-codec.sh, which generates the code with `thrift --gen cpp:templates`
// (plain `--gen cpp` works too: the calls below are the same).
//
// stdout: exactly one line per measurement, in this order
//   codec=<small|large> proto=<binary|compact> op=<encode|decode> ns=<ns/op, 1 decimal> bytes=<encoded size>
// stderr: diagnostics (round-trip check).
//
// Usage: codec_bench [--seconds S]   (S = minimum time per repetition, default 0.5)

#include "codec_types.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

using apache::thrift::protocol::TBinaryProtocolT;
using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::transport::TMemoryBuffer;
using Clock = std::chrono::steady_clock;

namespace {

// Everything the measured loops produce ends up here, so nothing can be optimised away.
volatile uint64_t g_sink = 0;

inline void barrier() { asm volatile("" ::: "memory"); }

apusbench::Small makeSmall() {
  apusbench::Small s;
  s.__set_id(42);
  s.__set_name("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_");
  return s;
}

apusbench::Large makeLarge() {
  apusbench::Large l;
  l.__set_id(7);
  l.__set_title("The quick brown fox jumps over the lazy dog");
  std::vector<int64_t> values;
  values.reserve(64);
  for (int64_t i = 0; i < 64; ++i) values.push_back(i * 1000003 - 500);
  l.__set_values(values);
  std::map<std::string, std::string> attrs;
  for (int n = 0; n < 8; ++n) {
    attrs["key-" + std::to_string(n)] = "value-" + std::to_string(n) + "-" + std::string(16, 'v');
  }
  l.__set_attrs(attrs);
  apusbench::Inner inner;
  inner.__set_a(1234567890123LL);
  inner.__set_b("nested structure");
  inner.__set_c(3.141592653589793);
  l.__set_inner(inner);
  l.__set_flag(true);
  l.__set_timestamp(1700000000000LL);
  return l;
}

// Runs body() `iters` times; returns elapsed nanoseconds.
template <class F>
double timeLoop(uint64_t iters, F& body) {
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < iters; ++i) body();
  const auto t1 = Clock::now();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

// Warm up and calibrate so one repetition takes >= `seconds`, then return the
// best ns/op of 3 repetitions.
template <class F>
double measure(double seconds, F body) {
  const double targetNs = seconds * 1e9;
  // Warm-up / calibration: double the count until a run takes >= 1/10 of the target
  // (and at least 10 ms), so caches, branch predictors and the allocator settle.
  uint64_t iters = 1000;
  double ns = timeLoop(iters, body);
  const double calibNs = std::max(targetNs / 10.0, 1e7);
  while (ns < calibNs) {
    iters *= 2;
    ns = timeLoop(iters, body);
  }
  const double perOp = ns / static_cast<double>(iters);
  uint64_t n = static_cast<uint64_t>(targetNs / perOp * 1.05) + 1;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const double t = timeLoop(n, body) / static_cast<double>(n);
    if (rep == 0 || t < best) best = t;
  }
  return best;
}

template <class Proto, class T>
void bench(const char* codecName, const char* protoName, const T& original, double seconds) {
  // Encode side: an owning, growable memory buffer, reused for every op.
  auto wbuf = std::make_shared<TMemoryBuffer>(4096);
  Proto wproto(wbuf);

  // Reference encoding.
  wbuf->resetBuffer();
  original.write(&wproto);
  uint8_t* p = nullptr;
  uint32_t len = 0;
  wbuf->getBuffer(&p, &len);
  std::vector<uint8_t> encoded(p, p + len);

  // Decode side: a second memory buffer that observes the pre-encoded bytes.
  auto rbuf = std::make_shared<TMemoryBuffer>();
  Proto rproto(rbuf);

  // Verify once that decode(encode(x)) == x.
  {
    T check;
    rbuf->resetBuffer(encoded.data(), static_cast<uint32_t>(encoded.size()), TMemoryBuffer::OBSERVE);
    const uint32_t consumed = check.read(&rproto);
    rbuf->readEnd();
    if (!(check == original) || consumed != encoded.size()) {
      std::fprintf(stderr, "codec_bench: round-trip FAILED for codec=%s proto=%s (read %u of %zu bytes)\n",
                   codecName, protoName, consumed, encoded.size());
      std::exit(1);
    }
    std::fprintf(stderr, "codec_bench: round-trip ok: codec=%s proto=%s bytes=%zu\n", codecName, protoName,
                 encoded.size());
  }

  // encode: reset the buffer, write the struct.
  uint64_t encSink = 0;
  auto encodeOp = [&]() {
    wbuf->resetBuffer();
    encSink += original.write(&wproto);
    barrier();
  };
  const double encNs = measure(seconds, encodeOp);

  // decode: point the buffer at the encoded bytes, read into a reused object.
  // readEnd() is what a server does after each message (readMessageEnd); it also
  // resets Thrift 0.17's MaxMessageSize accounting, which would otherwise throw
  // after 100 MB consumed by borrow()/consume().
  T out;
  uint8_t* const data = encoded.data();
  const uint32_t size = static_cast<uint32_t>(encoded.size());
  uint64_t decSink = 0;
  auto decodeOp = [&]() {
    rbuf->resetBuffer(data, size, TMemoryBuffer::OBSERVE);
    decSink += out.read(&rproto);
    rbuf->readEnd();
    barrier();
  };
  const double decNs = measure(seconds, decodeOp);
  if (!(out == original)) {
    std::fprintf(stderr, "codec_bench: decoded object differs after the timed loop (codec=%s proto=%s)\n",
                 codecName, protoName);
    std::exit(1);
  }

  g_sink = g_sink + encSink + decSink;
  std::printf("codec=%s proto=%s op=encode ns=%.1f bytes=%zu\n", codecName, protoName, encNs, encoded.size());
  std::printf("codec=%s proto=%s op=decode ns=%.1f bytes=%zu\n", codecName, protoName, decNs, encoded.size());
  std::fflush(stdout);
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout, "usage: codec_bench [--seconds S]   (S > 0, default 0.5)\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      char* end = nullptr;
      seconds = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || !(seconds > 0)) {
        std::fprintf(stderr, "codec_bench: bad --seconds value '%s'\n", argv[i]);
        usage(2);
      }
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "codec_bench: unknown argument '%s'\n", a.c_str());
      usage(2);
    }
  }

  try {
    const apusbench::Small small = makeSmall();
    const apusbench::Large large = makeLarge();
    bench<TBinaryProtocolT<TMemoryBuffer>>("small", "binary", small, seconds);
    bench<TCompactProtocolT<TMemoryBuffer>>("small", "compact", small, seconds);
    bench<TBinaryProtocolT<TMemoryBuffer>>("large", "binary", large, seconds);
    bench<TCompactProtocolT<TMemoryBuffer>>("large", "compact", large, seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codec_bench: exception: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "codec_bench: sink=%" PRIu64 "\n", static_cast<uint64_t>(g_sink));
  return 0;
}
