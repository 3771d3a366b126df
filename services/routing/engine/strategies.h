#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "handoff/routing/v1/routing.pb.h"

// Routing strategies as pure state machines: a pick is a function of the
// eligible reps and the pool's state, returning the choice and the next
// state. The state is plain data (v1::PoolStrategyState when persisted), so
// a restart resumes the rotation where it was.
namespace handoff::routing::engine {

// One eligible rep as a strategy sees it. Spans of candidates are sorted by
// rep, the order rotations follow.
struct Candidate {
  std::string_view rep;
  // >= 1.
  int32_t weight = 1;
  int32_t open = 0;
  // >= 1.
  int32_t capacity = 1;
};

// ROUND_ROBIN for UNSPECIFIED.
v1::RoutingStrategy Effective(v1::RoutingStrategy strategy);
std::string StrategyName(v1::RoutingStrategy strategy);

struct RoundRobinPick {
  size_t index = 0;
  bool wrapped = false;
};
// The first candidate after `pointer` (the rep picked last; empty when none
// yet), wrapping around. The pointer need not be a candidate, so a rep going
// away does not reset the rotation. nullopt when `eligible` is empty.
std::optional<RoundRobinPick> PickRoundRobin(
    std::span<const Candidate> eligible, std::string_view pointer);

// Smooth weighted round robin (as nginx): every candidate's current weight
// grows by its weight, the highest (the first on ties) is picked and loses
// the candidates' total weight. `current` is aligned with `eligible` and
// updated in place. Only the reps passed take part, so a rep who is away
// keeps its current weight frozen instead of building credit. Currents are
// first clamped to +-total, which a steady pool never reaches, so a weight
// cut cannot leave a burst behind. `eligible` must not be empty.
size_t PickSmoothWeighted(std::span<const Candidate> eligible,
                          std::span<int64_t> current);

struct LeastLoadedPick {
  size_t index = 0;
  // How many candidates share the lowest load (1 = no tie).
  int tied = 1;
};
// The lowest open/capacity; among the tied, the first after `tie_pointer`
// (the rep this strategy picked last), wrapping, so ties rotate instead of
// favouring the oldest rep. nullopt when `eligible` is empty.
std::optional<LeastLoadedPick> PickLeastLoaded(
    std::span<const Candidate> eligible, std::string_view tie_pointer);

// What one strategy step reads.
struct StrategyInput {
  v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN;
  std::span<const Candidate> eligible;
  std::string_view round_robin_pointer;
  std::string_view tie_break_pointer;
  // Aligned with `eligible`: the smooth weighted current weights, updated in
  // place (read only by WEIGHTED_ROUND_ROBIN).
  std::span<int64_t> current;
};

struct StrategyStep {
  size_t index = 0;
  std::string round_robin_pointer;
  std::string tie_break_pointer;
  // Why this rep, for explanations.
  std::string reason;
};

// One pick and the next pointers. nullopt when nobody is eligible.
std::optional<StrategyStep> RunStrategy(const StrategyInput& input);

// The share of one pick each candidate was due, in millionths: its weight
// share for WEIGHTED_ROUND_ROBIN, an equal share otherwise.
void DueShares(v1::RoutingStrategy strategy,
               std::span<const Candidate> eligible, std::span<int64_t> micros);

struct RepCredit {
  int64_t current_weight = 0;
  int64_t assignments = 0;
  int64_t expected_micros = 0;
};

struct FairnessMember {
  std::string_view rep;
  int32_t weight = 1;
  RepCredit credit;
};
// Assignments per rep against the target share (weight share for
// WEIGHTED_ROUND_ROBIN, equal otherwise) and against what each was due while
// eligible.
v1::PoolFairness ComputeFairness(std::string_view pool,
                                 v1::RoutingStrategy strategy,
                                 int64_t pool_assignments,
                                 std::span<const FairnessMember> members);

// The strategy state of one pool keyed by rep: the persisted form, and a
// self-contained state machine for callers without a RoutingSnapshot.
class PoolState {
 public:
  PoolState() = default;
  explicit PoolState(std::string pool) : pool_(std::move(pool)) {}
  static PoolState FromProto(const v1::PoolStrategyState& proto);
  v1::PoolStrategyState ToProto() const;

  // Picks one of `eligible` and advances the state (pointers, current
  // weights, assignment and due-share counts). nullopt when empty.
  std::optional<StrategyStep> Pick(v1::RoutingStrategy strategy,
                                   std::span<const Candidate> eligible);
  v1::PoolFairness Fairness(v1::RoutingStrategy strategy,
                            std::span<const Candidate> members) const;

  const std::string& pool() const { return pool_; }
  const std::string& round_robin_pointer() const { return rr_pointer_; }
  const std::string& tie_break_pointer() const { return tie_pointer_; }
  int64_t assignments() const { return assignments_; }
  // Zeroes for a rep never seen.
  RepCredit credit(std::string_view rep) const;

 private:
  std::string pool_;
  std::string rr_pointer_;
  std::string tie_pointer_;
  int64_t assignments_ = 0;
  absl::btree_map<std::string, RepCredit, std::less<>> reps_;
};

}  // namespace handoff::routing::engine
