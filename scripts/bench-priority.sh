#!/usr/bin/env bash
# MGCP-before-management priority benchmark: call setup latency p50/p99 at a
# fixed call rate on one standalone cmsd, without and with a management flood, side by side with
# the ratio, and the backlog drain rate.
#
#   quiet : the node sends its own billing records as Event Messages over RADIUS to a local RKS
#           (FreeRADIUS, scripts/lib/rks.sh; normal operation).
#   flood : the same, plus a backlog of --backlog records (default 100,000) draining from the
#           node's SQLite outbox to the RKS and `wrk` hammering GET /status on the HTTP endpoint.
#           The backlog is written into the outbox between the rounds while the RKS is stopped
#           (no call runs then); the RKS is started again once mtasim has registered its lines and
#           begins placing calls, so the drain and wrk overlap the measured calls.
# Goal: setup p99 with the flood within 20% of the p99 without (ratio <= 1.20).
# Calls: mtasim scenario mode (off-hook, dial, ring, answer, hold, hang-up), --no-media.
# Rounds alternate quiet/flood (--rounds N, default 1) so that a change of machine load does not
# land on one column only; the figures printed are the medians over the rounds.
#
#   scripts/bench-priority.sh                         # 100 calls/s, 30 s per round
#   scripts/bench-priority.sh --rate 150 --duration 40 --rounds 3 --backlog 100000
#
# Options: --rate R (100) --duration S (30) --hold S (2) --rounds N (1) --backlog N (100000)
#   --batch-size N ([billing] batch_size, 100) --wrk-connections N (8) --json FILE --keep
#   --drain-ceiling N ([billing] drain_max_records_per_s, 0 = none): pace the backlog's drain
#   --no-wrk / --backlog 0: one half of the flood only (to tell which half interferes)
# Environment: BUILD_DIR (build-bench; Release), BENCH_NO_BUILD=1 (use the binaries as they are),
#   RKS_NICE (19: FreeRADIUS's nice value), FORWARDER_NICE (unset: the node's own nice 10 for its forwarder thread),
#   WRK_NICE (0, relative to the script's own nice): 19 makes wrk stand for a monitoring host of its
#   own, as the RKS does for the partner's machine; 0 lets it take a core from the node.
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"
source "$(dirname "$0")/lib/rks.sh"

rate=100; duration=30; hold=2; rounds=1; backlog=100000; batch_size=100; wrk_conns=8; drain_ceiling=0
json_out=""; keep=""; use_wrk=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --hold) hold=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --backlog) backlog=$2; shift ;;
    --batch-size) batch_size=$2; shift ;;
    --drain-ceiling) drain_ceiling=$2; shift ;;
    --wrk-connections) wrk_conns=$2; shift ;;
    --no-wrk) use_wrk=0 ;;
    --json) json_out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "bench-priority: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
json_out=${json_out:-$BUILD_DIR/bench-priority.json}
command -v wrk >/dev/null || die "wrk is not installed (scripts/install-deps.sh)"

scratch=$(mktemp -d /tmp/cms-bench-priority-XXXXXX)
finish() {
  rks_lab_stop
  bench_cleanup
  [ -n "$keep" ] && bsay "scratch kept: $scratch" || rm -rf "$scratch"
}
trap finish EXIT
trap 'exit 130' INT TERM

bench_build
# node-a's certificate for the node's [tls]; rks.secret, the RADIUS secret of the node and its RKS.
"$bench_root/scripts/gen-certs.sh" "$scratch/certs" node-a >/dev/null || die "gen-certs.sh failed"

# Enough lines for the rate: each call holds 2 lines for about hold + 1 s.
MTAS=$(python3 -c "import math; print(max(4, math.ceil($rate * ($hold + 1.5) * 2 * 1.5 / 64)))")
LINES=64
RKS_PORT=$(free_port udp)
# shellcheck disable=SC2089,SC2090 # TOML text: its quotes are meant literally
BENCH_EXTRA_CONFIG="[tls]
certificate = \"$scratch/certs/node-a.crt\"
key = \"$scratch/certs/node-a.key\"
ca = \"$scratch/certs/ca.crt\"
$(rks_billing_toml "127.0.0.1:$RKS_PORT" "" "$scratch/certs/rks.secret")
batch_size = $batch_size
drain_max_records_per_s = $drain_ceiling"
# shellcheck disable=SC2090
export BENCH_EXTRA_CONFIG

