#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds into build/ with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test with ctest. Non-zero exit on any failure.
#   scripts/test.sh                 sanitizer build (what CI runs)
#   CMS_SANITIZE=OFF scripts/test.sh   plain build
#   CMS_LONG=1 scripts/test.sh      also the long soak/fault tests (label "long")
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

sanitize=${CMS_SANITIZE:-ON}
jobs=${CMS_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMS_SANITIZE="$sanitize" \
  -DCMS_BUILD_BENCH=OFF
cmake --build build -j "$jobs"

# LeakSanitizer: third-party globals (net-snmp's MIB tree, CAF's singletons) are suppressed by name;
# our own leaks still fail the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/test/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

label_args=(-LE long)
[ "${CMS_LONG:-0}" = 1 ] && label_args=()
cd build
ctest --output-on-failure -j "$jobs" --timeout 900 "${label_args[@]}"
