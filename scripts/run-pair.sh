#!/usr/bin/env bash
# Sets up and runs the lab on this machine: the active/standby pair and the network around it, as
# in the reference deployment (docs/quickstart.md walks through it):
#   - node A (127.0.0.1) and node B (127.0.0.2), from config/node-a.toml and config/node-b.toml,
#     both provisioned from config/provisioning.toml (with the VPN, from run/lab/provisioning.toml:
#     the same with the data links' addresses moved onto the veth and into the tunnel);
#   - three witnesses (cms-witness) that grant the pair its epochs and the active its lease;
#   - the partner's side, in network namespace cms-rks: the Record Keeping Server (FreeRADIUS) and
#     the far ends (link-peer) of both data links, see start_rks: the primary point-to-point link
#     (a veth, 10.78.1.1 <-> 10.78.1.2) and the backup link, a real VPN: an IPsec tunnel keyed by
#     IKEv2 (strongSwan, scripts/lib/vpn.sh, docs/vpn.md; 10.78.3.1 <=> 10.78.3.2 over the underlay
#     cms-vpn0), so billing takes the tunnel while the primary is down;
#   - every provisioned trunking gateway, the cold spare included (one mtasim per gateway, so one
#     can fail alone);
#   - the provisioned MTAs (mtasim): most lines call each other, a few dial off-net numbers that
#     route to the partner's and the local gateway segment, at a gentle rate with varied holds.
# Every process runs under a supervisor that restarts it when it exits (1 s, 2 s ... 10 s
# backoff): kill -9 the active and watch the standby take over and the killed node come back as
# standby. Ctrl-C stops everything. The state of the running lab is in run/lab/state.env: the drills
# attach to it with --attach.
#
# Usage: scripts/run-pair.sh [--rate CALLS_PER_S] [--hold MIN-MAX] [--no-lab] [--no-vpn]
#   --rate    calls per second placed by the simulated subscribers (default 0.2: with holds of
#             10-30 s, 20 lines stay about half busy; more only makes calls wait for free lines)
#   --hold    hold time of an answered call in seconds, MIN-MAX or S (default 10-30: the first
#             calls, on-net and off-net, complete and are billed within the lab's first minute)
#   --no-lab  only the two nodes, as configured (no witnesses, simulators or RKS)
#   --no-vpn  the partner's side on loopback, no namespace or tunnel: RKS and link far ends on
#             127.0.0.51 (primary) and 127.0.0.52 (backup), for hosts without root or /dev/net/tun.
#             The lab also falls back to it, saying why, when the VPN cannot be brought up.
# Environment: BUILD_DIR (default build-release), built by this script (installs packages on a
# fresh machine); CMS_NO_BUILD=1 never builds: the binaries in BUILD_DIR are used as they are.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/common.sh
source scripts/lib/build.sh
source scripts/lib/node.sh
source scripts/lib/sims.sh
source scripts/lib/supervise.sh
source scripts/lib/rks.sh
source scripts/lib/vpn.sh

rate=0.2 hold=10-30 lab=1 vpn=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --no-lab) lab=""; shift ;;
    --no-vpn) vpn=""; shift ;;
    --vpn) shift ;; # the default now; kept for old command lines
    -h|--help) sed -n '/^set -euo pipefail/q; 2,$p' "$self"; exit 0 ;;
    *) echo "run-pair: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-$root/build-release}
BUILD_DIR=$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)
LAB_DIR=$root/run/lab
export LAB_DIR

if supervisor_alive; then
  echo "run-pair: a lab already runs (pid $(cat "$LAB_DIR/pids/supervisor.pid")); stop it first (Ctrl-C there)" >&2
  exit 2
fi

cms_build cmsd cms-witness cmsctl mtasim link-peer
bin() { echo "$BUILD_DIR/$1"; }

