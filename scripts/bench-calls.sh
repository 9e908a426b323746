#!/usr/bin/env bash
# On-net call benchmark of one standalone cmsd with mtasim as the load:
#   1. rate search: mtasim places calls (off-hook, dial, ring, answer, hold, hang-up, release) at
#      increasing rates for a fixed time each; the highest rate with < 0.1% failed calls and setup
#      p99 < 50 ms is the sustained rate (calls/s and BHCA);
#   2. setup latency p50/p95/p99 at 50% and 90% of that rate;
#   3. overload: 130% of that rate offered, once with admission control ([calls] max_call_rate =
#      the rate) and once without; completed calls/s against the rate (goal >= 90%);
#   4. memory per established call: cmsd's VmRSS at 10k, 50k and 100k established calls (long
#      hold; 2 lines per call). Stops early, saying why, when the machine cannot get there.
# Prints the figures and writes them as JSON ($BUILD_DIR/bench-calls.json unless --json FILE).
#
#   scripts/bench-calls.sh                       # everything (about 15-25 minutes on 2 cores)
#   scripts/bench-calls.sh --quick               # short steps, memory up to 10k calls
#   scripts/bench-calls.sh --skip-memory --step-duration 20 --hold 2
#   scripts/bench-calls.sh --rate 300            # skip the search: take 300 calls/s as the rate
#
# Options: --hold S (2) --step-duration S (20) --start-rate R (50) --max-rate R (5000)
#   --rate R --skip-rate --skip-latency --skip-overload --skip-memory --memory-targets "10000 50000 100000"
#   --memory-ramp R (calls/s while filling, 250) --media (RTP on; default --no-media: media never
#   crosses cmsd) --json FILE --keep (keep the scratch directory)
# Environment: BUILD_DIR (build-bench), BENCH_NO_BUILD=1 (use the binaries as they are).
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

hold=2; step=20; start_rate=50; max_rate=5000; fixed_rate=""; media="--no-media"
do_rate=1; do_latency=1; do_memory=1; do_overload=1; targets="10000 50000 100000"; ramp=250
json_out=""; keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hold) hold=$2; shift ;;
    --step-duration) step=$2; shift ;;
    --start-rate) start_rate=$2; shift ;;
    --max-rate) max_rate=$2; shift ;;
    --rate) fixed_rate=$2; do_rate=0; shift ;;
    --skip-rate) do_rate=0 ;;
    --skip-latency) do_latency=0 ;;
    --skip-memory) do_memory=0 ;;
    --skip-overload) do_overload=0 ;;
    --memory-targets) targets=$2; shift ;;
    --memory-ramp) ramp=$2; shift ;;
    --media) media="" ;;
    --quick) step=8; targets="10000" ;;
    --json) json_out=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench-calls: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
json_out=${json_out:-$BUILD_DIR/bench-calls.json}

scratch=$(mktemp -d /tmp/cms-bench-XXXXXX)
finish() {
  bench_cleanup
  [ -n "$keep" ] && bsay "scratch kept: $scratch" || rm -rf "$scratch"
}
trap finish EXIT
trap 'exit 130' INT TERM

bench_build

# Lines for the rate runs: 160 MTAs x 64 lines; enough for ~1,500 calls/s with a 2 s hold.
RATE_MTAS=${RATE_MTAS:-160}; RATE_LINES=${RATE_LINES:-64}
results="$scratch/results.jsonl"; : > "$results"
record() { echo "$1" >> "$results"; }

