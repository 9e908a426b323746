#!/usr/bin/env bash
# The benchmark suite: one command, one table, one JSON file
# ($BUILD_DIR/bench-results.json, BUILD_DIR defaults to build-bench).
#   - the PAIR (default): two cmsd nodes with the TLS node link, replication and billing forwarded
#     to the RKS (scripts/bench-pair.sh): call rate, setup latency at 50%/90%, replication
#     throughput and lag at the maximum rate; next to it, the same figures of a STANDALONE node
#     (scripts/bench-calls.sh, which also measures overload and memory per established call), and
#     the ratio pair / standalone;
#   - MGCP transactions/s through cmsd at that call rate, next to a raw UDP echo baseline and the
#     agent-to-agent MGCP round trip measured in the same run (test/bench/bench_mgcp.cpp);
#   - HTTP GET /status requests/s with wrk while calls run at 50% of the (standalone) rate, and the
#     call setup p99 meanwhile;
#   - failover detection/restoration from scripts/drill-failover.sh when it exists, else n/a.
#
#   scripts/bench.sh                  # full run (~40-50 min on 2 shared cores)
#   scripts/bench.sh --quick          # short steps, memory to 10k calls, short wrk run
#   scripts/bench.sh --standalone     # the standalone node only (no pair column)
#   scripts/bench.sh --reuse-calls    # keep build-bench/bench-calls.json (standalone figures)
#   scripts/bench.sh --reuse-pair     # keep build-bench/bench-pair.json (pair figures)
#   scripts/bench.sh --calls-only     # calls only: skip MGCP echo, HTTP and failover
#   scripts/bench.sh --profile        # perf profile of the pair's active node at the maximum rate
# --hold S, --step-duration S, --start-rate R, --max-rate R and --quick go to both call benchmarks;
# other options only to bench-calls.sh (--rate R, --skip-memory, --skip-overload...).
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

quick=""; calls_args=(); pair_args=(); reuse_calls=""; reuse_pair=""; pair=1; calls_only=""
wrk_s=20
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; wrk_s=10; calls_args+=("$1"); pair_args+=("$1") ;;
    --hold|--step-duration|--start-rate|--max-rate)
      calls_args+=("$1" "$2"); pair_args+=("$1" "$2"); shift ;;
    --profile) pair_args+=("$1") ;;
    --standalone) pair="" ;;
    --reuse-calls) reuse_calls=1 ;;
    --reuse-pair) reuse_pair=1 ;;
    --calls-only) calls_only=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) calls_args+=("$1") ;;
  esac
  shift
done
out_json=$BUILD_DIR/bench-results.json
calls_json=$BUILD_DIR/bench-calls.json
pair_json=$BUILD_DIR/bench-pair.json
scratch=$(mktemp -d /tmp/cms-benchall-XXXXXX)
trap 'bench_cleanup; rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

