#!/usr/bin/env python3
"""Checks the XDP program's steering rules (bpf/apus_xdp.h) frame by frame.

Loads build/bpf/apus_xdp.bpf.o through libbpf (ctypes; nothing is attached and no map is
pinned), fills its maps, and runs each crafted frame with BPF_PROG_TEST_RUN. With no AF_XDP
socket in `xsks`, a frame the program steers counts as a redirect error and one it leaves to
the kernel only as passed, so the `stats` map tells the two apart.

    python3 scripts/xdp-program-check.py [OBJECT]        (root: CAP_BPF + CAP_SYS_ADMIN)

Prints one line per case and exits 1 if any fails.
"""
import ctypes
import os
import socket
import struct
import sys

OBJECT = sys.argv[1] if len(sys.argv) > 1 else "build/bpf/apus_xdp.bpf.o"
STATS = ["seen", "redirected", "passed", "redirect_errors", "malformed", "vlan"]
XDP_PASS = 2
IPPROTO_TCP, IPPROTO_UDP = 6, 17

libbpf = ctypes.CDLL("libbpf.so.1", use_errno=True)
for name, restype in [("bpf_object__open_file", ctypes.c_void_p), ("bpf_object__next_map", ctypes.c_void_p),
                      ("bpf_object__find_program_by_name", ctypes.c_void_p)]:
    getattr(libbpf, name).restype = restype
libbpf.bpf_object__open_file.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
libbpf.bpf_object__next_map.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libbpf.bpf_object__find_program_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
libbpf.bpf_map__set_pin_path.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
libbpf.bpf_object__load.argtypes = [ctypes.c_void_p]
libbpf.bpf_object__close.argtypes = [ctypes.c_void_p]
libbpf.bpf_object__find_map_fd_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
libbpf.bpf_program__fd.argtypes = [ctypes.c_void_p]
libbpf.bpf_map_update_elem.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
libbpf.bpf_map_lookup_elem.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]


class TestRunOpts(ctypes.Structure):
    """struct bpf_test_run_opts (libbpf 1.x), up to `cpu`."""
    _fields_ = [("sz", ctypes.c_size_t), ("data_in", ctypes.c_void_p), ("data_out", ctypes.c_void_p),
                ("data_size_in", ctypes.c_uint32), ("data_size_out", ctypes.c_uint32),
                ("ctx_in", ctypes.c_void_p), ("ctx_out", ctypes.c_void_p),
                ("ctx_size_in", ctypes.c_uint32), ("ctx_size_out", ctypes.c_uint32),
                ("retval", ctypes.c_uint32), ("repeat", ctypes.c_int), ("duration", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32)]


def fail(message):
    print(f"xdp-program-check: {message}", file=sys.stderr)
    sys.exit(1)


class Program:
    def __init__(self, path):
        self.obj = libbpf.bpf_object__open_file(path.encode(), None)
        if not self.obj:
            fail(f"cannot open {path} (scripts/build-bpf.sh builds it)")
        map_ = libbpf.bpf_object__next_map(self.obj, None)
        while map_:  # no pins: this copy lives only as long as the check
            libbpf.bpf_map__set_pin_path(map_, None)
            map_ = libbpf.bpf_object__next_map(self.obj, map_)
        if libbpf.bpf_object__load(self.obj) != 0:
            fail(f"cannot load {path}: {os.strerror(ctypes.get_errno())} (needs root / CAP_BPF)")
        self.fd = libbpf.bpf_program__fd(libbpf.bpf_object__find_program_by_name(self.obj, b"apus_xdp"))
        self.maps = {name: libbpf.bpf_object__find_map_fd_by_name(self.obj, name.encode())
                     for name in ["owned_ipv4", "owned_ports", "config", "stats", "vlans"]}
        self.cpus = os.sysconf("SC_NPROCESSORS_CONF")
        possible = open("/sys/devices/system/cpu/possible").read().strip()
        self.cpus = int(possible.split("-")[-1]) + 1

    def update(self, map_name, key, value):
        k, v = ctypes.create_string_buffer(key, len(key)), ctypes.create_string_buffer(value, len(value))
        if libbpf.bpf_map_update_elem(self.maps[map_name], k, v, 0) != 0:
            fail(f"update {map_name}: {os.strerror(ctypes.get_errno())}")

    def stats(self):
        values = []
        for index in range(len(STATS)):
            key = ctypes.c_uint32(index)
            out = ctypes.create_string_buffer(8 * self.cpus)
            libbpf.bpf_map_lookup_elem(self.maps["stats"], ctypes.byref(key), out)
            values.append(sum(struct.unpack(f"<{self.cpus}Q", out.raw)))
        return dict(zip(STATS, values))

    def run(self, frame):
        data = ctypes.create_string_buffer(frame, len(frame))
        out = ctypes.create_string_buffer(len(frame) + 256)
        opts = TestRunOpts(sz=ctypes.sizeof(TestRunOpts), data_in=ctypes.cast(data, ctypes.c_void_p),
                           data_out=ctypes.cast(out, ctypes.c_void_p), data_size_in=len(frame),
                           data_size_out=len(frame) + 256, repeat=1)
        libbpf.bpf_prog_test_run_opts.argtypes = [ctypes.c_int, ctypes.POINTER(TestRunOpts)]
        if libbpf.bpf_prog_test_run_opts(self.fd, ctypes.byref(opts)) != 0:
            fail(f"BPF_PROG_TEST_RUN: {os.strerror(ctypes.get_errno())}")
        return opts.retval