# run_calls RATE DURATION TAG: one mtasim scenario against the running node; prints the report file.
run_calls() {
  local rate=$1 dur=$2 tag=$3 rep="$scratch/report-$3.json" load
  load=$(load1)
  # shellcheck disable=SC2046
  "$BUILD_DIR/mtasim" $(mtasim_args "$RATE_MTAS" "$RATE_LINES") $media --scenario calls \
    --rate "$rate" --hold "$hold" --duration "$dur" --digit-interval 0 --answer-delay 200 \
    --hangup-delay 100 --setup-timeout 5 --register-timeout 120 --rsip-spread 2000 \
    --report-file "$rep" --json > "$scratch/mtasim-$tag.out" 2>&1 &
  local sim=$!
  bench_pids+=("$sim")
  # MGCP messages through cmsd while calls are placed: from the first attempt for the duration.
  local a0 m0="" m1="" t0 t1 a
  a0=$(status_counter "$NODE_HTTP" cms_call_attempts_total); a0=${a0:-0}
  while kill -0 "$sim" 2>/dev/null; do
    a=$(status_counter "$NODE_HTTP" cms_call_attempts_total)
    if [ "${a:-0}" != "$a0" ]; then
      m0=$(mgcp_messages); t0=$(date +%s.%N); break
    fi
    sleep 0.2
  done
  if [ -n "$m0" ]; then
    sleep "$(python3 -c "print(max(1, $dur - 1))")"
    m1=$(mgcp_messages); t1=$(date +%s.%N)
  fi
  wait "$sim"
  [ -s "$rep" ] || die "mtasim wrote no report; see $scratch/mtasim-$tag.out"
  local mtx=0
  [ -n "$m1" ] && mtx=$(python3 -c "print(round(($m1 - $m0) / 2 / ($t1 - $t0), 1))")
  python3 - "$rep" "$rate" "$dur" "$load" "$(load1)" "$tag" "$mtx" >> "$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c = d["calls"]; s = c["setup_latency_ms"]
att = c["attempts"]; failed = c["failed"] + c.get("release_timeouts", 0)
print(json.dumps({"tag": sys.argv[6], "rate": float(sys.argv[2]), "duration_s": float(sys.argv[3]),
  "attempts": att, "completed": c["completed"], "failed": failed, "failures": c["failures"],
  "skipped": c["skipped"], "release_timeouts": c.get("release_timeouts", 0),
  "failed_pct": round(100.0 * failed / att, 3) if att else 100.0,
  "p50": s.get("p50", 0), "p95": s.get("p95", 0), "p99": s.get("p99", 0), "max": s.get("max", 0),
  "lines_registered": d["lines_registered"], "lines": d["lines"],
  "mgcp_tps": float(sys.argv[7]),
  "load_before": float(sys.argv[4]), "load_after": float(sys.argv[5])}))
PY
  tail -n 1 "$results"
}

# Messages cmsd received + sent (a transaction is two: command and response).
mgcp_messages() {
  echo $(( $(metric_sum "$NODE_HTTP" cms_mgcp_messages_received_total) + \
           $(metric_sum "$NODE_HTTP" cms_mgcp_messages_sent_total) ))
}

# passes LINE: the step meets the objective (and mtasim placed what was asked, no line shortage).
passes() {
  python3 -c "import json,sys
r=json.loads(sys.argv[1])
ok = r['attempts'] >= 0.97 * r['rate'] * r['duration_s'] and r['skipped'] == 0 \
     and r['failed'] * 1000 < r['attempts'] and r['p99'] < 50
sys.exit(0 if ok else 1)" "$1"
}

show() {
  python3 -c "import json,sys
r=json.loads(sys.argv[1])
print('  %-10s rate %7.1f/s  attempts %6d  completed %6d  failed %5d (%.3f%%) %s skipped %d  setup p50 %.1f p95 %.1f p99 %.1f ms  load %.2f' % (
  r['tag'], r['rate'], r['attempts'], r['completed'], r['failed'], r['failed_pct'],
  r['failures'] or '', r['skipped'], r['p50'], r['p95'], r['p99'], r['load_before']) + '  mgcp %.0f tx/s' % r['mgcp_tps'])" "$1" >&2
}

rate_found=""
if [ "$do_rate" = 1 ] || [ "$do_latency" = 1 ]; then
  bsay "provisioning $((RATE_MTAS * RATE_LINES)) lines; starting cmsd"
  setup_node "$scratch/rate" "$RATE_MTAS" "$RATE_LINES"
  rate_pid=$NODE_PID; rate_http=$NODE_HTTP
fi

if [ "$do_rate" = 1 ]; then
  bsay "rate search: ${step} s per step, hold ${hold} s, pass = <0.1% failed and setup p99 < 50 ms"
  good=""; bad=""; r=$start_rate
  while :; do
    line=$(run_calls "$r" "$step" "step-$r"); show "$line"
    if passes "$line"; then good=$r; else bad=$r; break; fi
    r=$(python3 -c "print(int($r * 1.5))")
    [ "$r" -le "$max_rate" ] || break
  done
  # Two bisection steps between the last good and the first bad rate.
  if [ -n "$good" ] && [ -n "$bad" ]; then
    for _ in 1 2; do
      m=$(( (good + bad) / 2 ))
      [ $((bad - good)) -le $((good / 20 + 1)) ] && break
      line=$(run_calls "$m" "$step" "step-$m"); show "$line"
      if passes "$line"; then good=$m; else bad=$m; fi
    done
  fi
  rate_found=$good
  [ -n "$rate_found" ] || bsay "no rate met the objective (lowest tried: $start_rate/s)"
else
  rate_found=$fixed_rate
fi

if [ "$do_latency" = 1 ] && [ -n "$rate_found" ]; then
  for pct in 50 90; do
    r=$(python3 -c "print(round($rate_found * $pct / 100.0, 1))")
    bsay "setup latency at ${pct}% of ${rate_found}/s = ${r}/s for $((step * 2)) s"
    line=$(run_calls "$r" "$((step * 2))" "at-$pct"); show "$line"
  done
