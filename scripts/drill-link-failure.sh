#!/usr/bin/env bash
# Drill: cut the primary data link to the partner FOR REAL and restore it:
#   - the primary link's actor sees its probes go unanswered and declares it down (detection time
#     reported; objective: within 1 s);
#   - management traffic takes the backup link, a real VPN (IPsec keyed by IKEv2, scripts/lib/vpn.sh,
#     docs/vpn.md): billing (Event Messages over RADIUS) goes to the RKS's secondary address inside
#     the tunnel while the primary is down, and back to the primary address once the link is back.
#     Proven on the wire: captured on the tunnel's underlay (cms-vpn0) during the cut there is ESP
#     and no RADIUS in clear, the RADIUS shows up in clear only on the partner's TUN device (inside
#     the tunnel), and the RKS stores EMs from 10.78.3.1, the head-end's address inside the tunnel;
#     at the end the RKS (FreeRADIUS) holds every EM of the node's outbox exactly once;
#   - off-net calls go to the local gateway segment while the primary is down, and to the
#     partner's segment again once it is back; no call leaks.
#
# Topology (vpn_up / vpn_primary_up of scripts/lib/vpn.sh, vpn_down at exit):
#   root ns: cmsd (MGCP on 0.0.0.0), mtasim MTAs + local gateway tgw-l1 on loopback
#   root 10.78.1.1/30 --(cms-dlp: primary point-to-point link, veth)---- 10.78.1.2/30  ns cms-rks
#   root 10.78.2.1/30 --(cms-vpn0: the VPN's underlay, IKE + ESP only)-- 10.78.2.2/30  ns cms-rks
#   root 10.78.3.1 <=====(backup link: ESP tunnel, TUN devices)=======> 10.78.3.2     ns cms-rks
#   ns cms-rks: the RKS (FreeRADIUS, scripts/lib/rks.sh) on 10.78.1.2:9100 (primary) and
#               10.78.3.2:9100 (secondary, inside the tunnel), one daemon and one store; link-peer
#               probe responders on 10.78.1.2:5010 and 10.78.3.2:5010 (the backup link's probes
#               cross the tunnel: its local address is 10.78.3.1),
#               mtasim playing the partner's gateways tgw-p1/tgw-p2 on 10.78.1.2 (reached over
#               the primary link, like the real partner segment).
# The cut is `ip link set cms-dlp down`: the primary's packets are dropped, not an API flag.
# The namespace name is shared with test/lab/vpn_test.sh and the lab: run one of them at a time.
#
# Usage: scripts/drill-link-failure.sh [--phase S] [--rate CALLS_PER_S]   (needs root)
#        scripts/drill-link-failure.sh --attach [STATE] [--phase S]
#   --attach: against the lab of scripts/run-pair.sh (default run/lab/state.env; no root needed):
#   the lab's primary link is cut by taking its far end away (the link-peer answering its probes,
#   held down by the lab's supervisor), then given back.
#   (the lab's link-peers run as root when the lab runs the VPN: then --attach needs root too).
#   BUILD_DIR=<dir with cmsd, mtasim, link-peer> (default build-release, built when missing;
#   CMS_NO_BUILD=1: never build, use what is there); needs /dev/net/tun, strongSwan (charon-systemd,
#   swanctl, libcharon-extra-plugins), tshark, freeradius, freeradius-utils and sqlite3
#   (scripts/install-deps.sh).
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"
source "$(dirname "$0")/drill-pair.sh" # free_ports, now_ms, json_path, sim_request

phase=10 rate=2 attach_state=""
while [ $# -gt 0 ]; do
  case "$1" in
    --phase) phase=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --attach)
      attach_state=$drill_root/run/lab/state.env
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then attach_state=$2; shift; fi
      shift ;;
    -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
    *) echo "drill-link-failure: unknown option $1" >&2; exit 2 ;;
  esac
done

