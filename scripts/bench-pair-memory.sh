#!/usr/bin/env bash
# Memory per established call of the PAIR, both nodes (RSS per established call at 10k,
# 50k and 100k calls, both nodes). The standalone figure is bench-calls.sh's "memory per
# established call" step; this is the same method on the pair of bench-pair.sh: two cmsd nodes
# joined by the TLS node link, replication on, billing (EMs over RADIUS) to the RKS (FreeRADIUS),
# mtasim with both call agents in its list.
#   - lines provisioned: largest target x 2 (2 lines per call) x 1.02 spare, in MTAs of 64 lines;
#   - mtasim places calls at the ramp rate with a hold of 86400 s, so every call stays up;
#   - baseline: VmRSS of the active and of the standby once every line is registered (and the
#     standby has caught up with the registrations, up to 120 s);
#   - at each target (established calls on the active, cms_calls_active): VmRSS of both nodes, the
#     calls the standby holds (its replicated catalogue, GET /calls total), the replication lag
#     (cms_replication_lag_records / _ms of the active) and the epoch (a change = the pair flapped);
#   - kB per call = (VmRSS - baseline) / (calls - calls at baseline), each node over its own calls;
#   - stops early, saying why, when the calls stop growing for 30 s, a process exits or the pair
#     fails over.
# The pair runs with the shipped detection (3 x 100 ms heartbeats, 500 ms lease); other values of
# PAIR_HEARTBEAT_MISSES or PAIR_LEASE_MS print a warning and mark the JSON "relaxed". Prints a table and writes JSON
# ($BUILD_DIR/bench-pair-memory.json unless --json FILE).
#
#   scripts/bench-pair-memory.sh                              # 10k, 50k, 100k calls (204k lines)
#   scripts/bench-pair-memory.sh --targets "200 500" --ramp 50   # a quick check
#
# Options: --targets "10000 50000 100000" --ramp R (calls/s while filling, 250) --json FILE
# Environment: BUILD_DIR (default build-bench), BENCH_NO_BUILD=1 (use the binaries as they are;
#   needs cmsd, mtasim, link-peer, cms-witness; and freeradius), KEEP_SCRATCH=1 (keep logs, configs and stores),
#   BENCH_PAIR_PORT_BASE (first MTA UDP port, default 24000 here: below the ephemeral range and
#   clear of bench-calls.sh's 20000.. and bench-pair.sh's 48000..), PAIR_HEARTBEAT_MISSES,
#   PAIR_LEASE_MS, PAIR_LOG_LEVEL (see scripts/drill-pair.sh).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$(pwd)/$BUILD_DIR ;; esac
# bench-lib.sh first: drill-pair.sh redefines `metric` (node index, not port), which its own
# wait_synced needs; nothing used here from bench-lib.sh calls its `metric`.
source "$(dirname "$0")/bench-lib.sh"
source "$(dirname "$0")/drill-lib.sh"
source "$(dirname "$0")/drill-pair.sh"
trap cleanup_common EXIT   # drill-lib.sh made $scratch: removed (and every process killed) on exit
trap 'exit 130' INT TERM

targets="10000 50000 100000" ramp=250 json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) targets=$2; shift ;;
    --ramp) ramp=$2; shift ;;
    --json) json_out=$2; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "bench-pair-memory: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
json_out=${json_out:-$BUILD_DIR/bench-pair-memory.json}
port_base=${BENCH_PAIR_PORT_BASE:-24000}
max_target=0
for t in $targets; do
  if ! [[ "$t" =~ ^[0-9]+$ ]] || [ "$t" -eq 0 ]; then echo "bench-pair-memory: bad target '$t'" >&2; exit 2; fi
  [ "$t" -gt "$max_target" ] && max_target=$t
done
if ! [[ "$ramp" =~ ^[0-9]+$ ]] || [ "$ramp" -eq 0 ]; then echo "bench-pair-memory: bad --ramp '$ramp'" >&2; exit 2; fi
mkdir -p "$(dirname "$json_out")"
[ -x /usr/bin/python3 ] && python3() { /usr/bin/python3 "$@"; }

# ---- binaries, provisioning, rks, pair ------------------------------------------------------------
bench_build
if [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -x "$BUILD_DIR/link-peer" ] || [ ! -x "$BUILD_DIR/cms-witness" ]; then
  ninja -C "$BUILD_DIR" -j "${CMS_JOBS:-2}" link-peer cms-witness >&2 || die "build of link-peer/cms-witness failed"
fi
build_binaries   # everything is built by now: this makes the certificates

