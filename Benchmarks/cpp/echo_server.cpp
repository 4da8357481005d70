// Apache Thrift C++ side of the RPC benchmarks (scripts/bench.sh kernel and rpc).
//
// Serves the Echo service of Examples/echo.thrift (plain method names, no
// TMultiplexedProcessor: the benchmark only calls Echo) with TNonblockingServer on
// --host (127.0.0.1 unless given; bench.sh rpc: the testbed's kernel address), framed
// transport (TNonblockingServer only speaks framed), binary or compact protocol.
// Built by scripts/bench.sh over `thrift --gen cpp` code.
//
// Configuration: ONE libevent IO thread and NO worker ThreadManager, so handlers
// run inline on the IO thread. For handlers this trivial that is Apache's fastest
// setup: a thread pool would add a task hand-off, a notification-pipe write and a
// wake-up per call, costing more than the handler itself. It is also the
// like-for-like match for a single-threaded event-loop server pinned to one CPU.
//
// stdout: `READY <port>` once the socket listens (flushed); `<port>` is the bound
//         port, so `--port 0` works. Nothing else.
// stderr: Apache's own log lines and a final `echo_server: ... fired=<n>` line.
// Exits 0 on SIGTERM/SIGINT: a dedicated thread sigwait()s for them and calls
// server.stop(), which is thread-safe (it writes to the IO thread's notification
// socket); nothing runs in signal-handler context.
//
// Usage: echo_server --port P [--host ADDRESS] [--protocol binary|compact]

#include "Echo.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/server/TServer.h>
#include <thrift/transport/TNonblockingServerSocket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>

using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::protocol::TCompactProtocolFactory;
using apache::thrift::protocol::TProtocolFactory;
using apache::thrift::server::TNonblockingServer;
using apache::thrift::server::TServerEventHandler;
using apache::thrift::transport::TNonblockingServerSocket;

namespace {

std::atomic<int64_t> g_fired{0};
// Set once serve() returned; global because the detached stop thread reads it.
std::atomic<bool> g_served{false};

class EchoHandler final : public apus_echo::EchoIf {
public:
  void echo(std::string& _return, const std::string& message) override { _return = message; }
  void echoBinary(std::string& _return, const std::string& payload) override { _return = payload; }
  void echoItem(apus_echo::Item& _return, const apus_echo::Item& item) override { _return = item; }
  void ping() override {}
  void fire(const int64_t /*id*/) override { g_fired.fetch_add(1, std::memory_order_relaxed); }
  int64_t firedCount() override { return g_fired.load(std::memory_order_relaxed); }
};

// preServe() runs after listen() and before the event loop: the earliest moment a
// client can connect (the backlog holds it until the loop starts).
class ReadyPrinter final : public TServerEventHandler {
public:
  explicit ReadyPrinter(TNonblockingServer* server) : server_(server) {}
  void preServe() override {
    std::printf("READY %d\n", server_->getListenPort());
    std::fflush(stdout);
  }

private:
  TNonblockingServer* server_;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: echo_server --port P [--host ADDRESS] [--protocol binary|compact]\n"
               "  P in 0..65535 (0 = any free port); ADDRESS defaults to 127.0.0.1\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  long port = -1;
  std::string host = "127.0.0.1";
  std::string protocol = "binary";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      char* end = nullptr;
      errno = 0;
      port = std::strtol(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || errno != 0 || port < 0 || port > 65535) {
        std::fprintf(stderr, "echo_server: bad --port value '%s'\n", argv[i]);
        usage(2);
      }
    } else if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
      if (host.empty()) {
        std::fprintf(stderr, "echo_server: empty --host value\n");
        usage(2);
      }
    } else if (a == "--protocol" && i + 1 < argc) {
      protocol = argv[++i];
      if (protocol != "binary" && protocol != "compact") {
        std::fprintf(stderr, "echo_server: bad --protocol value '%s'\n", protocol.c_str());
        usage(2);
      }
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "echo_server: unknown or incomplete argument '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (port < 0) {
    std::fprintf(stderr, "echo_server: --port is required\n");
    usage(2);
  }

  // Block the stop signals before any thread exists, so every thread inherits the
  // mask and only the sigwait() thread below ever sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  // A client that disconnects mid-write must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);

  try {
    std::shared_ptr<TProtocolFactory> protocolFactory;
    if (protocol == "compact") {
      protocolFactory = std::make_shared<TCompactProtocolFactory>();
    } else {
      protocolFactory = std::make_shared<TBinaryProtocolFactory>();
    }
    auto handler = std::make_shared<EchoHandler>();
    auto processor = std::make_shared<apus_echo::EchoProcessor>(handler);
    auto socket = std::make_shared<TNonblockingServerSocket>(host, static_cast<int>(port));

    // No ThreadManager argument: handlers run on the IO thread (see the header).
    TNonblockingServer server(processor, protocolFactory, socket);
    server.setNumIOThreads(1);
    server.setServerEventHandler(std::make_shared<ReadyPrinter>(&server));

    std::thread stopper([&] {
      int sig = 0;
      sigwait(&stopSignals, &sig);
      server.stop();
      // stop() is a no-op if the signal beat the event loop's setup; do not hang then.
      for (int i = 0; i < 100 && !g_served.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!g_served.load()) {
        std::fprintf(stderr, "echo_server: signal %d before the loop ran; exiting\n", sig);
        _exit(0);
      }
    });
    stopper.detach();

    server.serve();
    g_served.store(true);
    std::fprintf(stderr, "echo_server: stopped; fired=%lld\n", static_cast<long long>(g_fired.load()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: exception: %s\n", e.what());
    return 1;
  }
  return 0;
}
