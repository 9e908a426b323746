#!/usr/bin/env bash
# Model-checks the pair's failover protocol (docs/model/pair.pml) with spin, and checks that spin
# still finds the planted bug in docs/model/pair_broken.pml. Non-zero exit on any failure.
#   scripts/check-model.sh             long run (bitstate, ~20 min per property)
#   scripts/check-model.sh --bounded   CI run (each search limited to 1 minute, < 2 min in total)
#   scripts/check-model.sh --bounded safety|liveness|broken   one check only (ctest runs them apart)
# What is and is not proven: docs/ha.md, "What is proven".
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model_dir="$here/docs/model"

bounded=0
if [ "${1:-}" = "--bounded" ]; then bounded=1; shift; fi
only="${1:-all}"
case "$only" in all|safety|liveness|broken) ;; *) echo "usage: $0 [--bounded] [safety|liveness|broken]" >&2; exit 2 ;; esac
command -v spin >/dev/null || { echo "check-model: spin not installed (apt-get install spin)" >&2; exit 2; }
command -v gcc >/dev/null || { echo "check-model: gcc not installed" >&2; exit 2; }

if [ "$bounded" = 1 ]; then minutes=1; hash_bits=26; else minutes=${CMS_MODEL_MINUTES:-20}; hash_bits=31; fi
work="$(mktemp -d "${TMPDIR:-/tmp}/cms-model.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# run NAME MODEL "spin -D flags" "cc flags" "pan flags" -> prints pan's summary; output in $work/NAME/pan.out
run() {
  local name=$1 model=$2 spin_flags=$3 cc_flags=$4 pan_flags=$5
  local dir="$work/$name"
  mkdir -p "$dir"
  cp "$model_dir"/*.pml "$dir/"
  (cd "$dir" && spin $spin_flags -a "$model" >spin.out 2>&1) || { cat "$dir/spin.out" >&2; return 2; }
  (cd "$dir" && gcc -O2 -w $cc_flags -o pan pan.c) || return 2
  (cd "$dir" && ./pan $pan_flags >pan.out 2>&1) || true
  grep -q "errors:" "$dir/pan.out" || { echo "check-model: $name: pan did not finish" >&2; tail -20 "$dir/pan.out" >&2; return 2; }
  echo "== $name: $(grep -m1 -E 'errors:' "$dir/pan.out" | sed 's/^ *//'); $(grep -m1 -E 'states, stored' "$dir/pan.out" | sed 's/^ *//')"
}
errors_of() { grep -m1 -oE 'errors: [0-9]+' "$work/$1/pan.out" | awk '{print $2}'; }
show_trail() {
  local name=$1 model=$2 spin_flags=$3
  (cd "$work/$name" && spin $spin_flags -t -p -g "$model" 2>&1 | tail -60) >&2 || true
}

status=0
# (a) one active per epoch, (b) one node accepting new calls at any instant, (c) acknowledged records
# held by every new active: assertions, safety search (bitstate: the state space exceeds memory).
if [ "$only" = all ] || [ "$only" = safety ]; then
  flags="-DMAXE=3 -DMAXREC=2"
  run safety pair.pml "$flags" "-DSAFETY -DBITSTATE" "-m1000000 -w$hash_bits -Q$minutes"
  if [ "$(errors_of safety)" != 0 ]; then
    echo "check-model: safety property violated in pair.pml; counterexample:" >&2
    show_trail safety pair.pml "$flags"; status=1
  fi
fi
# (d) liveness: once faults end, a node that stays up (the other one down) and reaches the witness
# quorum becomes active. Acceptance-cycle search of the LTL formula.
if [ "$only" = all ] || [ "$only" = liveness ]; then
  flags="-DLIVENESS -DOTHER_DOWN -DMAXE=5 -DMAXREC=1"
  run liveness pair.pml "$flags" "-DBITSTATE" "-a -m1000000 -w$hash_bits -Q$minutes"
  if [ "$(errors_of liveness)" != 0 ]; then
    echo "check-model: liveness property violated in pair.pml; counterexample:" >&2
    show_trail liveness pair.pml "$flags"; status=1
  fi
fi
# The planted bug must be found: otherwise the check above proves nothing.
if [ "$only" = all ] || [ "$only" = broken ]; then
  run broken pair_broken.pml "-DMAXE=3 -DMAXREC=1" "-DSAFETY -DBITSTATE" "-m2000 -w$hash_bits -Q$minutes"
  if [ "$(errors_of broken)" = 0 ]; then
    echo "check-model: spin found no counterexample in pair_broken.pml: the model check is toothless" >&2
    status=1
  else
    echo "== broken: counterexample found as expected: $(grep -m1 'assertion violated' "$work/broken/pan.out")"
  fi
fi
exit $status
