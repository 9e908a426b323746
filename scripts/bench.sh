#!/usr/bin/env bash
# The benchmark suite (issue 9 item 1): one command, one table, one JSON file
# ($BUILD_DIR/bench-results.json, BUILD_DIR defaults to build-bench).
#   - on-net call rate, setup latency at 50%/90% and memory per established call
#     (scripts/bench-calls.sh: standalone cmsd, mtasim load);
#   - MGCP transactions/s through cmsd at that call rate, next to a raw UDP echo baseline and the
#     agent-to-agent MGCP round trip measured in the same run (test/bench/bench_mgcp.cpp);
#   - HTTP GET /status requests/s with wrk while calls run at 50% of the rate, and the call setup
#     p99 meanwhile;
#   - failover detection/restoration from scripts/drill-failover.sh when it exists, else n/a.
#
#   scripts/bench.sh                  # full run (~25-35 min on 2 shared cores)
#   scripts/bench.sh --quick          # short steps, memory to 10k calls, short wrk run
#   scripts/bench.sh --reuse-calls    # keep build-bench/bench-calls.json, redo MGCP/HTTP/failover
# Other options are passed to bench-calls.sh (--hold, --step-duration, --rate R, --skip-memory...).
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

quick=""; calls_args=(); reuse_calls=""
wrk_s=20
for a in "$@"; do
  case "$a" in
    --quick) quick=1; wrk_s=10; calls_args+=("$a") ;;
    --reuse-calls) reuse_calls=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) calls_args+=("$a") ;;
  esac
done
out_json=$BUILD_DIR/bench-results.json
calls_json=$BUILD_DIR/bench-calls.json
scratch=$(mktemp -d /tmp/cms-benchall-XXXXXX)
trap 'bench_cleanup; rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