# link_failure_attached: the drill on the running lab (see --attach).
link_failure_attached() {
  pair_attach "$attach_state"
  trap 'rm -f "$LAB_DIR/hold/link-primary"; cleanup_common' EXIT
  local a api
  a=$(active_node); [ -n "$a" ] || { echo "no active node in the lab: $(roles)"; exit 2; }
  api=$(url "$a" "")
  lstate() { curl -s --max-time 1 "$api/links" | python3 -c "import sys,json
try: print([l['state'] for l in json.load(sys.stdin)['items'] if l['kind'] == sys.argv[1]][0])
except Exception: print('')" "$1"; }
  is() { [ "$(lstate "$1")" = "$2" ]; }
  path_is() { [ "$(metrics_sum "$api" cms_billing_forwarder_path)" = "$1" ]; }
  preferred() { curl -s --max-time 2 "$api/trunks?limit=1" | python3 -c "import sys,json; print(json.load(sys.stdin)['preferred_segment'])"; }
  via() { metrics_match "$api" "^cms_billing_forwarder_records_total[{].*path=\"$1\""; }
  echo "drill-link-failure: attached to the lab in $LAB_DIR (active ${names[$a]})"
  wait_until 20 is primary up; objective "primary link up" $? "$(lstate primary)"
  wait_until 20 is backup up; objective "backup link up" $? "$(lstate backup)"
  local t0 t1 t2 b0 b1
  touch "$LAB_DIR/hold/link-primary"
  t0=$(now_ms)
  kill -KILL "$(lab_pid link-primary)"
  say "primary link cut (its far end held down)"
  wait_until 5 is primary down; t1=$(now_ms)
  objective "primary declared down within 1 s" $([ "$(lstate primary)" = down ] && [ $((t1 - t0)) -le 1500 ]; echo $?) \
    "$((t1 - t0)) ms (API polling included)"
  wait_until 10 path_is 2; objective "billing moved to the backup link" $? "$(( $(now_ms) - t0 )) ms after the cut"
  objective "off-net calls prefer the local segment" $([ "$(preferred)" = local ]; echo $?) "$(preferred)"
  b0=$(via backup); sleep "$phase"; b1=$(via backup)
  objective "billing records delivered over the backup" $([ "$b1" -gt "$b0" ]; echo $?) "$((b1 - b0)) in ${phase}s"
  rm -f "$LAB_DIR/hold/link-primary"
  t2=$(now_ms)
  say "primary link restored (its far end comes back)"
  wait_until 20 is primary up; objective "primary up again" $? "$(( $(now_ms) - t2 )) ms after the restore"
  wait_until 10 path_is 1; objective "billing back on the primary link" $? ""
  objective "off-net calls prefer the partner segment again" $([ "$(preferred)" = partner ]; echo $?) "$(preferred)"
  echo
  if [ "$failures" -eq 0 ]; then echo "drill-link-failure: PASSED"; else
    echo "drill-link-failure: FAILED ($failures objectives missed; lab logs in $LAB_DIR/logs)"; fi
  exit $(( failures > 0 ))
}
[ -z "$attach_state" ] || link_failure_attached
[ "$(id -u)" -eq 0 ] || { echo "drill-link-failure: needs root (network namespaces, veths, TUN)"; exit 2; }
[ -c /dev/net/tun ] || { echo "drill-link-failure: needs /dev/net/tun (the backup VPN's TUN devices)"; exit 2; }
source "$(dirname "$0")/lib/vpn.sh"

ns=$VPN_NS
vpn_dir=$scratch/vpn
caps=() # dumpcap pids
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local p
  for p in "${caps[@]}"; do stop_pid "$p" 5; done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null # (no "Killed" lines; the charons run on)
  # Charons, namespace (and what still runs in it), veths, routes: only what our vpn_up made.
  [ ! -d "$vpn_dir" ] || vpn_down "$vpn_dir"
  cleanup_common
  true
}
trap cleanup EXIT

