#!/usr/bin/env bash
# Soak of the pair: two cmsd nodes with replication and billing (Event Messages over RADIUS) to
# the RKS (FreeRADIUS, scripts/lib/rks.sh), under mtasim's call load for H hours, with a kill -9 of the active every few minutes (the
# killed node restarts and rejoins as standby). Every minute it samples each node's VmRSS, open file
# descriptors, SQLite size and unsent outbox rows, the records with EMs at the RKS and the calls in
# progress.
# At the end the load drains and it checks that nothing leaked or was lost:
#   - no established call dropped (mtasim), no call left on the active, every line idle and
#     registered on the active;
#   - the RKS holds exactly the active's outbox (the EMs of every record, each once, none foreign:
#     scripts/lib/em_audit.py) and both outboxes agree; every answered call has its Signaling_Stop
#     at the RKS. With a billing
#     retention (PAIR_BILLING_EXTRA="retention_s = N") each node prunes delivered records older
#     than N s on its own schedule, so a record may be missing from an outbox only when it is
#     older than the window and the RKS has it;
#   - file descriptors flat per node incarnation.
#
#   scripts/soak-pair.sh --hours 1 --rate 40 --failover-every 300
#
# Options: --hours H (1) --rate R (40) --hold S (10) --mtas N --lines M (32 x 64)
#   --failover-every S (300; 0 = none) --sample-s S (60) --witnesses N (0)
#   BUILD_DIR=<Release build with cmsd, mtasim, link-peer, cms-witness> (default build-release)
# Output: $scratch (kept): samples.csv, failovers.csv, summary.json, node and simulator logs.
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"

hours=1 rate=40 hold=10 mtas=32 lines=64 failover_every=300 sample=60 witnesses=0
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --mtas) mtas=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    --failover-every) failover_every=$2; shift 2 ;;
    --sample-s) sample=$2; shift 2 ;;
    --witnesses) witnesses=$2; shift 2 ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "soak-pair: unknown option $1" >&2; exit 2 ;;
  esac
done
KEEP_SCRATCH=1
source "$(dirname "$0")/drill-pair.sh"
trap cleanup_common EXIT

duration=$(python3 -c "print(int(float('$hours') * 3600))")
port_base=31000
echo "soak-pair: scratch $scratch, ${hours} h at $rate calls/s held ${hold}s, $((mtas * lines)) lines," \
  "kill -9 of the active every ${failover_every}s"
build_binaries

# ---- provisioning, RKS, pair -----------------------------------------------------------------
(source "$drill_root/scripts/bench-lib.sh"; gen_provisioning "$scratch/provisioning.toml" "$mtas" "$lines" "$port_base" 5551001)
# Provisioning first: with it, no link-peer is needed on the default provisioning's fixed
# address (127.0.0.51:5010), which a drill or test beside the soak may need.
export PAIR_PROVISIONING="$scratch/provisioning.toml" PAIR_LOG_LEVEL=${PAIR_LOG_LEVEL:-warn}
pair_rks_start
pair_setup "$witnesses"
pair_start 0; pair_start 1
wait_roles active standby 120; objective "pair formed (A active, B standby)" $? "$(roles)"
wait_synced 120; objective "standby synchronised (snapshot applied)" $? ""

export SIM_LINES="--mtas $mtas --lines $lines --base-port $port_base --dn-base 5551001"
sim_start --scenario calls --rate "$rate" --hold "$hold" --duration "$duration" --no-media \
  --digit-interval 0 --answer-delay 200 --hangup-delay 100 --setup-timeout 10 --register-timeout 120 \
  --rsip-spread 2000 --drain-timeout 60
say "mtasim: load running for ${duration}s"

