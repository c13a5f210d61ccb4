#!/usr/bin/env bash
# Benchmark `stackctl verify` on the pynomaly check set against fake services
# with realistic per-service delays: verify wall time vs the sum of the
# individual probe times vs the reference guide's method (sleep 30, then curl
# each endpoint in turn). Pass --quick to skip actually waiting the 30 s.
#
#   scripts/bench-verify.sh [--quick] [--runs N] [--spec FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench verify -- "$@"
