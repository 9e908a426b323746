#!/usr/bin/env bash
# Runs seeded fault schedules of the pair's two deterministic simulations and fails on any invariant
# violation; a failing seed is printed with the command that replays it.
#   rules:  test/unit/ha_sim        the pure rules (ha_rules, witness_rules) glued as ha_actor glues them
#   actors: test/unit/ha_actor_sim  the real HA actors, replicators, catalogues and billing outboxes
#           on CAF's test scheduler, a simulated node link, UDP path and witnesses
#   scripts/sim-campaign.sh [N=10000] [first seed=1] [rules|actors|all=all] [jobs=1]
# `jobs` splits the actor campaign's seeds over that many processes (it is the slow one).
# Builds the binaries into $CMS_BUILD_DIR (default build-sim-campaign) if they are not there.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
seed=${2:-1}
which=${3:-all}
jobs=${4:-1}
build=${CMS_BUILD_DIR:-build-sim-campaign}
status=0

need() {
  if [ ! -x "$build/test/unit/$1/unit_$1" ]; then
    [ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" --target "unit_$1"
  fi
}

if [ "$which" = rules ] || [ "$which" = all ]; then
  need ha_sim
  echo "sim-campaign (rules): $count schedules from seed $seed"
  start=$(date +%s)
  set +e
  CMS_SIM_SCHEDULES=$count CMS_SIM_SEED=$seed \
    "$build/test/unit/ha_sim/unit_ha_sim" --gtest_filter='ha_sim.seeded_fault_schedules_hold_every_invariant' \
    --gtest_brief=1 | grep -E '^(ha_sim:|seed |  t=)'
  rc=${PIPESTATUS[0]}
  set -e
  echo "sim-campaign (rules): $(( $(date +%s) - start )) s, exit $rc"
  [ "$rc" = 0 ] || status=$rc
fi

if [ "$which" = actors ] || [ "$which" = all ]; then
  need ha_actor_sim
  echo "sim-campaign (actors): $count schedules from seed $seed in $jobs process(es)"
  start=$(date +%s)
  logs=$(mktemp -d)
  per=$(( (count + jobs - 1) / jobs ))
  pids=()
  for (( k = 0; k < jobs; k++ )); do
    first=$(( seed + k * per ))
    n=$(( count - k * per < per ? count - k * per : per ))
    [ "$n" -gt 0 ] || break
    CMS_ACTOR_SIM_SCHEDULES=$n CMS_ACTOR_SIM_SEED=$first \
      "$build/test/unit/ha_actor_sim/unit_ha_actor_sim" \
      --gtest_filter='actor_sim.seeded_fault_schedules_hold_every_invariant' --gtest_brief=1 >"$logs/$k.log" 2>&1 &
    pids+=($!)
  done
  for (( k = 0; k < ${#pids[@]}; k++ )); do
    if ! wait "${pids[$k]}"; then status=1; fi
    grep -E '^(actor_sim: [0-9]|actor_sim: [0-9]+ promotions|seed |  )' "$logs/$k.log" || true
  done
  failed=$(grep -h -E '^actor_sim: [0-9]+ schedules' "$logs"/*.log | grep -oE '[0-9]+ with violations' \
    | awk '{ s += $1 } END { print s + 0 }')
  echo "sim-campaign (actors): $count schedules, ${failed:-?} with violations, $(( $(date +%s) - start )) s wall"
  rm -rf "$logs"
fi
exit "$status"
