#include "services/routing/round_robin.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace handoff::routing {

std::optional<RoundRobinPick> PickRoundRobin(
    const std::vector<std::string>& eligible_rep_ids,
    std::string_view pointer) {
  if (eligible_rep_ids.empty()) return std::nullopt;
  auto next = std::upper_bound(
      eligible_rep_ids.begin(), eligible_rep_ids.end(), pointer,
      [](std::string_view p, const std::string& id) { return p < id; });
  const bool wrapped = next == eligible_rep_ids.end();
  RoundRobinPick pick;
  pick.index =
      wrapped ? 0 : static_cast<size_t>(next - eligible_rep_ids.begin());
  pick.pointer_after = eligible_rep_ids[pick.index];

  std::string why;
  if (pointer.empty()) {
    why = "no pointer yet, so the first eligible rep";
  } else if (wrapped) {
    why = "no eligible rep after the pointer, so wrapped to the first";
  } else {
    why = "the next eligible rep after the pointer";
  }
  pick.explanation = absl::StrCat(
      "round robin: pointer before ",
      pointer.empty() ? "(none)" : absl::StrCat("reps/", Sv(pointer)),
      "; picked reps/", pick.pointer_after, " (", why, "); pointer after reps/",
      pick.pointer_after);
  return pick;
}

}  // namespace handoff::routing