mkdir -p run/certs run/node-a run/node-b
# A fresh lab each time, but the witnesses' grants and the partner's records are kept: a witness
# that forgot its grants could grant an epoch twice, and the RKS is the partner's archive.
rm -rf "$LAB_DIR/logs" "$LAB_DIR/pids" "$LAB_DIR/hold" "$LAB_DIR/state.env"
mkdir -p "$LAB_DIR/logs" "$LAB_DIR/pids" "$LAB_DIR/hold" "$LAB_DIR/rks"
echo $$ > "$LAB_DIR/pids/supervisor.pid"
scripts/gen-certs.sh run/certs node-a node-b client > /dev/null # + rks.secret (RADIUS)

vpn_dir="" # the VPN's work directory while it is up (vpn_down at exit)
stopping=""
stop_lab() {
  trap - INT TERM EXIT
  [ -n "$stopping" ] && return
  stopping=1
  echo
  echo "run-pair: stopping the lab"
  svc_stop_all
  if [ -n "$vpn_dir" ]; then
    echo "run-pair: taking the VPN down (vpn_down $vpn_dir)"
    vpn_down "$vpn_dir" || true
  fi
  rm -f "$LAB_DIR/pids/supervisor.pid" "$LAB_DIR/state.env"
  echo "run-pair: stopped; logs stay in $LAB_DIR/logs"
}
trap 'stop_lab; exit 0' INT TERM
trap stop_lab EXIT

# --- the partner's network: primary link and the backup VPN -------------------------------------
# lab_vpn_up: namespace cms-rks, the IPsec/IKEv2 tunnel (the backup link) and the primary veth
# (scripts/lib/vpn.sh). On failure: the reason, and the lab goes on with the loopback layout.
lab_vpn_up() {
  local why="" d=$LAB_DIR/vpn
  if [ "$(id -u)" -ne 0 ]; then why="not root (namespaces, veths and TUN devices need root)"
  elif [ ! -c /dev/net/tun ]; then why="no /dev/net/tun on this host"
  else
    # A lab that died without its Ctrl-C may have left its VPN behind: take it down first.
    [ ! -d "$d" ] || vpn_down "$d" >/dev/null 2>&1 || true
    rm -rf "$d"
    say "run-pair: the backup link: IPsec tunnel keyed by IKEv2 (vpn_up $d)"
    if vpn_up "$d" > "$LAB_DIR/logs/vpn-up.log" 2>&1 && vpn_primary_up "$d" >> "$LAB_DIR/logs/vpn-up.log" 2>&1; then
      vpn_dir=$d
      return 0
    fi
    why="vpn_up failed: $(grep -m1 '^vpn:' "$LAB_DIR/logs/vpn-up.log" || tail -1 "$LAB_DIR/logs/vpn-up.log") (all of it in $LAB_DIR/logs/vpn-up.log)"
    vpn_down "$d" >/dev/null 2>&1 || true
  fi
  echo "run-pair: NO VPN: $why" >&2
  echo "run-pair: falling back to the loopback layout (as --no-vpn): both data links and the RKS on 127.0.0.51/.52" >&2
  return 1
}
if [ -n "$lab" ] && [ -n "$vpn" ]; then lab_vpn_up || vpn=""; fi
[ -n "$lab" ] || vpn=""

# --- node configurations ---------------------------------------------------------------------
# The lab runs the checked-in node files with what the lab adds: the witnesses, the RKS on the
# partner's side and an admin token (the drills switch over and take links out of service).
witnesses=(127.0.0.1:4601 127.0.0.1:4602 127.0.0.1:4603)
rks_port=9100
provisioning=config/provisioning.toml
if [ -n "$vpn" ]; then
  # The partner's side behind the veth and the tunnel: the node reaches the RKS and the far ends
  # of the links at 10.78.1.2 (primary) and 10.78.3.2 (inside the tunnel), and probes each link
  # from its own end (local_address), so the backup link's probes cross the tunnel too.
  rks_primary=$VPN_PRIMARY_RKS rks_backup=$VPN_INNER_RKS
  provisioning=$LAB_DIR/provisioning.toml
  python3 - config/provisioning.toml "$provisioning" "$VPN_PRIMARY_HE" "$VPN_PRIMARY_RKS" \
    "$VPN_INNER_HE" "$VPN_INNER_RKS" <<'PY'