fi
if [ -n "${rate_pid:-}" ]; then
  rate_rss=$(vmrss_kb "$rate_pid")
  stop_pid "$rate_pid"
fi

# ---- overload: 130% of the rate, with and without admission control ----------------------------
if [ "$do_overload" = 1 ] && [ -n "$rate_found" ]; then
  offered=$(python3 -c "print(round($rate_found * 1.3, 1))")
  cap=$(python3 -c "print(max(1, int(round($rate_found))))")
  for mode in admission none; do
    if [ "$mode" = admission ]; then
      export BENCH_EXTRA_CONFIG=$'[calls]\nmax_call_rate = '"$cap"
    else
      export BENCH_EXTRA_CONFIG=""
    fi
    bsay "overload: ${offered}/s offered (130% of ${rate_found}/s), admission control: $mode"
    setup_node "$scratch/over-$mode" "$RATE_MTAS" "$RATE_LINES"
    line=$(run_calls "$offered" "$((step * 2))" "over-$mode"); show "$line"
    shed=$(metric_sum "$NODE_HTTP" 'cms_calls_shed_total{reason="overload"}')
    python3 -c "import json,sys
r=json.loads(sys.argv[1]); r['shed_by_node']=int(sys.argv[2]); r['max_call_rate']=sys.argv[3]
print(json.dumps(r))" "$line" "${shed:-0}" "$([ $mode = admission ] && echo "$cap" || echo 0)" >> "$results"
    stop_pid "$NODE_PID"
  done
  unset BENCH_EXTRA_CONFIG
fi

# ---- memory per established call --------------------------------------------------------------
mem_file="$scratch/memory.jsonl"; : > "$mem_file"
mem_reason=""
if [ "$do_memory" = 1 ]; then
  max_target=0
  for t in $targets; do [ "$t" -gt "$max_target" ] && max_target=$t; done
  # 2 lines per call, 64 lines per MTA, 2% spare so the last callers still find an idle callee.
  lines_needed=$(( max_target * 2 * 102 / 100 ))
  mem_mtas=$(( (lines_needed + 63) / 64 ))
  bsay "memory: provisioning $((mem_mtas * 64)) lines ($mem_mtas MTAs x 64) for up to $max_target calls"
  setup_node "$scratch/mem" "$mem_mtas" 64
  mem_pid=$NODE_PID
  # shellcheck disable=SC2046
  "$BUILD_DIR/mtasim" $(mtasim_args "$mem_mtas" 64) --no-media --answer-delay 100 --scenario calls \
    --rate "$ramp" --hold 86400 --duration $(( max_target / ramp + 30 )) --digit-interval 0 \
    --setup-timeout 20 --register-timeout 900 --rsip-spread $(( mem_mtas * 64 )) \
    --max-retrans 10 --json > "$scratch/mtasim-mem.out" 2>&1 &
  sim=$!; bench_pids+=("$sim")
  # Baseline: every line registered and idle, no call yet (mtasim starts calling once all are in).
  t0=$(date +%s)
  while :; do
    reg=$(status_counter "$NODE_HTTP" cms_endpoints_registered); reg=${reg:-0}
    [ "${reg%.*}" -ge $((mem_mtas * 64)) ] && break
    kill -0 "$sim" 2>/dev/null || { mem_reason="mtasim exited during registration"; break; }
    kill -0 "$mem_pid" 2>/dev/null || { mem_reason="cmsd exited during registration"; break; }
    [ $(( $(date +%s) - t0 )) -lt 600 ] || { mem_reason="registration of $((mem_mtas * 64)) lines took > 600 s (reached $reg)"; break; }
    sleep 1
  done
  base_rss=$(vmrss_kb "$mem_pid")
  bsay "memory: $reg lines registered after $(( $(date +%s) - t0 )) s; baseline VmRSS ${base_rss} kB"
  # (RSIPs spread at 1,000 lines/s: each registration is 3 transactions - RSIP, AUEP, RQNT - and
  # a faster storm at 200k lines ran past what the node answers in time, so lines timed out and
  # re-registered in a loop.)
  echo "{\"calls\": 0, \"rss_kb\": ${base_rss:-0}, \"load\": $(load1), \"lines\": $((mem_mtas * 64)), \"lines_up_s\": ${NODE_LINES_UP_S:-0}, \"register_s\": $(( $(date +%s) - t0 ))}" >> "$mem_file"
  prev_active=0; stall=0
  for t in $targets; do
    [ -z "$mem_reason" ] || break
    while :; do
      act=$(status_counter "$NODE_HTTP" cms_calls_active); act=${act:-0}
      if [ "$act" -ge "$t" ]; then
        rss=$(vmrss_kb "$mem_pid")
        echo "{\"calls\": $act, \"target\": $t, \"rss_kb\": $rss, \"load\": $(load1)}" >> "$mem_file"
        bsay "memory: $act calls active, VmRSS $rss kB"
        break
      fi
      kill -0 "$mem_pid" 2>/dev/null || { mem_reason="cmsd exited at $act calls"; break; }
      kill -0 "$sim" 2>/dev/null || { mem_reason="mtasim ended at $act calls"; break; }
      if [ "$act" -le "$prev_active" ]; then stall=$((stall + 1)); else stall=0; fi
      prev_active=$act
      if [ "$stall" -ge 30 ]; then
        mem_reason="established calls stopped growing at $act (30 s without progress; see cms_call_failures_total)"
        rss=$(vmrss_kb "$mem_pid")
        echo "{\"calls\": $act, \"target\": $t, \"rss_kb\": $rss, \"load\": $(load1), \"stalled\": true}" >> "$mem_file"
        break
      fi
      sleep 1
    done
  done
  curl -s --max-time 3 "http://127.0.0.1:$NODE_HTTP/metrics" | grep -E '^cms_call_failures_total' \
    > "$scratch/mem-failures.txt" || true
  stop_pid "$sim"
  stop_pid "$mem_pid"
