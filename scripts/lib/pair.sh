# shellcheck shell=bash
# A cmsd pair for the drills, soaks and pair benchmarks (sourced after drill-lib.sh, which sets
# $scratch, $pids and BUILD_DIR): a pair on loopback with free ports (both nodes provisioned from
# config/provisioning.toml), optional witnesses, mtasim playing the provisioned MTAs with both
# call agents in its failover list, and probes of the nodes' HTTP API, metrics and stores.
# PAIR_BILLING_EXTRA (keys added to the [billing] table pair_rks_start writes, e.g.
# "retention_s = 120"),
# PAIR_PROVISIONING (another provisioning file), PAIR_EXTRA_CONFIG (TOML merged into both node
# configs), PAIR_LOG_LEVEL, PAIR_HEARTBEAT_MS / PAIR_HEARTBEAT_MISSES / PAIR_LEASE_MS (detection;
# default 100 / 3 / 500) let a caller change the pair without copying this file.
#
# pair_attach STATE_FILE points the same functions at the lab scripts/run-pair.sh runs (its
# run/lab/state.env): the lab's nodes, stores, RKS and on-net mtasim; a killed node is restarted
# by the lab's supervisor, not by pair_start.

[ -n "${CMS_LIB_PAIR:-}" ] && return 0
CMS_LIB_PAIR=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
source "$(dirname "${BASH_SOURCE[0]}")/metrics.sh"
source "$(dirname "${BASH_SOURCE[0]}")/sims.sh"
source "$(dirname "${BASH_SOURCE[0]}")/rks.sh"

names=(cms-a cms-b)
node_pid=(0 0)
http_port=(0 0)
http_host=(127.0.0.1 127.0.0.1)
node_db=("" "")
admin_token=drill-token
attached=""
sim_pid=0
sim_control=0

# pair_node_fragment I PEER WITNESS_LIST CERT LINK_A LINK_B UDP_A UDP_B: node I's settings as TOML.
pair_node_fragment() {
  local i=$1 p=$2 wl=$3 cert=$4 link=("$5" "$6") udp=("$7" "$8")
  cat <<CFG
[node]
id = "${names[$i]}"
priority = $([ "$i" = 0 ] && echo 100 || echo 50)
cluster_id = "drill"
data_dir = "$scratch/${names[$i]}"
[mgcp]
bind = "127.0.0.1"
port = ${mgcp_port[$i]}
[http]
bind = "127.0.0.1"
port = ${http_port[$i]}
admin_token = "$admin_token"
[peer]
address = "127.0.0.1"
port = ${link[$p]}
listen_address = "127.0.0.1"
listen_port = ${link[$i]}
udp_heartbeat_port = ${udp[$i]}
peer_udp_heartbeat_port = ${udp[$p]}
heartbeat_interval_ms = ${PAIR_HEARTBEAT_MS:-100}
heartbeat_misses = ${PAIR_HEARTBEAT_MISSES:-3}
lease_ms = ${PAIR_LEASE_MS:-500}
witnesses = [$wl]
key_file = "$scratch/certs/ha.key"
[tls]
certificate = "$scratch/certs/$cert.crt"
key = "$scratch/certs/$cert.key"
ca = "$scratch/certs/ca.crt"
[log]
level = "${PAIR_LOG_LEVEL:-info}"
CFG
}

