#!/usr/bin/env bash
# Drill: kill -9 the active node under mtasim load, again and again, alternating nodes, and check
# that the pair keeps its promises:
#   - the standby detects the loss and takes over (detection time reported);
#   - new calls are served again shortly after: the survivor admits a new off-hook (gives dial tone)
#     within --restore-ms of the kill (objective); the first new call answered is reported too;
#   - established calls are kept: mtasim sees no call dropped (connections deleted while talking);
#   - calls mid-setup that were ended at takeover are reported (cms_ha_calls_ended_on_takeover_total);
#   - no billing record is lost: every call mtasim saw answered has a call_answer and a
#     signaling_stop record in the surviving nodes' outboxes, and both outboxes agree;
#   - billing exactly once at the partner: the RKS (FreeRADIUS, scripts/lib/rks.sh) takes both
#     nodes' Event Messages, and at the end it holds the EMs of every record of the surviving
#     active's outbox, each once, and nothing else (scripts/lib/em_audit.py);
#   - RTP gaps (packets lost, as counted by the simulated MTAs) are reported.
# Everything runs on loopback with free ports; the killed node is restarted and rejoins as standby
# (snapshot) before the next cycle.
#
# Usage: scripts/drill-failover.sh [--cycles N] [--rate CALLS_PER_S] [--hold S] [--witnesses N]
#                                  [--restore-ms MS] [--json FILE]
#   --restore-ms: objective for "new calls served again" (admission) after the kill (default 1000). With
#   witnesses the standby may only be granted the next epoch once the old active's lease (500 ms,
#   renewed every 100 ms) ran out at the witnesses, so detection is about the lease; without
#   witnesses (--witnesses 0) about 300 ms (3 missed heartbeats).
#   Default load: 4 calls/s held 1 s. The simulated MTAs have 20 lines: with longer holds nearly
#   every line is in a call the survivor resumed, and "new calls succeed" then measures waiting
#   for a free line rather than the takeover.
#   --json: the per-cycle figures and their p50/p95/max (benchmark).
#   Times are taken by one poller process (10 ms period) started at the kill: peer lost = the
#   survivor's /status says its peer is not up (heartbeats missed); detection = it says active
#   (with witnesses: after the dead active's lease ran out); admission = the survivor's cms_call_admitted_total rises (it
#   admitted a new off-hook: it includes waiting for the simulator's next attempt, up to 250 ms at
#   4 calls/s); restoration = mtasim counts one more answered call. Restoration includes the
#   simulated subscribers' own time, ~0.45 s from off-hook to answer (7 digits 50 ms apart, answer
#   100 ms after ringing starts), unless a call that was ringing at the kill is answered first.
#   --attach [STATE]: run against the lab of scripts/run-pair.sh (default run/lab/state.env) instead
#   of a pair of its own: its nodes, witnesses, RKS and on-net mtasim (--rate/--hold/--witnesses
#   are the lab's then); the lab's supervisor restarts the killed node. The end-of-drill checks
#   that need the load to stop (outboxes equal, every record delivered) are replaced by those
#   that hold under live traffic: no call dropped, the RKS holds each record once and nothing the
#   active does not know. The admission objective then adds two of the lab's call intervals
#   (the lab places few calls; the survivor can only admit the next one).
#   BUILD_DIR=<dir with cmsd, mtasim, cms-witness, link-peer> (default build-release, built when
#   missing); the RKS is FreeRADIUS (scripts/lib/rks.sh)
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"

cycles=3 rate=4 hold=1 witnesses=3 restore_ms=1000 warmup=8 json_out= attach_state= restore_given=
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) cycles=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --witnesses) witnesses=$2; shift 2 ;;
    --restore-ms) restore_ms=$2; restore_given=1; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --attach)
      attach_state=$drill_root/run/lab/state.env
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then attach_state=$2; shift; fi
      shift ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "drill-failover: unknown option $1" >&2; exit 2 ;;
  esac
done

source "$(dirname "$0")/drill-pair.sh"
trap cleanup_common EXIT

