#include "services/routing/engine/strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "google/protobuf/util/message_differencer.h"

namespace handoff::routing::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<Candidate> Reps(std::initializer_list<const char*> names) {
  std::vector<Candidate> out;
  for (const char* n : names) out.push_back({.rep = n});
  return out;
}

std::vector<Candidate> Weighted(
    std::initializer_list<std::pair<const char*, int>> reps) {
  std::vector<Candidate> out;
  for (auto [n, w] : reps) out.push_back({.rep = n, .weight = w});
  return out;
}

// Runs `n` picks over a fixed set; returns the picked reps.
std::vector<std::string> Sequence(PoolState& state,
                                  v1::RoutingStrategy strategy,
                                  const std::vector<Candidate>& eligible,
                                  int n) {
  std::vector<std::string> picks;
  for (int i = 0; i < n; ++i) {
    std::optional<StrategyStep> step = state.Pick(strategy, eligible);
    EXPECT_TRUE(step.has_value());
    picks.emplace_back(eligible[step->index].rep);
  }
  return picks;
}

TEST(RoundRobinTest, RotatesInRepOrderAndWraps) {
  PoolState state("teams/t");
  EXPECT_THAT(Sequence(state, v1::ROUTING_STRATEGY_ROUND_ROBIN,
                       Reps({"a", "b", "c"}), 7),
              ElementsAre("a", "b", "c", "a", "b", "c", "a"));
  EXPECT_EQ(state.round_robin_pointer(), "a");
  // UNSPECIFIED is round robin.
  EXPECT_THAT(Sequence(state, v1::ROUTING_STRATEGY_UNSPECIFIED,
                       Reps({"a", "b", "c"}), 2),
              ElementsAre("b", "c"));
}

TEST(RoundRobinTest, ARepLeavingDoesNotResetTheRotation) {
  // "b" was picked last and went away: "c" is next, not "a".
  std::optional<RoundRobinPick> pick = PickRoundRobin(Reps({"a", "c"}), "b");
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->index, 1u);
  EXPECT_FALSE(pick->wrapped);
  EXPECT_TRUE(PickRoundRobin(Reps({"a", "c"}), "c")->wrapped);
  EXPECT_FALSE(PickRoundRobin({}, "a").has_value());
}

TEST(RoundRobinTest, ReasonsNameThePointer) {
  std::vector<Candidate> reps = Reps({"reps/a", "reps/b"});
  StrategyInput in;
  in.eligible = reps;
  std::optional<StrategyStep> first = RunStrategy(in);
  EXPECT_THAT(first->reason, HasSubstr("no pointer yet"));
  in.round_robin_pointer = "reps/a";
  std::optional<StrategyStep> next = RunStrategy(in);
  EXPECT_EQ(next->round_robin_pointer, "reps/b");
  EXPECT_THAT(next->reason, HasSubstr("after reps/a"));
  in.round_robin_pointer = "reps/b";
  std::optional<StrategyStep> wrapped = RunStrategy(in);
  EXPECT_THAT(wrapped->reason, HasSubstr("wrapped"));
}

TEST(SmoothWeightedTest, WeightsFiveOneOneInterleaveWithoutBursts) {
  PoolState state("teams/t");
  const std::vector<Candidate> reps = Weighted({{"a", 5}, {"b", 1}, {"c", 1}});
  EXPECT_THAT(
      Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, reps, 14),
      ElementsAreArray({"a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a",
                        "c", "a", "a"}));
  // A full cycle brings every current weight back to zero.
  for (const char* rep : {"a", "b", "c"}) {
    EXPECT_EQ(state.credit(rep).current_weight, 0) << rep;
  }
}

// The textbook nginx algorithm, without clamping, for comparison.
std::vector<size_t> Nginx(const std::vector<int>& weights, int n) {
  std::vector<int64_t> current(weights.size(), 0);
  int64_t total = 0;
  for (int w : weights) total += w;
  std::vector<size_t> picks;
  for (int i = 0; i < n; ++i) {
    size_t best = 0;
    for (size_t k = 0; k < weights.size(); ++k) {
      current[k] += weights[k];
      if (current[k] > current[best]) best = k;
    }
    current[best] -= total;
    picks.push_back(best);
  }
  return picks;
}

