#!/usr/bin/env bash
# Drill: forged control-plane and MGCP traffic against a running pair under call load, from an
# address that is neither node (127.0.0.66 on loopback; raw sockets for spoofed sources). The pair
# must shrug it off (docs/security.md):
#   1. heartbeats to both nodes' UDP heartbeat ports: unsigned JSON (the old protocol), sealed with
#      a wrong key, a captured genuine heartbeat replayed (dumpcap on lo), each from the forger and
#      spoofed from the peer's own address:port; role "active" at epoch 2^64-1 every 100 ms for
#      --attack-s seconds; the captured heartbeats re-sent later, past the replay window;
#   2. claims, releases and a claim with a lease of three years to every witness (wrong key) and
#      captured genuine requests replayed; captured witness answers replayed to the nodes;
#   3. gateway RSIP `RSIP *@<gateway> ... RM: forced` and NTFY seizures to the active's MGCP port;
#   4. MGCP responses (`200 <tid>` with an SDP) for the transaction ids the active is using
#      (sniffed live on lo), from the forger;
#   5. a malformed flood: spoofed from a provisioned MTA's address on a wrong port, and garbage
#      from the forger, for --flood-s seconds at --flood-pps.
# Passes when: roles and epochs unchanged throughout (sampled every 200 ms, promotions counter
# unchanged); every gateway still in service; calls kept completing during the attack with no
# failed or dropped call beyond the baseline; billing records still reaching the RKS; and the
# drop counters rose for each kind of forgery on the node(s) it was sent to (heartbeat:
# wrong_source, malformed, bad_mac, replayed, stale; witness path: wrong_source and
# replayed/unknown_request; each witness logged drops; MGCP: wrong_source, response_wrong_peer or
# unknown_transaction, malformed/rate_limited), with no answer to the forger's RSIP/NTFY.
#
# Usage: scripts/drill-forgery.sh [--witnesses N] [--rate CALLS_PER_S] [--hold S] [--attack-s S]
#                                 [--flood-s S] [--flood-pps N] [--attach [STATE]]
#   --attach: against the lab of scripts/run-pair.sh (default run/lab/state.env): its nodes,
#   witnesses, gateways, RKS and MTAs (--witnesses/--rate/--hold are the lab's then).
#   Needs root (raw sockets, capture on lo), dumpcap and a python3 with scapy.
#   BUILD_DIR=<dir with cmsd, cms-witness, mtasim, link-peer> (default build-release; CMS_NO_BUILD=1:
#   never build). FORGER=127.0.0.66 (any loopback address that is neither node).
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"

witnesses=3 rate=4 hold=2 attack_s=5 flood_s=4 flood_pps=3000 attach_state=""
forger=${FORGER:-127.0.0.66}
while [ $# -gt 0 ]; do
  case "$1" in
    --witnesses) witnesses=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --attack-s) attack_s=$2; shift 2 ;;
    --flood-s) flood_s=$2; shift 2 ;;
    --flood-pps) flood_pps=$2; shift 2 ;;
    --attach)
      attach_state=$drill_root/run/lab/state.env
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then attach_state=$2; shift; fi
      shift ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "drill-forgery: unknown option $1" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/drill-pair.sh"

[ "$(id -u)" -eq 0 ] || { echo "drill-forgery: needs root (raw sockets, capture on lo)"; exit 2; }
command -v dumpcap >/dev/null || { echo "drill-forgery: needs dumpcap (wireshark-common)"; exit 2; }
forge_py=""
for py in ${FORGE_PYTHON:-} python3 /usr/bin/python3; do
  if "$py" -c 'import scapy.all' 2>/dev/null; then forge_py=$py; break; fi
done
[ -n "$forge_py" ] || { echo "drill-forgery: needs a python3 with scapy (apt-get install python3-scapy)"; exit 2; }
forge() { "$forge_py" "$drill_root/scripts/lib/forge.py" "$@"; } # forge PHASE CONFIG_JSON

watch_pid="" extra_pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null
  for p in "${extra_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [ -n "$attached" ]; then
    wait 2>/dev/null
    [ -n "${KEEP_SCRATCH:-}" ] || rm -rf "$scratch"
  else
    cleanup_common
  fi
}
trap cleanup EXIT

