"""Builds and runs the Apache Thrift C++ TSSLSocket client (cpp_tls_client.cpp) for scripts/tls-check.py.

    client = CppTlsClient(workdir)   # thrift --gen cpp + g++ -O1 into workdir; client.error says why not
    status, detail = client.call(port, ca, cert=None, key=None, protocol="binary", framing="framed")

The client links Debian's libthrift (libthrift-dev 0.17), OpenSSL (libssl-dev) and uses Boost headers
(libboost-dev). The generated code lives only in `workdir`; nothing generated is kept in the tree.
"""
import os
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "cpp_tls_client.cpp")
IDL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Examples", "echo.thrift")
CXXFLAGS = ["-O1", "-std=c++17", "-Wall"]
LIBS = ["-lthrift", "-lssl", "-lcrypto"]

# A header each needed Debian package provides, in the order they are worth reporting.
HEADERS = (("boost/version.hpp", "libboost-dev"), ("openssl/ssl.h", "libssl-dev"),
           ("thrift/transport/TSSLSocket.h", "libthrift-dev"))


def missing_packages():
    """The Debian packages the build needs and lacks, as "what (package)" strings."""
    missing = []
    if shutil.which("thrift") is None:
        missing.append("the thrift compiler (Debian package thrift-compiler)")
    if shutil.which("g++") is None:
        return missing + ["g++ (Debian package g++)"]
    for header, package in HEADERS:
        probe = subprocess.run(["g++", "-x", "c++", "-E", "-o", os.devnull, "-"], input=f"#include <{header}>\n",
                               capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            missing.append(f"<{header}> (Debian package {package})")
    return missing


class CppTlsClient:
    """The client binary built once under `workdir`; `error` is None, or why it could not be built."""

    def __init__(self, workdir):
        self.binary, self.error, self.seconds = None, None, 0.0
        began = time.time()
        missing = missing_packages()
        if missing:
            self.error = "missing " + ", ".join(missing) + "; to install: sudo bash scripts/setup.sh"
            return
        gen = os.path.join(workdir, "gen-cpp")
        os.makedirs(gen, exist_ok=True)
        run = subprocess.run(["thrift", "--gen", "cpp:no_skeleton", "-out", gen, IDL], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            self.error = f"thrift --gen cpp failed: {run.stderr.strip()[-300:]}"
            return
        # Three translation units compiled side by side (nice: the machine is shared), then linked.
        units = [SOURCE, os.path.join(gen, "Echo.cpp"), os.path.join(gen, "echo_types.cpp")]
        objects = [os.path.join(workdir, os.path.basename(unit)[:-4] + ".o") for unit in units]
        compiles = [subprocess.Popen(["nice", "g++", *CXXFLAGS, "-I", gen, "-c", unit, "-o", obj],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    for unit, obj in zip(units, objects)]
        for unit, compile_ in zip(units, compiles):
            try:
                _, err = compile_.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                compile_.kill()
                compile_.communicate()
                err = "timed out after 300 s"
            if compile_.returncode != 0 and self.error is None:
                self.error = f"g++ -c {os.path.basename(unit)} failed: {err.strip()[-400:]}"
        if self.error:
            return
        binary = os.path.join(workdir, "cpp_tls_client")
        link = subprocess.run(["nice", "g++", *objects, "-o", binary, *LIBS], capture_output=True, text=True, timeout=120)
        if link.returncode != 0:
            self.error = f"linking failed: {link.stderr.strip()[-400:]}"
            return
        self.binary, self.seconds = binary, time.time() - began

    def call(self, port, ca, cert=None, key=None, protocol="binary", framing="framed", host="127.0.0.1", count=20):
        """Runs the client once: (exit status, its last stderr or stdout line); (None, why) if it was not built.

        Status 0: every reply matched; 1: a reply differed; 2: TLS/transport failure; 3: another Thrift error.
        """
        if self.binary is None:
            return None, f"the C++ client was not built: {self.error}"
        args = [self.binary, host, str(port), ca, cert or "-", key or "-", protocol, framing, str(count)]
        try:
            run = subprocess.run(args, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return None, "the C++ client hung (60 s)"
        lines = (run.stderr.strip() or run.stdout.strip()).splitlines()
        return run.returncode, (lines[-1] if lines else "")