TEST(SmoothWeightedTest, SteadyPoolsMatchNginxAndNeverBurst) {
  std::mt19937 rng(7);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + rng() % names.size();
    std::vector<int> weights;
    std::vector<Candidate> reps;
    int total = 0;
    for (size_t i = 0; i < n; ++i) {
      weights.push_back(1 + rng() % 20);
      total += weights.back();
      reps.push_back({.rep = names[i], .weight = weights.back()});
    }
    std::vector<int64_t> current(n, 0);
    const std::vector<size_t> expected = Nginx(weights, 3 * total);
    std::vector<int> got(n, 0);
    for (int i = 0; i < 3 * total; ++i) {
      const size_t pick = PickSmoothWeighted(reps, current);
      ASSERT_EQ(pick, expected[i]) << "round " << round << " pick " << i;
      ++got[pick];
    }
    // Exactly proportional over whole cycles.
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(got[i], 3 * weights[i]);
  }
}

TEST(SmoothWeightedTest, TimeAwayBuildsNoBacklog) {
  PoolState state("teams/t");
  const std::vector<Candidate> all = Weighted({{"a", 1}, {"b", 1}, {"c", 1}});
  const std::vector<Candidate> without_c = Weighted({{"a", 1}, {"b", 1}});
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, all, 3);
  // "c" is away for 300 leads.
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, without_c, 300);
  // Back: "c" gets its share from now on, not the 100 it missed.
  std::vector<std::string> after =
      Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, all, 30);
  std::map<std::string, int> counts;
  for (const std::string& rep : after) ++counts[rep];
  EXPECT_EQ(counts["c"], 10);
  // And never more than once in any three consecutive picks.
  for (size_t i = 0; i + 2 < after.size(); ++i) {
    const int c_in_window =
        (after[i] == "c") + (after[i + 1] == "c") + (after[i + 2] == "c");
    EXPECT_LE(c_in_window, 1) << "at " << i;
  }
  // The due shares say it too: c was due 1/3 of the 33 picks it was there
  // for, and got them.
  EXPECT_EQ(state.credit("c").assignments, 11);
  EXPECT_NEAR(state.credit("c").expected_micros / 1e6, 11.0, 0.01);
}

TEST(SmoothWeightedTest, AHeavyRepReturningGetsNoBurst) {
  PoolState state("teams/t");
  const std::vector<Candidate> all = Weighted({{"a", 5}, {"b", 1}, {"c", 1}});
  const std::vector<Candidate> without_a = Weighted({{"b", 1}, {"c", 1}});
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, all, 3);
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, without_a, 101);
  std::vector<std::string> after =
      Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, all, 7);
  std::map<std::string, int> counts;
  for (const std::string& rep : after) ++counts[rep];
  // One cycle after returning: within one of its weight share.
  EXPECT_LE(counts["a"], 6);
  EXPECT_GE(counts["a"], 4);
}

TEST(SmoothWeightedTest, AWeightCutLeavesNoBurst) {
  std::vector<Candidate> reps = Weighted({{"a", 100}, {"b", 1}});
  std::vector<int64_t> current = {95, -95};  // a far ahead
  reps[0].weight = 1;                        // then its weight drops
  std::vector<size_t> picks;
  for (int i = 0; i < 4; ++i)
    picks.push_back(PickSmoothWeighted(reps, current));
  int a = 0;
  for (size_t p : picks) a += p == 0;
  EXPECT_LE(a, 3);
}

TEST(LeastLoadedTest, PicksTheLowestLoadRelativeToCapacity) {
  std::vector<Candidate> reps = {
      {.rep = "a", .open = 3, .capacity = 10},
      {.rep = "b", .open = 1, .capacity = 2},
      {.rep = "c", .open = 2, .capacity = 10},
  };
  std::optional<LeastLoadedPick> pick = PickLeastLoaded(reps, "");
  EXPECT_EQ(pick->index, 2u);
  EXPECT_EQ(pick->tied, 1);
}

TEST(LeastLoadedTest, TiesRotateInsteadOfFavouringTheOldestRep) {
  // Loads stay equal (each lead closes at once): a creation-order tie-break
  // would give every lead to "a".
  PoolState state("teams/t");
  std::vector<Candidate> reps = {
      {.rep = "a", .open = 1, .capacity = 4},
      {.rep = "b", .open = 2, .capacity = 8},
      {.rep = "c", .open = 1, .capacity = 4},
      {.rep = "d", .open = 3, .capacity = 4},
  };
  EXPECT_THAT(Sequence(state, v1::ROUTING_STRATEGY_LEAST_LOADED, reps, 7),
              ElementsAre("a", "b", "c", "a", "b", "c", "a"));
  EXPECT_EQ(state.tie_break_pointer(), "a");
}

