# The pair helpers of the drills, soaks and pair benchmarks live in scripts/lib/pair.sh; this file
# stays so that scripts and habits that source it keep working.
# shellcheck source=lib/pair.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair.sh"