# 2 lines per call, 64 lines per MTA, 2% spare so the last callers still find an idle callee.
lines_needed=$(( max_target * 2 * 102 / 100 ))
mtas=$(( (lines_needed + 63) / 64 ))
lines=$(( mtas * 64 ))
gen_provisioning "$scratch/provisioning.toml" "$mtas" 64 "$port_base" 5551001
export PAIR_PROVISIONING="$scratch/provisioning.toml" PAIR_LOG_LEVEL=${PAIR_LOG_LEVEL:-warn}
export PAIR_HEARTBEAT_MISSES=${PAIR_HEARTBEAT_MISSES:-3} PAIR_LEASE_MS=${PAIR_LEASE_MS:-500}
if [ "$PAIR_HEARTBEAT_MISSES" != 3 ] || [ "$PAIR_LEASE_MS" != 500 ]; then
  bsay "bench-pair-memory: WARNING: not the shipped failure detection (misses $PAIR_HEARTBEAT_MISSES, lease $PAIR_LEASE_MS ms): these figures do not describe the product"
fi
export SIM_LINES="--mtas $mtas --lines 64 --base-port $port_base --dn-base 5551001"
pair_rks_start   # no link-peer: PAIR_PROVISIONING is set (no data link to answer for)
bsay "bench-pair-memory: $lines lines ($mtas MTAs x 64) for up to $max_target calls, ramp $ramp/s, scratch $scratch"
pair_setup 0
pair_start 0; pair_start 1
wait_roles active standby 600 || die "pair did not form: $(roles)"
wait_synced 600 || die "standby did not synchronise"
a=$(active_node); s=$((1 - a))
bsay "pair formed: $(roles), standby synchronised"
# Every line's actor must be up before the MTAs register (an RSIP for a line whose actor has not
# started yet is refused and the MTA backs off): as bench-lib.sh's setup_node, on the active.
t0=$SECONDS
wait_line_actors "${http_port[$a]}" "$lines"
lines_up_s=$((SECONDS - t0))

# ---- samples -------------------------------------------------------------------------------------
# active_status: "role calls_active lag_records lag_ms epoch replication_seq" of the active.
active_status() {
  http_json "${http_port[$a]}" /status "'%s %d %d %d %s %d' % (d.get('role', ''),
    int(d['counters'].get('cms_calls_active', 0)), int(d['cluster'].get('replication_lag_records', 0)),
    int(d['cluster'].get('replication_lag_ms', 0)), d.get('epoch', ''), int(d['counters'].get('cms_replication_seq', 0)))"
}
# standby_calls: calls the standby holds (replicated into its catalogue, any phase).
standby_calls() { http_json "${http_port[$s]}" "/calls?limit=1" "d['total']"; }
mem_file="$scratch/memory.jsonl"; : > "$mem_file"
# sample TARGET [STALLED]: both nodes' VmRSS and call counts, appended to $mem_file.
sample() {
  local ra rs sc st role act lr lm ep seq sseq
  ra=$(vmrss_kb "${node_pid[$a]}"); st=$(active_status)
  rs=$(vmrss_kb "${node_pid[$s]}"); sc=$(standby_calls)
  sseq=$(status_counter "${http_port[$s]}" cms_replication_seq)
  read -r role act lr lm ep seq <<< "$st"
  echo "{\"target\": $1, \"calls\": ${act:-0}, \"active_rss_kb\": ${ra:-0}, \"standby_rss_kb\": ${rs:-0}," \
    "\"standby_calls\": ${sc:-0}, \"lag_records\": ${lr:-0}, \"lag_ms\": ${lm:-0}, \"epoch\": \"${ep:-}\"," \
    "\"active_seq\": ${seq:-0}, \"standby_seq\": ${sseq:-0}, \"load\": $(load1), \"stalled\": ${2:-false}}" >> "$mem_file"
  bsay "memory: ${act:-?} calls active, VmRSS active ${ra:-?} kB, standby ${rs:-?} kB (${sc:-?} calls replicated, lag ${lr:-?} records / ${lm:-?} ms)"
}

# ---- fill ----------------------------------------------------------------------------------------
epoch0=$(json_field "$(url "$a" /status)" epoch)
sim_start --scenario calls --rate "$ramp" --hold 86400 --duration $(( max_target / ramp + 60 )) \
  --no-media --answer-delay 100 --digit-interval 0 --setup-timeout 20 --register-timeout 900 \
  --rsip-spread "$lines" --max-retrans 10