machine=$(python3 -c "import os
mem = [l for l in open('/proc/meminfo') if l.startswith('MemTotal')][0].split()[1]
cpu = [l.split(':',1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')][:1]
print('%d cores (%s), %.1f GB' % (os.cpu_count(), cpu[0] if cpu else '?', int(mem) / 1048576))")
bsay "bench: $machine, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. calls --------------------------------------------------------------------------------------
bench_build
if [ -n "$reuse_calls" ] && [ -s "$calls_json" ]; then
  bsay "reusing the call figures of $calls_json (--reuse-calls)"
else
  "$bench_root/scripts/bench-calls.sh" "${calls_args[@]}" --json "$calls_json" | tee "$scratch/calls.txt"
fi
export BENCH_NO_BUILD=1
rate=$(python3 -c "import json; print(json.load(open('$calls_json'))['rate_cps'] or '')" 2>/dev/null)

# ---- 2. MGCP: through cmsd (from the rate step) and the raw UDP echo baseline ----------------------
bsay "MGCP round trips: raw UDP echo vs agent-to-agent (bench_mgcp)"
load_mgcp=$(load1)
BUILD_DIR="$BUILD_DIR-mgcp" "$bench_root/scripts/bench-mgcp.sh" --benchmark_filter=RoundTrip \
  > "$scratch/mgcp.txt" 2>&1 || bsay "bench-mgcp.sh failed; see below"
echo_rt=$(awk '/raw UDP echo/ { print $(NF-2) }' "$scratch/mgcp.txt")
agent_rt=$(awk '/MGCP agent-agent/ { print $(NF-2) }' "$scratch/mgcp.txt")
[ -n "$echo_rt" ] || tail -n 20 "$scratch/mgcp.txt" >&2

# ---- 3. HTTP /status under call load ---------------------------------------------------------------
wrk_rps=""; wrk_p99=""; wrk_load=""
if [ -n "$rate" ]; then
  half=$(python3 -c "print(round($rate / 2, 1))")
  bsay "HTTP: wrk on /status for ${wrk_s} s while calls run at ${half}/s"
  RATE_MTAS=160; RATE_LINES=64
  setup_node "$scratch/http" "$RATE_MTAS" "$RATE_LINES"
  # shellcheck disable=SC2046
  "$BUILD_DIR/mtasim" $(mtasim_args "$RATE_MTAS" "$RATE_LINES") --no-media --scenario calls \
    --rate "$half" --hold 2 --duration $((wrk_s + 10)) --digit-interval 0 --answer-delay 200 \
    --hangup-delay 100 --setup-timeout 5 --register-timeout 120 --rsip-spread 2000 \
    --report-file "$scratch/http-calls.json" --json > "$scratch/http-mtasim.out" 2>&1 &
  sim=$!; bench_pids+=("$sim")
  until [ "$(status_counter "$NODE_HTTP" cms_call_attempts_total)" -gt 0 ] 2>/dev/null; do
    kill -0 "$sim" 2>/dev/null || break; sleep 0.2
  done
  sleep 3
  wrk_load=$(load1)
  wrk -t1 -c8 -d"${wrk_s}s" --latency "http://127.0.0.1:$NODE_HTTP/status" > "$scratch/wrk.txt" 2>&1
  wrk_rps=$(awk '/^Requests\/sec/ { print $2 }' "$scratch/wrk.txt")
  wrk_lat99=$(awk '$1 == "99%" { print $2 }' "$scratch/wrk.txt")
  wait "$sim" 2>/dev/null
  wrk_p99=$(report_field "$scratch/http-calls.json" "d['calls']['setup_latency_ms'].get('p99', '')")
  wrk_failed=$(report_field "$scratch/http-calls.json" "d['calls']['failed']")
  wrk_attempts=$(report_field "$scratch/http-calls.json" "d['calls']['attempts']")
  bench_cleanup
fi

# ---- 4. failover (colleague's drill) ---------------------------------------------------------------
failover="n/a (scripts/drill-failover.sh not present)"
if [ -x "$bench_root/scripts/drill-failover.sh" ]; then
  bsay "failover: scripts/drill-failover.sh"
  cycles=${FAILOVER_CYCLES:-20}; [ -n "$quick" ] && cycles=3
  timeout 900 "$bench_root/scripts/drill-failover.sh" --cycles "$cycles" > "$scratch/failover.txt" 2>&1
  drill_rc=$?
  cp "$scratch/failover.txt" "$BUILD_DIR/bench-failover.txt"
  # The drill's report: "cycle detection_ms restore_ms ..." then one row per kill.
  failover=$(python3 - "$scratch/failover.txt" "$drill_rc" <<'PY'
import sys
det, res, rows = [], [], False
for line in open(sys.argv[1]):
    f = line.split()
    if f[:3] == ["cycle", "detection_ms", "restore_ms"]:
        rows = True; continue
    if rows and len(f) >= 3 and f[0].isdigit():
        det.append(float(f[1])); res.append(float(f[2]))
    elif rows and f and not f[0].isdigit():
        rows = False
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]
if det:
    print("%d kills: detection p50 %.0f / p95 %.0f / max %.0f ms; restoration p50 %.0f / p95 %.0f / max %.0f ms (drill exit %s)"
          % (len(det), pct(det, 50), pct(det, 95), max(det), pct(res, 50), pct(res, 95), max(res), sys.argv[2]))
else:
    print("n/a (drill-failover.sh printed no report; exit %s)" % sys.argv[2])
PY
)
fi

python3 - "$calls_json" "$out_json" "$machine" "${echo_rt:-}" "${agent_rt:-}" "$load_mgcp" \
  "${wrk_rps:-}" "${wrk_p99:-}" "${wrk_load:-}" "$failover" "${wrk_lat99:-}" \
  "${wrk_failed:-}" "${wrk_attempts:-}" <<'PY'
import json, sys, time
calls = json.load(open(sys.argv[1]))
f = lambda s: float(s) if s not in ("", None) else None
echo, agent, wrk_rps, wrk_p99 = f(sys.argv[4]), f(sys.argv[5]), f(sys.argv[7]), f(sys.argv[8])
rate = calls.get("rate_cps")
step = None
for s in calls.get("steps", []):
    if rate and abs(s["rate"] - rate) < 1e-6:
        step = s
tps = step["mgcp_tps"] if step else None
mem = calls.get("memory", [])
res = {
  "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": sys.argv[3],
  "topology": "single node (standalone); pair with replication not measured",
  "call_rate_cps": rate, "bhca": calls.get("bhca"), "hold_s": calls.get("hold_s"),
  "call_rate_load1": step["load_before"] if step else None,
  "setup_latency_ms": {k: {"rate": v["rate"], "p50": v["p50"], "p95": v["p95"], "p99": v["p99"],
                           "load1": v["load_before"]} for k, v in calls.get("latency", {}).items()},
  "memory": [{"calls": m["calls"], "rss_kb": m["rss_kb"], "kb_per_call": m.get("kb_per_call"),
              "load1": m["load"]} for m in mem],
  "memory_stopped": calls.get("memory_stopped"),
  "mgcp": {"through_cmsd_tps_at_call_rate": tps, "raw_udp_echo_rts": echo,
           "agent_to_agent_rts": agent,
           "ratio_cmsd_to_echo": round(tps / echo, 3) if tps and echo else None,
           "ratio_agent_to_echo": round(agent / echo, 3) if agent and echo else None,
           "load1": f(sys.argv[6])},
  "http_status": {"requests_per_s": wrk_rps, "latency_p99": sys.argv[11] or None,
                  "call_setup_p99_ms": wrk_p99, "calls_failed": f(sys.argv[12]),
                  "calls_attempted": f(sys.argv[13]), "load1": f(sys.argv[9])},
  "failover": sys.argv[10],
}
json.dump(res, open(sys.argv[2], "w"), indent=1)
def v(x, fmt="%g"):
    return "n/a" if x is None else fmt % x
rows = [
  ("machine", res["machine"]),
  ("topology", res["topology"]),
  ("sustained on-net call rate", "%s calls/s = %s BHCA (hold %s s, load %s)" % (v(rate), v(res["bhca"], "%d"), v(res["hold_s"]), v(res["call_rate_load1"]))),
]
for k, l in res["setup_latency_ms"].items():
    rows.append(("setup latency @ %s" % k, "%s calls/s: p50 %s  p95 %s  p99 %s ms (load %s)" % (v(l["rate"]), v(l["p50"], "%.2f"), v(l["p95"], "%.2f"), v(l["p99"], "%.2f"), v(l["load1"]))))
if mem:
    rows.append(("RSS baseline (no call)", "%d kB" % mem[0]["rss_kb"]))
    for m in mem[1:]:
        rows.append(("RSS at %d calls" % m["calls"], "%d kB, %s kB per established call (load %s)" % (m["rss_kb"], v(m.get("kb_per_call"), "%.2f"), v(m["load"]))))
if res["memory_stopped"]:
    rows.append(("memory ramp stopped", res["memory_stopped"]))
m = res["mgcp"]
rows.append(("MGCP through cmsd", "%s transactions/s at the call rate" % v(tps, "%.0f")))
rows.append(("raw UDP echo (same run)", "%s round trips/s; ratio cmsd/echo %s" % (v(echo, "%.0f"), v(m["ratio_cmsd_to_echo"]))))
rows.append(("MGCP agent-to-agent", "%s round trips/s; ratio agent/echo %s (load %s)" % (v(agent, "%.0f"), v(m["ratio_agent_to_echo"]), v(m["load1"]))))
h = res["http_status"]
rows.append(("HTTP /status under calls", "%s req/s (wrk -t1 -c8, p99 %s); call setup p99 meanwhile %s ms, %s/%s failed (load %s)" % (v(wrk_rps, "%.0f"), h["latency_p99"] or "n/a", v(wrk_p99, "%.2f"), v(h["calls_failed"], "%d"), v(h["calls_attempted"], "%d"), v(h["load1"]))))
rows.append(("failover detection/restoration", res["failover"]))
w = max(len(r[0]) for r in rows)
print("\n" + "=" * 100)
for k, val in rows:
    print("%-*s | %s" % (w, k, val))
print("=" * 100)
print("json: " + sys.argv[2])
PY