# ---- sampling and failovers --------------------------------------------------------------------
db_bytes() { du -cb "$scratch/${names[$1]}/cms.db"* 2>/dev/null | awk 'END { print $1 }'; }
rks_count() { rks_records "$rks_db"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/${node_pid[$1]}/status" 2>/dev/null; }
fds() { ls "/proc/${node_pid[$1]}/fd" 2>/dev/null | wc -l; }
sample_row() {
  local a; a=$(active_node)
  echo "$1,$(role 0),$(rss 0),$(fds 0),$(db_bytes 0),$(unsent 0),$(role 1),$(rss 1),$(fds 1),$(db_bytes 1),$(unsent 1),$(rks_count),$([ -n "$a" ] && metric "$a" cms_calls_active),$(sim_report_field calls.attempts),$(sim_report_field calls.answered),$(sim_report_field calls.failed),$(sim_report_field calls.failures.dropped),$(cut -d' ' -f1 /proc/loadavg)"
}
echo "elapsed_s,role_a,rss_a_kb,fds_a,db_a_bytes,unsent_a,role_b,rss_b_kb,fds_b,db_b_bytes,unsent_b,rks_records,calls_active,sim_attempts,sim_answered,sim_failed,sim_dropped,load1" > "$scratch/samples.csv"
echo "n,killed,detection_ms,restore_ms,rejoined_s" > "$scratch/failovers.csv"
t0=$(date +%s)
sample_row 0 >> "$scratch/samples.csv"
next_sample=$((t0 + sample))
next_kill=$((t0 + (failover_every > 0 ? failover_every : duration * 10)))
kills=0
while kill -0 "$sim_pid" 2>/dev/null; do
  now=$(date +%s)
  if [ "$now" -ge "$next_sample" ]; then
    sample_row $((now - t0)) >> "$scratch/samples.csv"
    tail -n 1 "$scratch/samples.csv" >&2
    next_sample=$((next_sample + sample))
  fi
  if [ "$now" -ge "$next_kill" ] && [ $((now - t0)) -lt $((duration - 60)) ]; then
    a=$(active_node)
    if [ -z "$a" ]; then objective "failover $((kills + 1)): an active node exists before the kill" 1 "$(roles)"
    else
      s=$((1 - a)); kills=$((kills + 1))
      answered0=$(sim_report_field calls.answered)
      say "failover $kills: kill -9 ${names[$a]}"
      k0=$(now_ms); kill -KILL "${node_pid[$a]}"
      while [ "$(role "$s")" != active ] && [ $(( $(now_ms) - k0 )) -lt 10000 ]; do sleep 0.01; done
      k1=$(now_ms)
      while [ "$(sim_report_field calls.answered)" -le "$answered0" ] && [ $(( $(now_ms) - k1 )) -lt 10000 ]; do sleep 0.02; done
      k2=$(now_ms)
      r0=$(date +%s); pair_start "$a"
      wait_role "$a" standby 180; ok=$?
      wait_synced 120 || ok=1
      objective "failover $kills: ${names[$s]} took over, ${names[$a]} rejoined" $ok \
        "detection $((k1 - k0)) ms, calls again $((k2 - k0)) ms, rejoin $(( $(date +%s) - r0 )) s"
      echo "$kills,${names[$a]},$((k1 - k0)),$((k2 - k0)),$(( $(date +%s) - r0 ))" >> "$scratch/failovers.csv"
    fi
    next_kill=$(( $(date +%s) + failover_every ))
  fi
  sleep 1
done
sim_wait 120
a=$(active_node)
[ -n "$a" ] || { objective "an active node at the end" 1 "$(roles)"; exit 1; }
wait_drained "$a" 60
# Every record reaches the RKS once the load stops (the forwarder drains the outbox).
wait_delivered "$a" 120
sleep 2
sample_row $(( $(date +%s) - t0 )) >> "$scratch/samples.csv"

# ---- the node's state against the simulator's and the RKS's ---------------------------------------
curl -s --max-time 5 "$(url "$a" "/calls?limit=1000")" > "$scratch/calls.json"
: > "$scratch/endpoints.jsonl"
off=0
while :; do
  curl -s --max-time 10 "$(url "$a" "/endpoints?limit=1000&offset=$off")" > "$scratch/page.json"
  n=$(python3 -c "import json;print(len(json.load(open('$scratch/page.json'))['items']))" 2>/dev/null || echo 0)
  cat "$scratch/page.json" >> "$scratch/endpoints.jsonl"; echo >> "$scratch/endpoints.jsonl"
  [ "$n" -eq 1000 ] || break
  off=$((off + 1000))
done
rm -f "$scratch/page.json"

# The billing retention the nodes run with (docs/billing.md "Local retention"; 7 days by default).
retention_s=$(python3 -c "import re,sys; m=re.search(r'retention_s\s*=\s*(\d+)', sys.argv[1]); print(m.group(1) if m else 604800)" \
  "${PAIR_BILLING_EXTRA:-}")
# A delivered record older than this may have been pruned by either node (and only such a record).
prunable_before_ms=$(( $(now_ms) - retention_s * 1000 ))
rks_audit "$rks_db" --prunable-before-ms "$prunable_before_ms" "${node_db[$a]}" > "$scratch/rks-audit.json"
python3 - "$scratch" "$a" "$rate" "$hold" "$hours" "$failover_every" "$((mtas * lines))" "$retention_s" \
  "$prunable_before_ms" "$rks_db" > "$scratch/summary.json" <<'PY'
import csv, json, sqlite3, sys
retention_ms = int(sys.argv[8]) * 1000
prunable_before_ms = int(sys.argv[9])
d, a, rate, hold, hours, every, nlines = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
names = ["cms-a", "cms-b"]
rep = json.load(open(d + "/mtasim.json"))
calls = json.load(open(d + "/calls.json"))
eps = []
for line in open(d + "/endpoints.jsonl"):
    if line.strip():
        eps += json.loads(line)["items"]
not_idle = [e.get("endpoint", e.get("name", "?")) + ":" + e.get("state", "?") for e in eps if e.get("state") != "idle"]
meta = [{}, {}]  # record_id -> (sequence, timestamp_ms), per node
def outbox(i):
    con = sqlite3.connect("file:%s/%s/cms.db?mode=ro" % (d, names[i]), uri=True)
    rows = con.execute("select record_id, call_id || ':' || event, sequence, timestamp_ms from billing_outbox").fetchall()
    meta[i] = {r[0]: (r[2], r[3]) for r in rows}
    return {r[0]: r[1] for r in rows}
ob = [outbox(0), outbox(1)]
# The RKS stores EMs; the EMs of outbox record R carry sequences 8R..8R+7 (docs/billing.md).
rks_seqs = {r[0] for r in sqlite3.connect("file:%s?mode=ro" % sys.argv[10], uri=True).execute(
    "select distinct sequence / 8 from event_message")}
audit = json.load(open(d + "/rks-audit.json"))
audit_a = audit["outboxes"][0]
def unexplained_gaps(mine, theirs, their_meta):
    # Records an outbox lacks that are not delivered-and-old-enough-to-prune: lost, not pruned.
    return [r for r in theirs if r not in mine
            and not (their_meta[r][0] in rks_seqs and their_meta[r][1] < prunable_before_ms)]
gaps = [unexplained_gaps(ob[0], ob[1], meta[1]), unexplained_gaps(ob[1], ob[0], meta[0])]
overlap_differs = [r for r in ob[0] if r in ob[1] and ob[0][r] != ob[1][r]]
rows = list(csv.DictReader(open(d + "/samples.csv")))
fo = list(csv.DictReader(open(d + "/failovers.csv")))
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))] if v else None
c = rep["calls"]
out = {
    "hours": hours, "rate_cps": rate, "hold_s": hold, "lines": nlines, "failover_every_s": every,
    "sim": {k: c.get(k) for k in ("attempts", "answered", "completed", "failed", "failures", "setup_latency_ms")},
    "failovers": len(fo),
    "detection_ms": {"p50": pct([int(r["detection_ms"]) for r in fo], .5), "max": pct([int(r["detection_ms"]) for r in fo], 1)},
    "restore_ms": {"p50": pct([int(r["restore_ms"]) for r in fo], .5), "max": pct([int(r["restore_ms"]) for r in fo], 1)},
    "active_at_end": names[a],
    "calls_left_on_active": calls.get("total"),
    "lines_listed": len(eps), "lines_not_idle": len(not_idle), "not_idle_sample": not_idle[:20],
    "outbox_records": [len(ob[0]), len(ob[1])],
    "retention_s": retention_ms // 1000,
    "outboxes_equal": ob[0] == ob[1],
    "outboxes_agree": not gaps[0] and not gaps[1] and not overlap_differs,
    "outbox_gaps": [len(gaps[0]), len(gaps[1])], "outbox_overlap_differs": len(overlap_differs),
    "rks_ems": audit["ems"], "rks_records": audit["records"],
    "rks_inconsistent": audit_a["inconsistent"], "rks_calls_stopped": audit["calls_stopped"],
    "missing_at_rks": audit_a["missing"], "unknown_at_rks": audit_a["unknown"],
    "rks_examples": audit_a["examples"],
    "answered_without_stop_at_rks": audit["answered_without_stop"],
    "samples": rows,
}
print(json.dumps(out, indent=1))
PY
summary() { python3 -c "import json,sys; d=json.load(open('$scratch/summary.json')); print($1)"; }
echo
echo "Report (${hours} h, $rate calls/s, $(summary "d['failovers']") failovers)"
column -s, -t < "$scratch/samples.csv" | sed 's/^/  /'
echo "  failovers:"; column -s, -t < "$scratch/failovers.csv" | sed 's/^/    /'
echo "  mtasim: $(summary "json.dumps(d['sim'])")"
dropped=$(summary "d['sim']['failures'].get('dropped', 0)")
objective "no established call dropped" $([ "$dropped" = 0 ]; echo $?) "$dropped dropped"
objective "no call left on the active node" $([ "$(summary "d['calls_left_on_active']")" = 0 ]; echo $?) \
  "$(summary "d['calls_left_on_active']")"