# --- the pair under load ------------------------------------------------------------------------
gw_list=() sim_ctls=() wlogs=()
if [ -n "$attach_state" ]; then
  pair_attach "$attach_state"
  cfg_a=$LAB_DIR/node-a.toml cfg_b=$LAB_DIR/node-b.toml
  read -r -a gw_list <<< "$LAB_GATEWAYS"
  sim_ctls=("${LAB_SIM_ONNET_CONTROL##*:}" "${LAB_SIM_OFFNET_CONTROL##*:}")
  wlogs=("$LAB_DIR"/logs/witness-*.log)
  echo "drill-forgery: attached to the lab in $LAB_DIR, forger $forger"
else
  echo "drill-forgery: scratch $scratch, $rate calls/s held ${hold}s, $witnesses witnesses, forger $forger"
  build_binaries
  pair_rks_start
  pair_setup "$witnesses"
  cfg_a=$scratch/${names[0]}.toml cfg_b=$scratch/${names[1]}.toml
  pair_start 0; pair_start 1
  wait_roles active standby 20; objective "pair formed (A active, B standby)" $? "$(roles)"
  wait_synced 15; objective "standby synchronised (snapshot applied)" $? ""
  # One mtasim per provisioned gateway (the cold spare too), calling both nodes.
  while read -r gname _; do
    # shellcheck disable=SC2046
    "$BUILD_DIR/mtasim" --ca "127.0.0.1:${mgcp_port[0]},127.0.0.1:${mgcp_port[1]}" --mtas 0 \
      $(sim_gateway_args "$gname") --control 0 --pstn-alert-delay 100 --pstn-answer-delay 300 \
      --rto-max 1000 --max-retrans 3 > "$scratch/gw-${gname%%.*}.out" 2>&1 &
    pids+=($!)
    sim_wait_ready "$scratch/gw-${gname%%.*}.out" 20 >/dev/null || exit 2
    gw_list+=("$gname")
  done < <(sim_provisioned gateways)
  # The MTAs: 8 call each other, 2 dial off-net numbers (through the gateways).
  read -r _count mta_addr _port mta_lines dn0 < <(sim_provisioned mtas)
  duration=600
  SIM_LINES="--mtas 8 --lines $mta_lines --mta-address-base $mta_addr --base-port $sim_port" \
    sim_start --scenario calls --rate "$rate" --hold "$hold" --duration "$duration"
  off_addr=$(python3 -c "import ipaddress; print(ipaddress.ip_address('$mta_addr') + 8)")
  "$BUILD_DIR/mtasim" --ca "127.0.0.1:${mgcp_port[0]},127.0.0.1:${mgcp_port[1]}" --mtas 2 --first-mta 9 \
    --lines "$mta_lines" --mta-address-base "$off_addr" --base-port "$sim_port" \
    --dn-base $((dn0 + 8 * mta_lines)) --scenario offnet --called 12125550100,01144207946000,4441234 \
    --rate 1 --hold "$hold" --duration "$duration" --control 0 --rto-max 1000 --max-retrans 3 \
    --answer-delay 100 --json --report-file "$scratch/offnet.json" > "$scratch/offnet.out" 2>&1 &
  pids+=($!)
  off_ctl=$(sim_wait_ready "$scratch/offnet.out" 20) || exit 2
  sim_ctls=("$sim_control" "$off_ctl")
  wlogs=("$scratch"/w*.out)
  say "mtasim: on-net and off-net load running, ${#gw_list[@]} gateways"
fi