TEST(LeastLoadedTest, LoadsThatChangeAreFollowedAndTiesStillRotate) {
  PoolState state("teams/t");
  std::map<std::string, int> open = {{"a", 0}, {"b", 0}, {"c", 0}};
  std::vector<std::string> picks;
  for (int i = 0; i < 9; ++i) {
    std::vector<Candidate> reps;
    for (const auto& [rep, n] : open) {
      reps.push_back({.rep = rep, .open = n, .capacity = 5});
    }
    std::optional<StrategyStep> step =
        state.Pick(v1::ROUTING_STRATEGY_LEAST_LOADED, reps);
    picks.emplace_back(reps[step->index].rep);
    ++open[picks.back()];
  }
  EXPECT_THAT(picks, ElementsAre("a", "b", "c", "a", "b", "c", "a", "b", "c"));
  const std::vector<Candidate> one = {{.rep = "x", .open = 1, .capacity = 5}};
  StrategyInput in;
  in.strategy = v1::ROUTING_STRATEGY_LEAST_LOADED;
  in.eligible = one;
  in.tie_break_pointer = "c";
  std::optional<StrategyStep> step = RunStrategy(in);
  // The pointer follows every pick, tie or not, so the next tie starts
  // after the rep served last.
  EXPECT_EQ(step->tie_break_pointer, "x");
  EXPECT_THAT(step->reason, HasSubstr("lowest load 1/5"));
}

TEST(PoolStateTest, SerializationRoundTripResumesExactly) {
  PoolState state("teams/t");
  const std::vector<Candidate> reps = Weighted({{"a", 3}, {"b", 2}, {"c", 1}});
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, reps, 4);
  Sequence(state, v1::ROUTING_STRATEGY_ROUND_ROBIN, reps, 1);
  Sequence(state, v1::ROUTING_STRATEGY_LEAST_LOADED, reps, 2);

  const v1::PoolStrategyState proto = state.ToProto();
  std::string bytes;
  ASSERT_TRUE(proto.SerializeToString(&bytes));
  v1::PoolStrategyState parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  PoolState restored = PoolState::FromProto(parsed);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      restored.ToProto(), proto));
  EXPECT_EQ(restored.assignments(), 7);

  // Both continue identically under every strategy.
  for (auto strategy :
       {v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN,
        v1::ROUTING_STRATEGY_ROUND_ROBIN, v1::ROUTING_STRATEGY_LEAST_LOADED}) {
    EXPECT_EQ(Sequence(state, strategy, reps, 12),
              Sequence(restored, strategy, reps, 12));
  }
}

TEST(FairnessTest, WeightedSharesAgainstTargets) {
  PoolState state("teams/t");
  const std::vector<Candidate> reps = Weighted({{"a", 5}, {"b", 1}, {"c", 1}});
  Sequence(state, v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, reps, 70);
  const v1::PoolFairness f =
      state.Fairness(v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN, reps);
  EXPECT_EQ(f.pool(), "teams/t");
  EXPECT_EQ(f.assignments(), 70);
  ASSERT_EQ(f.reps_size(), 3);
  EXPECT_EQ(f.reps(0).assignments(), 50);
  EXPECT_DOUBLE_EQ(f.reps(0).target_share(), 5.0 / 7);
  EXPECT_DOUBLE_EQ(f.reps(0).share(), 50.0 / 70);
  EXPECT_NEAR(f.reps(0).expected_assignments(), 50.0, 0.01);
  EXPECT_EQ(f.reps(1).assignments(), 10);
  EXPECT_DOUBLE_EQ(f.reps(1).target_share(), 1.0 / 7);
  EXPECT_EQ(f.reps(1).weight(), 1);
}

TEST(FairnessTest, RoundRobinSharesAreEqualAndCountOnlyEligiblePicks) {
  PoolState state("teams/t");
  Sequence(state, v1::ROUTING_STRATEGY_ROUND_ROBIN, Reps({"a", "b"}), 10);
  Sequence(state, v1::ROUTING_STRATEGY_ROUND_ROBIN, Reps({"a", "b", "c"}), 9);
  const v1::PoolFairness f =
      state.Fairness(v1::ROUTING_STRATEGY_ROUND_ROBIN, Reps({"a", "b", "c"}));
  ASSERT_EQ(f.reps_size(), 3);
  for (const v1::RepFairness& row : f.reps()) {
    EXPECT_DOUBLE_EQ(row.target_share(), 1.0 / 3) << row.rep();
  }
  // "c" joined late: due 3 of the last 9, and got them.
  EXPECT_EQ(f.reps(2).assignments(), 3);
  EXPECT_NEAR(f.reps(2).expected_assignments(), 3.0, 0.01);
  EXPECT_NEAR(f.reps(0).expected_assignments(), 8.0, 0.01);
  EXPECT_EQ(f.reps(0).assignments() + f.reps(1).assignments(), 16);
}

}  // namespace
}  // namespace handoff::routing::engine
