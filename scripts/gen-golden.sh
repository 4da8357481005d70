#!/usr/bin/env bash
# Regenerate Tests/ApusThriftTests/Fixtures/golden.json from golden.thrift using
# Apache Thrift's own Python library (Debian python3-thrift 0.17 + `thrift` 0.17).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec /usr/bin/python3 scripts/gen-golden.py "$@"