# --- what the forger aims at (from the nodes' own configuration files) ---------------------------
topo=$(python3 - "$cfg_a" "$cfg_b" <<'PY'
import json, sys, tomllib
n = [tomllib.load(open(p, "rb")) for p in sys.argv[1:3]]
out = {"cluster": n[0]["node"].get("cluster_id", ""), "node_ids": [x["node"]["id"] for x in n],
       "heartbeat": [], "witnesses": [], "mgcp": []}
for i, x in enumerate(n):
    p, o = x["peer"], n[1 - i]["peer"]
    out["heartbeat"].append({"node": x["node"]["id"], "address": p.get("listen_address", "127.0.0.1"),
                             "port": p["udp_heartbeat_port"], "peer_id": n[1 - i]["node"]["id"],
                             "peer_address": p["address"], "peer_port": p["peer_udp_heartbeat_port"]})
    out["mgcp"].append([x["mgcp"].get("bind", "127.0.0.1"), x["mgcp"]["port"]])
for w in sorted(set(n[0]["peer"].get("witnesses", []) + n[1]["peer"].get("witnesses", []))):
    a, _, port = w.rpartition(":")
    out["witnesses"].append({"address": a, "port": int(port)})
print(json.dumps(out))
PY
) || { echo "drill-forgery: cannot read the node configurations"; exit 2; }
jq_topo() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$topo" "$1"; }
n_witnesses=$(jq_topo 'len(d["witnesses"])')
ports_filter=$(jq_topo '" or ".join(["port %d" % h["port"] for h in d["heartbeat"]] + ["port %d" % w["port"] for w in d["witnesses"]])')