# kill_and_time PID SURVIVOR_HTTP_PORT SIM_CONTROL_PORT: kill -9 PID, then poll (one process, every
# 10 ms) the survivor's role, its admitted call attempts and mtasim's answered calls. Prints
# "<detection ms> <restoration ms> <admission ms>" from the kill (-1: not within 10 s). Admission is
# the node's part (the survivor admits a new off-hook); restoration adds the simulated caller's
# dialling (7 digits, 50 ms apart), ringing and the callee's answer delay.
kill_and_time() {
  python3 - "$1" "$2" "$3" "$(( restore_ms / 1000 + 10 ))" "${http_host[$survivor_index]:-127.0.0.1}" <<'PY'
import json, os, signal, socket, sys, time, urllib.request
pid, http, ctl, limit, host = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def answered():
    try:
        s = socket.create_connection(("127.0.0.1", ctl), timeout=1)
        s.sendall(b"report\n"); buf = b""
        while not buf.endswith(b"\n"):
            c = s.recv(65536)
            if not c: break
            buf += c
        s.close()
        return json.loads(buf)["calls"]["answered"]
    except Exception:
        return None
def status():
    try:
        with urllib.request.urlopen(f"http://{host}:{http}/status", timeout=0.5) as r:
            d = json.load(r)
            return (d.get("role"), d.get("cluster", {}).get("peer_state"),
                    d.get("counters", {}).get("cms_call_admitted_total"))
    except Exception:
        return (None, None, None)
base = answered()
admitted0 = status()[2]
t0 = time.monotonic()
os.kill(pid, signal.SIGKILL)
detect = restore = admit = lost = -1
while time.monotonic() - t0 < limit and (detect < 0 or restore < 0 or admit < 0):
    now = lambda: int((time.monotonic() - t0) * 1000)
    role, peer, admitted = status()
    if lost < 0 and peer is not None and peer != "up":
        lost = now()
    if detect < 0 and role == "active":
        detect = now()
    if detect >= 0 and admit < 0 and admitted0 is not None and admitted is not None and admitted > admitted0:
        admit = now()
    if restore < 0 and base is not None:
        n = answered()
        if n is not None and n > base:
            restore = now()
    time.sleep(0.01)
print(detect, restore, admit, lost)
PY
}

if [ -n "$attach_state" ]; then
  pair_attach "$attach_state"
  # The lab places few calls (--rate of run-pair.sh): "served again" waits for its next attempt,
  # so the objective grows by two of the lab's call intervals unless --restore-ms was given.
  if [ -z "$restore_given" ]; then
    restore_ms=$(python3 -c "print(int($restore_ms + 2000 / max(0.001, float('${LAB_RATE:-4}'))))")
  fi
  echo "drill-failover: attached to the lab in $LAB_DIR, $cycles cycles, admission objective ${restore_ms} ms"
  a=$(active_node)
  objective "lab pair formed (one active, one standby)" $([ -n "$a" ] && [ "$(role $((1 - ${a:-0})))" = standby ]; echo $?) "$(roles)"
  wait_synced 30; objective "standby synchronised (snapshot applied)" $? ""
  dropped_start=$(sim_report_field calls.failures.dropped)
else
echo "drill-failover: scratch $scratch, $cycles cycles, $rate calls/s held ${hold}s, $witnesses witnesses"
build_binaries
pair_rks_start # the partner's Record Keeping Server (FreeRADIUS): EMs are checked there at the end
pair_setup "$witnesses"
pair_start 0; pair_start 1
wait_roles active standby 20; objective "pair formed (A active, B standby)" $? "$(roles)"
wait_synced 10; objective "standby synchronised (snapshot applied)" $? ""

duration=$(( (cycles * 20) + warmup + 5 ))
sim_start --scenario calls --rate "$rate" --hold "$hold" --duration "$duration"
say "mtasim: load running (${duration}s max)"
sleep "$warmup"
fi