if [ ! -x "$BUILD_DIR/cmsd" ] || [ ! -x "$BUILD_DIR/link-peer" ] || [ ! -x "$BUILD_DIR/mtasim" ] \
   || ! "$BUILD_DIR/mtasim" --help | grep -q -- --pstn-answer; then
  [ -z "${CMS_NO_BUILD:-}" ] ||
    { echo "drill-link-failure: CMS_NO_BUILD is set and $BUILD_DIR lacks cmsd, link-peer or a current mtasim"; exit 2; }
  "$drill_root/scripts/install-deps.sh" >/dev/null
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$drill_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target cmsd mtasim link-peer >/dev/null
fi
"$drill_root/scripts/gen-certs.sh" "$scratch/certs" node-a >/dev/null # + rks.secret, the RADIUS secret

# --- the partner's side, behind two links ----------------------------------------------------------
# The backup link first: the partner namespace, the underlay and the IKEv2/IPsec tunnel (vpn_up
# returns once a ping crosses it); then the primary link, a plain veth into the same namespace.
for t in dumpcap tshark; do
  command -v "$t" >/dev/null || { echo "drill-link-failure: $t missing (scripts/install-deps.sh)"; exit 2; }
done
say "backup link: IPsec tunnel keyed by IKEv2 (vpn_up $vpn_dir)"
t_vpn=$(now_ms)
vpn_up "$vpn_dir" > "$scratch/vpn-up.log" 2>&1
rc=$?
objective "backup VPN up (IKEv2, ping through the tunnel)" "$rc" "$(( $(now_ms) - t_vpn )) ms"
[ "$rc" -eq 0 ] || { tail -20 "$scratch/vpn-up.log"; KEEP_SCRATCH=1; exit 2; }
vpn_primary_up "$vpn_dir" || { KEEP_SCRATCH=1; exit 2; }
vpn_sas=$(vpn_swanctl "$vpn_dir" headend --list-sas 2>/dev/null)
say "tunnel: $(grep -oE 'ESP:[A-Z_0-9/-]+' <<<"$vpn_sas" | head -1), TUN $(cat "$vpn_dir/headend/tun") here and $(cat "$vpn_dir/partner/tun") in $ns"
inns() { ip netns exec "$ns" "$@"; } # foreground only: started with &, $! must be the program

# One RKS on both paths: EMs from the node's end of the primary (10.78.1.1) and from its address
# inside the tunnel (10.78.3.1); its own primary address for rks_start's Status-Server probe.
RKS_NETNS=$ns RKS_CLIENTS="$VPN_PRIMARY_HE $VPN_INNER_HE $VPN_PRIMARY_RKS" \
  rks_lab_start "$scratch/rks" "$VPN_PRIMARY_RKS,$VPN_INNER_RKS" 9100 "$scratch/certs/rks.secret" || exit 2
pids+=("$rks_pid")
ip netns exec "$ns" "$BUILD_DIR/link-peer" --listen "$VPN_PRIMARY_RKS:5010" > "$scratch/probe-p.out" 2>&1 & pids+=($!)
ip netns exec "$ns" "$BUILD_DIR/link-peer" --listen "$VPN_INNER_RKS:5010" > "$scratch/probe-b.out" 2>&1 & pids+=($!)

