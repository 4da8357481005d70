#!/usr/bin/env python3
"""TLS on the kernel transport against Apache Thrift's own TLS and hostile peers.

    python3 scripts/tls-check.py [APUS_BINARY]     (default .build/debug/apus)

Makes a throwaway CA, server, client, expired and foreign certificates (python3-cryptography),
then on loopback:
  - Apache Python TSSLSocket clients call `apus serve --tls-*` (binary framed, compact buffered:
    sniffing works behind TLS), with and without mutual TLS
  - so do Apache C++ TSSLSocket clients (scripts/interop/cpp_tls_client.cpp over `thrift --gen cpp`
    code, built into the temporary directory by scripts/interop/cpp_tls.py; needs g++, libthrift-dev,
    libboost-dev, libssl-dev): echo, 64 KB echoBinary, echoItem and ping replies must match; with
    mutual TLS required, one without a certificate is refused (TTransportException) and the server
    serves on; one trusting a foreign CA, or given an expired or unknown-CA or wrongly named server
    certificate (Apache's AccessManager matches 127.0.0.1 against the IP SAN), fails
  - `apus bench --tls-ca` calls it; with mutual TLS required, a client without a certificate is
    refused
  - `apus bench --tls` calls Apache's Python TLS server (TSSLServerSocket)
  - hostile: a plaintext client on the TLS port, a server certificate from an unknown CA, an
    expired one, one not naming the host, a handshake that stalls: each fails or is closed with a
    clear line, and the server goes on serving
One line per check, then "tls: N passed, M failed".
"""
import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

APUS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/apus")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "interop"))
import thriftgen  # noqa: E402
from cpp_tls import CppTlsClient  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from checks import check, finish, free_port, kill_all, processes, spawn  # noqa: E402
from checks import stop as stop_process  # noqa: E402


