#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace handoff::routing {

struct RoundRobinPick {
  // Index into the eligible candidates.
  size_t index = 0;
  // The strategy state to persist: the picked rep id.
  std::string pointer_after;
  // Pointer before and after and why this rep, for the assignment's
  // explanation.
  std::string explanation;
};

// Round robin over `eligible_rep_ids` (ascending): the first rep after
// `pointer` (the last picked rep id, empty when none yet), wrapping around.
// The pointer need not be eligible any more, so a rep going away or filling
// up does not reset the rotation. nullopt when nobody is eligible.
std::optional<RoundRobinPick> PickRoundRobin(
    const std::vector<std::string>& eligible_rep_ids, std::string_view pointer);

}  // namespace handoff::routing