# --- provisioning and the node ---------------------------------------------------------------------
read -r mgcp_port mta_port l1_port < <(free_ports 3 udp)
read -r http_port peer_port < <(free_ports 2 tcp)
cat > "$scratch/provisioning.toml" <<EOF
[[carrier]]
id = "northtel"
name = "NorthTel"
[[carrier]]
id = "bluewave"
name = "BlueWave"
[[gateway]]
name = "tgw-p1.partner.example"
address = "10.78.1.2"
port = 2427
role = "active"
segment = "partner"
[[gateway]]
name = "tgw-p2.partner.example"
address = "10.78.1.2"
port = 2428
role = "active"
segment = "partner"
[[gateway]]
name = "tgw-l1.local.example"
address = "127.0.0.31"
port = $l1_port
role = "active"
segment = "local"
[[facility]]
id = "p1-pri-1"
gateway = "tgw-p1.partner.example"
kind = "pri"
carrier = "northtel"
span = 1
channels = 8
backup_facility = "p2-pri-1"
[[facility]]
id = "p2-pri-1"
gateway = "tgw-p2.partner.example"
kind = "pri"
carrier = "bluewave"
span = 1
channels = 8
backup_facility = "p1-pri-1"
[[facility]]
id = "l1-pri-1"
gateway = "tgw-l1.local.example"
kind = "pri"
carrier = "northtel"
span = 1
channels = 8
[[trunk_group]]
id = "tg-partner"
name = "Partner"
segment = "partner"
members = [ { facility = "p1-pri-1", priority = 1 }, { facility = "p2-pri-1", priority = 1 } ]
[[trunk_group]]
id = "tg-local"
name = "Local exchange"
segment = "local"
members = [ { facility = "l1-pri-1", priority = 1 } ]
[[route]]
prefix = "1"
trunk_group = "tg-partner"
priority = 1
[[route]]
prefix = ""
trunk_group = "tg-local"
priority = 1
[[data_link]]
name = "dl-primary"
kind = "primary"
local_address = "$VPN_PRIMARY_HE"
remote_address = "$VPN_PRIMARY_RKS"
remote_port = 5010
[[data_link]]
name = "dl-backup"
kind = "backup"
local_address = "$VPN_INNER_HE"
remote_address = "$VPN_INNER_RKS"
remote_port = 5010
EOF
for m in 1 2 3 4; do for l in 1 2; do
  printf '[[subscriber]]\ndirectory_number = "55510%02d"\nendpoint_name = "aaln/%s@mta-%04d.cable.example"\nmta_fqdn = "mta-%04d.cable.example"\nmta_address = "127.0.0.1"\nmta_port = %s\nstatus = "active"\n' \
    $(( (m - 1) * 2 + l )) "$l" "$m" "$m" $((mta_port + m - 1))
done; done >> "$scratch/provisioning.toml"
mkdir -p "$scratch/node"
"$BUILD_DIR/cmsd" --provision "$scratch/provisioning.toml" "$scratch/node/cms.db" > "$scratch/provision.out" 2>&1 \
  || { echo "provisioning failed: $(cat "$scratch/provision.out")"; exit 2; }
node_toml "$scratch/node.toml" --extra "$(cat <<CFG
[node]
id = "drill-link"
data_dir = "$scratch/node"
[mgcp]
bind = "0.0.0.0"
port = $mgcp_port
[http]
bind = "127.0.0.1"
port = $http_port
[peer]
address = "127.0.0.2"
listen_port = $peer_port
udp_heartbeat_port = $(free_ports 1 udp)
heartbeat_interval_ms = 100
[tls]
certificate = "$scratch/certs/node-a.crt"
key = "$scratch/certs/node-a.key"
ca = "$scratch/certs/ca.crt"
[links]
probe_interval_ms = 200
probe_misses = 3
[log]
level = "info"
CFG
)" --extra "$(rks_billing_toml "$VPN_PRIMARY_RKS:9100" "$VPN_INNER_RKS:9100" "$scratch/certs/rks.secret")
batch_size = 5"
"$BUILD_DIR/cmsd" --config "$scratch/node.toml" > "$scratch/cmsd.out" 2>&1 & pids+=($!)
api="http://127.0.0.1:$http_port"

wait_ready() { # wait_ready OUT_FILE: a started mtasim printed "ready"; echoes its control port
  local end=$(( $(date +%s) + 20 ))
  until grep -q '^mtasim: ready' "$1"; do
    [ "$(date +%s)" -le "$end" ] || { echo "mtasim did not start: $(cat "$1")" >&2; exit 2; }
    sleep 0.1
  done
  sed -n 's/^mtasim: control [0-9.]*:\([0-9]*\).*/\1/p' "$1" | head -1
}
ip netns exec "$ns" "$BUILD_DIR/mtasim" --ca "10.78.1.1:$mgcp_port" --mtas 0 --bind 10.78.1.2 --control 0 --no-media \
  --gateway tgw-p1.partner.example@10.78.1.2:2427 --gateway tgw-p2.partner.example@10.78.1.2:2428 \
  --channels 8 --pstn-answer-delay 300 --rto-max 1000 > "$scratch/partner.out" 2>&1 & pids+=($!)