# prio_rks_start / prio_rks_stop: the partner's Record Keeping Server (FreeRADIUS) on its fixed
# port, the same store each time (scratch/rks/em.db).
prio_rks_start() {
  # nice 19: the RKS is the partner's machine, not this node's; here it shares the 2 cores.
  RKS_NICE=${RKS_NICE:-19} rks_lab_start "$scratch/rks" 127.0.0.1 "$RKS_PORT" "$scratch/certs/rks.secret" ||
    die "the RKS did not start; see $scratch/rks"
}
prio_rks_stop() { rks_lab_stop; }
# rks_ems: EMs stored so far (the drain's start); rks_held: billing records with EMs at the RKS.
rks_ems() { local n; n=$(rks_sql "$scratch/rks/em.db" "SELECT count(*) FROM event_message;"); echo "${n:-0}"; }
rks_held() { rks_records "$scratch/rks/em.db"; }
pending() { metric "$NODE_HTTP" cms_billing_outbox_pending; }

# add_backlog N: N billing records appended to the node's outbox (no call runs meanwhile), as if
# the RKS had been unreachable for a while.
add_backlog() {
  python3 - "$NODE_DIR/data/cms.db" "$1" <<'PY'
import sqlite3, sys, time, uuid
db = sqlite3.connect(sys.argv[1], timeout=30)
n, now, tag = int(sys.argv[2]), int(time.time() * 1000), uuid.uuid4().hex[:8]
rows = (("bl-%s-%d@bench:signaling_stop" % (tag, i), "signaling_stop", "bl-%s-%d@bench" % (tag, i),
         "5551001", "5551002", "aaln/1@mta-0001.cable.example", "aaln/2@mta-0001.cable.example",
         "", "", now + i, 16, "PS=1000, OS=160000, PR=1000, OR=160000, PL=0, JI=0, LA=0", now)
        for i in range(n))
with db:
    db.executemany("INSERT INTO billing_outbox (record_id, event, call_id, calling_number, "
                   "called_number, originating, terminating, route, carrier, timestamp_ms, "
                   "release_cause, connection_stats, created_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
PY
}

# run_round TAG: one mtasim run of $duration s at $rate; for "flood" the RKS comes back (backlog
# drains) and wrk starts as soon as mtasim begins placing calls. Appends a JSON line to results.
results="$scratch/results.jsonl"; : > "$results"
run_round() {
  local tag=$1 rep="$scratch/report-$1-$2.json" out="$scratch/mtasim-$1-$2.out"
  local load0 drain_t0="" drain_t1="" drained0 wrk_rps="" wrk_p99="" c0
  load0=$(load1)
  # shellcheck disable=SC2046
  "$BUILD_DIR/mtasim" $(mtasim_args "$MTAS" "$LINES") --no-media --scenario calls \
    --rate "$rate" --hold "$hold" --duration "$duration" --digit-interval 0 --answer-delay 200 \
    --hangup-delay 100 --setup-timeout 5 --register-timeout 120 --rsip-spread 1000 \
    --report-file "$rep" --json > "$out" 2>&1 &
  local sim=$!
  bench_pids+=("$sim")
  for _ in $(seq 1 1500); do
    grep -q "mtasim: ready" "$out" 2>/dev/null && break
    kill -0 "$sim" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$tag" = flood ]; then
    c0=$(rks_ems)
    prio_rks_start
    local wrk_pid=""
    if [ "$use_wrk" = 1 ]; then
      nice -n "${WRK_NICE:-0}" wrk -t1 -c"$wrk_conns" -d"${duration}s" --latency "http://127.0.0.1:$NODE_HTTP/status" \
        > "$scratch/wrk-$2.txt" 2>&1 &
      wrk_pid=$!
      bench_pids+=("$wrk_pid")
    fi
    # Drain: from the first record the RKS stores to the backlog gone from the outbox.
    local t_end=$(( $(date +%s) + duration + 60 ))
    while [ "$(date +%s)" -lt "$t_end" ]; do
      [ "$backlog" -gt 0 ] || break
      if [ -z "$drain_t0" ] && [ "$(rks_ems)" -gt "$c0" ]; then drain_t0=$(date +%s.%N); fi
      if [ -n "$drain_t0" ] && [ "$(pending)" -lt 50 ] 2>/dev/null; then drain_t1=$(date +%s.%N); break; fi
      sleep 0.5
    done
    if [ -n "$wrk_pid" ]; then
      wait "$wrk_pid"
      wrk_rps=$(awk '/^Requests\/sec/ { print $2 }' "$scratch/wrk-$2.txt")
      wrk_p99=$(awk '$1 == "99%" { print $2 }' "$scratch/wrk-$2.txt")
    fi
  fi
  wait "$sim"
  [ -s "$rep" ] || die "mtasim wrote no report; see $out"
  python3 - "$rep" "$tag" "$2" "$load0" "$(load1)" "${drain_t0:-}" "${drain_t1:-}" "$backlog" \
    "${wrk_rps:-}" "${wrk_p99:-}" "$duration" >> "$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c = d["calls"]; s = c["setup_latency_ms"]
failed = c["failed"] + c.get("release_timeouts", 0)
r = {"tag": sys.argv[2], "round": int(sys.argv[3]), "attempts": c["attempts"], "completed": c["completed"],
     "failed": failed, "failures": c["failures"], "p50": s.get("p50", 0), "p95": s.get("p95", 0),
     "p99": s.get("p99", 0), "max": s.get("max", 0), "load_before": float(sys.argv[4]),
     "load_after": float(sys.argv[5])}
if sys.argv[2] == "flood":
    t0, t1 = sys.argv[6], sys.argv[7]
    r["drain_s"] = round(float(t1) - float(t0), 2) if t0 and t1 else None
    r["drain_rate"] = round(int(sys.argv[8]) / r["drain_s"]) if r["drain_s"] else None
    r["drain_covers"] = round(min(1.0, r["drain_s"] / float(sys.argv[11])), 2) if r["drain_s"] else None
    r["wrk_rps"] = float(sys.argv[9]) if sys.argv[9] else None
    r["wrk_p99"] = sys.argv[10] or None
print(json.dumps(r))
PY
  tail -n 1 "$results" >&2
}

bsay "provisioning $((MTAS * LINES)) lines; starting cmsd with an RKS (FreeRADIUS, EMs over RADIUS)"
prio_rks_start
setup_node "$scratch/node" "$MTAS" "$LINES"
# FORWARDER_NICE=N (experiments): renice the node's billing forwarder thread (cms-billing, nice 10
# by default) to N, e.g. 0 to see what the lowered priority buys.
if [ -n "${FORWARDER_NICE:-}" ]; then
  for t in /proc/"$NODE_PID"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = cms-billing ] && renice -n "$FORWARDER_NICE" -p "${t##*/}" >/dev/null &&
      bsay "forwarder thread ${t##*/} reniced to $FORWARDER_NICE"
  done