# --- probes ---------------------------------------------------------------------------------------
gateways_ok() { # every active-role gateway healthy and in service on node $1
  curl -s --max-time 2 "$(url "$1" "/trunks?limit=100")" | python3 -c "import sys,json
try:
  g = [x for x in json.load(sys.stdin)['gateways'] if x.get('role') == 'active']
  sys.exit(0 if g and all(x.get('healthy') and x.get('admin_state', 'in_service') == 'in_service' and not x.get('forced') for x in g) else 1)
except Exception: sys.exit(1)"
}
gateways_line() {
  curl -s --max-time 2 "$(url "$1" "/trunks?limit=100")" | python3 -c "import sys,json
try: print(' '.join('%s:%s%s' % (x['name'].split('.')[0], 'up' if x.get('healthy') else 'DOWN',
            '' if x.get('admin_state', 'in_service') == 'in_service' else '(oos)') for x in json.load(sys.stdin)['gateways']))
except Exception: print('unreachable')"
}
sim_sum() { # sim_sum FIELD: sum of FIELD over the load simulators' reports
  local s=0 c v
  for c in "${sim_ctls[@]}"; do
    v=$(json_path "$(sim_ask "127.0.0.1:$c" report 2>/dev/null)" "$1"); s=$((s + ${v:-0}))
  done
  echo "$s"
}
snap() { # snap NAME: both nodes' /metrics, /status, /cluster, /trunks, the simulators and the RKS
  local i
  for i in 0 1; do
    curl -s --max-time 3 "$(url "$i" /metrics)" > "$scratch/snap-$1-$i.metrics"
    curl -s --max-time 3 "$(url "$i" /status)" > "$scratch/snap-$1-$i.status"
    curl -s --max-time 3 "$(url "$i" /cluster)" > "$scratch/snap-$1-$i.cluster"
    curl -s --max-time 3 "$(url "$i" "/trunks?limit=100")" > "$scratch/snap-$1-$i.trunks"
  done
  printf '%s %s %s %s\n' "$(sim_sum calls.completed)" "$(sim_sum calls.failed)" \
    "$(sim_sum calls.failures.dropped)" "$(rks_em_count "$rks_db" 2>/dev/null || echo 0)" > "$scratch/snap-$1.load"
}
# mdelta I FROM TO NAME [LABEL=REGEX...]: rise between two snapshots of node I of the sum of NAME's
# samples whose labels match (Python regexes, fully matched).
mdelta() {
  python3 - "$scratch/snap-$2-$1.metrics" "$scratch/snap-$3-$1.metrics" "${@:4}" <<'PY'
import re, sys
def total(path, name, want):
    s = 0.0
    try:
        for line in open(path):
            if line.startswith("#") or not line.startswith(name):
                continue
            m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
            if not m or m.group(1) != name:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            if all(re.fullmatch(v, labels.get(k, "")) for k, v in want.items()):
                s += float(m.group(4))
    except OSError:
        pass
    return s
want = dict(a.split("=", 1) for a in sys.argv[4:])
print(int(total(sys.argv[2], sys.argv[3], want) - total(sys.argv[1], sys.argv[3], want)))
PY
}
field() { python3 -c "import json,sys
try:
  v = json.load(open(sys.argv[1]))
  for k in sys.argv[2].split('.'): v = v[k]
  print(v)
except Exception: print('')" "$scratch/snap-$1.$2" "$3"; } # field NAME-I KIND a.b
load_col() { awk -v c="$2" '{ print $c }' "$scratch/snap-$1.load"; }
witness_drops() { # the highest dropped_total any witness logged, summed over the witnesses
  local f s=0 v
  for f in "${wlogs[@]}"; do
    v=$(grep -o 'event=request_dropped.*dropped_total=[0-9]*' "$f" 2>/dev/null | sed 's/.*dropped_total=//' | sort -n | tail -1)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
witness_drop_lines() { # witness_drop_lines: one count per witness of its request_dropped lines
  local f out=""
  for f in "${wlogs[@]}"; do out="$out $(grep -c 'event=request_dropped' "$f" 2>/dev/null)"; done
  echo "$out"
}

# --- before ---------------------------------------------------------------------------------------
a=$(active_node)
[ -n "$a" ] || { echo "drill-forgery: no active node: $(roles)"; exit 2; }
s=$((1 - a))
wait_until 40 gateways_ok "$a"; objective "gateways in service before the attack" $? "$(gateways_line "$a")"
# shellcheck disable=SC2317 # called by wait_until
calls_done() { [ "$(sim_sum calls.completed)" -gt 0 ]; }
wait_until 30 calls_done
objective "calls completing before the attack" $? "$(sim_sum calls.completed) completed"
active_mgcp=$(jq_topo "d['mgcp'][$a][1]")
active_mgcp_addr=$(jq_topo "d['mgcp'][$a][0]")
[ "$active_mgcp_addr" != 0.0.0.0 ] || active_mgcp_addr=127.0.0.1
spoof_mta=$(sim_provisioned mtas | awk '{ print $2 }')
spoof_port=$(( $(sim_provisioned mtas | awk '{ print $3 }') + 7919 ))
[ "$spoof_port" != "${sim_port:-0}" ] || spoof_port=$((spoof_port + 1))
ip addr show lo | grep -q "inet $forger/" || say "note: $forger is not configured on lo; loopback answers for 127/8 anyway"


# Roles and epochs sampled every 200 ms for the whole attack.
( while :; do
    printf '%s %s %s %s %s\n' "$(now_ms)" "$(json_field "$(url 0 /status)" role)" "$(json_field "$(url 0 /status)" epoch)" \
      "$(json_field "$(url 1 /status)" role)" "$(json_field "$(url 1 /status)" epoch)"
    sleep 0.2
  done ) > "$scratch/roles.txt" 2>/dev/null &
watch_pid=$!

# Baseline: as long as the attack will take, no attack.
base_s=$((attack_s + flood_s + 12))
snap base0
say "baseline: ${base_s}s of load without forgery"
sleep "$base_s"
snap before
epoch0=$(field before-"$a" status epoch)
rolesline0="$(field before-0 status role)/$(field before-1 status role)"
# Capture genuine heartbeats, witness requests and answers just before the attack: replayed
# within the replay window (replayed), and again once past it (stale).
pcap=$scratch/genuine.pcap capture_ms=0
# shellcheck disable=SC2317 # called by phase
capture_genuine() {
  dumpcap -q -i lo -P -f "udp and ($ports_filter)" -a duration:2 -w "$pcap" > "$scratch/dumpcap.out" 2>&1
  captured=$(python3 - "$pcap" <<'PY' 2>/dev/null
import struct, sys
d = open(sys.argv[1], "rb").read()
n, i = 0, 24
while i + 16 <= len(d):
    incl = struct.unpack("<I", d[i + 8:i + 12])[0]; i += 16 + incl; n += 1
print(n)
PY
  )
  objective "genuine control-plane datagrams captured on lo (dumpcap)" "$([ "${captured:-0}" -gt 0 ]; echo $?)" "${captured:-0} datagrams"
  capture_ms=$(now_ms)
}
declare -A sent=()
phase() { # phase NAME FORGE_PHASE EXTRA_JSON: runs one forgery, snapshots before and after
  local name=$1 cfg
  cfg=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); print(json.dumps(d))" \
    "$topo" "{\"forger\": \"$forger\", \"pcap\": \"$pcap\"${3:+, $3}}")
  snap "pre-$name"
  # The capture right before the first forgery: its replays must fall inside the replay window.
  [ "$name" != heartbeat ] || capture_genuine
  say "forgery: $name"
  sent[$name]=$(forge "$2" "$cfg" 2> "$scratch/forge-$name.err") || say "forger $name failed: $(tail -3 "$scratch/forge-$name.err")"
  printf '  [INFO] %-10s sent %s\n' "$name" "${sent[$name]:-nothing}"
  sleep 0.5
  snap "post-$name"
}

# --- the attack -----------------------------------------------------------------------------------
t_attack0=$(now_ms)
wl0=$(witness_drops); wlines0=$(witness_drop_lines)
phase heartbeat heartbeat "\"duration\": $attack_s"
phase witness witness "\"epoch\": ${epoch0:-1}, \"per_witness\": 1100"
gw_json=$(printf '"%s",' "${gw_list[@]}"); gw_json="[${gw_json%,}]"
phase mgcp mgcp "\"active_address\": \"$active_mgcp_addr\", \"active_mgcp\": $active_mgcp, \"gateways\": $gw_json,
  \"mta_endpoints\": [\"aaln/1@mta-0001.cable.example\", \"aaln/2@mta-0002.cable.example\"], \"rounds\": 20"
phase responses responses "\"active_address\": \"$active_mgcp_addr\", \"active_mgcp\": $active_mgcp, \"duration\": $attack_s"
phase flood flood "\"active_address\": \"$active_mgcp_addr\", \"active_mgcp\": $active_mgcp, \"duration\": $flood_s,
  \"pps\": $flood_pps, \"spoof_address\": \"$spoof_mta\", \"spoof_port\": $spoof_port"
# Past the replay window (5 s by default) since the capture: the genuine datagrams are stale now.
window=$(node_toml_value "$cfg_a" peer.replay_window_ms); window=${window:-5000}
wait_ms=$(( capture_ms + window + 1500 - $(now_ms) ))
[ "$wait_ms" -le 0 ] || sleep "$(python3 -c "print($wait_ms / 1000)")"
phase late late ""
t_attack1=$(now_ms)
wl1=$(witness_drops); wlines1=$(witness_drop_lines)

# --- after ----------------------------------------------------------------------------------------
say "attack over after $(( (t_attack1 - t_attack0) / 1000 ))s; watching ${base_s}s more"
sleep 3
snap after
sleep "$((base_s > 3 ? base_s - 3 : 1))"
snap settled
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; watch_pid=""

echo
echo "Report (node A = ${names[0]}, B = ${names[1]}; active ${names[$a]}; forger $forger)"
printf '  %-30s %-28s %-22s %s\n' "state" "before" "after" ""
printf '  %-30s %-28s %-22s\n' "roles A/B" "$rolesline0" "$(field settled-0 status role)/$(field settled-1 status role)"
printf '  %-30s %-28s %-22s\n' "epoch A/B" "$(field before-0 status epoch)/$(field before-1 status epoch)" \
  "$(field settled-0 status epoch)/$(field settled-1 status epoch)"
printf '  %-30s %-28s %-22s\n' "peer state A/B (cluster)" "$(field before-0 cluster peer_state)/$(field before-1 cluster peer_state)" \
  "$(field settled-0 cluster peer_state)/$(field settled-1 cluster peer_state)"
printf '  %-30s %-28s %-22s\n' "udp heartbeat path A/B" "$(field before-0 cluster heartbeat_paths.udp)/$(field before-1 cluster heartbeat_paths.udp)" \
  "$(field settled-0 cluster heartbeat_paths.udp)/$(field settled-1 cluster heartbeat_paths.udp)"
printf '  %-30s %s\n' "gateways (active node)" "$(gateways_line "$a")"
printf '  %-30s %-28s %-22s\n' "calls completed (mtasim)" "$(load_col before 1)" "$(load_col settled 1)"
printf '  %-30s %-28s %-22s\n' "EMs at the RKS" "$(load_col before 4)" "$(load_col settled 4)"
echo
printf '  %-11s %-5s %-58s %s\n' forgery node counter rise
declare -A rise=()
row() { # row KEY FORGERY NODE PHASE NAME LABELS...: one counter's rise over a phase
  local key=$1 forgery=$2 node=$3 ph=$4 v
  shift 4
  v=$(mdelta "$node" "pre-$ph" "post-$ph" "$@")
  rise[$key]=$v
  printf '  %-11s %-5s %-58s %s\n' "$forgery" "$([ "$node" = 0 ] && echo A || echo B)" "$1{${*:2}}" "$v"
}
for i in 0 1; do
  for r in wrong_source malformed bad_mac replayed; do
    row "hb-$r-$i" heartbeat "$i" heartbeat cms_ha_udp_dropped_total path=heartbeat "reason=$r"
  done
  row "hb-stale-$i" late "$i" late cms_ha_udp_dropped_total path=heartbeat 'reason=stale|replayed'
  row "hb-late-src-$i" late "$i" late cms_ha_udp_dropped_total path=heartbeat reason=wrong_source
  row "hb-other-$i" heartbeat "$i" heartbeat cms_ha_udp_dropped_total path=heartbeat 'reason=wrong_cluster|epoch_out_of_range'
  row "w-src-$i" witness "$i" witness cms_ha_udp_dropped_total path=witness reason=wrong_source
  row "w-replay-$i" witness "$i" witness cms_ha_udp_dropped_total path=witness 'reason=replayed|unknown_request|stale'
done
row mgcp-src mgcp "$a" mgcp cms_mgcp_rejected_total reason=wrong_source
row resp-peer responses "$a" responses cms_mgcp_rejected_total reason=response_wrong_peer
row resp-unknown responses "$a" responses cms_mgcp_errors_total "peer=${forger//./\\.}:[0-9]+" 'reason=unknown_transaction|duplicate_response'
row flood-forger flood "$a" flood cms_mgcp_errors_total "peer=${forger//./\\.}:[0-9]+|other|.*overflow.*" 'reason=(?!send_error).*'
row flood-mta flood "$a" flood cms_mgcp_errors_total "peer=${spoof_mta//./\\.}:$spoof_port" 'reason=(?!send_error).*'
row flood-any flood "$a" flood cms_mgcp_errors_total 'reason=malformed.*|rate_limited|unknown_verb|bad_.*|no_transaction_id|unsupported_version'
printf '  %-11s %-5s %-58s %s\n' witness "W" "request_dropped (dropped_total logged, all witnesses)" "$wl0 -> $wl1 (log lines:$wlines0 ->$wlines1)"
echo

# --- objectives -----------------------------------------------------------------------------------
changes=$(awk 'NR == 1 { first = $2 " " $3 " " $4 " " $5 } $2 != "" && $2 " " $3 " " $4 " " $5 != first { n++ } END { print n + 0 }' "$scratch/roles.txt")
samples=$(wc -l < "$scratch/roles.txt")
unreach=$(awk '$2 == "" || $4 == "" { n++ } END { print n + 0 }' "$scratch/roles.txt")
objective "roles and epochs unchanged throughout" \
  "$([ "$changes" = 0 ] && [ "$(field settled-"$a" status epoch)" = "$epoch0" ] && [ "$(field settled-"$a" status role)" = active ] &&
    [ "$(field settled-"$s" status role)" = standby ]; echo $?)" \
  "$samples samples, $changes differing ($unreach with a node unreachable), epoch $epoch0 -> $(field settled-"$a" status epoch)"