import re, sys, tomllib
src, out, p_local, p_remote, b_local, b_remote = sys.argv[1:]
addr = {"primary": (p_local, p_remote), "backup": (b_local, b_remote)}
lines, table, kind = [], None, None
for line in open(src).read().splitlines(keepends=True):
    m = re.match(r"\s*\[\[?\s*([A-Za-z_]+)", line)
    if m:
        table, kind = m.group(1), None
    elif table == "data_link":
        m = re.match(r'\s*kind\s*=\s*"(\w+)"', line)
        if m:
            kind = m.group(1)
        m = re.match(r'(\s*)(local_address|remote_address)(\s*=\s*)"[^"]*"(.*)', line, re.S)
        if m and kind in addr:
            v = addr[kind][0 if m.group(2) == "local_address" else 1]
            line = f'{m.group(1)}{m.group(2)}{m.group(3)}"{v}"{m.group(4)}'
    lines.append(line)
open(out, "w").write("# written by scripts/run-pair.sh from %s: data links through ns cms-rks\n" % src
                     + "".join(lines))
links = {d["kind"]: (d["local_address"], d["remote_address"])
         for d in tomllib.load(open(out, "rb")).get("data_link", [])}
if links.get("primary") != addr["primary"] or links.get("backup") != addr["backup"]:
    sys.exit(f"run-pair: cannot place the data links in {out}: {links}")
PY
else
  rks_primary=127.0.0.51 rks_backup=127.0.0.52
fi
token_file=$LAB_DIR/admin-token
(umask 077 && openssl rand -hex 24 > "$token_file")
write_node() { # write_node a|b: run/lab/node-X.toml
  local n=$1 wl
  wl=$(printf '"%s", ' "${witnesses[@]}")
  local extra=(--set "http.admin_token=\"$(cat "$token_file")\"")
  if [ -n "$lab" ]; then
    extra+=(--set "peer.witnesses=[${wl%, }]"
            --set "billing.rks_primary=\"$rks_primary:$rks_port\""
            --set "billing.rks_secondary=\"$rks_backup:$rks_port\""
            --set "billing.secret_file=\"$root/run/certs/rks.secret\"")
  fi
  node_toml "$LAB_DIR/node-$n.toml" --base "config/node-$n.toml" "${extra[@]}"
  "$(bin cmsd)" --check-config "$LAB_DIR/node-$n.toml"
  "$(bin cmsd)" --provision "$provisioning" "run/node-$n/cms.db"
}
write_node a
write_node b
http_of() { echo "http://$(node_toml_value "$LAB_DIR/node-$1.toml" http.bind):$(node_toml_value "$LAB_DIR/node-$1.toml" http.port)"; }
mgcp_of() { echo "$(node_toml_value "$LAB_DIR/node-$1.toml" mgcp.bind):$(node_toml_value "$LAB_DIR/node-$1.toml" mgcp.port)"; }
http_a=$(http_of a) http_b=$(http_of b)
ca_list="$(mgcp_of a),$(mgcp_of b)"

