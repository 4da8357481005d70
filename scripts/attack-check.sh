#!/usr/bin/env bash
# Attack check: runs each attack class (SYN flood, forged cookies, ISN prediction,
# idle connections, slowloris, trickle, reply amplification, zero window, TCP
# injection, ARP spoofing, odd SYNs, crash and restart) against
# `apus serve --transport xdp` on a testbed of its own (apus-atk-srv/apus-atk-cli,
# 10.12.0.0/24) while a paced `apus bench` load runs, and prints a table per attack
# (legit QPS before/during/after, new connections, server RSS, crash, targets).
#
#   sudo scripts/attack-check.sh [--short] [--only a,b] [--list] [--report-only] [--rate N]
#
# APUS_BINARY: the apus binary (default .build/release/apus; build it with
# `swift build -c release --product apus`). Exits 1 when a target is missed
# (0 with --report-only). The driver is scripts/attack/ (Python, stdlib only).
set -euo pipefail
cd "$(dirname "$0")"
for arg in "$@"; do
  case "$arg" in --list|-h|--help) exec /usr/bin/python3 -m attack "$@" ;; esac
done
if [ "$(id -u)" != 0 ]; then
  echo "attack-check: skipped: needs root (network namespaces, XDP, raw sockets)"
  exit 0
fi
exec /usr/bin/python3 -m attack "$@"