# pair_setup WITNESSES: configs, provisioned stores and witnesses in $scratch.
pair_setup() {
  local w=$1 wl="" i
  # Witnesses first; one that cannot bind its port (taken meanwhile) is started on another.
  local k pid port attempt
  for ((k = 0; k < w; k++)); do
    for attempt in 1 2 3 4 5; do
      read -r port < <(free_ports 1 udp)
      "$BUILD_DIR/cms-witness" --listen "127.0.0.1:$port" --cluster drill \
        --state "$scratch/w$k.json" --key "$scratch/certs/ha.key" --allow 127.0.0.1 > "$scratch/w$k.out" 2>&1 &
      pid=$!
      # Started means it said so: under load a witness that lost its port can take a while to die.
      local up=1 _
      for _ in $(seq 1 50); do
        grep -q "event=started" "$scratch/w$k.out" 2>/dev/null && { up=0; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if [ "$up" = 0 ]; then pids+=("$pid"); wl="$wl${wl:+, }\"127.0.0.1:$port\""; break; fi
      kill -KILL "$pid" 2>/dev/null
    done
  done
  local started
  started=$(grep -o '"127.0.0.1:' <<< "$wl" | wc -l)
  [ "$started" = "$w" ] || { echo "only $started of $w witnesses started (see $scratch/w*.out)"; exit 2; }
  read -r http_port[0] http_port[1] link_a link_b < <(free_ports 4 tcp)
  # One allocation for the pair's UDP ports (ports freed by one call could come back in the next).
  local udp_ports
  read -r -a udp_ports < <(free_ports 5 udp)
  mgcp_a=${udp_ports[0]} mgcp_b=${udp_ports[1]} udp_a=${udp_ports[2]} udp_b=${udp_ports[3]}
  sim_port=${udp_ports[4]}
  mgcp_port=("$mgcp_a" "$mgcp_b")
  local cert=(node-a node-b) link=("$link_a" "$link_b") udp=("$udp_a" "$udp_b")
  for i in 0 1; do
    local p=$((1 - i))
    mkdir -p "$scratch/${names[$i]}"
    "$BUILD_DIR/cmsd" --provision "${PAIR_PROVISIONING:-$drill_root/config/provisioning.toml}" "$scratch/${names[$i]}/cms.db" \
      > "$scratch/provision-$i.out" 2>&1 || { echo "provisioning failed: $(cat "$scratch/provision-$i.out")"; exit 2; }
    node_db[$i]="$scratch/${names[$i]}/cms.db"
    node_toml "$scratch/${names[$i]}.toml" \
      --extra "$(pair_node_fragment "$i" "$p" "$wl" "${cert[$i]}" "${link[@]}" "${udp[@]}")" \
      --extra "${PAIR_EXTRA_CONFIG:-}"
  done
}

pair_start() { # pair_start I (attached: waits for the lab's supervisor to restart it)
  local i=$1
  if [ -n "$attached" ]; then
    local old=${node_pid[$i]} end=$(( $(date +%s) + 30 ))
    while [ "$(date +%s)" -le "$end" ]; do
      node_pid[$i]=$(lab_pid "${lab_node_service[$i]}")
      [ -n "${node_pid[$i]}" ] && [ "${node_pid[$i]}" != "$old" ] && kill -0 "${node_pid[$i]}" 2>/dev/null && return 0
      sleep 0.1
    done
    return 1
  fi
  "$BUILD_DIR/cmsd" --config "$scratch/${names[$i]}.toml" >> "$scratch/${names[$i]}.out" 2>&1 &
  node_pid[$i]=$!
  pids+=($!)
}

url() { echo "http://${http_host[$1]}:${http_port[$1]}$2"; }
role() { json_field "$(url "$1" /status)" role; }
roles() { echo "$(role 0)/$(role 1)"; }
active_node() {
  if [ "$(role 0)" = active ]; then echo 0; elif [ "$(role 1)" = active ]; then echo 1; fi
}
wait_roles() { # wait_roles ROLE_A ROLE_B SECONDS
  local end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -le "$end" ]; do [ "$(roles)" = "$1/$2" ] && return 0; sleep 0.05; done
  return 1
}
wait_role() { # wait_role I ROLE SECONDS
  local end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -le "$end" ]; do [ "$(role "$1")" = "$2" ] && return 0; sleep 0.05; done
  return 1
}