partner_ctl=$(wait_ready "$scratch/partner.out") || exit 2
"$BUILD_DIR/mtasim" --ca "127.0.0.1:$mgcp_port" --mtas 0 --control 0 --channels 8 \
  --gateway "tgw-l1.local.example@127.0.0.31:$l1_port" --pstn-answer-delay 300 --rto-max 1000 \
  > "$scratch/local.out" 2>&1 & pids+=($!)
local_ctl=$(wait_ready "$scratch/local.out") || exit 2

# partner control is on 10.78.1.2 inside the namespace: ask it from there.
ask_partner() { inns python3 - "$partner_ctl" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("10.78.1.2", int(sys.argv[1])), timeout=3)
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk: break
    buf += chunk
print(buf.decode().strip())
PY
}
ask_local() { sim_control=$local_ctl sim_request "$1"; }
seizures() { json_path "$1" trunks.seizures; }
partner_seizures() { seizures "$(ask_partner report)"; }
local_seizures() { seizures "$(ask_local report)"; }
link_state() { curl -s --max-time 1 "$api/links" | python3 -c "import sys,json
try: print([l['state'] for l in json.load(sys.stdin)['items'] if l['name'] == sys.argv[1]][0])
except Exception: print('')" "$1"; }
metric_sum() { metrics_match "$api" "$1"; }
billing_path() { metric_sum '^cms_billing_forwarder_path'; } # 1 primary, 2 backup
records_via() { metric_sum "^cms_billing_forwarder_records_total[{].*path=\"$1\""; }
healthy() { curl -s --max-time 2 "$api/trunks" | python3 -c "import sys,json
try: sys.exit(0 if all(g['healthy'] for g in json.load(sys.stdin)['gateways']) else 1)
except Exception: sys.exit(1)"; }
wait_until() { # wait_until SECONDS COMMAND...
  local end=$(( $(date +%s%3N) + $1 * 1000 )); shift
  until "$@"; do [ "$(date +%s%3N)" -le "$end" ] || return 1; sleep 0.05; done
}
is_state() { [ "$(link_state "$1")" = "$2" ]; }
path_is() { [ "$(billing_path)" = "$1" ]; }

echo "drill-link-failure: scratch $scratch"
wait_until 30 healthy || { echo "gateways not healthy: $(curl -s "$api/trunks" | head -c 800)"; exit 2; }
wait_until 10 is_state dl-primary up; objective "primary link up" $? "$(link_state dl-primary)"
wait_until 10 is_state dl-backup up; objective "backup link up" $? "$(link_state dl-backup)"

# Long-distance calls (prefix 1: the partner's segment first) from 8 lines, all drill long.
duration=$((phase * 4 + 30))
"$BUILD_DIR/mtasim" --ca "127.0.0.1:$mgcp_port" --mtas 4 --lines 2 --base-port "$mta_port" --dn-base 5551001 \
  --control 0 --scenario offnet --called 12125550100 --rate "$rate" --hold 1 --duration "$duration" \
  --rto-max 1000 --json --report-file "$scratch/mtasim.json" > "$scratch/mtasim.out" 2>&1 & sim_pid=$!; pids+=($!)
sim_control=$(wait_ready "$scratch/mtasim.out") || exit 2
say "load running: $rate calls/s to 12125550100 for ${duration}s"

# --- the wire: the VPN's underlay and, in clear, the partner's end of the tunnel -------------------
# cap_start NAME IFACE [NETNS] [FILTER]: dumpcap into $scratch/NAME.pcapng; returns once it captures.
cap_start() {
  local name=$1 ifc=$2 netns=${3:-} filter=${4:-}
  local args=(-q -i "$ifc" -w "$scratch/$name.pcapng")
  [ -z "$filter" ] || args+=(-f "$filter")
  if [ -n "$netns" ]; then
    ip netns exec "$netns" dumpcap "${args[@]}" > "$scratch/$name.dumpcap.log" 2>&1 &
  else
    dumpcap "${args[@]}" > "$scratch/$name.dumpcap.log" 2>&1 &
  fi
  caps+=($!)
  wait_until 5 grep -q "Capturing on" "$scratch/$name.dumpcap.log" ||
    { echo "dumpcap on $ifc did not start: $(cat "$scratch/$name.dumpcap.log")"; exit 2; }
}
cap_stop_all() { # SIGINT: dumpcap flushes its file
  local p
  for p in "${caps[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${caps[@]}"; do wait "$p" 2>/dev/null; done
  caps=()
}
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); } # ms -> s.mmm (frame.time_epoch)
# wire NAME FROM_MS TO_MS FILTER: packets of NAME's capture in [FROM, TO) matching FILTER (the RKS
# port decoded as RADIUS).
wire() {
  tshark -r "$scratch/$1.pcapng" -d udp.port==9100,radius \
    -Y "frame.time_epoch >= $(secs "$2") && frame.time_epoch < $(secs "$3") && ($4)" 2>/dev/null | wc -l
}
cap_start underlay "$VPN_IF"
cap_start tunnel "$(cat "$vpn_dir/partner/tun")" "$ns" "udp port 9100"