# Baseline: every line registered and idle (mtasim starts calling once all are in).
reason="" t0=$(date +%s) reg=0
while :; do
  reg=$(status_counter "${http_port[$a]}" cms_endpoints_registered); reg=${reg:-0}
  [ "$reg" -ge "$lines" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { reason="mtasim exited during registration"; break; }
  kill -0 "${node_pid[$a]}" 2>/dev/null || { reason="active cmsd exited during registration"; break; }
  [ $(( $(date +%s) - t0 )) -lt 900 ] || { reason="registration of $lines lines took > 900 s (reached $reg)"; break; }
  sleep 1
done
register_s=$(( $(date +%s) - t0 ))
# The standby applies the registrations through the stream: let it catch up (the calls may start
# meanwhile; their count at the baseline is subtracted).
for _ in $(seq 1 240); do
  [ -n "$reason" ] && break
  read -r _ _ lr _ < <(active_status)
  [ "${lr:-1}" = 0 ] && break
  sleep 0.5
done
sample 0
bsay "memory: $reg lines registered after ${register_s} s (line actors up after ${lines_up_s} s); baseline taken"

prev=0 stall=0
for t in $targets; do
  [ -z "$reason" ] || break
  while :; do
    read -r role act _ _ ep _ < <(active_status); act=${act:-0}
    if [ "$act" -ge "$t" ]; then sample "$t"; break; fi
    kill -0 "${node_pid[$a]}" 2>/dev/null || { reason="active cmsd exited at $prev calls"; break; }
    kill -0 "${node_pid[$s]}" 2>/dev/null || { reason="standby cmsd exited at $prev calls"; break; }
    kill -0 "$sim_pid" 2>/dev/null || { reason="mtasim ended at $act calls"; break; }
    if [ -n "$role" ] && { [ "$role" != active ] || [ "$ep" != "$epoch0" ]; }; then
      reason="the pair failed over at $act calls (${names[$a]} $role, epoch $epoch0 -> $ep)"; break
    fi
    if [ "$act" -le "$prev" ]; then stall=$((stall + 1)); else stall=0; fi
    prev=$act
    if [ "$stall" -ge 30 ]; then
      reason="established calls stopped growing at $act (30 s without progress; see cms_call_failures_total)"
      sample "$t" true; break
    fi
    sleep 1
  done
done
curl -s --max-time 3 "$(url "$a" /metrics)" | grep -E '^cms_call_failures_total' > "$scratch/mem-failures.txt" || true
sim_stop

python3 - "$mem_file" "$json_out" "$reason" "$lines" "$mtas" "$ramp" "$targets" "$lines_up_s" "$register_s" \
  "$PAIR_HEARTBEAT_MISSES" "$PAIR_LEASE_MS" "${names[$a]}" "${names[$s]}" <<'PY'
import json, sys
a = sys.argv
mem = [json.loads(l) for l in open(a[1]) if l.strip()]
base = mem[0] if mem else None
def per_call(m, rss, calls, calls0):
    n = m[calls] - base[calls0]
    return round((m[rss] - base[rss]) / n, 2) if n > 0 else None
samples = []
for m in mem[1:]:
    # The standby's own call count when it has one (its catalogue), else the active's.
    sc = "standby_calls" if m["standby_calls"] > 0 else "calls"
    samples.append(dict(m, active_kb_per_call=per_call(m, "active_rss_kb", "calls", "calls"),
                        standby_kb_per_call=per_call(m, "standby_rss_kb", sc, sc)))
out = {"topology": "pair: 2 cmsd (TLS node link, replication), billing to the RKS (FreeRADIUS), mtasim --no-media",
       "active": a[12], "standby": a[13], "lines": int(a[4]), "mtas": int(a[5]), "ramp_cps": float(a[6]),
       "hold_s": 86400, "targets": [int(t) for t in a[7].split()],
       "lines_up_s": int(a[8]), "register_s": int(a[9]),
       "detection": {"heartbeat_misses": int(a[10]), "lease_ms": int(a[11])},
       "baseline": base, "samples": samples, "stopped": a[3] or None}
json.dump(out, open(a[2], "w"), indent=1)
print("\n== pair memory per established call (%d lines in %d MTAs, ramp %g calls/s, hold 86400 s) =="
      % (out["lines"], out["mtas"], out["ramp_cps"]))
if base:
    print("baseline (registered, idle): active %s %d kB (%.2f kB per line), standby %s %d kB (%.2f kB per line); %d calls, lag %d records"
          % (a[12], base["active_rss_kb"], base["active_rss_kb"] / out["lines"], a[13], base["standby_rss_kb"],
             base["standby_rss_kb"] / out["lines"], base["calls"], base["lag_records"]))
fmt = "%8s | %14s | %14s | %15s | %15s | %10s | %12s | %5s"
print(fmt % ("calls", "active VmRSS", "active kB/call", "standby VmRSS", "standby kB/call", "replicated", "lag rec/ms", "load"))
kb = lambda v: "-" if v is None else "%.2f" % v
for m in samples:
    print(fmt % (m["calls"], "%d kB" % m["active_rss_kb"], kb(m["active_kb_per_call"]), "%d kB" % m["standby_rss_kb"],
                 kb(m["standby_kb_per_call"]), m["standby_calls"], "%d/%d" % (m["lag_records"], m["lag_ms"]),
                 "%.2f" % m["load"]) + ("  (stalled)" if m["stalled"] else ""))
if out["stopped"]:
    print("stopped early: " + out["stopped"])
print("json: " + a[2])
PY
[ -s "$scratch/mem-failures.txt" ] && { echo "failures during the ramp (active):"; cat "$scratch/mem-failures.txt"; }
exit 0
