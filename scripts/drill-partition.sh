#!/usr/bin/env bash
# Drill: cut ONLY the peer link between the two nodes, for real, and show that there is never more
# than one active node; then also isolate the active from the witnesses and show the standby takes
# over only once the old active's lease ran out; heal and check that the pair converges.
#
# Topology (network namespaces made by this script, removed at exit):
#   ns cms-da  10.77.1.1/30 --(peer link)-- 10.77.1.2/30  ns cms-db
#   ns cms-da  10.77.2.2/30 -- root 10.77.2.1      root 10.77.3.1 -- 10.77.3.2/30  ns cms-db
#   three cms-witness processes in the root namespace, reached by each node over its own link.
#
# Usage: scripts/drill-partition.sh   (needs root; no options)
set -uo pipefail
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '/^set -uo pipefail/q; 2,$p' "$0"; exit 0 ;;
  *) echo "drill-partition: unknown option $1" >&2; exit 2 ;;
esac
source "$(dirname "$0")/drill-lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "drill-partition: needs root (network namespaces)"; exit 2; }

cleanup() {
  cleanup_common
  ip netns del cms-da 2>/dev/null; ip netns del cms-db 2>/dev/null
  ip link del cms-wa 2>/dev/null; ip link del cms-wb 2>/dev/null
}
trap cleanup EXIT

build_binaries
cleanup_netns() { ip netns del cms-da 2>/dev/null; ip netns del cms-db 2>/dev/null; true; }
cleanup_netns
ip netns add cms-da && ip netns add cms-db
ip link add cms-pa type veth peer name cms-pb
ip link set cms-pa netns cms-da && ip link set cms-pb netns cms-db
ip link add cms-wa type veth peer name cms-wa-in && ip link set cms-wa-in netns cms-da
ip link add cms-wb type veth peer name cms-wb-in && ip link set cms-wb-in netns cms-db
ip addr add 10.77.2.1/30 dev cms-wa && ip link set cms-wa up
ip addr add 10.77.3.1/30 dev cms-wb && ip link set cms-wb up
ip netns exec cms-da sh -c 'ip addr add 10.77.1.1/30 dev cms-pa; ip addr add 10.77.2.2/30 dev cms-wa-in;
  ip link set cms-pa up; ip link set cms-wa-in up; ip link set lo up'
ip netns exec cms-db sh -c 'ip addr add 10.77.1.2/30 dev cms-pb; ip addr add 10.77.3.2/30 dev cms-wb-in;
  ip link set cms-pb up; ip link set cms-wb-in up; ip link set lo up'

for i in 1 2 3; do
  "$BUILD_DIR/cms-witness" --listen 0.0.0.0:$((7700 + i)) --cluster drill --state "$scratch/w$i.json" \
    --key "$scratch/certs/ha.key" --allow 10.77.2.2 --allow 10.77.3.2 \
    > "$scratch/w$i.out" 2>&1 & pids+=($!)
done
write_node_config "$scratch/a.toml" cms-a 100 10.77.1.1 10.77.2.2 8080 10.77.1.1 10.77.1.2 4533 4534 \
  '"10.77.2.1:7701", "10.77.2.1:7702", "10.77.2.1:7703"' node-a
write_node_config "$scratch/b.toml" cms-b 50 10.77.1.2 10.77.3.2 8081 10.77.1.2 10.77.1.1 4534 4533 \
  '"10.77.3.1:7701", "10.77.3.1:7702", "10.77.3.1:7703"' node-b
ip netns exec cms-da "$BUILD_DIR/cmsd" --config "$scratch/a.toml" > "$scratch/a.out" 2>&1 & pids+=($!)
ip netns exec cms-db "$BUILD_DIR/cmsd" --config "$scratch/b.toml" > "$scratch/b.out" 2>&1 & pids+=($!)
A=http://10.77.2.2:8080/status; B=http://10.77.3.2:8081/status

roles() { echo "$(json_field $A role)/$(json_field $B role)"; }
# watch SECONDS: samples both roles every 50 ms; counts samples with two actives.
watch() {
  local end=$(( $(date +%s%N) + $1 * 1000000000 )) both=0 n=0
  while [ "$(date +%s%N)" -lt "$end" ]; do
    [ "$(roles)" = "active/active" ] && both=$((both + 1))
    n=$((n + 1)); sleep 0.05
  done
  echo "$both $n"
}
wait_for() { # wait_for EXPECTED SECONDS
  local end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$end" ]; do [ "$(roles)" = "$1" ] && return 0; sleep 0.05; done
  return 1
}

echo "drill-partition: scratch $scratch"
wait_for active/standby 20; objective "pair formed (A active, B standby)" $? "$(roles)"
epoch0=$(json_field $A epoch)

say "cutting the peer link (both heartbeat paths) between A and B"
ip netns exec cms-da ip link set cms-pa down
read both n < <(watch 4)
objective "peer link cut: never two actives" $([ "$both" = 0 ]; echo $?) "$both of $n samples active/active"
objective "peer link cut: A stays active (witnesses back it)" $([ "$(roles)" = active/standby ]; echo $?) "$(roles)"

say "isolating A from the witnesses as well"
t0=$(date +%s%N)
ip link set cms-wa down
wait_for "/active" 10 || wait_for "stepping-down/active" 5
t1=$(date +%s%N)
objective "A isolated: B takes over" $([ "$(json_field $B role)" = active ]; echo $?) "after $(( (t1 - t0) / 1000000 )) ms, epoch $(json_field $B epoch)"
read both n < <(watch 2)
objective "A isolated: never two actives" $([ "$both" = 0 ]; echo $?) "$both of $n samples"

say "healing every link"
ip link set cms-wa up
ip netns exec cms-da ip link set cms-pa up
wait_for standby/active 15
objective "healed: pair converges (A standby, B active)" $? "$(roles)"
objective "healed: both nodes in the same, higher epoch" \
  $([ "$(json_field $A epoch)" = "$(json_field $B epoch)" ] && [ "$(json_field $B epoch)" -gt "$epoch0" ]; echo $?) \
  "A $(json_field $A epoch) B $(json_field $B epoch) (was $epoch0)"

echo
if [ "$failures" -eq 0 ]; then echo "drill-partition: PASSED"; else echo "drill-partition: FAILED ($failures objectives missed; logs in $scratch)"; KEEP_SCRATCH=1; fi
exit $(( failures > 0 ))