kill_index=0
for cycle in $(seq 1 "$cycles"); do
  a=$(active_node)
  if [ -z "$a" ]; then objective "cycle $cycle: an active node exists" 1 "$(roles)"; break; fi
  s=$((1 - a))
  [ -z "$attached" ] || node_pid=("$(lab_pid node-a)" "$(lab_pid node-b)") # restarts change them
  established=$(calls_in "$a" connected | wc -l)
  midsetup=$(( $(calls_in "$a" "" | wc -l) - established ))
  [ "$midsetup" -ge 0 ] || midsetup=0 # two listings: a call may have connected in between
  dropped0=$(sim_report_field calls.failures.dropped)
  ended0=$(metric "$s" cms_ha_calls_ended_on_takeover_total)
  say "cycle $cycle: kill -9 ${names[$a]} (active) with $established established and $midsetup mid-setup calls"
  survivor_index=$s
  read -r detect restore admit lost < <(kill_and_time "${node_pid[$a]}" "${http_port[$s]}" "$sim_control")
  objective "cycle $cycle: ${names[$s]} took over" $([ "$detect" -ge 0 ]; echo $?) "after ${detect} ms"
  objective "cycle $cycle: new calls served again within ${restore_ms} ms of the kill" \
    $([ "$admit" -ge 0 ] && [ "$admit" -le "$restore_ms" ]; echo $?) "admitted ${admit} ms (peer declared lost ${lost} ms, active ${detect} ms, first new call answered ${restore} ms)"
  sleep 2
  kept=$(calls_in "$s" "" | wc -l)
  dropped=$(( $(sim_report_field calls.failures.dropped) - dropped0 ))
  ended=$(( $(metric "$s" cms_ha_calls_ended_on_takeover_total) - ended0 ))
  objective "cycle $cycle: established calls kept (none dropped)" $([ "$dropped" -eq 0 ]; echo $?) \
    "$established established before the kill, $dropped dropped, $kept calls listed on ${names[$s]}"
  printf '  [INFO] cycle %s: mid-setup calls ended at takeover: %s of %s\n' "$cycle" "$ended" "$midsetup"
  echo "$cycle $detect $restore $established $dropped $midsetup $ended $admit $lost" >> "$scratch/cycles.txt"
  # The killed node rejoins as standby and resynchronises before the next cycle.
  pair_start "$a"
  wait_role "$a" standby 20; objective "cycle $cycle: ${names[$a]} rejoined as standby" $? "$(roles)"
  wait_synced 15; objective "cycle $cycle: standby synchronised" $? ""
  sleep 3
done

if [ -n "$attached" ]; then
  # The lab's load goes on: check what holds under live traffic, leave the lab as it was.
  a=$(active_node)
  wait_synced 30
  dropped=$(( $(sim_report_field calls.failures.dropped) - dropped_start ))
  read -r rks_records rks_consistent rks_missing rks_unknown < <(rks_compare "${a:-0}")
  echo
  echo "Report"
  printf '  %-6s %-13s %-13s %-13s %-11s %-12s %-8s %-10s %s\n' cycle peer_lost_ms detection_ms admission_ms restore_ms established dropped mid_setup ended_at_takeover
  while read -r c d r e dr m en ad lo; do
    printf '  %-6s %-13s %-13s %-13s %-11s %-12s %-8s %-10s %s\n' "$c" "$lo" "$d" "$ad" "$r" "$e" "$dr" "$m" "$en"
  done < "$scratch/cycles.txt"
  objective "no established call dropped over the whole drill" $([ "${dropped:-1}" -eq 0 ]; echo $?) "$dropped dropped"
  objective "RKS: every record once, none unknown to the active's outbox" \
    "$([ "$rks_unknown" = 0 ] && [ "$rks_records" = "$rks_consistent" ]; echo $?)" \
    "$rks_records records at the RKS ($rks_consistent consistent with the outbox), $rks_unknown unknown, $rks_missing not yet delivered"
  echo
  if [ "$failures" -eq 0 ]; then echo "drill-failover: PASSED"; else
    echo "drill-failover: FAILED ($failures objectives missed; lab logs in $LAB_DIR/logs)"; fi
  exit $(( failures > 0 ))
fi