# --- phase 1: both links up ------------------------------------------------------------------------
tb=$(now_ms)
p0=$(partner_seizures); l0=$(local_seizures); bp0=$(records_via primary); bb0=$(records_via backup)
sleep "$phase"
p1=$(partner_seizures); l1=$(local_seizures); bp1=$(records_via primary); bb1=$(records_via backup)
objective "link up: calls go to the partner segment" $([ $((p1 - p0)) -gt 0 ] && [ $((l1 - l0)) -eq 0 ]; echo $?) \
  "partner $((p1 - p0)), local $((l1 - l0))"
objective "link up: billing over the primary link" $([ "$(billing_path)" = 1 ] && [ $((bp1 - bp0)) -gt 0 ]; echo $?) \
  "$((bp1 - bp0)) records via primary, $((bb1 - bb0)) via backup"

# --- phase 2: the primary link is cut -------------------------------------------------------------
say "cutting the primary link (ip link set cms-dlp down)"
t0=$(now_ms)
ip link set cms-dlp down
wait_until 5 is_state dl-primary down
# When the node saw it: the transition's own log line (polling the API adds its own delay).
t1=$(python3 - "$scratch/cmsd.out" <<'PY'
import re, sys, datetime
last = 0
for line in open(sys.argv[1]):
    if "event=data_link_transition link=dl-primary" in line and "to=down" in line:
        ts = re.search(r"ts=(\S+)Z", line).group(1)
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        last = int(t.timestamp() * 1000)
print(last)
PY
)
objective "primary declared down within 1 s" $([ "$(link_state dl-primary)" = down ] && [ $((t1 - t0)) -le 1000 ]; echo $?) "$((t1 - t0)) ms (node log)"
wait_until 10 path_is 2; t2=$(now_ms)
objective "billing moved to the backup link" $([ "$(billing_path)" = 2 ]; echo $?) "$((t2 - t0)) ms after the cut"
objective "backup link stays up" $([ "$(link_state dl-backup)" = up ]; echo $?) "$(link_state dl-backup)"
sleep 1 # calls that were being set up on the partner segment finish (or fail over)
p2=$(partner_seizures 2>/dev/null); l2=$(local_seizures); bb2=$(records_via backup); bp2=$(records_via primary)
sleep "$phase"
p3=$(partner_seizures 2>/dev/null); l3=$(local_seizures); bb3=$(records_via backup); bp3=$(records_via primary)
objective "link down: off-net calls go to the local segment" $([ $((l3 - l2)) -gt 0 ] && [ $((p3 - p2)) -eq 0 ]; echo $?) \
  "local $((l3 - l2)), partner $((p3 - p2))"
objective "link down: billing records delivered over the backup" $([ $((bb3 - bb2)) -gt 0 ] && [ $((bp3 - bp2)) -eq 0 ]; echo $?) \
  "$((bb3 - bb2)) records via backup, $((bp3 - bp2)) via primary"