machine=$(python3 -c "import os
mem = [l for l in open('/proc/meminfo') if l.startswith('MemTotal')][0].split()[1]
cpu = [l.split(':',1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')][:1]
print('%d cores (%s), %.1f GB' % (os.cpu_count(), cpu[0] if cpu else '?', int(mem) / 1048576))")
bsay "bench: $machine, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. calls: standalone node, then the pair ------------------------------------------------------
bench_build
if [ -n "$pair" ] && { [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -x "$BUILD_DIR/link-peer" ] || [ ! -x "$BUILD_DIR/cms-witness" ]; }; then
  ninja -C "$BUILD_DIR" -j "${CMS_JOBS:-2}" link-peer cms-witness >&2 || die "build of link-peer/cms-witness failed"
fi
if [ -n "$reuse_calls" ] && [ -s "$calls_json" ]; then
  bsay "reusing the standalone call figures of $calls_json (--reuse-calls)"
else
  "$bench_root/scripts/bench-calls.sh" "${calls_args[@]}" --json "$calls_json" | tee "$scratch/calls.txt"
fi
export BENCH_NO_BUILD=1
if [ -z "$pair" ]; then
  rm -f "$scratch/pair.json"
elif [ -n "$reuse_pair" ] && [ -s "$pair_json" ]; then
  bsay "reusing the pair figures of $pair_json (--reuse-pair)"
else
  bsay "pair: scripts/bench-pair.sh ${pair_args[*]}"
  BUILD_DIR="$BUILD_DIR" "$bench_root/scripts/bench-pair.sh" "${pair_args[@]}" --json "$pair_json" \
    | tee "$scratch/pair.txt" || bsay "bench-pair.sh failed"
fi
[ -n "$pair" ] && [ -s "$pair_json" ] && cp "$pair_json" "$scratch/pair.json"
rate=$(python3 -c "import json; print(json.load(open('$calls_json'))['rate_cps'] or '')" 2>/dev/null)

# ---- 2. MGCP: through cmsd (from the rate step) and the raw UDP echo baseline ----------------------
echo_rt=""; agent_rt=""; load_mgcp=""
if [ -z "$calls_only" ]; then
  bsay "MGCP round trips: raw UDP echo vs agent-to-agent (bench_mgcp)"
  load_mgcp=$(load1)
  BUILD_DIR="$BUILD_DIR-mgcp" "$bench_root/scripts/bench-mgcp.sh" --benchmark_filter=RoundTrip \
    > "$scratch/mgcp.txt" 2>&1 || bsay "bench-mgcp.sh failed; see below"
  echo_rt=$(awk '/raw UDP echo/ { print $(NF-2) }' "$scratch/mgcp.txt")
  agent_rt=$(awk '/MGCP agent-agent/ { print $(NF-2) }' "$scratch/mgcp.txt")
  [ -n "$echo_rt" ] || tail -n 20 "$scratch/mgcp.txt" >&2
fi

# ---- 3. HTTP /status under call load ---------------------------------------------------------------
wrk_rps=""; wrk_p99=""; wrk_load=""
if [ -n "$rate" ] && [ -z "$calls_only" ]; then
  half=$(python3 -c "print(round($rate / 2, 1))")
  bsay "HTTP: wrk on /status for ${wrk_s} s while calls run at ${half}/s"
  RATE_MTAS=160; RATE_LINES=64
  # What the HTTP server can serve: without the management budget (1000 requests/s by default,
  # which bench-priority.sh measures), wrk would only find the budget.
  BENCH_HTTP_RATE=0 setup_node "$scratch/http" "$RATE_MTAS" "$RATE_LINES"
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
[ -n "$calls_only" ] && failover="not run (--calls-only)"
if [ -x "$bench_root/scripts/drill-failover.sh" ] && [ -z "$calls_only" ]; then
  bsay "failover: scripts/drill-failover.sh"
  cycles=${FAILOVER_CYCLES:-20}; [ -n "$quick" ] && cycles=3
  timeout 900 "$bench_root/scripts/drill-failover.sh" --cycles "$cycles" > "$scratch/failover.txt" 2>&1
  drill_rc=$?
  cp "$scratch/failover.txt" "$BUILD_DIR/bench-failover.txt"
  # The drill's report: "cycle detection_ms restore_ms ..." then one row per kill.
  failover=$(python3 - "$scratch/failover.txt" "$drill_rc" <<'PY'
import sys
det, res, adm, rows = [], [], [], None
for line in open(sys.argv[1]):
    f = line.split()
    if f[:1] == ["cycle"] and "detection_ms" in f and "restore_ms" in f:
        rows = {name: i for i, name in enumerate(f)}; continue
    if rows and len(f) >= len(rows) and f[0].isdigit():
        det.append(float(f[rows["detection_ms"]])); res.append(float(f[rows["restore_ms"]]))
        if "admission_ms" in rows:
            adm.append(float(f[rows["admission_ms"]]))
    elif rows and f and not f[0].isdigit():
        rows = False
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]
if det:
    admitted = ("; new calls admitted p50 %.0f / p95 %.0f / max %.0f ms" % (pct(adm, 50), pct(adm, 95), max(adm))) if adm else ""
    print("%d kills: detection p50 %.0f / p95 %.0f / max %.0f ms%s; restoration (first call answered) p50 %.0f / p95 %.0f / max %.0f ms (drill exit %s)"
          % (len(det), pct(det, 50), pct(det, 95), max(det), admitted, pct(res, 50), pct(res, 95), max(res), sys.argv[2]))
else:
    print("n/a (drill-failover.sh printed no report; exit %s)" % sys.argv[2])
PY
)
fi

python3 - "$calls_json" "$out_json" "$machine" "${echo_rt:-}" "${agent_rt:-}" "${load_mgcp:-}" \
  "${wrk_rps:-}" "${wrk_p99:-}" "${wrk_load:-}" "$failover" "${wrk_lat99:-}" \
  "${wrk_failed:-}" "${wrk_attempts:-}" "$scratch/pair.json" <<'PY'
import json, os, sys, time
calls = json.load(open(sys.argv[1]))
pair = json.load(open(sys.argv[14])) if os.path.exists(sys.argv[14]) else None
f = lambda s: float(s) if s not in ("", None) else None
echo, agent, wrk_rps, wrk_p99 = f(sys.argv[4]), f(sys.argv[5]), f(sys.argv[7]), f(sys.argv[8])

def at_rate(c):
    """The rate-search step at the sustained rate (None when not found)."""
    for s in c.get("steps", []):
        if c.get("rate_cps") and abs(s["rate"] - c["rate_cps"]) < 1e-6:
            return s
    return c.get("at_rate")

def calls_figures(c):
    step = at_rate(c)
    return {"call_rate_cps": c.get("rate_cps"), "bhca": c.get("bhca"), "hold_s": c.get("hold_s"),
            "call_rate_load1": step["load_before"] if step else None,
            "mgcp_tps_at_call_rate": step["mgcp_tps"] if step else None,
            "setup_latency_ms": {k: {"rate": v["rate"], "p50": v["p50"], "p95": v["p95"], "p99": v["p99"],
                                     "failed_pct": v["failed_pct"], "load1": v["load_before"]}
                                 for k, v in c.get("latency", {}).items()}}

standalone = calls_figures(calls)
mem = calls.get("memory", [])
standalone["memory"] = [{"calls": m["calls"], "rss_kb": m["rss_kb"], "kb_per_call": m.get("kb_per_call"),
                         "load1": m["load"]} for m in mem]
standalone["memory_stopped"] = calls.get("memory_stopped")
standalone["overload"] = calls.get("overload", {})
paired = None
if pair:
    paired = calls_figures(pair)
    paired.update({"topology": pair.get("topology"), "lines": pair.get("lines"),
                   "at_rate": pair.get("at_rate"), "billing": pair.get("billing"),
                   "profile": pair.get("profile")})
tps = standalone["mgcp_tps_at_call_rate"]
res = {
  "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": sys.argv[3],
  "topology": "pair (2 cmsd, TLS link, replication, billing to the RKS) beside a standalone node"
              if pair else "standalone node only (--standalone)",
  "standalone": standalone, "pair": paired,
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
def ratio(p, s):
    return "%.2f" % (p / s) if p and s else "n/a"
S, P = standalone, paired or {}
grid = []   # (figure, standalone, pair, pair/standalone)
grid.append(("sustained on-net call rate (calls/s)", v(S["call_rate_cps"]), v(P.get("call_rate_cps")),
             ratio(P.get("call_rate_cps"), S["call_rate_cps"])))
grid.append(("  = BHCA", v(S["bhca"], "%d"), v(P.get("bhca"), "%d"), ""))
grid.append(("  load average during the step", v(S["call_rate_load1"]), v(P.get("call_rate_load1")), ""))
grid.append(("MGCP transactions/s through cmsd at that rate", v(tps, "%.0f"),
             v(P.get("mgcp_tps_at_call_rate"), "%.0f"), ratio(P.get("mgcp_tps_at_call_rate"), tps)))
for k in ("50%", "90%"):
    s, p = S["setup_latency_ms"].get(k), (P.get("setup_latency_ms") or {}).get(k)
    fmt = lambda l: "n/a" if not l else "%.1f/s: %.2f / %.2f / %.2f ms (load %.1f)" % (l["rate"], l["p50"], l["p95"], l["p99"], l["load1"])
    grid.append(("setup p50/p95/p99 at %s of the rate" % k, fmt(s), fmt(p),
                 ratio(p and p["p99"], s and s["p99"]) + (" (p99)" if s and p else "")))
w = [max(len(r[i]) for r in grid + [("figure", "standalone", "pair", "pair/standalone")]) for i in range(4)]
print("\n" + "=" * 120)
print("machine: %s; topology: %s" % (res["machine"], res["topology"]))
print("%-*s | %-*s | %-*s | %s" % (w[0], "figure", w[1], "standalone", w[2], "pair", "pair/standalone"))
print("-" * 120)
for r in grid:
    print("%-*s | %-*s | %-*s | %s" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))
print("-" * 120)
rows = []
steps = lambda c: ", ".join("%g/s p99 %.0f ms %.1f%% failed" % (x["rate"], x["p99"], x["failed_pct"])
                            for x in c.get("steps", [])) or "n/a"
rows.append(("standalone: rate search steps", steps(calls)))
if pair:
    rows.append(("pair: rate search steps", steps(pair)))
a = P.get("at_rate")
if a:
    p = a["replication"]
    rows.append(("pair: replication at the rate", "%.1f calls/s: %.0f changes/s numbered (%.1f per call), %.0f/s applied by the standby"
                 % (a["rate"], p["numbered_per_s"], p["numbered_per_s"] / a["rate"] if a["rate"] else 0, p["applied_per_s"])))
    rows.append(("pair: replication lag", "records p50 %s / p95 %s / max %s; ms p50 %s / p95 %s / max %s (%d samples)"
                 % (p["lag_records"]["p50"], p["lag_records"]["p95"], p["lag_records"]["max"],
                    p["lag_ms"]["p50"], p["lag_ms"]["p95"], p["lag_ms"]["max"], p["samples"])))
    rows.append(("pair: billing to the RKS", "%.0f records/s during the step; at the end %s" %
                 (a["rks_records_per_s"], json.dumps(P.get("billing")))))
    rows.append(("pair: CPU (% of one core)", "%s; setup p99 %.2f ms, failed %.3f%% (load %.1f)" %
                 (json.dumps(a["cpu_pct"]), a["p99"], a["failed_pct"], a["load_before"])))
if mem:
    rows.append(("standalone: RSS baseline (no call)", "%d kB" % mem[0]["rss_kb"]))
    for m in mem[1:]:
        rows.append(("standalone: RSS at %d calls" % m["calls"], "%d kB, %s kB per established call (load %s)" % (m["rss_kb"], v(m.get("kb_per_call"), "%.2f"), v(m["load"]))))
if S["memory_stopped"]:
    rows.append(("standalone: memory ramp stopped", S["memory_stopped"]))
m = res["mgcp"]
rows.append(("raw UDP echo (same run)", "%s round trips/s; ratio standalone cmsd/echo %s" % (v(echo, "%.0f"), v(m["ratio_cmsd_to_echo"]))))
rows.append(("MGCP agent-to-agent", "%s round trips/s; ratio agent/echo %s (load %s)" % (v(agent, "%.0f"), v(m["ratio_agent_to_echo"]), v(m["load1"]))))
h = res["http_status"]
rows.append(("HTTP /status under calls (standalone)", "%s req/s (wrk -t1 -c8, budget off, p99 %s); call setup p99 meanwhile %s ms, %s/%s failed (load %s)" % (v(wrk_rps, "%.0f"), h["latency_p99"] or "n/a", v(wrk_p99, "%.2f"), v(h["calls_failed"], "%d"), v(h["calls_attempted"], "%d"), v(h["load1"]))))
rows.append(("failover detection/restoration", res["failover"]))
w0 = max(len(r[0]) for r in rows)
for k, val in rows:
    print("%-*s | %s" % (w0, k, val))
print("=" * 120)
print("json: " + sys.argv[2])
PY