# --- the partner's side ------------------------------------------------------------------------
# start_rks: the partner's side of both data links. The Record Keeping Server (FreeRADIUS,
# scripts/lib/rks.sh) is one daemon with one store, the partner's: the node reaches it at
# $rks_primary over the primary point-to-point link and at $rks_backup over the backup VPN. The far
# end of each link's probes (docs/data-links.md) is a link-peer on the same address, port 5010.
# With the VPN all three run in the partner's namespace (ns cms-rks), behind the primary veth and
# the tunnel; with --no-vpn on loopback.
# Holding a link-peer down (lab_hold link-primary) is how the drills cut a link here: the node
# sees the link down and moves billing to the other path (with the VPN, into the tunnel).
start_rks() {
  local inns=() clients=""
  if [ -n "$vpn" ]; then
    inns=(ip netns exec "$VPN_NS")
    # EMs come from the node's end of the primary veth and from its address inside the tunnel;
    # rks_status probes from the root namespace, over the primary.
    clients="$VPN_PRIMARY_HE $VPN_INNER_HE"
  fi
  RKS_CLIENTS=$clients rks_render "$LAB_DIR/rks/run" "$rks_primary,$rks_backup" "$rks_port" \
    run/certs/rks.secret "$LAB_DIR/rks/em.db" ||
    { echo "run-pair: the RKS config could not be written" >&2; exit 1; }
  # shellcheck disable=SC2016 # expanded by the inner bash
  svc_start rks "${inns[@]}" bash -c '. "$1"; rks_exec "$2"' _ "$root/scripts/lib/rks.sh" "$LAB_DIR/rks/run"
  svc_start link-primary "${inns[@]}" "$(bin link-peer)" --listen "$rks_primary:5010" --log-level warn
  svc_start link-backup "${inns[@]}" "$(bin link-peer)" --listen "$rks_backup:5010" --log-level warn
  wait_until 20 rks_status "$LAB_DIR/rks/run" ||
    echo "run-pair: the RKS does not answer yet; see $LAB_DIR/rks/run/radius.log" >&2
}
lab_rks_records() { rks_records "$LAB_DIR/rks/em.db"; }

# --- the network around the pair ---------------------------------------------------------------
start_witnesses() {
  local i=1 w key=()
  # Witnesses that check the pair's control-plane key get the file the nodes use.
  local key_file
  key_file=$(node_toml_value "$LAB_DIR/node-a.toml" peer.key_file)
  if [ -n "$key_file" ] && "$(bin cms-witness)" --help 2>&1 | grep -q -- --key; then
    key=(--key "$key_file")
  fi
  for w in "${witnesses[@]}"; do
    svc_start "witness-$i" "$(bin cms-witness)" --listen "$w" --cluster \
      "$(node_toml_value "$LAB_DIR/node-a.toml" node.cluster_id)" --state "$LAB_DIR/witness-$i.json" \
      "${key[@]}"
    i=$((i + 1))
  done
}

gw_control_base=4711
start_gateways() { # one mtasim per provisioned gateway: a gateway fails alone (kill, gw-stop)
  local i=0 name _
  gw_names=()
  while read -r name _; do
    # shellcheck disable=SC2046
    svc_start "gw-${name%%.*}" "$(bin mtasim)" --ca "$ca_list" --mtas 0 $(sim_gateway_args "$name") \
      --control $((gw_control_base + i)) --pstn-alert-delay 300 --pstn-answer-delay 1500 \
      --rto-max 1000 --max-retrans 3
    gw_names+=("$name")
    i=$((i + 1))
  done < <(sim_provisioned gateways)
}

# The provisioned MTAs, split in two simulators: most lines call each other (scenario calls);
# the last MTAs dial off-net numbers in turn: long distance and international (the partner's
# segment while the primary link is up) and a local number (the local exchange).
offnet_called=12125550100,01144207946000,4441234
start_mtas() {
  local count addr port lines dn offnet onnet
  read -r count addr port lines dn < <(sim_provisioned mtas)
  offnet=$(( count >= 4 ? 3 : 1 )); onnet=$(( count - offnet ))
  local common=(--ca "$ca_list" --lines "$lines" --base-port "$port" --answer-delay 2000
                --rto-max 1000 --max-retrans 3 --duration 86400 --register-timeout 120 --json)
  local r_on r_off
  read -r r_on r_off < <(python3 -c "r=float('$rate'); print(max(0.001, r * $onnet / $count), max(0.001, r * $offnet / $count))")
  svc_start mtas-onnet "$(bin mtasim)" "${common[@]}" --mtas "$onnet" --mta-address-base "$addr" \
    --dn-base "$dn" --scenario calls --rate "$r_on" --hold "$hold" --control 4701 \
    --report-file "$LAB_DIR/mtas-onnet.json"
  local off_addr
  off_addr=$(python3 -c "import ipaddress; print(ipaddress.ip_address('$addr') + $onnet)")
  svc_start mtas-offnet "$(bin mtasim)" "${common[@]}" --mtas "$offnet" --first-mta $((onnet + 1)) \
    --mta-address-base "$off_addr" --dn-base $((dn + onnet * lines)) --scenario offnet \
    --called "$offnet_called" --rate "$r_off" --hold "$hold" --control 4702 \
    --report-file "$LAB_DIR/mtas-offnet.json"
}

