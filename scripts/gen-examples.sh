#!/usr/bin/env bash
# Regenerates Sources/ApusExamples/Generated from Examples/echo.thrift with
# the repository's own generator. Run from anywhere; paths in the generated
# headers are relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
swift run apus-gen -o Sources/ApusExamples/Generated Examples/echo.thrift