promos=$(( $(mdelta 0 before settled cms_ha_promotions_total) + $(mdelta 1 before settled cms_ha_promotions_total) ))
objective "no promotion or re-election (cms_ha_promotions_total)" "$([ "$promos" = 0 ]; echo $?)" "$promos"
objective "peer up on both heartbeat paths after the attack" \
  "$([ "$(field settled-"$a" cluster peer_state)" = up ] && [ "$(field settled-"$a" cluster heartbeat_paths.udp)" = up ]; echo $?)" \
  "peer $(field settled-"$a" cluster peer_state), udp $(field settled-"$a" cluster heartbeat_paths.udp)"
gateways_ok "$a"; objective "every gateway still in service" $? "$(gateways_line "$a")"
forced=$(mdelta "$a" before settled cms_trunk_gateway_failures_total)
c0=$(load_col before 1) c1=$(load_col after 1)
objective "calls kept completing during the attack" "$([ "$c1" -gt "$c0" ]; echo $?)" "$c0 -> $c1 completed"
bf=$(( $(load_col before 2) - $(load_col base0 2) )) af=$(( $(load_col settled 2) - $(load_col before 2) ))
bd=$(( $(load_col before 3) - $(load_col base0 3) )) ad=$(( $(load_col settled 3) - $(load_col before 3) ))
nf_b=$(mdelta "$a" base0 before cms_call_failures_total) nf_a=$(mdelta "$a" before settled cms_call_failures_total)
objective "no failed or dropped call attributable to the attack" \
  "$([ "$ad" -eq 0 ] && [ "$af" -le "$bf" ] && [ "$nf_a" -le "$nf_b" ]; echo $?)" \
  "mtasim failed $af (baseline $bf), dropped $ad (baseline $bd); node cms_call_failures_total +$nf_a (baseline +$nf_b)"