fi
for i in $(seq 1 "$rounds"); do
  bsay "round $i/$rounds quiet: ${rate} calls/s for ${duration} s, RKS attached, no backlog, no wrk"
  run_round quiet "$i"
  # Between the rounds: the RKS goes away, the node holds a backlog (no call runs meanwhile).
  for _ in $(seq 1 100); do [ "$(pending)" = 0 ] && break; sleep 0.1; done
  prio_rks_stop
  if [ "$backlog" -gt 0 ]; then add_backlog "$backlog" || die "could not write the backlog"; fi
  for _ in $(seq 1 100); do [ "$(pending)" -ge "$backlog" ] 2>/dev/null && break; sleep 0.1; done
  bsay "round $i/$rounds flood: ${rate} calls/s for ${duration} s, $(pending) records draining$([ "$use_wrk" = 1 ] && echo ", wrk -c$wrk_conns on /status")"
  run_round flood "$i"
  for _ in $(seq 1 600); do [ "$(pending)" = 0 ] && break; sleep 0.1; done
done
held=$(rks_held)
node_pending=$(pending)
prio_rks_stop
stop_pid "$NODE_PID"

python3 - "$results" "$json_out" "$rate" "$duration" "$hold" "$backlog" "$held" "${node_pending:-}" \
  "$((MTAS * LINES))" "$batch_size" "$wrk_conns" "$drain_ceiling" <<'PY'
