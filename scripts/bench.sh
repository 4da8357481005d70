#!/usr/bin/env bash
# Benchmarks: Apus against a reference implementation doing the same work (modes kernel, xdp,
# tcp, rpc, codec). The tool is the Python package scripts/bench/ (one module per mode, a shared
# runner and report); this wrapper keeps every command line working. Usage, options,
# environment and outputs: bash scripts/bench.sh --help
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 -m bench "$@"
