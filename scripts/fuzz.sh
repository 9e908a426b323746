#!/usr/bin/env bash
# Builds the libFuzzer harnesses of test/fuzz with clang (fuzzer + ASan + UBSan) straight from the
# sources (no CMake) and runs each for a while.
#
#   scripts/fuzz.sh [seconds-per-fuzzer] [fuzzer...]     fuzzers: mgcp sdp digit_map (default all)
#
# Output goes to build-fuzz/: binaries, a working corpus per fuzzer (seeded from
# test/fuzz/corpus/<name>/, which the fuzzer never writes to) and crash artifacts. A crash input
# belongs in test/fuzz/corpus/<name>/ once fixed: the fuzz_regression ctest replays it forever.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build-fuzz"
seconds="${1:-180}"
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=(mgcp sdp digit_map)

cxx="${CXX_FUZZ:-clang++-14}"
command -v "$cxx" >/dev/null || cxx=clang++

# The protocol sources the checks need; the UDP/transaction parts of runtime/mgcp are left out.
sources=(
  runtime/mgcp/message.cpp runtime/mgcp/codec.cpp runtime/mgcp/endpoint_name.cpp
  runtime/mgcp/parameters.cpp runtime/mgcp/events.cpp runtime/mgcp/sdp.cpp
  runtime/mgcp/digit_map.cpp test/fuzz/fuzz_checks.cpp
)

mkdir -p "$out"
status=0
for f in "${fuzzers[@]}"; do
  case "$f" in
    mgcp) corpus=mgcp; max_len=8192 ;;
    sdp) corpus=sdp; max_len=4096 ;;
    digit_map) corpus=digitmap; max_len=512 ;;
    *) echo "unknown fuzzer: $f" >&2; exit 2 ;;
  esac
  bin="$out/fuzz_$f"
  echo "== building $bin"
  (cd "$root" && "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$root" -I"$root/test/fuzz" "${sources[@]}" "test/fuzz/fuzz_$f.cpp" -o "$bin")
  work="$out/corpus-$f"
  artifacts="$out/artifacts-$f"
  mkdir -p "$work" "$artifacts"
  echo "== running $bin for ${seconds}s"
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin" \
      -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -dict="$root/test/fuzz/mgcp.dict" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$work" "$root/test/fuzz/corpus/$corpus"; then
    echo "!! fuzz_$f found a problem; inputs in $artifacts" >&2
    status=1
  fi
done
exit $status
