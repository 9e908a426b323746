#!/usr/bin/env bash
# Runs N seeded fault schedules of the pair simulation (test/unit/ha_sim) and fails on any invariant
# violation; a failing seed is printed with the command that replays it.
#   scripts/sim-campaign.sh [N=10000] [first seed=1]
# Builds unit_ha_sim into $CMS_BUILD_DIR (default build-sim-campaign) if it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
seed=${2:-1}
build=${CMS_BUILD_DIR:-build-sim-campaign}
if [ ! -x "$build/test/unit/ha_sim/unit_ha_sim" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target unit_ha_sim
fi
echo "sim-campaign: $count schedules from seed $seed"
start=$(date +%s)
CMS_SIM_SCHEDULES=$count CMS_SIM_SEED=$seed \
  "$build/test/unit/ha_sim/unit_ha_sim" --gtest_filter='ha_sim.seeded_fault_schedules_hold_every_invariant' \
  --gtest_brief=1 | grep -E '^(ha_sim:|seed |  t=)' || true
status=${PIPESTATUS[0]}
echo "sim-campaign: $(( $(date +%s) - start )) s, exit $status"
exit "$status"
