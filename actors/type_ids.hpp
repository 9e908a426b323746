#pragma once
// The one CAF type-ID block of the project: every type and atom that crosses an actor boundary is
// listed here, so both nodes of the pair register exactly the same set (a type missing on one side
// arrives as an empty message, see CAF-0.17-NOTES). Add new types at the END of the block only:
// ids are positional and must match between the two nodes.

#include "persistence/billing_record.hpp"

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(cms, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(cms, (cms::billing::billing_record))
  CAF_ADD_TYPE_ID(cms, (std::vector<cms::billing::billing_record>))

  // Supervision.
  CAF_ADD_ATOM(cms, cms::atom, lookup, "lookup")     ///< (lookup, child id) -> current actor
  CAF_ADD_ATOM(cms, cms::atom, children, "children") ///< (children) -> child report
  CAF_ADD_ATOM(cms, cms::atom, status, "status")     ///< (status) -> JSON text of an actor's state
  CAF_ADD_ATOM(cms, cms::atom, tick, "tick")         ///< internal periodic timer

CAF_END_TYPE_ID_BLOCK(cms)
