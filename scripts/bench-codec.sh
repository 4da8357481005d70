#!/usr/bin/env bash
# Codec benchmark: Apache Thrift C++ vs Apus (`bash scripts/bench.sh codec`; the Python package
# scripts/bench/, module codec). Usage: bash scripts/bench-codec.sh [--seconds S] [--rounds N] [--quick];
# more: bash scripts/bench-codec.sh --help
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 -m bench codec "$@"
