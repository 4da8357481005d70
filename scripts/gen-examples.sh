#!/usr/bin/env bash
# Regenerates Sources/ApusExamples/Generated/echo.thrift.swift from
# Examples/echo.thrift with the repository's own generator
# (EchoGenerationTests fails when the checked-in file is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
swift run apus-gen -o Sources/ApusExamples/Generated Examples/echo.thrift