role_of() { json_field "$1/status" role; }
pair_formed() { [ "$(role_of "$http_a")/$(role_of "$http_b")" = active/standby ] ||
                [ "$(role_of "$http_a")/$(role_of "$http_b")" = standby/active ]; }

write_state() {
  cat > "$LAB_DIR/state.env" <<STATE
# The running lab (scripts/run-pair.sh, pid $$); sourced by the drills' --attach.
LAB_DIR=$LAB_DIR
LAB_BUILD_DIR=$BUILD_DIR
LAB_FULL=${lab:-0}
LAB_NODE_A_ID=$(node_toml_value "$LAB_DIR/node-a.toml" node.id)
LAB_NODE_B_ID=$(node_toml_value "$LAB_DIR/node-b.toml" node.id)
LAB_NODE_A_HTTP_HOST=$(node_toml_value "$LAB_DIR/node-a.toml" http.bind)
LAB_NODE_B_HTTP_HOST=$(node_toml_value "$LAB_DIR/node-b.toml" http.bind)
LAB_NODE_A_HTTP_PORT=$(node_toml_value "$LAB_DIR/node-a.toml" http.port)
LAB_NODE_B_HTTP_PORT=$(node_toml_value "$LAB_DIR/node-b.toml" http.port)
LAB_NODE_A_MGCP=$(mgcp_of a)
LAB_NODE_B_MGCP=$(mgcp_of b)
LAB_NODE_A_DB=$root/run/node-a/cms.db
LAB_NODE_B_DB=$root/run/node-b/cms.db
LAB_ADMIN_TOKEN_FILE=$token_file
LAB_RKS_DB=$LAB_DIR/rks/em.db
LAB_RKS_PRIMARY=$rks_primary:$rks_port
LAB_RKS_BACKUP=$rks_backup:$rks_port
LAB_VPN_DIR=$vpn_dir
LAB_SIM_ONNET_CONTROL=127.0.0.1:4701
LAB_SIM_OFFNET_CONTROL=127.0.0.1:4702
LAB_GATEWAYS="${gw_names[*]:-}"
LAB_GW_CONTROL_BASE=$gw_control_base
LAB_OFFNET_CALLED=$offnet_called
LAB_RATE=$rate
LAB_HOLD=$hold
STATE
}

# --- start, in dependency order -----------------------------------------------------------------
gw_names=() rks_base=""
if [ -n "$lab" ]; then
  say "run-pair: witnesses and the partner's RKS"
  start_witnesses
  start_rks
  rks_base="$(lab_rks_records) $(rks_calls "$LAB_DIR/rks/em.db")" # what the RKS kept from earlier runs
  # The PSTN side is there before the softswitch, as in a real network: the gateways answer the
  # new active's first keepalives (started after it, they would be alarmed failed at start-up).
  say "run-pair: trunking gateways"
  start_gateways
fi
say "run-pair: node A and node B"
svc_start node-a "$(bin cmsd)" --config "$LAB_DIR/node-a.toml"
svc_start node-b "$(bin cmsd)" --config "$LAB_DIR/node-b.toml"
wait_until 60 pair_formed || { echo "run-pair: the pair did not form; see $LAB_DIR/logs/node-*.log" >&2; exit 1; }
say "run-pair: pair formed: A $(role_of "$http_a"), B $(role_of "$http_b")"
if [ -n "$lab" ]; then
  say "run-pair: MTAs"
  start_mtas
fi
write_state

token=$(cat "$token_file")
cat <<INFO