# --- phase 3: restored ------------------------------------------------------------------------------
say "restoring the primary link"
t3=$(now_ms)
ip link set cms-dlp up
wait_until 10 is_state dl-primary up; t4=$(now_ms)
objective "primary up again" $([ "$(link_state dl-primary)" = up ]; echo $?) "$((t4 - t3)) ms after the restore"
wait_until 10 path_is 1; t5=$(now_ms)
objective "billing back on the primary link" $([ "$(billing_path)" = 1 ]; echo $?) "$((t5 - t3)) ms after the restore"
t_end=$(now_ms)
cap_stop_all
# Billing inside the tunnel, on the wire: RADIUS Accounting-Requests from the head-end's inner
# address, in clear only on the partner's TUN device; the underlay carries them as ESP (in UDP 4500).
acct="radius.code == 4 && ip.src == $VPN_INNER_HE && ip.dst == $VPN_INNER_RKS"
esp_before=$(wire underlay "$tb" "$t0" esp); esp_cut=$(wire underlay "$t0" "$t3" esp)
acct_before=$(wire tunnel "$tb" "$t0" "$acct"); acct_cut=$(wire tunnel "$t0" "$t3" "$acct")
acct_after=$(wire tunnel "$t5" "$t_end" "$acct")
plain=$(wire underlay "$tb" "$t_end" "udp.port == 9100 || radius || udp.port == 5010")
other=$(wire underlay "$tb" "$t_end" "!(esp || udp.port == 500 || udp.port == 4500 || arp)")
rate_of() { python3 -c "print(round($1 * 1000 / max(1, $2), 1))"; } # rate_of PACKETS MS
esp_rate_before=$(rate_of "$esp_before" $((t0 - tb))) esp_rate_cut=$(rate_of "$esp_cut" $((t3 - t0)))
objective "cut: billing crossed the underlay ($VPN_IF) as ESP" \
  "$(python3 -c "import sys; sys.exit(0 if $esp_cut > 0 and $esp_rate_cut > $esp_rate_before else 1)"; echo $?)" \
  "$esp_rate_cut ESP/s during the cut, $esp_rate_before ESP/s before (probes and DPD only)"
objective "cut: RADIUS accounting inside the tunnel (partner TUN)" "$([ "$acct_cut" -gt 0 ]; echo $?)" \
  "$acct_cut Accounting-Requests $VPN_INNER_HE -> $VPN_INNER_RKS:9100 during the cut, $acct_before before, $acct_after after the restore"
objective "no RADIUS or probe in clear on the underlay" "$([ "$plain" -eq 0 ] && [ "$other" -eq 0 ]; echo $?)" \
  "$plain RADIUS/probe packets, $other non-IKE/ESP packets on $VPN_IF"
vpn_state=$(vpn_status "$vpn_dir")
objective "VPN still up after the drill" "$([ "$vpn_state" = up ]; echo $?)" "$vpn_state"

wait_until 10 healthy; sleep 1
p4=$(partner_seizures); l4=$(local_seizures)
sleep "$phase"
p5=$(partner_seizures); l5=$(local_seizures)
objective "link back: calls go to the partner segment again" $([ $((p5 - p4)) -gt 0 ] && [ $((l5 - l4)) -eq 0 ]; echo $?) \
  "partner $((p5 - p4)), local $((l5 - l4))"

