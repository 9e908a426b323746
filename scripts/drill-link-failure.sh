#!/usr/bin/env bash
# Drill: cut the primary data link to the partner FOR REAL and restore it:
#   - the primary link's actor sees its probes go unanswered and declares it down (detection time
#     reported; objective: within 1 s);
#   - management traffic takes the backup link: billing records reach the RKS over the backup VPN
#     link while the primary is down;
#   - off-net calls go to the local gateway segment while the primary is down, and to the
#     partner's segment again once it is back; no call leaks.
#
# Topology (network namespace and veth pairs made by this script, removed at exit):
#   root ns: cmsd (MGCP on 0.0.0.0), mtasim MTAs + local gateway tgw-l1 on loopback
#   root 10.78.1.1/30 --(cms-dlp: primary point-to-point link)-- 10.78.1.2/30  ns cms-partner
#   root 10.78.2.1/30 --(cms-dlb: backup VPN tunnel)------------ 10.78.2.2/30  ns cms-partner
#   ns cms-partner: the RKS (0.0.0.0:9100), probe responders on 10.78.1.2:5010 and 10.78.2.2:5010,
#                   mtasim playing the partner's gateways tgw-p1/tgw-p2 on 10.78.1.2 (reached over
#                   the primary link, like the real partner segment).
# The cut is `ip link set cms-dlp down`: the primary's packets are dropped, not an API flag.
#
# Usage: scripts/drill-link-failure.sh [--phase S] [--rate CALLS_PER_S]   (needs root)
#   BUILD_DIR=<dir with cmsd, mtasim, rks> (default build-release, built when missing)
set -uo pipefail
source "$(dirname "$0")/drill-lib.sh"
source "$(dirname "$0")/drill-pair.sh" # free_ports, now_ms, json_path, sim_request
[ "$(id -u)" -eq 0 ] || { echo "drill-link-failure: needs root (network namespaces)"; exit 2; }

phase=10 rate=2
while [ $# -gt 0 ]; do
  case "$1" in
    --phase) phase=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "drill-link-failure: unknown option $1" >&2; exit 2 ;;
  esac
done

ns=cms-partner
cleanup() {
  # Everything still running in the partner namespace is ours: kill it before the namespace goes.
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  cleanup_common
  ip netns del "$ns" 2>/dev/null
  ip link del cms-dlp 2>/dev/null; ip link del cms-dlb 2>/dev/null
  true
}
trap cleanup EXIT

if [ ! -x "$BUILD_DIR/cmsd" ] || [ ! -x "$BUILD_DIR/rks" ] || [ ! -x "$BUILD_DIR/mtasim" ] \
   || ! "$BUILD_DIR/mtasim" --help | grep -q -- --pstn-answer; then
  "$drill_root/scripts/install-deps.sh" >/dev/null
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$drill_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target cmsd mtasim rks >/dev/null
fi
"$drill_root/scripts/gen-certs.sh" "$scratch/certs" node-a rks >/dev/null

# --- the partner's side, behind two links ----------------------------------------------------------
ip netns del "$ns" 2>/dev/null; ip link del cms-dlp 2>/dev/null; ip link del cms-dlb 2>/dev/null
ip netns add "$ns"
ip link add cms-dlp type veth peer name cms-dlp-in && ip link set cms-dlp-in netns "$ns"
ip link add cms-dlb type veth peer name cms-dlb-in && ip link set cms-dlb-in netns "$ns"
ip addr add 10.78.1.1/30 dev cms-dlp && ip link set cms-dlp up
ip addr add 10.78.2.1/30 dev cms-dlb && ip link set cms-dlb up
ip netns exec "$ns" sh -c 'ip addr add 10.78.1.2/30 dev cms-dlp-in; ip addr add 10.78.2.2/30 dev cms-dlb-in;
  ip link set cms-dlp-in up; ip link set cms-dlb-in up; ip link set lo up'
inns() { ip netns exec "$ns" "$@"; } # foreground only: started with &, $! must be the program

ip netns exec "$ns" "$BUILD_DIR/rks" serve --listen 0.0.0.0:9100 --db "$scratch/rks.db" --cert "$scratch/certs/rks.crt" \
  --key "$scratch/certs/rks.key" --ca "$scratch/certs/ca.crt" > "$scratch/rks.out" 2>&1 & pids+=($!)
ip netns exec "$ns" "$BUILD_DIR/rks" probe --listen 10.78.1.2:5010 > "$scratch/probe-p.out" 2>&1 & pids+=($!)
ip netns exec "$ns" "$BUILD_DIR/rks" probe --listen 10.78.2.2:5010 > "$scratch/probe-b.out" 2>&1 & pids+=($!)

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
local_address = "10.78.1.1"
remote_address = "10.78.1.2"
remote_port = 5010
[[data_link]]
name = "dl-backup"
kind = "backup"
local_address = "10.78.2.1"
remote_address = "10.78.2.2"
remote_port = 5010
EOF
for m in 1 2 3 4; do for l in 1 2; do
  printf '[[subscriber]]\ndirectory_number = "55510%02d"\nendpoint_name = "aaln/%s@mta-%04d.cable.example"\nmta_fqdn = "mta-%04d.cable.example"\nmta_address = "127.0.0.1"\nmta_port = %s\nstatus = "active"\n' \
    $(( (m - 1) * 2 + l )) "$l" "$m" "$m" $((mta_port + m - 1))
done; done >> "$scratch/provisioning.toml"
mkdir -p "$scratch/node"
"$BUILD_DIR/cmsd" --provision "$scratch/provisioning.toml" "$scratch/node/cms.db" > "$scratch/provision.out" 2>&1 \
  || { echo "provisioning failed: $(cat "$scratch/provision.out")"; exit 2; }
cat > "$scratch/node.toml" <<CFG
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
[billing]
rks_primary = "10.78.1.2:9100"
rks_backup = "10.78.2.2:9100"
batch_size = 5
[links]
probe_interval_ms = 200
probe_misses = 3
[log]
level = "info"
CFG
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
metric_sum() { curl -s --max-time 2 "$api/metrics" | awk -v re="$1" '$1 ~ re { s += $2 } END { printf "%d\n", s }'; }
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

# --- phase 1: both links up ------------------------------------------------------------------------
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
rks_records=$("$BUILD_DIR/rks" count --db "$scratch/rks.db" 2>/dev/null | grep -o '[0-9]*' | head -1)
objective "every billing record reached the RKS" $([ "$pending" = 0 ]; echo $?) "outbox pending $pending, RKS holds ${rks_records:-?}"

report=$(cat "$scratch/mtasim.json" 2>/dev/null)
echo
echo "Report"
echo "  detection of the cut:        $((t1 - t0)) ms by the node's log (probe 200 ms x 3 misses)"
echo "  billing on the backup after: $((t2 - t0)) ms; back on the primary $((t5 - t3)) ms after the restore"
echo "  calls to the partner / local segment: up $((p1 - p0))/$((l1 - l0)), cut $((p3 - p2))/$((l3 - l2)), restored $((p5 - p4))/$((l5 - l4))"
echo "  billing records via primary $(records_via primary), via backup $(records_via backup); RKS holds ${rks_records:-?}"
echo "  load: $(json_path "$report" calls.attempts) calls, $(json_path "$report" calls.answered) answered, $(json_path "$report" calls.failed) failed"

echo
if [ "$failures" -eq 0 ]; then echo "drill-link-failure: PASSED"; else
  echo "drill-link-failure: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
