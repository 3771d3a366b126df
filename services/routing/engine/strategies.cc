#include "services/routing/engine/strategies.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/strings.h"

namespace handoff::routing::engine {
namespace {

constexpr int64_t kMicros = 1'000'000;

int64_t WeightOf(const Candidate& c) { return std::max<int32_t>(1, c.weight); }
int64_t CapacityOf(const Candidate& c) {
  return std::max<int32_t>(1, c.capacity);
}

// a.open / a.capacity < b.open / b.capacity, exactly.
bool LessLoaded(const Candidate& a, const Candidate& b) {
  return int64_t{a.open} * CapacityOf(b) < int64_t{b.open} * CapacityOf(a);
}
bool SameLoad(const Candidate& a, const Candidate& b) {
  return int64_t{a.open} * CapacityOf(b) == int64_t{b.open} * CapacityOf(a);
}

std::string PointerText(std::string_view pointer) {
  return pointer.empty() ? "(none)" : std::string(pointer);
}

}  // namespace

v1::RoutingStrategy Effective(v1::RoutingStrategy strategy) {
  return strategy == v1::ROUTING_STRATEGY_UNSPECIFIED
             ? v1::ROUTING_STRATEGY_ROUND_ROBIN
             : strategy;
}

std::string StrategyName(v1::RoutingStrategy strategy) {
  return ShortEnumName(Effective(strategy), v1::RoutingStrategy_descriptor(),
                       "ROUTING_STRATEGY_");
}

std::optional<RoundRobinPick> PickRoundRobin(
    std::span<const Candidate> eligible, std::string_view pointer) {
  if (eligible.empty()) return std::nullopt;
  auto next = std::upper_bound(
      eligible.begin(), eligible.end(), pointer,
      [](std::string_view p, const Candidate& c) { return p < c.rep; });
  RoundRobinPick pick;
  pick.wrapped = next == eligible.end();
  pick.index = pick.wrapped ? 0 : static_cast<size_t>(next - eligible.begin());
  return pick;
}

size_t PickSmoothWeighted(std::span<const Candidate> eligible,
                          std::span<int64_t> current) {
  int64_t total = 0;
  for (const Candidate& c : eligible) total += WeightOf(c);
  size_t best = 0;
  for (size_t i = 0; i < eligible.size(); ++i) {
    current[i] = std::clamp(current[i], -total, total) + WeightOf(eligible[i]);
    if (current[i] > current[best]) best = i;
  }
  current[best] -= total;
  return best;
}

std::optional<LeastLoadedPick> PickLeastLoaded(
    std::span<const Candidate> eligible, std::string_view tie_pointer) {
  if (eligible.empty()) return std::nullopt;
  size_t lowest = 0;
  for (size_t i = 1; i < eligible.size(); ++i) {
    if (LessLoaded(eligible[i], eligible[lowest])) lowest = i;
  }
  // `lowest` is the first (by rep) of the tied; look for the first tied rep
  // after the pointer.
  LeastLoadedPick pick{.index = lowest, .tied = 0};
  bool found_after = false;
  for (size_t i = lowest; i < eligible.size(); ++i) {
    if (!SameLoad(eligible[i], eligible[lowest])) continue;
    ++pick.tied;
    if (!found_after && eligible[i].rep > tie_pointer) {
      pick.index = i;
      found_after = true;
    }
  }
  return pick;
}

std::optional<StrategyStep> RunStrategy(const StrategyInput& in) {
  if (in.eligible.empty()) return std::nullopt;
  StrategyStep step;
  step.round_robin_pointer = std::string(in.round_robin_pointer);
  step.tie_break_pointer = std::string(in.tie_break_pointer);
  switch (Effective(in.strategy)) {
    case v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN: {
      int64_t total = 0;
      for (const Candidate& c : in.eligible) total += WeightOf(c);
      step.index = PickSmoothWeighted(in.eligible, in.current);
      const Candidate& c = in.eligible[step.index];
      step.reason = absl::StrCat(
          "smooth weighted round robin: highest current weight ",
          in.current[step.index] + total, " (weight ", WeightOf(c), ") among ",
          in.eligible.size(), " eligible, total weight ", total,
          "; it drops by the total");
      break;
    }
    case v1::ROUTING_STRATEGY_LEAST_LOADED: {
      const LeastLoadedPick pick =
          *PickLeastLoaded(in.eligible, in.tie_break_pointer);
      step.index = pick.index;
      const Candidate& c = in.eligible[pick.index];
      step.tie_break_pointer = std::string(c.rep);
      step.reason =
          absl::StrCat("least loaded: lowest load ", c.open, "/", c.capacity);
      if (pick.tied > 1) {
        absl::StrAppend(&step.reason, ", tied with ", pick.tied - 1,
                        " other(s); first after tie-break pointer ",
                        Sv(PointerText(in.tie_break_pointer)));
      }
      break;
    }
    default: {
      const RoundRobinPick pick =
          *PickRoundRobin(in.eligible, in.round_robin_pointer);
      step.index = pick.index;
      step.round_robin_pointer = std::string(in.eligible[pick.index].rep);
      if (in.round_robin_pointer.empty()) {
        step.reason = "round robin: no pointer yet, so the first eligible rep";
      } else if (pick.wrapped) {
        step.reason = absl::StrCat(
            "round robin: no eligible rep after pointer ",
            Sv(in.round_robin_pointer), ", so wrapped to the first");
      } else {
        step.reason = absl::StrCat("round robin: next eligible rep after ",
                                   Sv(in.round_robin_pointer));
      }
      break;
    }
  }
  return step;
}

void DueShares(v1::RoutingStrategy strategy,
               std::span<const Candidate> eligible, std::span<int64_t> micros) {
  if (eligible.empty()) return;
  if (Effective(strategy) == v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN) {
    int64_t total = 0;
    for (const Candidate& c : eligible) total += WeightOf(c);
    for (size_t i = 0; i < eligible.size(); ++i) {
      micros[i] = kMicros * WeightOf(eligible[i]) / total;
    }
  } else {
    const int64_t each = kMicros / static_cast<int64_t>(eligible.size());
    std::fill(micros.begin(), micros.begin() + eligible.size(), each);
  }
}

v1::PoolFairness ComputeFairness(std::string_view pool,
                                 v1::RoutingStrategy strategy,
                                 int64_t pool_assignments,
                                 std::span<const FairnessMember> members) {
  v1::PoolFairness out;
  out.set_pool(std::string(pool));
  out.set_assignments(pool_assignments);
  const bool weighted =
      Effective(strategy) == v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN;
  int64_t total_weight = 0;
  for (const FairnessMember& m : members) {
    total_weight += weighted ? std::max<int32_t>(1, m.weight) : 1;
  }
  for (const FairnessMember& m : members) {
    v1::RepFairness* row = out.add_reps();
    row->set_rep(std::string(m.rep));
    row->set_weight(std::max<int32_t>(1, m.weight));
    row->set_assignments(m.credit.assignments);
    row->set_share(pool_assignments == 0
                       ? 0.0
                       : static_cast<double>(m.credit.assignments) /
                             static_cast<double>(pool_assignments));
    row->set_target_share(
        static_cast<double>(weighted ? std::max<int32_t>(1, m.weight) : 1) /
        static_cast<double>(total_weight));
    row->set_expected_assignments(
        static_cast<double>(m.credit.expected_micros) / kMicros);
  }
  return out;
}

PoolState PoolState::FromProto(const v1::PoolStrategyState& proto) {
  PoolState state(proto.pool());
  state.rr_pointer_ = proto.round_robin_pointer();
  state.tie_pointer_ = proto.tie_break_pointer();
  state.assignments_ = proto.assignments();
  for (const v1::RepStrategyState& rep : proto.reps()) {
    state.reps_[rep.rep()] =
        RepCredit{.current_weight = rep.current_weight(),
                  .assignments = rep.assignments(),
                  .expected_micros = rep.expected_micros()};
  }
  return state;
}

v1::PoolStrategyState PoolState::ToProto() const {
  v1::PoolStrategyState proto;
  proto.set_pool(pool_);
  proto.set_round_robin_pointer(rr_pointer_);
  proto.set_tie_break_pointer(tie_pointer_);
  proto.set_assignments(assignments_);
  for (const auto& [rep, credit] : reps_) {
    v1::RepStrategyState* out = proto.add_reps();
    out->set_rep(rep);
    out->set_current_weight(credit.current_weight);
    out->set_assignments(credit.assignments);
    out->set_expected_micros(credit.expected_micros);
  }
  return proto;
}

std::optional<StrategyStep> PoolState::Pick(
    v1::RoutingStrategy strategy, std::span<const Candidate> eligible) {
  std::vector<int64_t> current(eligible.size());
  for (size_t i = 0; i < eligible.size(); ++i) {
    current[i] = credit(eligible[i].rep).current_weight;
  }
  std::optional<StrategyStep> step =
      RunStrategy({.strategy = strategy,
                   .eligible = eligible,
                   .round_robin_pointer = rr_pointer_,
                   .tie_break_pointer = tie_pointer_,
                   .current = current});
  if (!step.has_value()) return step;
  std::vector<int64_t> due(eligible.size());
  DueShares(strategy, eligible, due);
  const bool weighted =
      Effective(strategy) == v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN;
  for (size_t i = 0; i < eligible.size(); ++i) {
    auto [it, inserted] = reps_.try_emplace(std::string(eligible[i].rep));
    if (weighted) it->second.current_weight = current[i];
    it->second.expected_micros += due[i];
    if (i == step->index) ++it->second.assignments;
  }
  rr_pointer_ = step->round_robin_pointer;
  tie_pointer_ = step->tie_break_pointer;
  ++assignments_;
  return step;
}

v1::PoolFairness PoolState::Fairness(v1::RoutingStrategy strategy,
                                     std::span<const Candidate> members) const {
  std::vector<FairnessMember> rows;
  rows.reserve(members.size());
  for (const Candidate& m : members) {
    rows.push_back({.rep = m.rep, .weight = m.weight, .credit = credit(m.rep)});
  }
  return ComputeFairness(pool_, strategy, assignments_, rows);
}

RepCredit PoolState::credit(std::string_view rep) const {
  auto it = reps_.find(rep);
  return it == reps_.end() ? RepCredit{} : it->second;
}

}  // namespace handoff::routing::engine
