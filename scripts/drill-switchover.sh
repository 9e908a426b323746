#!/usr/bin/env bash
# Drill: graceful switchover under mtasim load, and back. The operator asks the
# active for a switchover (POST /admin/switchover, bearer token); the standby claims the next epoch
# and takes over the replicated image (lines claimed with N: = itself, calls resumed without a
# DLCX), the old active fences its MGCP edge and becomes standby. Then the same in the other
# direction. Objectives: each switchover completes, no call is dropped, no billing record is lost
# (every answered call has call_answer + signaling_stop, both outboxes agree), new calls succeed.
#
# Usage: scripts/drill-switchover.sh [--rate CALLS_PER_S] [--hold S] [--witnesses N] [--attach [STATE]]
#   --attach: against the lab of scripts/run-pair.sh (default run/lab/state.env): its pair and
#   load, from whichever node is active and back; the checks that need the load to stop are
#   replaced by "no call dropped".
#   BUILD_DIR=<dir with cmsd, mtasim, cms-witness> (default build-release, built when missing)
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"

rate=4 hold=6 witnesses=3 warmup=8 attach_state=
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --witnesses) witnesses=$2; shift 2 ;;
    --attach)
      attach_state=$drill_root/run/lab/state.env
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then attach_state=$2; shift; fi
      shift ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "drill-switchover: unknown option $1" >&2; exit 2 ;;
  esac
done

source "$(dirname "$0")/drill-pair.sh"
trap cleanup_common EXIT

if [ -n "$attach_state" ]; then
  pair_attach "$attach_state"
  echo "drill-switchover: attached to the lab in $LAB_DIR"
  first=$(active_node)
  [ -n "$first" ] || { echo "no active node in the lab: $(roles)"; exit 2; }
  wait_synced 30; objective "standby synchronised (snapshot applied)" $? ""
  dropped0=$(sim_report_field calls.failures.dropped)
fi
switchover_attached() {
  switchover "$first" $((1 - first))
  sleep 6
  switchover $((1 - first)) "$first"
  dropped=$(( $(sim_report_field calls.failures.dropped) - dropped0 ))
  echo
  echo "Report"
  objective "no call dropped by the switchovers" $([ "${dropped:-1}" -eq 0 ]; echo $?) "$dropped dropped"
  echo
  if [ "$failures" -eq 0 ]; then echo "drill-switchover: PASSED"; else
    echo "drill-switchover: FAILED ($failures objectives missed; lab logs in $LAB_DIR/logs)"; fi
  exit $(( failures > 0 ))
}
if [ -z "$attach_state" ]; then
echo "drill-switchover: scratch $scratch, $rate calls/s held ${hold}s, $witnesses witnesses"
build_binaries
pair_setup "$witnesses"
pair_start 0; pair_start 1
wait_roles active standby 20; objective "pair formed (A active, B standby)" $? "$(roles)"
wait_synced 10; objective "standby synchronised (snapshot applied)" $? ""

duration=$((warmup + 30))
sim_start --scenario calls --rate "$rate" --hold "$hold" --duration "$duration"
say "mtasim: load running (${duration}s)"
sleep "$warmup"
fi

switchover() { # switchover FROM TO
  local from=$1 to=$2 answered0 t0 t1 code
  answered0=$(sim_report_field calls.answered)
  local established
  established=$(calls_in "$from" connected | wc -l)
  say "switchover ${names[$from]} -> ${names[$to]} with $established established calls"
  t0=$(now_ms)
  code=$(curl -s -o "$scratch/switchover.json" -w '%{http_code}' --max-time 5 -X POST \
    -H "Authorization: Bearer $admin_token" "$(url "$from" /admin/switchover)")
  objective "POST /admin/switchover on ${names[$from]} accepted" $([ "$code" = 200 ]; echo $?) \
    "HTTP $code $(cat "$scratch/switchover.json" 2>/dev/null)"
  wait_role "$to" active 10
  t1=$(now_ms)
  wait_role "$from" standby 10
  objective "${names[$to]} active, ${names[$from]} standby" $([ "$(role "$to")/$(role "$from")" = active/standby ]; echo $?) \
    "after $((t1 - t0)) ms: $(roles)"
  while [ "$(sim_report_field calls.answered)" -le "$answered0" ] && [ $(( $(now_ms) - t1 )) -lt 10000 ]; do
    sleep 0.02
  done
  objective "new calls succeed on ${names[$to]}" $([ "$(sim_report_field calls.answered)" -gt "$answered0" ]; echo $?) \
    "$(( $(now_ms) - t0 )) ms after the request"
  printf '  [INFO] calls ended at takeover (mid-setup): %s\n' "$(metric "$to" cms_ha_calls_ended_on_takeover_total)"
  wait_synced 15; objective "${names[$from]} resynchronised as standby" $? ""
}

[ -z "$attach_state" ] || switchover_attached
switchover 0 1
sleep 6
switchover 1 0

say "waiting for the load to end (running calls finish)"
sim_wait $((duration + hold + 60))
objective "mtasim finished its scenario" $? ""
a=$(active_node)
wait_drained "$a" 30
report=$(cat "$scratch/mtasim.json" 2>/dev/null)
answered=$(json_path "$report" calls.answered)
completed=$(json_path "$report" calls.completed)
dropped=$(json_path "$report" calls.failures.dropped)
read billed_a unmatched_a records_a < <(billing_summary 0)
read billed_b unmatched_b records_b < <(billing_summary 1)
lost=$(( answered > billed_a ? answered - billed_a : 0 ))
echo
echo "Report"
echo "  mtasim: answered $answered, completed $completed, dropped $dropped"
echo "  outbox A: $records_a records, $billed_a answered calls fully billed, $unmatched_a without signaling_stop"
echo "  outbox B: $records_b records, $billed_b answered calls fully billed, $unmatched_b without signaling_stop"
objective "no call dropped by the switchovers" $([ "${dropped:-1}" -eq 0 ]; echo $?) "$dropped dropped"
objective "billing records lost = 0" $([ "$lost" -eq 0 ] && [ "$unmatched_a" -eq 0 ]; echo $?) \
  "$lost lost, $unmatched_a unterminated"
objective "both outboxes hold the same records" $([ "$records_a" = "$records_b" ]; echo $?) "A $records_a, B $records_b"

echo
if [ "$failures" -eq 0 ]; then echo "drill-switchover: PASSED"; else
  echo "drill-switchover: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
