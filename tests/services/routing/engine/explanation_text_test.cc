#include "services/routing/engine/explanation_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/routing/engine/routing_snapshot.h"
#include "tests/services/routing/engine/engine_test_util.h"

namespace handoff::routing::engine {
namespace {

using ::testing::HasSubstr;
using testing::Lead;
using testing::Monday10;
using ::testing::Not;
using testing::Rep;
using testing::RuleSetOf;
using testing::TeamRule;

RoutingSnapshot Snapshot(v1::RoutingStrategy strategy) {
  v1::RoutingRule big = TeamRule("big", "dach");
  big.mutable_condition()->set_min_employees(1000);
  v1::RoutingRule us = TeamRule("us", "dach");
  us.mutable_condition()->add_territories("US");
  v1::RoutingRule de = TeamRule("de", "dach", strategy);
  de.mutable_condition()->add_territories("DE");
  v1::Rep away = Rep("a", "dach");
  away.set_status(v1::REP_STATUS_AWAY);
  v1::Rep french = Rep("b", "dach");
  french.add_territories("FR");
  std::vector<RepInput> reps;
  for (v1::Rep rep : {away, french, Rep("c", "dach"), Rep("d", "dach")}) {
    reps.push_back(RepInput{rep, RepLoad()});
  }
  absl::StatusOr<RoutingSnapshot> snap =
      RoutingSnapshot::Build(RuleSetOf({big, us, de}, 7), std::move(reps));
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

TEST(ExplanationTextTest, ReadsAsRuleCandidatesPickAndState) {
  RoutingSnapshot snap = Snapshot(v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const std::string text =
      ExplanationText(snap.Decide(Lead("DE", 50), Monday10()).explanation());
  EXPECT_THAT(text, HasSubstr("rule set v7: rules/de matched; 1 earlier rule "
                              "did not match, 1 skipped (other territories)"));
  EXPECT_THAT(text, HasSubstr("  rules/big: company_size: employee_count 50 "
                              "below min_employees 1000\n"));
  EXPECT_THAT(text, HasSubstr("pool teams/dach, strategy ROUND_ROBIN, SLA "
                              "policy (default)\n"));
  EXPECT_THAT(text, HasSubstr("candidates: 4 considered, 2 eligible; "
                              "excluded: AWAY 1, TERRITORY_MISMATCH 1\n"));
  EXPECT_THAT(text, HasSubstr("  reps/a: AWAY, open 0/10\n"));
  EXPECT_THAT(
      text,
      HasSubstr("  reps/b: TERRITORY_MISMATCH (country DE), open 0/10\n"));
  EXPECT_THAT(text, HasSubstr("  reps/c: eligible, open 0/10, picked\n"));
  EXPECT_THAT(text, HasSubstr("picked reps/c: round robin: no pointer yet"));
  EXPECT_THAT(text, HasSubstr("state: round robin pointer (none) -> reps/c; "
                              "assignments 0 -> 1\n"));
}

TEST(ExplanationTextTest, WeightedStateShowsCurrentWeights) {
  RoutingSnapshot snap = Snapshot(v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN);
  const std::string text =
      ExplanationText(snap.Decide(Lead("DE"), Monday10()).explanation());
  EXPECT_THAT(text, HasSubstr("reps/c current weight 0 -> -1;"));
  EXPECT_THAT(text, HasSubstr("reps/d current weight 0 -> 1;"));
}

TEST(ExplanationTextTest, AQueuedLeadSaysWhy) {
  RoutingSnapshot snap = Snapshot(v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const std::string text =
      ExplanationText(snap.Decide(Lead("JP"), Monday10()).explanation());
  EXPECT_THAT(text, HasSubstr("rules/fallback (fallback) took the lead"));
  EXPECT_THAT(text, HasSubstr("no rep picked: no eligible rep; the lead "
                              "queues for rules/fallback"));
  EXPECT_THAT(text, Not(HasSubstr("state:")));
}

}  // namespace
}  // namespace handoff::routing::engine