say "waiting for the load to end"
while kill -0 "$sim_pid" 2>/dev/null; do sleep 0.5; done
leaks() {
  local calls busy
  calls=$(curl -s --max-time 2 "$api/calls?limit=1000" | python3 -c "import sys,json; print(len(json.load(sys.stdin)['items']))" 2>/dev/null || echo 999)
  busy=$(curl -s --max-time 2 "$api/trunks" | python3 -c "import sys,json
try: print(sum(f['channels_by_state']['seized'] + f['channels_by_state']['in_call'] for f in json.load(sys.stdin)['items']))
except Exception: print(999)")
  echo "$calls $busy"
}
end=$(( $(date +%s) + 20 ))
while read -r c b < <(leaks); [ "$c $b" != "0 0" ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
read -r c b < <(leaks)
objective "no call or channel leaked" $([ "$c $b" = "0 0" ]; echo $?) "$c calls listed, $b busy channels"
pending=$(metric_sum '^cms_billing_outbox_pending')
end=$(( $(date +%s) + 20 ))
while [ "$(metric_sum '^cms_billing_outbox_pending')" != 0 ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
pending=$(metric_sum '^cms_billing_outbox_pending')
# The RKS stores EMs, each once (UNIQUE bcid, em_type, sequence): rks_audit maps them back to the
# outbox records (docs/billing.md) and counts the calls whose Signaling_Stop it holds.
audit=$(rks_audit "$rks_db" "$scratch/node/cms.db" 2>"$scratch/audit.err")
af() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); o=d['outboxes'][0]; print($1)" "$audit" 2>/dev/null; }
rks_records=$(af "d['records']") rks_ems=$(af "d['ems']") rks_stops=$(af "d['calls_stopped']")
outbox_records=$(af "o['records']") outbox_stops=$(af "o['signaling_stops']")
missing=$(af "o['missing']") unknown=$(af "o['unknown']") inconsistent=$(af "o['inconsistent']")
via_backup=$(rks_sql "$rks_db" "SELECT count(*) FROM event_message WHERE client_ip = '$VPN_INNER_HE';")
via_primary=$(rks_sql "$rks_db" "SELECT count(*) FROM event_message WHERE client_ip = '$VPN_PRIMARY_HE';")
objective "every billing record reached the RKS" "$([ "$pending" = 0 ] && [ "$missing" = 0 ]; echo $?)" \
  "outbox pending $pending, $outbox_records records, ${missing:-?} without EMs at the RKS"
objective "the RKS holds each EM once, none foreign to the outbox" \
  "$([ "$unknown" = 0 ] && [ "$inconsistent" = 0 ] && [ -n "$rks_ems" ]; echo $?)" \
  "${rks_ems:-?} EMs for ${rks_records:-?} records, ${unknown:-?} unknown, ${inconsistent:-?} inconsistent$(head -c 200 "$scratch/audit.err")"
objective "one Signaling_Stop per call the node ended" "$([ -n "$rks_stops" ] && [ "$rks_stops" = "$outbox_stops" ]; echo $?)" \
  "${rks_stops:-?} at the RKS, ${outbox_stops:-?} signaling_stop records in the outbox"
objective "the RKS got EMs through the tunnel (from $VPN_INNER_HE)" "$([ "${via_backup:-0}" -gt 0 ]; echo $?)" \
  "${via_backup:-0} EMs from $VPN_INNER_HE, ${via_primary:-0} from $VPN_PRIMARY_HE (primary)"

report=$(cat "$scratch/mtasim.json" 2>/dev/null)
echo
echo "Report"
echo "  detection of the cut:        $((t1 - t0)) ms by the node's log (probe 200 ms x 3 misses)"
echo "  billing on the backup after: $((t2 - t0)) ms; back on the primary $((t5 - t3)) ms after the restore"
echo "  backup VPN: ESP on $VPN_IF ${esp_rate_before}/s before the cut, ${esp_rate_cut}/s during it; $acct_cut RADIUS requests inside the tunnel during the cut; RKS EMs from $VPN_INNER_HE (tunnel) ${via_backup:-0}, from $VPN_PRIMARY_HE ${via_primary:-0}"
echo "  calls to the partner / local segment: up $((p1 - p0))/$((l1 - l0)), cut $((p3 - p2))/$((l3 - l2)), restored $((p5 - p4))/$((l5 - l4))"
echo "  billing records via primary $(records_via primary), via backup $(records_via backup); RKS holds ${rks_ems:-?} EMs of ${rks_records:-?} records, ${rks_stops:-?} calls ended"
echo "  load: $(json_path "$report" calls.attempts) calls, $(json_path "$report" calls.answered) answered, $(json_path "$report" calls.failed) failed"

echo
if [ "$failures" -eq 0 ]; then echo "drill-link-failure: PASSED"; else
  echo "drill-link-failure: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