class PKI:
    """A CA and certificates it signs, written as PEM files under `directory`."""

    def __init__(self, directory, name):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Apus test CA {name}")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_path = self.write(f"{name}-ca.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def issue(self, name, server=True, expired=False):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) if expired else \
            (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_path = self.write(f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM))
        key_path = self.write(f"{name}.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption()))
        return cert_path, key_path


def serve(*args):
    port = free_port()
    process = spawn([APUS, "serve", "--transport", "kernel", "--port", str(port), "--read-timeout", "2",
                     "--log-level", "info", *args])
    line = process.stdout.readline()
    if "listening" not in line:
        raise SystemExit(f"tls: apus serve did not start: {line!r} {process.stderr.read()[:400]!r}")
    return process, port, line


def stop(process):
    return stop_process(process)[1]


def bench(port, *args, calls=200):
    run = subprocess.run([APUS, "bench", "--port", str(port), "--calls", str(calls), "--concurrency", "4", "--json", "--verify", *args],
                         capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return run.returncode, (lines[-1] if lines else None), run.stderr.strip()


def apache_call(port, ca, cert=None, key=None, protocol="binary", framing="framed"):
    """An Apache Python TSSLSocket client: echo and a KV round trip. Returns None or why it failed."""
    from apus_echo import Echo, KV
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
    from thrift.transport import TSSLSocket, TTransport
    try:
        sock = TSSLSocket.TSSLSocket("127.0.0.1", port, ca_certs=ca, certfile=cert, keyfile=key, server_hostname="localhost")
        transport = TTransport.TFramedTransport(sock) if framing == "framed" else TTransport.TBufferedTransport(sock)
        proto = (TBinaryProtocol.TBinaryProtocol if protocol == "binary" else TCompactProtocol.TCompactProtocol)(transport)
        transport.open()
        try:
            echo = Echo.Client(proto)
            if echo.echo("over tls") != "over tls":
                return "echo came back different"
            kv = KV.Client(TMultiplexedProtocol(proto, "KV"))
            kv.put("k", b"v" * 100_000)
            if kv.get("k") != b"v" * 100_000:
                return "KV value came back different"
        finally:
            transport.close()
    except Exception as error:  # noqa: BLE001 - the check reports whatever Apache's client raised
        return f"{type(error).__name__}: {error}"
    return None


def main():
    work = tempfile.mkdtemp(prefix="apus-tls-")
    try:
        os.mkdir(os.path.join(work, "gen"))
        thriftgen.generate(os.path.join(work, "gen"))
        pki = PKI(work, "good")
        foreign = PKI(work, "foreign")
        server_cert, server_key = pki.issue("server")
        client_cert, client_key = pki.issue("client", server=False)
        expired_cert, expired_key = pki.issue("expired", expired=True)
        foreign_cert, foreign_key = foreign.issue("impostor")
        cpp = CppTlsClient(os.path.join(work, "cpp"))
        check("Apache C++ TSSLSocket client built (thrift --gen cpp, g++ -O1)", cpp.error is None,
              cpp.error or f"{cpp.seconds:.1f} s")

        # Server-side TLS, Apache's client.
        server, port, line = serve("--tls-cert", server_cert, "--tls-key", server_key)
        check("apus serve says it serves TLS", "tls=on" in line, line.strip())
        why = apache_call(port, pki.ca_path)
        check("Apache Python TSSLSocket (binary, framed) calls apus serve --tls", why is None, why or "echo, 100 KB KV put/get")
        why = apache_call(port, pki.ca_path, protocol="compact", framing="buffered")
        check("Apache Python TSSLSocket (compact, buffered): sniffed behind TLS", why is None, why or "")
        status, detail = cpp.call(port, pki.ca_path)
        check("Apache C++ TSSLSocket (binary, framed) calls apus serve --tls", status == 0, detail)
        status, detail = cpp.call(port, pki.ca_path, protocol="compact", framing="buffered")
        check("Apache C++ TSSLSocket (compact, buffered): sniffed behind TLS", status == 0, detail)
        status, result, err = bench(port, "--tls-ca", pki.ca_path)
        check("apus bench --tls-ca calls it (replies verified)", status == 0 and result and result["calls"] == 200, err[-200:])

        # Hostile peers: each closes its own connection; the server serves on.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
            plain.sendall(b"\x00\x00\x00\x10" + b"\x80\x01\x00\x01" + b"\x00" * 12)
            try:
                closed = plain.recv(100) is not None
            except (ConnectionResetError, socket.timeout):
                closed = True
        check("a plaintext client on the TLS port is closed", closed)
        stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
        began = time.time()
        try:
            data = stalled.recv(100)  # sends nothing: the server gives up on the handshake
        except (ConnectionResetError, socket.timeout):
            data = b""
        waited = time.time() - began
        stalled.close()
        check("a stalled handshake is closed after the handshake timeout (--read-timeout 2)", data == b"" and 1 <= waited < 9,
              f"after {waited:.1f} s")
        status, result, err = bench(port, "--tls-ca", foreign.ca_path, calls=5)
        check("a client that does not trust the server's CA fails with a clear line", status != 0 and "not trusted" in err,
              err.splitlines()[0][:200] if err else "-")
        status, detail = cpp.call(port, foreign.ca_path, count=1)
        check("Apache's C++ TSSLSocket trusting a foreign CA fails verification (exit 2)",
              status == 2 and "verify failed" in detail, detail)
        status, result, err = bench(port, calls=5)
        check("a plaintext apus client on the TLS port is told the server speaks TLS", status != 0 and "answered with TLS" in err,
              err.splitlines()[0][:200] if err else "-")
        status, result, _ = bench(port, "--tls-ca", pki.ca_path)
        check("the server still serves after all of that", status == 0 and result["calls"] == 200)
        log = stop(server)
        check("the server logged why each bad connection went",
              "does not speak TLS" in log and "did not finish in time" in log,
              [l for l in log.splitlines() if "TLS" in l][:1])

        for cert, key, label in ((expired_cert, expired_key, "expired"), (foreign_cert, foreign_key, "from an unknown CA")):
            server, port, _ = serve("--tls-cert", cert, "--tls-key", key)
            status, _, err = bench(port, "--tls-ca", pki.ca_path, calls=5)
            check(f"a server certificate {label} is refused by apus bench",
                  status != 0 and "not trusted" in err, err.splitlines()[0][:200] if err else "-")
            why = apache_call(port, pki.ca_path)
            check(f"and by Apache's TSSLSocket", why is not None, (why or "it was accepted")[:160])
            status, detail = cpp.call(port, pki.ca_path, count=1)
            check("and by Apache's C++ TSSLSocket (exit 2)", status == 2 and "verify failed" in detail, detail)
            stop(server)

        # The right CA, but a certificate that names neither 127.0.0.1 nor localhost (the client's: no SANs).
        server, port, _ = serve("--tls-cert", client_cert, "--tls-key", client_key)
        status, detail = cpp.call(port, pki.ca_path, count=1)
        check("a server certificate not naming 127.0.0.1 is refused by Apache's C++ AccessManager (exit 2)",
              status == 2 and "authorize" in detail, detail)
        status, _, err = bench(port, "--tls-ca", pki.ca_path, calls=5)
        check("and by apus bench, saying the certificate does not name the host", status != 0 and "does not name the host" in err,
              err.splitlines()[0][:200] if err else "-")
        stop(server)

        # Mutual TLS.
        server, port, line = serve("--tls-cert", server_cert, "--tls-key", server_key, "--tls-ca", pki.ca_path,
                                   "--tls-require-client-cert")
        check("mutual TLS: apus serve says so", "tls=mutual" in line, line.strip())
        why = apache_call(port, pki.ca_path, client_cert, client_key)
        check("mutual TLS: Apache's client with a certificate", why is None, why or "")
        status, result, err = bench(port, "--tls-ca", pki.ca_path, "--tls-cert", client_cert, "--tls-key", client_key)
        check("mutual TLS: apus bench with a certificate", status == 0 and result["calls"] == 200, err[-200:])
        status, _, err = bench(port, "--tls-ca", pki.ca_path, calls=5)
        check("mutual TLS: a client without a certificate is refused, told why", status != 0 and "requires a client certificate" in err,
              err.splitlines()[0][:200] if err else "-")
        why = apache_call(port, pki.ca_path)
        check("mutual TLS: Apache's client without a certificate is refused", why is not None, (why or "accepted")[:160])
        status, detail = cpp.call(port, pki.ca_path, client_cert, client_key)
        check("mutual TLS: Apache's C++ client with a certificate", status == 0, detail)
        status, detail = cpp.call(port, pki.ca_path, count=1)
        check("mutual TLS: Apache's C++ client without a certificate is refused (exit 2)",
              status == 2 and "TTransportException" in detail, detail)
        status, detail = cpp.call(port, pki.ca_path, client_cert, client_key, protocol="compact", framing="buffered")
        check("mutual TLS: the server still serves the C++ client with a certificate (compact, buffered)", status == 0, detail)
        stop(server)

        # Apus's client against Apache's Python TLS server.
        py = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "interop", "py_server.py"), "--tls-cert", server_cert,
                               "--tls-key", server_key], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(py)
        ready = py.stdout.readline().split()
        if len(ready) == 2 and ready[0] == "READY":
            status, result, err = bench(int(ready[1]), "--tls-ca", pki.ca_path)
            check("apus bench --tls-ca calls Apache's Python TSSLServerSocket", status == 0 and result and result["calls"] == 200,
                  err[-200:])
        else:
            check("Apache's Python TLS server starts", False, f"{ready} {py.stderr.read()[:300]}")
        py.stdin.close()
        py.wait(timeout=10)

        # Refusals at startup.
        refused = subprocess.run([APUS, "serve", "--transport", "xdp", "--interface", "lo", "--address", "10.0.0.1",
                                  "--tls-cert", server_cert, "--tls-key", server_key], capture_output=True, text=True, timeout=20)
        check("--transport xdp with TLS is refused with a clear message", refused.returncode != 0 and "kernel sockets only" in refused.stderr,
              refused.stderr.strip().splitlines()[0][:160] if refused.stderr else "-")
        bad = subprocess.run([APUS, "serve", "--port", str(free_port()), "--tls-cert", server_key, "--tls-key", server_key],
                             capture_output=True, text=True, timeout=20)
        check("a key given as the certificate is refused naming the file", bad.returncode != 0 and server_key in bad.stderr,
              bad.stderr.strip().splitlines()[0][:160] if bad.stderr else "-")
    finally:
        shutil.rmtree(work, ignore_errors=True)


try:
    main()
finally:
    kill_all()
finish("tls")