run-pair: the lab runs (state: run/lab/state.env). Ctrl-C stops everything.
  dashboard    $http_a/   $http_b/
  cmsctl       export CMS_NODE=$http_a CMS_ADMIN_TOKEN=\$(cat run/lab/admin-token)
               $(bin cmsctl) cluster | calls | trunks | links | billing | events
  logs         run/lab/logs/<service>.log   supervisor: run/lab/logs/supervisor.log
  stores       run/node-a/cms.db  run/node-b/cms.db
INFO
if [ -n "$lab" ]; then
  cat <<INFO
  RKS EMs      sqlite3 run/lab/rks/em.db 'select bcid, em_type, sequence from event_message' | tail
               (source scripts/lib/rks.sh; rks_em_list run/lab/rks/em.db; rks_records ...)
  simulators   on-net MTAs control 127.0.0.1:4701, off-net 4702, gateways from $gw_control_base
               (source scripts/lib/sims.sh; sim_ask 127.0.0.1:4701 report | python3 -m json.tool)
  topology     witnesses ${witnesses[*]}; RKS (FreeRADIUS) $rks_primary:$rks_port (primary link,
               link-peer :5010), $rks_backup:$rks_port (backup link); gateways ${gw_names[*]}
INFO
  if [ -n "$vpn" ]; then
    cat <<INFO
  VPN          backup link = IPsec tunnel keyed by IKEv2: $VPN_INNER_HE <=> $VPN_INNER_RKS (ns $VPN_NS) over
               the underlay $VPN_IF $VPN_UNDER_HE <-> $VPN_UNDER_RKS; primary link = veth $VPN_PRIMARY_IF $VPN_PRIMARY_HE <-> $VPN_PRIMARY_RKS
               STRONGSWAN_CONF=$vpn_dir/headend/strongswan.conf swanctl --list-sas --uri unix://$vpn_dir/headend/charon.vici
               tshark -i $VPN_IF                 # the underlay: IKE and ESP (UDP 4500) only
               ip netns exec $VPN_NS tshark -i $(cat "$vpn_dir/partner/tun")   # inside the tunnel, in clear
               charon logs: $vpn_dir/headend/charon.log, $vpn_dir/partner/charon.log
               cut the primary for real: ip link set $VPN_PRIMARY_IF down   (billing moves into the tunnel; up again: ip link set $VPN_PRIMARY_IF up)
INFO
  else
    echo "  VPN          none (--no-vpn layout): both data links on loopback"
  fi
  cat <<INFO
  drills       scripts/drill-failover.sh --attach      kill -9 of the active, takeover, rejoin
               scripts/drill-switchover.sh --attach    planned switchover and back
               scripts/drill-link-failure.sh --attach  the primary data link cut and restored
               scripts/drill-gateway-failure.sh --attach  a local gateway killed, the cold spare takes over
  try          kill -9 \$(cat run/lab/pids/node-a.pid)   # node A dies; B takes over, A comes back as standby
INFO
fi

