#!/usr/bin/env bash
# Drill: kill a trunking gateway under off-net call load and check that
#   - the node declares it failed and promotes the cold spare to carry its facility (time to
#     promotion reported; objective --promote-ms, default 5000: keepalive 500 ms x 2 misses gives
#     about 1.5 s on an idle machine);
#   - new calls succeed through the spare (time from the kill reported);
#   - calls established on the other gateways are untouched (each is still up, same channel);
#   - the killed gateway comes back (RSIP restart): its facility moves home once idle, the spare is
#     cold again, and nothing leaked (no call listed, every channel idle, node and gateways).
# Everything runs on loopback with free ports: cmsd, `link-peer` probe responders for the data links,
# one mtasim per trunking gateway (the killed one is a real kill -9) and one mtasim for the MTAs
# running the off-net call scenario.
#
# Usage: scripts/drill-gateway-failure.sh [--rate CALLS_PER_S] [--hold S] [--promote-ms MS] [--attach [STATE]]
#   --attach: against the lab of scripts/run-pair.sh (default run/lab/state.env): kill -9 of the
#   lab's tgw-l1 (kept down by its supervisor for --hold-down S, 20), the cold spare must carry
#   its facility and new calls go through it; then the supervisor restarts it and the facility
#   goes home.
#   BUILD_DIR=<dir with cmsd, mtasim, link-peer> (default build-release, built when missing)
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"
source "$(dirname "$0")/drill-pair.sh" # free_ports, now_ms, json_path

rate=1 hold=45 promote_ms=5000 duration=25 attach_state="" hold_down=20
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --promote-ms) promote_ms=$2; shift 2 ;;
    --hold-down) hold_down=$2; shift 2 ;;
    --attach)
      attach_state=$drill_root/run/lab/state.env
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then attach_state=$2; shift; fi
      shift ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "drill-gateway-failure: unknown option $1" >&2; exit 2 ;;
  esac
done
trap cleanup_common EXIT

