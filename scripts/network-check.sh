#!/usr/bin/env bash
# Real-network checks of `apus serve --transport xdp` (DESIGN decision 12): routed clients,
# port mode beside the kernel, refusals, two queues, an unprivileged uid with capabilities.
# Builds and removes its own namespaces (apus-nc-*); see scripts/network-check.py.
#
#   bash scripts/network-check.sh [APUS_BINARY]     (default .build/debug/apus)
#
# Skips with one line when not root or when network namespaces are unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."
apus="${1:-.build/debug/apus}"

if [ "$(id -u)" != 0 ]; then echo "network-check: skipped: needs root (AF_XDP, XDP and network namespaces)"; exit 0; fi
if ! ip netns add apus-nc-probe 2>/dev/null; then echo "network-check: skipped: cannot create network namespaces here"; exit 0; fi
ip netns del apus-nc-probe
# The script bounds itself (240 s) and cleans up on SIGTERM; timeout is the last resort.
exec timeout -k 30 300 /usr/bin/python3 scripts/network-check.py "$apus"