# lab_report: how the lab does, in a few lines: the pair (roles, epochs, witnesses), the calls
# (on-net and off-net, from the simulated MTAs), billing (the active's forwarder and the RKS's
# store), the data links and the gateways (as the active sees them).
lab_report() {
  local sims=()
  if [ -n "$lab" ]; then
    sims=("$(sim_ask 127.0.0.1:4701 report 2>/dev/null || true)" "$(sim_ask 127.0.0.1:4702 report 2>/dev/null || true)")
  fi
  python3 - "$http_a" "$http_b" "${lab:+$(lab_rks_records) $(rks_calls "$LAB_DIR/rks/em.db") $rks_base}" \
    "${vpn_dir:+$(vpn_status "$vpn_dir")}" "${sims[@]}" <<'PY'
import json, sys, urllib.request
urls, rks, vpn, sims = sys.argv[1:3], sys.argv[3], sys.argv[4], sys.argv[5:]
def get(url, path):
    try:
        with urllib.request.urlopen(url + path, timeout=2) as r:
            return json.load(r)
    except Exception:
        return None
nodes = []
for name, url in zip("AB", urls):
    st = get(url, "/status")
    nodes.append((name, url, st))
act = next(((n, u, s) for n, u, s in nodes if s and s.get("role") == "active"), None)
pair = ", ".join(f"{n} {s['role']} (epoch {s.get('epoch')})" if s else f"{n} down" for n, _, s in nodes)
line = [f"pair: {pair}"]
if act:
    cl = get(act[1], "/cluster") or {}
    line[0] += f", peer {cl.get('peer_state', '?')}, witnesses {cl.get('witnesses', '?')}"
    c = act[2].get("counters", {})
    def total(prefix):
        return int(sum(v for k, v in c.items() if k == prefix or k.startswith(prefix + "{")))
    line.append(f"calls in progress {total('cms_calls_active')}, lines registered "
                f"{total('cms_endpoints_registered')}/{total('cms_endpoints_total')}")
out = []
for label, rep in zip(("on-net", "off-net"), sims):
    try:
        d = json.loads(rep)["calls"]
        fails = ",".join(f"{k} {v}" for k, v in d.get("failures", {}).items() if v) or "none"
        out.append(f"{label} {d['attempts']} placed, {d['answered']} answered, {d['completed']} completed (failures: {fails})")
    except Exception:
        out.append(f"{label}: no report")
if out:
    line.append("; ".join(out))
if act:
    c = act[2].get("counters", {})
    path = int(sum(v for k, v in c.items() if k.startswith("cms_billing_forwarder_path")))
    sent = int(sum(v for k, v in c.items() if k.startswith("cms_billing_forwarder_records_total")))
    pend = int(sum(v for k, v in c.items() if k.startswith("cms_billing_outbox_pending")))
    b = f"billing: {sent} records sent via the {({1: 'primary', 2: 'backup'}).get(path, 'no')} link, {pend} pending"
    if rks:
        r, calls, r0, c0 = (rks.split() + ["?"] * 4)[:4]
        # The RKS is the partner's archive: it keeps the records of earlier runs of the lab.
        try: b += f"; at the RKS {int(r) - int(r0)} records, {int(calls) - int(c0)} calls since the lab started"
        except ValueError: b += f"; at the RKS {r} records, {calls} calls"
    line.append(b)
    links = get(act[1], "/links?limit=100") or {}
    ls = ", ".join(f"{l['name']} {l.get('state')}" for l in links.get("items", []))
    tr = get(act[1], "/trunks?limit=1000") or {}
    gws = tr.get("gateways", [])
    def gstate(g):
        if g.get("admin_state") == "out_of_service": return "out_of_service"
        if g.get("state") not in (None, "", "unknown"): return g["state"]
        return {True: "in_service", False: "failed"}.get(g.get("healthy"), "unknown")
    bad = [f"{g['name'].split('.')[0]} {gstate(g)}" for g in gws if gstate(g) != "in_service"]
    facs = tr.get("items", [])
    fbad = [f"{f['id']} {f.get('state')}" for f in facs if f.get("state") != "in_service"]
    line.append(f"links: {ls or 'none'}{'; VPN ' + vpn if vpn else ''}; gateways {len(gws) - len(bad)}/{len(gws)} in service"
                + (f" ({', '.join(bad)})" if bad else "")
                + f", facilities {len(facs) - len(fbad)}/{len(facs)} in service" + (f" ({', '.join(fbad)})" if fbad else ""))
print("\n".join(("run-pair: " if i == 0 else "          ") + l for i, l in enumerate(line)))
PY
}

# The supervisors do the work; this loop only reports how the lab does: every 15 s for the first
# two minutes (calls, billing and the network coming up), then once a minute. Short foreground
# sleeps: a Ctrl-C ends the one running, and nothing is left behind.
reports=0
while true; do
  for _ in $(seq 1 $(( reports < 8 ? 15 : 60 ))); do sleep 1; done
  reports=$((reports + 1))
  printf '%s ' "$(date +%H:%M:%S.%3N)"; lab_report || true
done
