#!/usr/bin/env bash
# Call setup latency with and without DQoS at the same call rate, side by side. Two runs of the
# same mtasim "calls" scenario against a standalone cmsd: once with the MTAs behind a CMTS
# provisioned with dqos = false (best effort: no COPS), once behind the same CMTS with
# dqos = true (a cmtssim process: every call then sets two gates before its CRCXs and deletes
# them at release). Setup latency is mtasim's (off-hook to ringback, p50/p95/p99/max).
#
#   scripts/bench-dqos.sh                  # 20 calls/s for 20 s, 20 MTAs x 8 lines
#   scripts/bench-dqos.sh --rate 50 --duration 30
# Options: --rate R (20) --duration S (20) --hold S (2) --mtas N (20) --lines N (8) --keep
# Environment: BUILD_DIR (build-bench), BENCH_NO_BUILD=1.
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

rate=20; dur=20; hold=2; mtas=20; lines=8; keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift ;;
    --duration) dur=$2; shift ;;
    --hold) hold=$2; shift ;;
    --mtas) mtas=$2; shift ;;
    --lines) lines=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done

scratch=$(mktemp -d /tmp/bench-dqos.XXXXXX)
bench_pids=()
cleanup() { bench_cleanup; [ -n "$keep" ] && bsay "kept $scratch" || rm -rf "$scratch"; }
trap cleanup EXIT

if [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -x "$BUILD_DIR/cmtssim" ]; then
  CMS_SKIP_DEPS=1 CMS_JOBS=${CMS_JOBS:-2} cms_build cmsd mtasim cmtssim || die "build failed"
fi

# run MODE(best-effort|dqos): one node, one cmtssim, one mtasim run; prints one JSON line.
run() {
  local mode=$1 dir="$scratch/$1" cops control dqos=false
  [ "$mode" = dqos ] && dqos=true
  mkdir -p "$dir/data"
  cops=$(free_port); control=$(free_port udp)
  "$BUILD_DIR/cmtssim" --port "$cops" --control-port "$control" --report "$dir/cmtssim.json" \
    > "$dir/cmtssim.out" 2>&1 &
  local sim=$!
  bench_pids+=("$sim")
  wait_until 20 grep -q "cmtssim ready" "$dir/cmtssim.out" || die "cmtssim did not start"
  MTA_PORT_BASE=${MTA_PORT_BASE:-20000}; DN_BASE=${DN_BASE:-5551001}
  NODE_MGCP=$(free_port udp); NODE_HTTP=$(free_port)
  gen_provisioning "$dir/provisioning.toml" "$mtas" "$lines" "$MTA_PORT_BASE" "$DN_BASE"
  printf '[[cmts]]\nname = "cmts-bench"\naddress = "127.0.0.1"\nport = %s\ndqos = %s\nsubnets = ["127.0.0.0/8"]\n' \
    "$cops" "$dqos" >> "$dir/provisioning.toml"
  "$BUILD_DIR/cmsd" --provision "$dir/provisioning.toml" "$dir/data/cms.db" > "$dir/provision.out" 2>&1 ||
    die "provisioning failed; see $dir/provision.out"
  node_config "$dir/node.toml" bench-dqos "$dir/data" "$NODE_MGCP" "$NODE_HTTP"
  start_node "$dir/node.toml" "$dir/cmsd.out"
  wait_line_actors "$NODE_HTTP" $(( mtas * lines ))
  if [ "$mode" = dqos ]; then
    wait_until 20 sh -c "curl -s http://127.0.0.1:$NODE_HTTP/metrics | grep -q '^cms_dqos_cmts_ready{cmts=\"cmts-bench\"} 1'" ||
      die "the gate controller did not reach the CMTS; see $dir/cmsd.out"
  fi
  # shellcheck disable=SC2046
  "$BUILD_DIR/mtasim" $(mtasim_args "$mtas" "$lines") --no-media --scenario calls \
    --rate "$rate" --hold "$hold" --duration "$dur" --digit-interval 0 --answer-delay 200 \
    --hangup-delay 100 --setup-timeout 5 --register-timeout 120 \
    --report-file "$dir/mtasim.json" --json > "$dir/mtasim.out" 2>&1
  sleep 2 # releases and gate deletes finish
  local gates
  gates=$(python3 - "$control" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b'{"cmd":"report"}', ("127.0.0.1", int(sys.argv[1])))
r = json.loads(s.recv(65536))["report"]
print(json.dumps({"gates_set": r["gates_set"], "gates_deleted": r["gates_deleted"], "leaked": r["leaked"]}))
PY
)
  stop_pid "$NODE_PID"; stop_pid "$sim"; bench_pids=()
  python3 - "$dir/mtasim.json" "$mode" "$gates" "$(load1)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c = d["calls"]; s = c["setup_latency_ms"]
print(json.dumps({"mode": sys.argv[2], "attempts": c["attempts"], "completed": c["completed"],
  "failed": c["failed"], "p50": s.get("p50", 0), "p95": s.get("p95", 0), "p99": s.get("p99", 0),
  "max": s.get("max", 0), "cmts": json.loads(sys.argv[3]), "load": float(sys.argv[4])}))
PY
}

bsay "best effort, $rate calls/s for $dur s"
be=$(run best-effort) || exit 1
bsay "DQoS, $rate calls/s for $dur s"
dq=$(run dqos) || exit 1
python3 - "$be" "$dq" "$rate" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"call setup latency (ms) at {sys.argv[3]} calls/s   best effort      DQoS")
for k in ("attempts", "completed", "failed", "p50", "p95", "p99", "max"):
    print(f"  {k:<36} {a[k]:>12} {b[k]:>9}")
print(f"  {'gates set / deleted / leaked':<36} {'-':>12} {b['cmts']['gates_set']:>3} / {b['cmts']['gates_deleted']} / {b['cmts']['leaked']}")
print(json.dumps({"best_effort": a, "dqos": b}))
PY
