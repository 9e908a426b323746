# Helpers of the replication drills (drill-failover.sh, drill-switchover.sh, soak-pair.sh), sourced after
# drill-lib.sh: a cmsd pair on loopback with free ports (both nodes provisioned from
# config/provisioning.toml), optional witnesses, mtasim playing the provisioned MTAs with both
# call agents in its failover list, and probes of the nodes' HTTP API, metrics and stores.
# PAIR_BILLING_EXTRA (keys added to the [billing] table rks_start writes, e.g. "retention_s = 120"),
# PAIR_PROVISIONING (another provisioning file), PAIR_EXTRA_CONFIG (TOML appended to both node
# configs), PAIR_LOG_LEVEL, PAIR_HEARTBEAT_MS / PAIR_HEARTBEAT_MISSES / PAIR_LEASE_MS (detection;
# default 100 / 3 / 500) let a caller change the pair without copying this file.

names=(cms-a cms-b)
node_pid=(0 0)
http_port=(0 0)
sim_pid=0
sim_control=0

now_ms() { date +%s%3N; }

free_ports() { # free_ports N KIND(tcp|udp): N ports that were free a moment ago on 127.0.0.1
  python3 - "$1" "$2" <<'PY'
import socket, sys
n, kind = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
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
        --state "$scratch/w$k.json" > "$scratch/w$k.out" 2>&1 &
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
    cat > "$scratch/${names[$i]}.toml" <<CFG
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
admin_token = "drill-token"
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
[tls]
certificate = "$scratch/certs/${cert[$i]}.crt"
key = "$scratch/certs/${cert[$i]}.key"
ca = "$scratch/certs/ca.crt"
[log]
level = "${PAIR_LOG_LEVEL:-info}"
${PAIR_EXTRA_CONFIG:-}
CFG
  done
}

pair_start() { # pair_start I
  local i=$1
  "$BUILD_DIR/cmsd" --config "$scratch/${names[$i]}.toml" >> "$scratch/${names[$i]}.out" 2>&1 &
  node_pid[$i]=$!
  pids+=($!)
}

url() { echo "http://127.0.0.1:${http_port[$1]}$2"; }
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
metric() {
  curl -s --max-time 1 "$(url "$1" /metrics)" 2>/dev/null \
    | awk -v n="$2" '$1 == n { printf "%d\n", $2; found = 1 } END { if (!found) print 0 }'
}
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

# json_path JSON a.b.c
json_path() {
  python3 -c "import sys,json
try:
  v = json.loads(sys.argv[1])
  for k in sys.argv[2].split('.'): v = v.get(k, 0) if isinstance(v, dict) else 0
  print(int(v) if isinstance(v, (int, float)) else 0)
except Exception: print(0)" "$1" "$2"
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
sim_request() { # sim_request LINE: one control request, one response line
  python3 - "$sim_control" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk: break
    buf += chunk
print(buf.decode().strip())
PY
}
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
  python3 - "$scratch/${names[$1]}/cms.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
answered = {r[0] for r in db.execute("SELECT call_id FROM billing_outbox WHERE event = 'call_answer'")}
stopped = {r[0] for r in db.execute("SELECT call_id FROM billing_outbox WHERE event = 'signaling_stop'")}
records = db.execute("SELECT count(*) FROM billing_outbox").fetchone()[0]
print(len(answered & stopped), len(answered - stopped), records)
PY
}

# rks_start: an `rks` (TLS, the pair's CA) playing the partner's Record Keeping Server; call before
# pair_setup, which then points both nodes' billing forwarders at it (PAIR_EXTRA_CONFIG). With
# config/provisioning.toml it also answers the primary data link's probes (dl-primary's far end,
# 127.0.0.51:5010): billing only leaves over a link that is up.
rks_start() {
  local probe=()
  [ -n "${PAIR_PROVISIONING:-}" ] || probe=(--probe 127.0.0.51:5010)
  "$BUILD_DIR/rks" serve --listen 127.0.0.1:0 --port-file "$scratch/rks.port" --db "$scratch/rks.db" \
    --cert "$scratch/certs/rks.crt" --key "$scratch/certs/rks.key" --ca "$scratch/certs/ca.crt" \
    "${probe[@]}" --log-level warn > "$scratch/rks.out" 2>&1 &
  pids+=($!)
  local _
  for _ in $(seq 1 50); do [ -s "$scratch/rks.port" ] && break; sleep 0.1; done
  rks_port=$(cat "$scratch/rks.port" 2>/dev/null)
  [ -n "$rks_port" ] || { echo "rks did not start: $(cat "$scratch/rks.out")"; exit 2; }
  export PAIR_EXTRA_CONFIG="${PAIR_EXTRA_CONFIG:-}
[billing]
rks_primary = \"127.0.0.1:$rks_port\"
batch_size = 500
${PAIR_BILLING_EXTRA:-}"
}

unsent() { # unsent I: node I's outbox rows not yet acknowledged by the RKS
  sqlite3 -readonly "file:$scratch/${names[$1]}/cms.db?mode=ro" "select count(*) from billing_outbox where sent = 0" 2>/dev/null
}
wait_delivered() { # wait_delivered I SECONDS: node I's forwarder has delivered its whole outbox
  local end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$end" ]; do [ "$(unsent "$1")" = 0 ] && return 0; sleep 0.5; done
  return 1
}
# rks_compare I: "<records at the RKS> <distinct ids there> <records of node I's outbox missing at
# the RKS> <records at the RKS unknown to node I's outbox>"
rks_compare() {
  python3 - "$scratch/${names[$1]}/cms.db" "$scratch/rks.db" <<'PY'
import sqlite3, sys
outbox = {r[0] for r in sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True).execute("SELECT record_id FROM billing_outbox")}
rks = [r[0] for r in sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True).execute("SELECT record_id FROM records")]
print(len(rks), len(set(rks)), len(outbox - set(rks)), len(set(rks) - outbox))
PY
}