e0=$(load_col before 4) e1=$(load_col settled 4)
objective "billing records still reach the RKS" "$([ "$e1" -gt "$e0" ]; echo $?)" "EMs at the RKS $e0 -> $e1"
[ "${forced:-0}" = 0 ] || printf '  [INFO] cms_trunk_gateway_failures_total rose by %s\n' "$forced"
for i in 0 1; do
  n=${names[$i]}
  objective "$n: forged heartbeats from the forger dropped (wrong_source)" "$([ "${rise[hb-wrong_source-$i]}" -gt 0 ]; echo $?)" "+${rise[hb-wrong_source-$i]}"
  objective "$n: unsigned JSON heartbeats dropped (malformed)" "$([ "${rise[hb-malformed-$i]}" -gt 0 ]; echo $?)" "+${rise[hb-malformed-$i]}"
  objective "$n: wrong-key heartbeats dropped (bad_mac)" "$([ "${rise[hb-bad_mac-$i]}" -gt 0 ]; echo $?)" "+${rise[hb-bad_mac-$i]}"
  objective "$n: replayed genuine heartbeats dropped (replayed)" "$([ "${rise[hb-replayed-$i]}" -gt 0 ]; echo $?)" "+${rise[hb-replayed-$i]}"
  objective "$n: genuine heartbeats re-sent later dropped (stale)" "$([ "${rise[hb-stale-$i]}" -gt 0 ]; echo $?)" "+${rise[hb-stale-$i]}"
  if [ "$n_witnesses" -gt 0 ] && [ "$i" = "$a" ]; then # the standby holds no lease: no answers to replay
    objective "$n: replayed witness answers dropped (wrong_source, replayed)" \
      "$([ $(( rise[w-src-$i] + rise[w-replay-$i] )) -gt 0 ]; echo $?)" "wrong_source +${rise[w-src-$i]}, replayed/unknown +${rise[w-replay-$i]}"
  fi