def ip(text):
    return socket.inet_aton(text)


def ethernet(ethertype, payload, tag=None):
    header = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02"
    if tag is not None:
        header += struct.pack("!HH", 0x8100, tag)
    return header + struct.pack("!H", ethertype) + payload


def arp_request(target):
    return ethernet(0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x02",
                                        ip("10.10.0.1"), b"\0" * 6, ip(target)))


def ipv4(destination, protocol, payload, fragment=0):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, fragment, 64, protocol, 0,
                         ip("10.10.0.1"), ip(destination))
    return header + payload


def l4(destination, protocol, port, fragment=0):
    body = struct.pack("!HH", 40000, port) + b"\0" * (16 if protocol == IPPROTO_TCP else 4)
    return ethernet(0x0800, ipv4(destination, protocol, body, fragment))


def main():
    program = Program(OBJECT)
    owned, host, other = "10.10.0.10", "10.10.0.1", "10.10.0.3"
    program.update("owned_ipv4", ip(owned), b"\x01")
    failures = 0

    def case(name, frame, expect):
        nonlocal failures
        before = program.stats()
        retval = program.run(frame)
        after = program.stats()
        delta = {key: after[key] - before[key] for key in STATS if after[key] != before[key]}
        ok = retval == XDP_PASS and delta == dict(expect, seen=1, passed=1)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": retval {retval}, counters {delta}, expected {expect}"))

    steered = {"redirect_errors": 1}  # owned, and no socket in this copy's xsks
    case("ARP for the owned address is steered", arp_request(owned), steered)
    case("ARP for another address goes to the kernel", arp_request(other), {})
    case("802.1Q-tagged ARP for the owned address, VLAN not served: the kernel's",
         ethernet(0x0806, arp_request(owned)[14:], tag=5), {"vlan": 1})
    case("802.1Q-tagged TCP to the owned address, VLAN not served: the kernel's",
         ethernet(0x0800, l4(owned, IPPROTO_TCP, 9090)[14:], tag=5), {"vlan": 1})
    program.update("vlans", struct.pack("<I", 5), b"\x01")
    case("802.1Q-tagged ARP for the owned address on a served VLAN is steered",
         ethernet(0x0806, arp_request(owned)[14:], tag=5), steered)
    case("802.1Q-tagged TCP to the owned address on a served VLAN is steered",
         ethernet(0x0800, l4(owned, IPPROTO_TCP, 9090)[14:], tag=0x2005), steered)
    case("802.1Q-tagged TCP to another address on a served VLAN: the kernel's",
         ethernet(0x0800, l4(other, IPPROTO_TCP, 9090)[14:], tag=5), {})
    case("802.1Q-tagged frame on another VLAN: the kernel's", ethernet(0x0800, l4(owned, IPPROTO_TCP, 9090)[14:], tag=6),
         {"vlan": 1})
    case("stacked 802.1Q tags on a served VLAN: the kernel's",
         ethernet(0x8100, struct.pack("!H", 7) + struct.pack("!H", 0x0800) + l4(owned, IPPROTO_TCP, 9090)[14:], tag=5),
         {"vlan": 1})
    case("802.1AD (QinQ) frames: the kernel's",
         b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + struct.pack("!HH", 0x88A8, 5) + struct.pack("!H", 0x0800)
         + l4(owned, IPPROTO_TCP, 9090)[14:], {"vlan": 1})
    case("a truncated 802.1Q tag is malformed", b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x81\x00\x00", {"malformed": 1})
    case("TCP to the owned address is steered", l4(owned, IPPROTO_TCP, 9090), steered)
    case("TCP to another address goes to the kernel (address mode)", l4(host, IPPROTO_TCP, 9090), {})
    case("a truncated IPv4 header is malformed", ethernet(0x0800, ipv4(owned, IPPROTO_TCP, b"")[:12]), {"malformed": 1})

    # Port mode: (address, protocol, port) keys.
    program.update("config", struct.pack("<I", 0), struct.pack("<I", 1))
    program.update("owned_ports", ip(host) + struct.pack("!BBH", IPPROTO_TCP, 0, 9090), b"\x01")
    case("port mode: TCP to the owned (address, port) is steered", l4(host, IPPROTO_TCP, 9090), steered)
    case("port mode: the same port on another address goes to the kernel", l4(other, IPPROTO_TCP, 9090), {})
    case("port mode: another port on the address goes to the kernel", l4(host, IPPROTO_TCP, 22), {})
    case("port mode: UDP to the TCP port goes to the kernel", l4(host, IPPROTO_UDP, 9090), {})
    case("port mode: a first fragment (MF) goes to the kernel", l4(host, IPPROTO_TCP, 9090, fragment=0x2000), {})
    case("port mode: ARP for the host's address stays with the kernel", arp_request(host), {})

    totals = program.stats()
    if totals["seen"] != totals["redirected"] + totals["passed"]:
        failures += 1
        print(f"FAIL counters: seen != redirected + passed ({totals})")
    libbpf.bpf_object__close(program.obj)
    print(f"xdp-program-check: {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
