#!/usr/bin/env bash
# Installs what Apus needs on a fresh Debian 12 machine. Idempotent: it runs
# `apt-get update` only when a package is missing, and mounts bpffs when absent.
# Every other script calls it first.
#
# Not root, it installs nothing: it names what is missing, with the command to
# install it, and exits 0, so that scripts/test.sh runs the checks whose
# dependencies are there and skips the others with a line each.
set -euo pipefail

packages=(
  # AF_XDP / XDP toolchain
  libxdp-dev libbpf-dev libelf-dev zlib1g-dev clang llvm xdp-tools bpftool iproute2
  # Apache Thrift: interop tests, golden vectors, comparison benchmarks
  python3 python3-thrift thrift-compiler libthrift-dev libboost-dev libssl-dev g++ pkg-config
  python3-matplotlib  # the plots of scripts/bench.sh (it runs without them)
  libevent-dev  # TNonblockingServer (scripts/bench.sh kernel)
  # service discovery: a real etcd for the fleet tests (started by the tests, on loopback)
  etcd-server etcd-client
  # a real Prometheus text parser for the /metrics checks
  python3-prometheus-client
  # throwaway certificates for the TLS checks
  python3-cryptography
  # testbed tools
  iputils-ping nftables util-linux procps ethtool
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: not root, so nothing installed; missing Debian packages: ${missing[*]}" >&2
    echo "setup: to install them: sudo apt-get install -y ${missing[*]}  (or: sudo bash scripts/setup.sh)" >&2
    echo "setup: checks that need them skip; serving and calling on kernel sockets need none of them" >&2
    exit 0
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs holds the pinned XDP maps (DESIGN decision 2).
if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf || echo "setup: could not mount bpffs at /sys/fs/bpf (XDP tests will skip)" >&2
fi

# Swift toolchain
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  echo "setup: add /opt/swift/usr/bin to PATH" >&2
fi
exit 0