done
if [ "$n_witnesses" -gt 0 ]; then
  objective "witnesses dropped the forged claims and releases" "$([ "$wl1" -gt "$wl0" ]; echo $?)" \
    "dropped_total logged $wl0 -> $wl1 (each witness logs its first drop and every 1000th)"
fi
mgcp_answers=$(python3 -c "import json,sys
try: print(json.loads(sys.argv[1]).get('answers', 0))
except Exception: print(-1)" "${sent[mgcp]:-}")
objective "forged RSIP forced / NTFY dropped unanswered (wrong_source)" \
  "$([ "${rise[mgcp-src]}" -gt 0 ] && [ "$mgcp_answers" = 0 ]; echo $?)" "+${rise[mgcp-src]} wrong_source, $mgcp_answers answers to the forger"
objective "forged MGCP responses dropped (response_wrong_peer / unknown)" \
  "$([ $(( rise[resp-peer] + rise[resp-unknown] )) -gt 0 ]; echo $?)" "response_wrong_peer +${rise[resp-peer]}, unknown_transaction from the forger +${rise[resp-unknown]}"
objective "malformed flood counted and shed" \
  "$([ "${rise[flood-any]}" -gt 0 ] && [ $(( rise[flood-mta] + rise[flood-forger] )) -gt 0 ]; echo $?)" \
  "spoofed MTA $spoof_mta:$spoof_port +${rise[flood-mta]}, forger +${rise[flood-forger]}, malformed/rate_limited +${rise[flood-any]}"

echo
if [ "$failures" -eq 0 ]; then echo "drill-forgery: PASSED"; else
  echo "drill-forgery: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
