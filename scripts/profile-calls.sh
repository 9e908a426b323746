#!/usr/bin/env bash
# CPU profile of cmsd's call path: a standalone node under valgrind --tool=callgrind while mtasim
# places on-net calls, then the top functions by exclusive (self) and inclusive cost. perf is used
# instead when hardware counters work (`perf stat -e instructions true`); on VMs without them
# callgrind's instruction counts are the reliable measure.
#
#   scripts/profile-calls.sh [--rate R (10)] [--duration S (30)] [--top N (30)] [--out DIR]
# The node is Release with symbols as built in build-bench (RelWithDebInfo is not needed:
# callgrind attributes to functions by symbol name).
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

rate=10; duration=30; top=30; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --top) top=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "profile-calls: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
out=${out:-$BUILD_DIR/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/data"
trap 'bench_cleanup' EXIT
trap 'exit 130' INT TERM
bench_build

mtas=16; lines=64
NODE_MGCP=$(free_port udp); NODE_HTTP=$(free_port); MTA_PORT_BASE=${MTA_PORT_BASE:-30000}; DN_BASE=5551001
gen_provisioning "$out/provisioning.toml" "$mtas" "$lines" "$MTA_PORT_BASE" "$DN_BASE"
"$BUILD_DIR/cmsd" --provision "$out/provisioning.toml" "$out/data/cms.db" > "$out/provision.out" 2>&1 ||
  die "provisioning failed"
node_config "$out/node.toml" profile-node "$out/data" "$NODE_MGCP" "$NODE_HTTP"
# Instrumentation starts once every line is registered: the profile is the call path, not
# start-up (dynamic linking, spawning the line actors).
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" --separate-threads=no \
  --instr-atstart=no \
  "$BUILD_DIR/cmsd" --config "$out/node.toml" > "$out/cmsd.out" 2>&1 &
NODE_PID=$!; bench_pids+=("$NODE_PID")
for _ in $(seq 1 600); do
  [ "$(http_json "$NODE_HTTP" /status "d.get('role','')")" = active ] && break
  kill -0 "$NODE_PID" 2>/dev/null || die "cmsd under valgrind exited; see $out/cmsd.out"
  sleep 0.5
done
bsay "profiling: $rate calls/s for $duration s under callgrind (load $(load1))"
# shellcheck disable=SC2046
"$BUILD_DIR/mtasim" $(mtasim_args "$mtas" "$lines") --no-media --scenario calls --rate "$rate" \
  --hold 1 --duration "$duration" --digit-interval 0 --answer-delay 200 --hangup-delay 100 \
  --setup-timeout 10 --register-timeout 300 --rsip-spread 5000 --rto-initial 1000 --rto-max 8000 \
  --report-file "$out/mtasim.json" --json > "$out/mtasim.out" 2>&1 &
sim=$!; bench_pids+=("$sim")
for _ in $(seq 1 600); do
  [ "$(status_counter "$NODE_HTTP" cms_endpoints_registered)" -ge $((mtas * lines)) ] 2>/dev/null && break
  kill -0 "$sim" 2>/dev/null || break
  sleep 0.5
done
callgrind_control -i on "$NODE_PID" > /dev/null || bsay "callgrind_control -i on failed"
wait "$sim"
stop_pid "$NODE_PID"
report_field "$out/mtasim.json" "'calls: %d attempts, %d completed, failures %s, setup p50 %.1f ms' % (d['calls']['attempts'], d['calls']['completed'], d['calls']['failures'], d['calls']['setup_latency_ms'].get('p50', 0))"
callgrind_annotate --inclusive=no "$out/callgrind.out" 2>/dev/null | head -n $((top + 25)) > "$out/self.txt"
callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | head -n $((top + 25)) > "$out/inclusive.txt"
echo "== top $top functions by self cost (instructions) =="
sed -n "1,$((top + 25))p" "$out/self.txt" | grep -E '^ *[0-9,]+ ' | head -n "$top"
echo "== top $top by inclusive cost =="
grep -E '^ *[0-9,]+ ' "$out/inclusive.txt" | head -n "$top"
echo "files: $out/callgrind.out $out/self.txt $out/inclusive.txt"