# metric I NAME: value of an unlabelled metric on node I (0 when absent or unreachable).
metric() { metrics_value "$(url "$1" "")" "$2" 0; }
wait_synced() { # wait_synced SECONDS: the active's standby follows the stream
  local end=$(( $(date +%s) + $1 )) a
  while [ "$(date +%s)" -le "$end" ]; do
    a=$(active_node)
    [ -n "$a" ] && [ "$(metric "$a" cms_replication_standby_synced)" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}

# calls_in I PHASE: call ids listed on node I (PHASE empty: any).
calls_in() {
  curl -s --max-time 2 "$(url "$1" "/calls?limit=1000${2:+&state=$2}")" 2>/dev/null | python3 -c "import sys,json
try:
  for c in json.load(sys.stdin)['items']: print(c['call_id'])
except Exception: pass"
}
wait_drained() { # wait_drained I SECONDS
  local end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$end" ]; do [ -z "$(calls_in "$1" "")" ] && return 0; sleep 0.2; done
  return 1
}

sim_start() { # sim_start MTASIM_OPTIONS...
  # SIM_LINES: which MTAs and lines to play (default: those of config/provisioning.toml).
  # shellcheck disable=SC2086
  "$BUILD_DIR/mtasim" --ca "127.0.0.1:${mgcp_port[0]},127.0.0.1:${mgcp_port[1]}" \
    ${SIM_LINES:---mtas 10 --lines 2 --mta-address-base 127.0.0.101 --base-port $sim_port} --control 0 --rto-max 1000 --max-retrans 3 --answer-delay 100 \
    --json --report-file "$scratch/mtasim.json" "$@" > "$scratch/mtasim.out" 2> "$scratch/mtasim.err" &
  sim_pid=$!
  pids+=($!)
  local end=$(( $(date +%s) + 10 ))
  while [ "$(date +%s)" -le "$end" ]; do
    sim_control=$(sed -n 's/^mtasim: control [0-9.]*:\([0-9]*\).*/\1/p' "$scratch/mtasim.out" | head -1)
    [ -n "$sim_control" ] && grep -q '^mtasim: ready' "$scratch/mtasim.out" && return 0
    sleep 0.1
  done
  echo "mtasim did not start: $(cat "$scratch/mtasim.err")"; exit 2
}
sim_request() { sim_ask "127.0.0.1:$sim_control" "$1"; } # sim_request LINE: one response line
sim_report_field() { json_path "$(sim_request report 2>/dev/null)" "$1"; }
sim_wait() { # sim_wait SECONDS: the scenario ends by itself (running calls get their drain time)
  local end=$(( $(date +%s) + $1 ))
  while kill -0 "$sim_pid" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.2; done
  ! kill -0 "$sim_pid" 2>/dev/null
}
sim_stop() {
  kill -INT "$sim_pid" 2>/dev/null
  local end=$(( $(date +%s) + 30 ))
  while kill -0 "$sim_pid" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.1; done
}

# billing_summary I: "<answered calls with call_answer and signaling_stop> <answered calls without
# signaling_stop> <records>" from node I's outbox.
billing_summary() {
  python3 - "${node_db[$1]}" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
answered = {r[0] for r in db.execute("SELECT call_id FROM billing_outbox WHERE event = 'call_answer'")}
stopped = {r[0] for r in db.execute("SELECT call_id FROM billing_outbox WHERE event = 'signaling_stop'")}
records = db.execute("SELECT count(*) FROM billing_outbox").fetchone()[0]
print(len(answered & stopped), len(answered - stopped), records)
PY
}

# pair_rks_start: the partner's Record Keeping Server (FreeRADIUS, scripts/lib/rks.sh) on a free
# loopback port, EMs in $scratch/rks/em.db ($rks_db); call before pair_setup, which then points
# both nodes' billing forwarders at it (PAIR_EXTRA_CONFIG, with the pair's RADIUS secret). With
# config/provisioning.toml a link-peer also answers the primary data link's probes (dl-primary's
# far end, 127.0.0.51:5010): billing only leaves over a link that is up.
pair_rks_start() {
  local port
  read -r port < <(free_ports 1 udp)
  rks_lab_start "$scratch/rks" 127.0.0.1 "$port" "$scratch/certs/rks.secret" || exit 2
  pids+=("$rks_pid")
  if [ -z "${PAIR_PROVISIONING:-}" ]; then
    "$BUILD_DIR/link-peer" --listen 127.0.0.51:5010 --log-level warn > "$scratch/link-peer.out" 2>&1 &
    pids+=($!)
  fi
  PAIR_EXTRA_CONFIG="${PAIR_EXTRA_CONFIG:-}
$(rks_billing_toml "127.0.0.1:$rks_port" "" "$scratch/certs/rks.secret")
batch_size = 500
${PAIR_BILLING_EXTRA:-}"
  export PAIR_EXTRA_CONFIG
}

unsent() { # unsent I: node I's outbox rows not yet acknowledged by the RKS
  sqlite3 -readonly "file:${node_db[$1]}?mode=ro" "select count(*) from billing_outbox where sent = 0" 2>/dev/null
}
wait_delivered() { # wait_delivered I SECONDS: node I's forwarder has delivered its whole outbox
  local end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$end" ]; do [ "$(unsent "$1")" = 0 ] && return 0; sleep 0.5; done
  return 1
}
# rks_compare I: "<records at the RKS> <of them consistent with node I's outbox> <records of node
# I's outbox missing at the RKS> <records at the RKS unknown to node I's outbox>". The RKS stores
# EMs (several per record, each once by its UNIQUE key); scripts/lib/em_audit.py maps them back to
# the outbox records (EM sequence / 8) and checks each against the record of that number.
rks_compare() {
  rks_audit "$rks_db" "${node_db[$1]}" | python3 -c "import json, sys
d = json.load(sys.stdin); o = d['outboxes'][0]
print(d['records'], d['records'] - o['inconsistent'], o['missing'], o['unknown'])"
}

# pair_attach STATE_FILE: the functions above, on the lab of scripts/run-pair.sh.
pair_attach() {
  [ -r "$1" ] || { echo "no lab state at $1: start the lab with scripts/run-pair.sh" >&2; exit 2; }
  # shellcheck disable=SC1090
  source "$1"
  source "$(dirname "${BASH_SOURCE[0]}")/supervise.sh"
  attached=1
  LAB_DIR=$LAB_DIR
  names=("$LAB_NODE_A_ID" "$LAB_NODE_B_ID")
  lab_node_service=(node-a node-b)
  http_host=("$LAB_NODE_A_HTTP_HOST" "$LAB_NODE_B_HTTP_HOST")
  http_port=("$LAB_NODE_A_HTTP_PORT" "$LAB_NODE_B_HTTP_PORT")
  node_db=("$LAB_NODE_A_DB" "$LAB_NODE_B_DB")
  admin_token=$(cat "$LAB_ADMIN_TOKEN_FILE")
  rks_db=$LAB_RKS_DB
  sim_control=${LAB_SIM_ONNET_CONTROL##*:}
  sim_pid=$(lab_pid mtas-onnet)
  node_pid=("$(lab_pid node-a)" "$(lab_pid node-b)")
  BUILD_DIR=$LAB_BUILD_DIR
  supervisor_alive || { echo "the lab in $LAB_DIR is not running (no supervisor)" >&2; exit 2; }
}
