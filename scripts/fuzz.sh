#!/usr/bin/env bash
# Builds the libFuzzer harnesses of test/fuzz with clang (fuzzer + ASan + UBSan) straight from the
# sources (no CMake) and runs each for a while.
#
#   scripts/fuzz.sh [seconds-per-fuzzer] [fuzzer...]
#       fuzzers: mgcp sdp digit_map replication http ha (default all, one after the other)
#   FUZZ_PARALLEL=1 scripts/fuzz.sh ...   runs them at the same time (each under nice -n 15) and
#                                         prints one summary line per fuzzer at the end
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
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=(mgcp sdp digit_map replication http ha)

cxx="${CXX_FUZZ:-clang++-14}"
command -v "$cxx" >/dev/null || cxx=clang++

# The protocol sources the checks need; the UDP/transaction parts of runtime/mgcp are left out.
mgcp_sources=(
  runtime/mgcp/message.cpp runtime/mgcp/codec.cpp runtime/mgcp/endpoint_name.cpp
  runtime/mgcp/parameters.cpp runtime/mgcp/events.cpp runtime/mgcp/sdp.cpp
  runtime/mgcp/digit_map.cpp test/fuzz/fuzz_checks.cpp
)
# The replication decoder is CAF's binary_deserializer over our message types: only headers of
# ours, CAF's library (not instrumented; our inspect functions and the containers they fill are).
replication_sources=(
  actors/calls/call_protocol.cpp actors/calls/endpoint_protocol.cpp actors/ha/ha_rules.cpp
  actors/links/data_link_monitor.cpp test/fuzz/replication_checks.cpp
)
replication_libs=(-lcaf_core -lboost_json -lpthread)
# The HTTP request path without the socket: Beast (headers), our target parser, router, guard.
http_sources=(
  runtime/http/uri.cpp runtime/http/message.cpp runtime/http/router.cpp runtime/http/auth.cpp
  test/fuzz/http_checks.cpp
)
http_libs=(-lboost_json -lcrypto -lpthread)
# The pair's UDP control plane (heartbeats, witness requests and answers): seal and parse.
ha_sources=(
  runtime/transport/ha_auth.cpp runtime/transport/ha_wire.cpp actors/ha/ha_rules.cpp
  runtime/base/metrics.cpp test/fuzz/ha_checks.cpp
)
ha_libs=(-lboost_json -lcrypto -lpthread)

build() { # name sources... -- libs...
  local name="$1"; shift
  local srcs=() libs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  libs=("$@")
  local bin="$out/fuzz_$name"
  echo "== building $bin"
  (cd "$root" && "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$root" -I"$root/test/fuzz" "${srcs[@]}" "test/fuzz/fuzz_$name.cpp" "${libs[@]}" -o "$bin")
}

mkdir -p "$out"
status=0
declare -A corpus_of=([mgcp]=mgcp [sdp]=sdp [digit_map]=digitmap [replication]=replication [http]=http [ha]=ha)
declare -A max_len_of=([mgcp]=8192 [sdp]=4096 [digit_map]=512 [replication]=16384 [http]=16384 [ha]=2048)
declare -A dict_of=([mgcp]=mgcp.dict [sdp]=mgcp.dict [digit_map]=mgcp.dict [replication]= [http]=http.dict [ha]=)
for f in "${fuzzers[@]}"; do
  case "$f" in
    mgcp|sdp|digit_map) build "$f" "${mgcp_sources[@]}" ;;
    replication) build "$f" "${replication_sources[@]}" -- "${replication_libs[@]}" ;;
    http) build "$f" "${http_sources[@]}" -- "${http_libs[@]}" ;;
    ha) build "$f" "${ha_sources[@]}" -- "${ha_libs[@]}" ;;
    *) echo "unknown fuzzer: $f" >&2; exit 2 ;;
  esac
done

run() { # name
  local f="$1" bin="$out/fuzz_$1" work="$out/corpus-$1" artifacts="$out/artifacts-$1"
  local dict=()
  [ -n "${dict_of[$f]}" ] && dict=(-dict="$root/test/fuzz/${dict_of[$f]}")
  mkdir -p "$work" "$artifacts"
  echo "== running $bin for ${seconds}s"
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ${FUZZ_NICE:-} "$bin" \
      -max_total_time="$seconds" -max_len="${max_len_of[$f]}" -timeout=10 -rss_limit_mb=2048 \
      "${dict[@]}" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$work" "$root/test/fuzz/corpus/${corpus_of[$f]}"
}

if [ -n "${FUZZ_PARALLEL:-}" ]; then
  FUZZ_NICE="nice -n 15"
  declare -A pid_of
  for f in "${fuzzers[@]}"; do
    run "$f" >"$out/fuzz_$f.log" 2>&1 &
    pid_of[$f]=$!
  done
  for f in "${fuzzers[@]}"; do
    if ! wait "${pid_of[$f]}"; then
      echo "!! fuzz_$f found a problem; inputs in $out/artifacts-$f, log $out/fuzz_$f.log" >&2
      status=1
    fi
    echo "$f: $(grep -E '^stat::number_of_executed_units' "$out/fuzz_$f.log" | tail -1)" \
      "$(grep -cE '^==[0-9]+==ERROR|fuzz invariant violated' "$out/fuzz_$f.log") crash(es)"
  done
else
  for f in "${fuzzers[@]}"; do
    if ! run "$f"; then
      echo "!! fuzz_$f found a problem; inputs in $out/artifacts-$f" >&2
      status=1
    fi
  done
fi
exit $status