import json, sys, os, statistics as stat
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
quiet = [r for r in res if r["tag"] == "quiet"]; flood = [r for r in res if r["tag"] == "flood"]
def med(rows, k):
    v = [r[k] for r in rows if r.get(k) is not None]
    return stat.median(v) if v else None
q = {k: med(quiet, k) for k in ("p50", "p95", "p99", "max", "attempts", "failed", "load_before")}
f = {k: med(flood, k) for k in ("p50", "p95", "p99", "max", "attempts", "failed", "load_before",
                                 "drain_s", "drain_rate", "drain_covers", "wrk_rps")}
ratio = lambda a, b: (b / a) if a and b is not None else None
out = {"rate_cps": float(sys.argv[3]), "duration_s": float(sys.argv[4]), "hold_s": float(sys.argv[5]),
       "backlog": int(sys.argv[6]), "lines": int(sys.argv[9]), "batch_size": int(sys.argv[10]),
       "wrk_connections": int(sys.argv[11]), "drain_ceiling": int(sys.argv[12]), "rounds": res, "quiet": q, "flood": f,
       "p50_ratio": ratio(q["p50"], f["p50"]), "p99_ratio": ratio(q["p99"], f["p99"]),
       "rks_records": int(sys.argv[7]), "node_pending_at_end": sys.argv[8]}
out["goal_met"] = out["p99_ratio"] is not None and out["p99_ratio"] <= 1.2
os.makedirs(os.path.dirname(os.path.abspath(sys.argv[2])), exist_ok=True)
json.dump(out, open(sys.argv[2], "w"), indent=1)
fmt = lambda v, p="%.2f": "n/a" if v is None else p % v
print("\n== MGCP-before-management priority (cmsd standalone, %g calls/s, hold %g s, %d s per round, %d round(s), %d lines, drain ceiling %s) =="
      % (out["rate_cps"], out["hold_s"], out["duration_s"], len(quiet), out["lines"],
         "%d records/s" % out["drain_ceiling"] if out["drain_ceiling"] else "none"))
print("%-28s %14s %14s %8s" % ("", "without flood", "with flood", "ratio"))
for k in ("p50", "p95", "p99", "max"):
    print("%-28s %14s %14s %8s" % ("setup latency %s (ms)" % k, fmt(q[k]), fmt(f[k]), fmt(ratio(q[k], f[k]))))
print("%-28s %14s %14s" % ("calls attempted / failed", "%s / %s" % (fmt(q["attempts"], "%d"), fmt(q["failed"], "%d")),
                            "%s / %s" % (fmt(f["attempts"], "%d"), fmt(f["failed"], "%d"))))
print("%-28s %14s %14s" % ("load average (1 min)", fmt(q["load_before"]), fmt(f["load_before"])))
print("%-28s %14s %14s" % ("wrk GET /status (req/s)", "-", fmt(f["wrk_rps"], "%.0f")))
print("%-28s %14s %14s" % ("backlog drain (records/s)", "-", fmt(f["drain_rate"], "%.0f")))
print("backlog: %d records drained in %s s (%s of the call window); RKS holds %d records, node pending at end %s"
      % (out["backlog"], fmt(f["drain_s"]), fmt(f["drain_covers"], "%.0f%%" if False else "%.2f"), out["rks_records"], out["node_pending_at_end"]))
print("goal (p99 with flood <= 1.20 x without): %s (ratio %s)" % ("MET" if out["goal_met"] else "NOT MET", fmt(out["p99_ratio"])))
print("json: " + sys.argv[2])
PY
exit 0
