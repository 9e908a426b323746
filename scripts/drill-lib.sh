# shellcheck shell=bash
# Shared helpers for the drills (sourced). Drills build Release binaries into build-release/ once,
# make their own certificates and configs in a scratch directory, print a report and exit non-zero
# when an objective is missed. The helpers themselves are in scripts/lib/ (common.sh: say,
# objective, json_field; build.sh: the build step; node.sh: the node config writer; rks.sh: the
# Record Keeping Server, FreeRADIUS).

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/build.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/rks.sh"
drill_root=$cms_root
BUILD_DIR=${BUILD_DIR:-$drill_root/build-release}
failures=0
scratch=$(mktemp -d /tmp/cms-drill-XXXXXX)
# Until the drill sets its own cleanup (a --help or a bad option exits before): no leftovers.
trap '[ -n "${KEEP_SCRATCH:-}" ] || rm -rf "$scratch"' EXIT
pids=()

build_binaries() {
  cms_build_missing cmsd cms-witness mtasim link-peer 2> "$scratch/build.log" >&2 ||
    { tail -30 "$scratch/build.log"; exit 2; }
  "$drill_root/scripts/gen-certs.sh" "$scratch/certs" node-a node-b client >/dev/null # + rks.secret
}

cleanup_common() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_SCRATCH:-}" ] || rm -rf "$scratch"
}

# write_node_config FILE ID PRIORITY MGCP_BIND HTTP_BIND HTTP_PORT LINK_LISTEN PEER_ADDR UDP_PORT PEER_UDP WITNESSES CERT
write_node_config() {
  node_toml "$1" --extra "$(cat <<CFG
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
key_file = "$scratch/certs/ha.key"
[tls]
certificate = "$scratch/certs/${12}.crt"
key = "$scratch/certs/${12}.key"
ca = "$scratch/certs/ca.crt"
[log]
level = "info"
CFG
)"
}
