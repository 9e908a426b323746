# Shared helpers for the drills (sourced). Drills build Release binaries into build-release/ once,
# make their own certificates and configs in a scratch directory, print a report and exit non-zero
# when an objective is missed.

drill_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$drill_root/build-release}
failures=0
scratch=$(mktemp -d /tmp/cms-drill-XXXXXX)
pids=()

say() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
objective() { # objective NAME OK(0/1) DETAIL
  if [ "$2" = 0 ]; then printf '  [PASS] %-52s %s\n' "$1" "$3"; else
    printf '  [FAIL] %-52s %s\n' "$1" "$3"; failures=$((failures + 1)); fi
}

build_binaries() {
  if [ ! -x "$BUILD_DIR/cmsd" ] || [ ! -x "$BUILD_DIR/cms-witness" ] || [ ! -x "$BUILD_DIR/mtasim" ]; then
    "$drill_root/scripts/install-deps.sh" >/dev/null
    cmake -S "$drill_root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_BUILD_BENCH=OFF >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target cmsd cms-witness mtasim rks >/dev/null
  fi
  "$drill_root/scripts/gen-certs.sh" "$scratch/certs" node-a node-b rks client >/dev/null
}

# json_field URL FIELD: a top-level field of a JSON document (empty when unreachable).
json_field() {
  curl -s --max-time 1 "$1" 2>/dev/null | python3 -c "import sys,json
try: print(json.load(sys.stdin).get('$2',''))
except Exception: print('')"
}

cleanup_common() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_SCRATCH:-}" ] || rm -rf "$scratch"
}

# write_node_config FILE ID PRIORITY MGCP_BIND HTTP_BIND HTTP_PORT LINK_LISTEN PEER_ADDR UDP_PORT PEER_UDP WITNESSES CERT
write_node_config() {
  cat > "$1" <<CFG
[node]
id = "$2"
priority = $3
cluster_id = "drill"
data_dir = "$scratch/$2"
[mgcp]
bind = "$4"
port = 2727
[http]
bind = "$5"
port = $6
[peer]
address = "$8"
port = 4433
listen_address = "$7"
listen_port = 4433
udp_heartbeat_port = $9
peer_udp_heartbeat_port = ${10}
heartbeat_interval_ms = 100
heartbeat_misses = 3
lease_ms = 500
witnesses = [${11}]
[tls]
certificate = "$scratch/certs/${12}.crt"
key = "$scratch/certs/${12}.key"
ca = "$scratch/certs/ca.crt"
[log]
level = "info"
CFG
}