objective "every line listed and idle on the active node" \
  $([ "$(summary "d['lines_not_idle']")" = 0 ] && [ "$(summary "d['lines_listed']")" = $((mtas * lines)) ]; echo $?) \
  "$(summary "d['lines_listed']") listed, $(summary "d['lines_not_idle']") not idle $(summary "d['not_idle_sample'][:5]")"
objective "both outboxes hold the same records (apart from what each pruned)" \
  $([ "$(summary "d['outboxes_agree']")" = True ]; echo $?) \
  "$(summary "d['outbox_records']") held, unexplained gaps $(summary "d['outbox_gaps']"), retention $(summary "d['retention_s']") s"
objective "RKS holds every record of the active's outbox, once (and nothing unpruned it lacks)" \
  "$([ "$(summary "d['missing_at_rks']")" = 0 ] && [ "$(summary "d['unknown_at_rks']")" = 0 ] && \
    [ "$(summary "d['rks_inconsistent']")" = 0 ]; echo $?)" \
  "$(summary "d['rks_ems']") EMs for $(summary "d['rks_records']") records at the RKS, $(summary "d['missing_at_rks']") missing, $(summary "d['unknown_at_rks']") unknown, $(summary "d['rks_inconsistent']") inconsistent"
objective "every answered call has its Signaling_Stop at the RKS" \
  "$([ "$(summary "d['answered_without_stop_at_rks']")" = 0 ]; echo $?)" "$(summary "d['answered_without_stop_at_rks']")"
echo
if [ "$failures" -eq 0 ]; then echo "soak-pair: PASSED (kept in $scratch)"; else
  echo "soak-pair: FAILED ($failures objectives missed; logs in $scratch)"; fi
exit $(( failures > 0 ))
