#!/usr/bin/env bash
# MGCP stack benchmark: builds bench_mgcp in Release and runs it. Prints codec parse/build rates
# (items_per_second = messages/s) and MGCP command/response round trips per second between two
# agents over loopback UDP, beside a raw UDP echo round trip measured in the same run, with the
# ratio. Extra arguments go to Google Benchmark (e.g. --benchmark_filter=Parse).
#   BUILD_DIR=build-release scripts/bench-mgcp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_SANITIZE=OFF -DCMS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target bench_mgcp -j "${CMS_JOBS:-2}"
exec "$build/test/bench/bench_mgcp" --benchmark_min_time=1 "$@"
