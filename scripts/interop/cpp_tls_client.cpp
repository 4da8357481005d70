// An Apache Thrift C++ TSSLSocket client for scripts/tls-check.py (built by scripts/interop/cpp_tls.py
// over `thrift --gen cpp` code for Examples/echo.thrift).
//
//   cpp_tls_client HOST PORT CA_PEM CLIENT_CERT|- CLIENT_KEY|- binary|compact framed|buffered COUNT
//
// Trusts CA_PEM only and authenticates the server: OpenSSL verifies the chain and Apache's default
// AccessManager matches HOST against the certificate's subject alt names (connect to 127.0.0.1 for an
// IP SAN, localhost for a DNS SAN). With CLIENT_CERT and CLIENT_KEY (not "-") it presents them (mutual
// TLS). On one connection it makes COUNT rounds of echo, echoBinary (64 KB, several TLS records),
// echoItem (with a map) and ping, and checks each reply equals what it sent.
//
// Exit status: 0 every reply matched; 1 a reply differed; 2 TLS or transport failure (handshake,
// verification, refusal, connection closed); 3 another Thrift error; 64 usage. Why goes to stderr.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TTransportException.h>

#include "Echo.h"

using namespace apache::thrift;
using namespace apache::thrift::protocol;
using namespace apache::thrift::transport;

namespace {

int differs(const std::string& what) {
  std::cerr << "cpp_tls_client: " << what << " came back different" << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::cerr << "usage: cpp_tls_client HOST PORT CA_PEM CLIENT_CERT|- CLIENT_KEY|- binary|compact framed|buffered COUNT"
              << std::endl;
    return 64;
  }
  const std::string host = argv[1], ca = argv[3], cert = argv[4], key = argv[5], protocolName = argv[6],
                    framing = argv[7];
  const int port = std::atoi(argv[2]), count = std::atoi(argv[8]);
  if ((protocolName != "binary" && protocolName != "compact") || (framing != "framed" && framing != "buffered") ||
      port <= 0 || count <= 0) {
    std::cerr << "cpp_tls_client: bad arguments" << std::endl;
    return 64;
  }
  try {
    auto factory = std::make_shared<TSSLSocketFactory>();
    factory->loadTrustedCertificates(ca.c_str());
    factory->authenticate(true);
    if (cert != "-") {
      factory->loadCertificate(cert.c_str());
      factory->loadPrivateKey(key.c_str());
    }
    std::shared_ptr<TSSLSocket> socket = factory->createSocket(host, port);
    socket->setConnTimeout(5000);
    socket->setRecvTimeout(10000);
    socket->setSendTimeout(10000);
    std::shared_ptr<TTransport> transport;
    if (framing == "framed") {
      transport = std::make_shared<TFramedTransport>(socket);
    } else {
      transport = std::make_shared<TBufferedTransport>(socket);
    }
    std::shared_ptr<TProtocol> protocol;
    if (protocolName == "binary") {
      protocol = std::make_shared<TBinaryProtocol>(transport);
    } else {
      protocol = std::make_shared<TCompactProtocol>(transport);
    }
    apus_echo::EchoClient client(protocol);
    transport->open();

    for (int round = 0; round < count; round++) {
      const std::string message = "C++ over TLS #" + std::to_string(round);
      std::string text;
      client.echo(text, message);
      if (text != message) return differs("echo");

      std::string payload(64 * 1024, '\0');
      for (size_t i = 0; i < payload.size(); i++) payload[i] = static_cast<char>((i * 31 + round) & 0xff);
      std::string bytes;
      client.echoBinary(bytes, payload);
      if (bytes != payload) return differs("echoBinary (64 KB)");

      apus_echo::Item item, back;
      item.id = 1000000007LL * (round + 1);
      item.title = "item " + std::to_string(round);
      item.__set_extra({{"lang", "c++"}, {"tls", "yes"}});
      client.echoItem(back, item);
      if (!(back == item)) return differs("echoItem");

      client.ping();
    }
    transport->close();
  } catch (const TTransportException& e) {  // TSSLException is one
    std::cerr << "cpp_tls_client: TTransportException: " << e.what() << std::endl;
    return 2;
  } catch (const TException& e) {
    std::cerr << "cpp_tls_client: " << e.what() << std::endl;
    return 3;
  }
  std::cout << "ok " << count << " rounds of echo, echoBinary, echoItem, ping" << std::endl;
  return 0;
}
