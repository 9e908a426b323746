/*
 * A deliberately broken copy of pair.pml: a witness grants an epoch it already granted to the
 * other node (witness_rules::claim without its "same holder" check). spin must find two nodes
 * active in one epoch; scripts/check-model.sh fails if it does not.
 */
#define BROKEN_GRANT_TWICE
#include "pair.pml"