say "waiting for the load to end (running calls finish)"
sim_wait $((duration + hold + 60))
objective "mtasim finished its scenario" $? ""
a=$(active_node)
wait_drained "$a" 30
wait_delivered "$a" 60
read -r rks_records rks_consistent rks_missing rks_unknown < <(rks_compare "$a")
report=$(cat "$scratch/mtasim.json" 2>/dev/null)
answered=$(json_path "$report" calls.answered)
completed=$(json_path "$report" calls.completed)
dropped=$(json_path "$report" calls.failures.dropped)
lost_pkts=$(json_path "$report" rtp.packets_lost)
sent_pkts=$(json_path "$report" rtp.packets_sent)
read billed_a unmatched_a records_a < <(billing_summary 0)
read billed_b unmatched_b records_b < <(billing_summary 1)
lost=$(( answered > billed_a ? answered - billed_a : 0 ))
echo
echo "Report"
printf '  %-6s %-13s %-13s %-13s %-11s %-12s %-8s %-10s %s\n' cycle peer_lost_ms detection_ms admission_ms restore_ms established dropped mid_setup ended_at_takeover
while read -r c d r e dr m en ad lo; do
  printf '  %-6s %-13s %-13s %-13s %-11s %-12s %-8s %-10s %s\n' "$c" "$lo" "$d" "$ad" "$r" "$e" "$dr" "$m" "$en"
done < "$scratch/cycles.txt"
lease=$(sed -n 's/^lease_ms = //p' "$scratch/${names[0]}.toml")
python3 - "$scratch/cycles.txt" "${json_out:-$scratch/failover.json}" "$witnesses" "$rate" "$lease" <<'PY'
import json, math, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
def pct(v, p):  # nearest rank
    v = sorted(x for x in v if x >= 0)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else -1
out = {"cycles": len(rows), "witnesses": int(sys.argv[3]), "rate_cps": float(sys.argv[4]),
       "lease_ms": int(sys.argv[5] or 0), "heartbeat_interval_ms": 100, "heartbeat_misses": 3}
for name, col in (("peer_lost_ms", 8), ("detection_ms", 1), ("admission_ms", 7), ("restoration_ms", 2)):
    v = [r[col] for r in rows]
    out[name] = {"p50": pct(v, 50), "p95": pct(v, 95), "max": max(v) if v else -1,
                 "min": min(v) if v else -1, "failed": sum(1 for x in v if x < 0), "samples": v}
json.dump(out, open(sys.argv[2], "w"), indent=1)
for name in ("peer_lost_ms", "detection_ms", "admission_ms", "restoration_ms"):
    d = out[name]
    print(f"  {name:<15} p50 {d['p50']:>5}  p95 {d['p95']:>5}  max {d['max']:>5}  min {d['min']:>5}  (over {len(rows)} kills)")
print(f"  figures written to {sys.argv[2]}")
PY
echo "  mtasim: answered $answered, completed $completed, dropped $dropped; RTP $lost_pkts of $sent_pkts packets lost"
echo "  outbox A: $records_a records, $billed_a answered calls fully billed, $unmatched_a answered without signaling_stop"
echo "  outbox B: $records_b records, $billed_b answered calls fully billed, $unmatched_b answered without signaling_stop"
objective "no established call dropped over the whole drill" $([ "${dropped:-1}" -eq 0 ]; echo $?) "$dropped dropped"
objective "billing records lost = 0 (answered calls vs call_answer+signaling_stop)" \
  $([ "$lost" -eq 0 ] && [ "$unmatched_a" -eq 0 ]; echo $?) "$lost lost, $unmatched_a unterminated"
objective "both outboxes hold the same records" $([ "$records_a" = "$records_b" ]; echo $?) "A $records_a, B $records_b"
objective "RKS holds every record of the surviving active's outbox, exactly once" \
  "$([ "$rks_missing" = 0 ] && [ "$rks_unknown" = 0 ] && [ "$rks_records" = "$rks_consistent" ]; echo $?)" \
  "$rks_records records at the RKS ($rks_consistent consistent with the outbox), $rks_missing missing, $rks_unknown unknown to the outbox"
objective "RTP: simulated MTAs lost < 1% of packets" \
  $(python3 -c "import sys; sys.exit(0 if ${sent_pkts:-0} > 0 and ${lost_pkts:-0} * 100 < ${sent_pkts:-0} else 1)"; echo $?) \
  "$lost_pkts lost of $sent_pkts"

echo
if [ "$failures" -eq 0 ]; then echo "drill-failover: PASSED"; else
  echo "drill-failover: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