# gateway_failure_attached: the drill on the running lab (see --attach).
gateway_failure_attached() {
  pair_attach "$attach_state"
  local a api victim=tgw-l1.local.example spare=tgw-l9.local.example
  a=$(active_node); [ -n "$a" ] || { echo "no active node in the lab: $(roles)"; exit 2; }
  api=$(url "$a" "")
  local -a gws; read -r -a gws <<< "$LAB_GATEWAYS"
  local i spare_ctl=""
  for i in "${!gws[@]}"; do [ "${gws[$i]}" = "$spare" ] && spare_ctl=$((LAB_GW_CONTROL_BASE + i)); done
  gw_ok() { curl -s --max-time 2 "$api/trunks?limit=100" | python3 -c "import sys,json
g = {x['name']: x for x in json.load(sys.stdin)['gateways']}
sys.exit(0 if g['$1']['healthy'] == ($2 == 1) else 1)"; }
  carried() { curl -s --max-time 2 "$api/trunks?limit=100" | python3 -c "import sys,json
g = {x['name']: x for x in json.load(sys.stdin)['gateways']}
sys.exit(0 if '$2' in g['$1']['carrying'] else 1)"; }
  spare_seizures() { json_path "$(sim_ask "127.0.0.1:$spare_ctl" report)" trunks.seizures; }
  echo "drill-gateway-failure: attached to the lab in $LAB_DIR (active ${names[$a]})"
  wait_until 30 gw_ok "$victim" 1; objective "$victim in service before the kill" $? ""
  local t0 t1 s0
  s0=$(spare_seizures)
  touch "$LAB_DIR/hold/gw-${victim%%.*}" # the supervisor keeps it down while we look
  t0=$(now_ms)
  kill -KILL "$(lab_pid "gw-${victim%%.*}")"
  say "kill -9 of $victim (held down ${hold_down}s)"
  wait_until $(( promote_ms / 1000 + 1 )) carried "$spare" l1-pri-1; local rc=$?
  t1=$(now_ms)
  objective "cold spare carries l1-pri-1 within ${promote_ms} ms" $rc "$((t1 - t0)) ms"
  wait_until 5 gw_ok "$victim" 0; objective "$victim declared failed" $? ""
  sleep "$hold_down"
  objective "new off-net calls seized the spare" $([ "$(spare_seizures)" -gt "$s0" ]; echo $?) \
    "$(( $(spare_seizures) - s0 )) seizures on $spare"
  rm -f "$LAB_DIR/hold/gw-${victim%%.*}"
  say "$victim released: the supervisor restarts it"
  wait_until 30 gw_ok "$victim" 1; objective "$victim back in service" $? ""
  wait_until 180 carried "$victim" l1-pri-1; objective "l1-pri-1 home again once idle" $? ""
  echo
  if [ "$failures" -eq 0 ]; then echo "drill-gateway-failure: PASSED"; else
    echo "drill-gateway-failure: FAILED ($failures objectives missed; lab logs in $LAB_DIR/logs)"; fi
  exit $(( failures > 0 ))
}
[ -z "$attach_state" ] || gateway_failure_attached

echo "drill-gateway-failure: scratch $scratch, $rate calls/s held ${hold}s"
build_trunk_binaries() { # cmsd, mtasim (with gateway mode) and link-peer, built into BUILD_DIR when missing
  if [ ! -x "$BUILD_DIR/cmsd" ] || [ ! -x "$BUILD_DIR/link-peer" ] || [ ! -x "$BUILD_DIR/mtasim" ] \
     || ! "$BUILD_DIR/mtasim" --help | grep -q -- --pstn-answer; then
    "$drill_root/scripts/install-deps.sh" >/dev/null
    [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$drill_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_BUILD_BENCH=OFF >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target cmsd mtasim link-peer >/dev/null
  fi
}
build_trunk_binaries

# --- provisioning: 5 gateways (2 partner, 2 local, 1 local cold spare), 4 facilities -------------
gw_names=(tgw-p1.partner.example tgw-p2.partner.example tgw-l1.local.example tgw-l2.local.example tgw-l9.local.example)
gw_addr=(127.0.0.21 127.0.0.22 127.0.0.31 127.0.0.32 127.0.0.39)
read -r -a gw_port < <(free_ports 5 udp)
read -r mgcp_port mta_port probe_p probe_b < <(free_ports 4 udp)
read -r http_port peer_port < <(free_ports 2 tcp)
prov=$scratch/provisioning.toml
{
  echo '[[carrier]]'; echo 'id = "northtel"'; echo 'name = "NorthTel"'
  echo '[[carrier]]'; echo 'id = "bluewave"'; echo 'name = "BlueWave"'
  roles=(active active active active cold_spare); segs=(partner partner local local local)
  for i in 0 1 2 3 4; do
    printf '[[gateway]]\nname = "%s"\naddress = "%s"\nport = %s\nrole = "%s"\nsegment = "%s"\n' \
      "${gw_names[$i]}" "${gw_addr[$i]}" "${gw_port[$i]}" "${roles[$i]}" "${segs[$i]}"
  done
  fac() { printf '[[facility]]\nid = "%s"\ngateway = "%s"\nkind = "%s"\ncarrier = "%s"\nspan = %s\nchannels = 8\nbackup_facility = "%s"\n' "$@"; }
  fac p1-pri-1 tgw-p1.partner.example pri northtel 1 p2-pri-1
  fac p2-pri-1 tgw-p2.partner.example pri bluewave 1 p1-pri-1
  fac l1-pri-1 tgw-l1.local.example pri northtel 1 l2-ss7-2
  fac l2-ss7-2 tgw-l2.local.example ss7 bluewave 2 l1-pri-1
  cat <<'EOF'
[[trunk_group]]
id = "tg-partner"
name = "Partner"
segment = "partner"
members = [ { facility = "p1-pri-1", priority = 1 }, { facility = "p2-pri-1", priority = 1 } ]
[[trunk_group]]
id = "tg-local"
name = "Local exchange"
segment = "local"
members = [ { facility = "l1-pri-1", priority = 1 }, { facility = "l2-ss7-2", priority = 1 } ]
[[route]]
prefix = "1"
trunk_group = "tg-partner"
priority = 1
[[route]]
prefix = ""
trunk_group = "tg-local"
priority = 1
EOF
  printf '[[data_link]]\nname = "dl-primary"\nkind = "primary"\nlocal_address = "127.0.0.1"\nremote_address = "127.0.0.1"\nremote_port = %s\n' "$probe_p"
  printf '[[data_link]]\nname = "dl-backup"\nkind = "backup"\nlocal_address = "127.0.0.1"\nremote_address = "127.0.0.1"\nremote_port = %s\n' "$probe_b"
  for m in 1 2 3 4 5 6 7 8 9 10; do
    for l in 1 2; do
      printf '[[subscriber]]\ndirectory_number = "55510%02d"\nendpoint_name = "aaln/%s@mta-%04d.cable.example"\nmta_fqdn = "mta-%04d.cable.example"\nmta_address = "127.0.0.1"\nmta_port = %s\nstatus = "active"\n' \
        $(( (m - 1) * 2 + l )) "$l" "$m" "$m" $((mta_port + m - 1))
    done
  done
} > "$prov"
mkdir -p "$scratch/node"
"$BUILD_DIR/cmsd" --provision "$prov" "$scratch/node/cms.db" > "$scratch/provision.out" 2>&1 \
  || { echo "provisioning failed: $(cat "$scratch/provision.out")"; exit 2; }
node_toml "$scratch/node.toml" --extra "$(cat <<CFG
[node]
id = "drill-gw"
data_dir = "$scratch/node"
[mgcp]
bind = "127.0.0.1"
port = $mgcp_port
[http]
bind = "127.0.0.1"
port = $http_port
[peer]
address = "127.0.0.2"
listen_port = $peer_port
udp_heartbeat_port = $(free_ports 1 udp)
heartbeat_interval_ms = 100
[log]
level = "info"
[links]
probe_interval_ms = 200
probe_misses = 3
CFG
)"

# --- start -----------------------------------------------------------------------------------------
"$BUILD_DIR/link-peer" --listen "127.0.0.1:$probe_p" > "$scratch/probe-p.out" 2>&1 & pids+=($!)
"$BUILD_DIR/link-peer" --listen "127.0.0.1:$probe_b" > "$scratch/probe-b.out" 2>&1 & pids+=($!)
"$BUILD_DIR/cmsd" --config "$scratch/node.toml" > "$scratch/cmsd.out" 2>&1 & pids+=($!)
api="http://127.0.0.1:$http_port"
gw_pid=() gw_ctl=()
start_gateway() { # start_gateway I: one mtasim playing gateway I (control port in gw_ctl[I])
  local i=$1 out="$scratch/gw-$1.out"
  : > "$out"
  "$BUILD_DIR/mtasim" --ca "127.0.0.1:$mgcp_port" --mtas 0 --gateway "${gw_names[$i]}@${gw_addr[$i]}:${gw_port[$i]}" \
    --spans 2 --channels 8 --control 0 --pstn-alert-delay 100 --pstn-answer-delay 400 \
    --rto-max 1000 > "$out" 2>&1 &
  gw_pid[$i]=$!; pids+=($!)
  local end=$(( $(date +%s) + 20 ))
  while [ "$(date +%s)" -le "$end" ]; do
    gw_ctl[$i]=$(sed -n 's/^mtasim: control [0-9.]*:\([0-9]*\).*/\1/p' "$out" | head -1)
    [ -n "${gw_ctl[$i]}" ] && grep -q '^mtasim: ready' "$out" && return 0
    sleep 0.1
  done
  echo "gateway ${gw_names[$i]} did not start: $(cat "$out")"; exit 2
}
gw_request() { sim_control=${gw_ctl[$1]} sim_request "$2"; } # gw_request I REQUEST
trunks_json() { curl -s --max-time 2 "$api/trunks?limit=100"; }
carried_by() { trunks_json | python3 -c "import sys,json
try:
  for f in json.load(sys.stdin)['items']:
    if f['id'] == sys.argv[1]: print(f['gateway'])
except Exception: pass" "$1"; }
all_healthy() { trunks_json | python3 -c "import sys,json
try: sys.exit(0 if all(g['healthy'] for g in json.load(sys.stdin)['gateways'] if g['role'] == 'active') else 1)
except Exception: sys.exit(1)"; }
# gateway_calls I: 'channel call_id answered' of every PSTN call on gateway I
gateway_calls() { gw_request "$1" "gw-status ${gw_names[$1]}" | python3 -c "import sys,json
try:
  for c in json.load(sys.stdin)['calls']:
    if c['pstn']: print(c['channel'], c['call_id'], str(c['answered']).lower())
except Exception: pass"; }

for i in 0 1 2 3 4; do start_gateway "$i"; done
end=$(( $(date +%s) + 30 ))
until all_healthy && [ "$(json_field "$api/status" role)" = active ]; do
  [ "$(date +%s)" -le "$end" ] || { echo "node or gateways not in service: $(trunks_json | head -c 600)"; exit 2; }
  sleep 0.2
done
say "node active, every gateway healthy"

# Off-net load from 10 MTAs x 2 lines: local numbers (local segment: l1 and l2 share the load) and
# long distance (partner segment).
"$BUILD_DIR/mtasim" --ca "127.0.0.1:$mgcp_port" --mtas 10 --lines 2 --base-port "$mta_port" --dn-base 5551001 \
  --control 0 --scenario offnet --called 4441234,12125550100,4445678 --rate "$rate" --hold "$hold" \
  --duration "$duration" --rto-max 1000 --json --report-file "$scratch/mtasim.json" \
  > "$scratch/mtasim.out" 2>&1 & sim_pid=$!; pids+=($!)
end=$(( $(date +%s) + 20 ))
until grep -q '^mtasim: ready' "$scratch/mtasim.out"; do
  [ "$(date +%s)" -le "$end" ] || { echo "mtasim did not start"; exit 2; }; sleep 0.1
done
sim_control=$(sed -n 's/^mtasim: control [0-9.]*:\([0-9]*\).*/\1/p' "$scratch/mtasim.out" | head -1)
say "load running: $rate calls/s, held ${hold}s, for ${duration}s"
sleep 12

# --- the kill ----------------------------------------------------------------------------------
for i in 0 1 3; do gateway_calls "$i" | awk -v g="$i" '$3 == "true" { print g, $1, $2 }'; done > "$scratch/before.txt"
on_victim=$(gateway_calls 2 | wc -l)
others=$(wc -l < "$scratch/before.txt")
answered0=$(sim_report_field calls.answered)
spare_calls0=$(gw_request 4 report | python3 -c "import sys,json; print(json.load(sys.stdin)['trunks']['seizures'])")
say "kill -9 ${gw_names[2]} with $on_victim calls on it; $others answered calls on the other gateways"
t0=$(now_ms)
{ kill -KILL "${gw_pid[2]}"; wait "${gw_pid[2]}"; } 2>/dev/null
while [ "$(carried_by l1-pri-1)" != "${gw_names[4]}" ] && [ $(( $(now_ms) - t0 )) -lt 15000 ]; do sleep 0.02; done
t1=$(now_ms)
promoted=$([ "$(carried_by l1-pri-1)" = "${gw_names[4]}" ]; echo $?)
objective "cold spare ${gw_names[4]} carries l1-pri-1" "$promoted" "$((t1 - t0)) ms after the kill"
objective "promotion within ${promote_ms} ms" $([ "$promoted" = 0 ] && [ $((t1 - t0)) -le "$promote_ms" ]; echo $?) "$((t1 - t0)) ms"
untouched=0 missing=""
while read -r g ch cid; do
  if gateway_calls "$g" | grep -q "^$ch $cid true$"; then untouched=$((untouched + 1)); else missing="$missing $ch"; fi
done < "$scratch/before.txt"
objective "calls on the other gateways untouched" $([ "$untouched" = "$others" ]; echo $?) \
  "$untouched of $others still up after the promotion${missing:+ (gone:$missing)}"
# New calls succeed through the spare.
while [ "$(gw_request 4 report | python3 -c "import sys,json; print(json.load(sys.stdin)['trunks']['answered'])")" -le "$spare_calls0" ] \
  && [ $(( $(now_ms) - t0 )) -lt 20000 ]; do sleep 0.05; done
t2=$(now_ms)
spare_answered=$(gw_request 4 report | python3 -c "import sys,json; print(json.load(sys.stdin)['trunks']['answered'])")
objective "a new call is answered through the spare" $([ "$spare_answered" -gt "$spare_calls0" ]; echo $?) "$((t2 - t0)) ms after the kill"
sleep 3
answered1=$(sim_report_field calls.answered)
objective "new calls keep succeeding after the kill" $([ "$answered1" -gt "$answered0" ]; echo $?) "answered $answered0 -> $answered1"
# --- the gateway comes back --------------------------------------------------------------------
say "restarting ${gw_names[2]} (RSIP restart)"
start_gateway 2
say "waiting for the load to end"
while kill -0 "$sim_pid" 2>/dev/null; do sleep 0.5; done
end=$(( $(date +%s) + 20 ))
while [ "$(carried_by l1-pri-1)" != "${gw_names[2]}" ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.2; done
objective "l1-pri-1 back on ${gw_names[2]} once idle" $([ "$(carried_by l1-pri-1)" = "${gw_names[2]}" ]; echo $?) "carried by $(carried_by l1-pri-1)"
spare_cold=$(trunks_json | python3 -c "import sys,json
try: print([g for g in json.load(sys.stdin)['gateways'] if g['name'] == sys.argv[1]][0]['carrying'] == [])
except Exception: print(False)" "${gw_names[4]}")
objective "spare cold again" $([ "$spare_cold" = True ]; echo $?) ""
leaks() {
  local calls busy gw=0 i
  calls=$(curl -s --max-time 2 "$api/calls?limit=1000" | python3 -c "import sys,json; print(len(json.load(sys.stdin)['items']))" 2>/dev/null || echo 999)
  busy=$(trunks_json | python3 -c "import sys,json
try: print(sum(f['channels_by_state']['seized'] + f['channels_by_state']['in_call'] for f in json.load(sys.stdin)['items']))
except Exception: print(999)")
  for i in 0 1 2 3 4; do gw=$((gw + $(gateway_calls "$i" | wc -l))); done
  echo "$calls $busy $gw"
}
end=$(( $(date +%s) + 20 ))
while read -r c b g < <(leaks); [ "$c $b $g" != "0 0 0" ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
read -r c b g < <(leaks)
objective "nothing leaked (calls listed, busy channels, gateway calls)" $([ "$c $b $g" = "0 0 0" ]; echo $?) "$c / $b / $g"
if [ "$g" != 0 ]; then for i in 0 1 2 3 4; do gw_request "$i" "gw-status ${gw_names[$i]}"; done > "$scratch/leftover.txt"; fi

report=$(cat "$scratch/mtasim.json" 2>/dev/null)
attempts=$(json_path "$report" calls.attempts)
answered=$(json_path "$report" calls.answered)
completed=$(json_path "$report" calls.completed)
dropped=$(json_path "$report" calls.failures.dropped)
failed=$(json_path "$report" calls.failed)
promotions=$(curl -s --max-time 2 "$api/metrics" | awk '$1 ~ /^cms_trunk_promotions_total/ { s += $2 } END { print s + 0 }')
echo
echo "Report"
echo "  time to promotion:            $((t1 - t0)) ms (objective ${promote_ms} ms)"
echo "  first call through the spare: $((t2 - t0)) ms after the kill"
echo "  calls on the killed gateway:  $on_victim (lost with it); on the others: $others, $untouched untouched"
echo "  load: $attempts calls, $answered answered, $completed completed, $failed failed ($dropped dropped while talking)"
echo "  promotions counted by the node: $promotions"
objective "only calls of the killed gateway were dropped" $([ "${dropped:-0}" -le "$on_victim" ]; echo $?) "$dropped dropped, $on_victim were on it"

echo
if [ "$failures" -eq 0 ]; then echo "drill-gateway-failure: PASSED"; else
  echo "drill-gateway-failure: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