fi

python3 - "$results" "$mem_file" "$json_out" "${rate_found:-}" "$hold" "$step" "$mem_reason" "$media" <<'PY'
import json, sys, os
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mem = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
rate = float(sys.argv[4]) if sys.argv[4] else None
out = {"hold_s": float(sys.argv[5]), "step_duration_s": float(sys.argv[6]),
       "media": sys.argv[8] == "", "steps": [r for r in res if r["tag"].startswith("step-")],
       "rate_cps": rate, "bhca": int(rate * 3600) if rate else None,
       "latency": {r["tag"].replace("at-", "") + "%": r for r in res if r["tag"].startswith("at-")},
       "memory": mem, "memory_stopped": sys.argv[7] or None,
       "overload": {}}
for r in res:
    if r["tag"].startswith("over-") and "shed_by_node" in r:
        done = r["completed"] / r["duration_s"]
        r["completed_cps"] = round(done, 1)
        r["throughput_vs_capacity"] = round(done / rate, 3) if rate else None
        out["overload"][r["tag"].replace("over-", "")] = r
base = mem[0]["rss_kb"] if mem else None
for m in mem[1:]:
    m["kb_per_call"] = round((m["rss_kb"] - base) / m["calls"], 2) if m["calls"] else None
os.makedirs(os.path.dirname(os.path.abspath(sys.argv[3])), exist_ok=True)
json.dump(out, open(sys.argv[3], "w"), indent=1)
print("\n== on-net call benchmark (cmsd standalone, mtasim load%s, hold %g s) ==" %
      ("" if out["media"] else ", --no-media", out["hold_s"]))
if rate:
    print("sustained call rate : %g calls/s = %d BHCA (<0.1%% failed, setup p99 < 50 ms, %g s steps)"
          % (rate, out["bhca"], out["step_duration_s"]))
else:
    print("sustained call rate : not found")
for k, r in out["latency"].items():
    print("setup latency @%-4s: %6.1f calls/s  p50 %.2f  p95 %.2f  p99 %.2f ms  (failed %.3f%%, load %.2f)"
          % (k, r["rate"], r["p50"], r["p95"], r["p99"], r["failed_pct"], r["load_before"]))
for k, r in out["overload"].items():
    print("overload 130%% (%-9s): offered %.1f/s, completed %.1f/s = %.0f%% of capacity, failed %.1f%%, shed by node %d, setup p99 %.1f ms (load %.2f)"
          % (k, r["rate"], r["completed_cps"], 100 * (r["throughput_vs_capacity"] or 0), r["failed_pct"], r["shed_by_node"], r["p99"], r["load_before"]))
if mem:
    print("memory              : %d lines: actors up in %d s, registered in %d s; baseline VmRSS %d kB (%.2f kB per idle line)"
          % (mem[0].get("lines", 0), mem[0].get("lines_up_s", 0), mem[0].get("register_s", 0), base,
             base / mem[0]["lines"] if mem[0].get("lines") else 0))
    for m in mem[1:]:
        print("                      %7d calls  VmRSS %8d kB  %6.2f kB per established call  (load %.2f)"
              % (m["calls"], m["rss_kb"], m["kb_per_call"] or 0, m["load"]))
if out["memory_stopped"]:
    print("memory stopped      : " + out["memory_stopped"])
print("json                : " + sys.argv[3])
PY
[ -s "${scratch}/mem-failures.txt" ] && { echo "failures during the memory ramp:"; cat "$scratch/mem-failures.txt"; }
exit 0
