#include "services/routing/engine/rule_matcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tests/services/routing/engine/engine_test_util.h"

namespace handoff::routing::engine {
namespace {

using ::testing::ElementsAre;
using testing::Lead;
using ::testing::Pair;
using testing::RuleSetOf;
using testing::TeamRule;

RuleMatcher Compile(const v1::RuleSet& set) {
  absl::StatusOr<RuleMatcher> m = RuleMatcher::Compile(set);
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

RuleMatch MatchOf(const RuleMatcher& m, const v1::LeadSummary& lead) {
  return m.Match(m.Resolve(lead), 100);
}

v1::RoutingRule Rule(std::string_view id,
                     std::function<void(v1::RuleCondition&)> condition) {
  v1::RoutingRule rule = TeamRule(id, "t");
  condition(*rule.mutable_condition());
  return rule;
}

TEST(RuleMatcherTest, FirstMatchingRuleWinsInOrder) {
  RuleMatcher m = Compile(RuleSetOf({
      Rule("de-enterprise",
           [](auto& c) {
             c.add_territories("DE");
             c.set_min_employees(1000);
           }),
      Rule("dach", [](auto& c) { c.add_territories("DACH"); }),
      Rule("de", [](auto& c) { c.add_territories("DE"); }),
      Rule("any", [](auto&) {}),
  }));
  EXPECT_EQ(MatchOf(m, Lead("DE", 5000)).rule, 0);
  // Both "dach" and "de" match; the earlier one wins.
  EXPECT_EQ(MatchOf(m, Lead("DE", 50)).rule, 1);
  EXPECT_EQ(MatchOf(m, Lead("AT")).rule, 1);
  EXPECT_EQ(MatchOf(m, Lead("US")).rule, 3);
}

TEST(RuleMatcherTest, NoMatchGoesToTheFallback) {
  RuleMatcher m = Compile(
      RuleSetOf({Rule("de", [](auto& c) { c.add_territories("DE"); })}));
  RuleMatch match = MatchOf(m, Lead("FR"));
  EXPECT_EQ(match.rule, -1);
  // The one rule was skipped by the index, not evaluated.
  EXPECT_EQ(match.evaluated, 0);
  EXPECT_EQ(match.skipped, 1);
  EXPECT_EQ(MatchOf(m, Lead("")).rule, -1);
}

TEST(RuleMatcherTest, EveryConditionKind) {
  RuleMatcher m = Compile(RuleSetOf({
      Rule("territory", [](auto& c) { c.add_territories("NORDICS"); }),
      Rule("size",
           [](auto& c) {
             c.set_min_employees(200);
             c.set_max_employees(999);
           }),
      Rule("industry", [](auto& c) { c.add_industries("Software"); }),
      Rule("persona", [](auto& c) { c.add_personas("personas/cfo"); }),
      Rule("score",
           [](auto& c) {
             c.set_min_score(90);
             c.set_max_score(95);
           }),
      Rule("channel", [](auto& c) { c.add_campaign_channels("WEBINAR"); }),
      Rule("reason", [](auto& c) { c.add_mql_reasons("DEMO_REQUEST"); }),
  }));
  auto rule_for = [&m](v1::LeadSummary lead) { return MatchOf(m, lead).rule; };
  EXPECT_EQ(rule_for(Lead("se")), 0);
  EXPECT_EQ(rule_for(Lead("DE", 200)), 1);
  EXPECT_EQ(rule_for(Lead("DE", 999)), 1);
  EXPECT_EQ(rule_for(Lead("DE", 1000, "SOFTWARE")), 2);
  // Unknown size (0) does not meet a size bound.
  EXPECT_EQ(rule_for(Lead("DE", 0, "software ")), 2);
  v1::LeadSummary lead = Lead("DE", 10, "retail");
  lead.set_persona("personas/cfo");
  EXPECT_EQ(rule_for(lead), 3);
  lead.set_persona("personas/cto");
  lead.set_score(92);
  EXPECT_EQ(rule_for(lead), 4);
  lead.set_score(96);
  lead.set_campaign_channel("CHANNEL_WEBINAR");
  EXPECT_EQ(rule_for(lead), 5);
  lead.set_campaign_channel("email");
  lead.set_mql_reason("demo_request");
  EXPECT_EQ(rule_for(lead), 6);
  lead.set_mql_reason("SCORE_THRESHOLD");
  EXPECT_EQ(rule_for(lead), -1);
}

TEST(RuleMatcherTest, EarlierRulesSayWhyTheyFailed) {
  RuleMatcher m = Compile(RuleSetOf({
      Rule("size", [](auto& c) { c.set_min_employees(200); }),
      Rule("industry", [](auto& c) { c.add_industries("software"); }),
      Rule("persona", [](auto& c) { c.add_personas("personas/cfo"); }),
      Rule("score", [](auto& c) { c.set_min_score(60); }),
      Rule("max-score", [](auto& c) { c.set_max_score(10); }),
      Rule("channel", [](auto& c) { c.add_campaign_channels("EVENT"); }),
      Rule("reason", [](auto& c) { c.add_mql_reasons("DEMO_REQUEST"); }),
      Rule("big", [](auto& c) { c.set_max_employees(20); }),
      Rule("us", [](auto& c) { c.add_territories("US"); }),
      Rule("any", [](auto&) {}),
  }));
  v1::LeadSummary lead = Lead("DE", 40, "retail");
  lead.set_score(30);
  lead.set_campaign_channel("WEBINAR");
  lead.set_mql_reason("SCORE_THRESHOLD");
  const LeadFacts facts = m.Resolve(lead);
  const RuleMatch match = m.Match(facts, 100);
  EXPECT_EQ(match.rule, 9);
  EXPECT_EQ(match.evaluated, 8);
  EXPECT_EQ(match.skipped, 1);  // "us"
  std::vector<std::pair<std::string, std::string>> reasons;
  for (const auto& [rule, criterion] : match.failed) {
    reasons.emplace_back(std::string(CriterionName(criterion)),
                         m.Reason(rule, facts, criterion));
  }
  EXPECT_THAT(
      reasons,
      ElementsAre(
          Pair("company_size", "employee_count 40 below min_employees 200"),
          Pair("industry",
               "industry \"retail\" not among the rule's 1 industries"),
          Pair("persona", "no persona, the rule requires one of 1 personas"),
          Pair("score", "score 30 below min_score 60"),
          Pair("score", "score 30 above max_score 10"),
          Pair("campaign_channel",
               "campaign channel \"WEBINAR\" not among the rule's 1 channels"),
          Pair("mql_reason",
               "mql_reason \"SCORE_THRESHOLD\" not among the rule's 1 reasons"),
          Pair("company_size", "employee_count 40 above max_employees 20")));
  EXPECT_EQ(m.Reason(8, facts, Criterion::kTerritory),
            "country DE not in the rule's territories");

  // At most max_listed are listed; the rest are still counted.
  const RuleMatch capped = m.Match(facts, 3);
  EXPECT_EQ(capped.failed.size(), 3u);
  EXPECT_EQ(capped.evaluated, 8);
}

TEST(RuleMatcherTest, TheFirstFailingCriterionIsReported) {
  RuleMatcher m = Compile(RuleSetOf({Rule("two", [](auto& c) {
    c.add_territories("FR");
    c.set_min_score(50);
  })}));
  v1::LeadSummary lead = Lead("DE");
  EXPECT_EQ(m.FirstFailure(0, m.Resolve(lead)), Criterion::kTerritory);
  lead = Lead("FR");
  EXPECT_EQ(m.FirstFailure(0, m.Resolve(lead)), Criterion::kScore);
}

// Random rule sets and leads: the indexed matcher must agree with checking
// every rule in order, on the rule and on every evaluated rule's reason.
TEST(RuleMatcherTest, IndexAgreesWithLinearScanOnRandomRuleSets) {
  std::mt19937 rng(20260105);
  const std::vector<std::string> territories = {"DE",   "AT",   "FR",   "US",
                                                "GB",   "JP",   "BR",   "DACH",
                                                "EMEA", "APAC", "NAMER"};
  const std::vector<std::string> countries = {"DE", "AT", "FR", "US", "GB",
                                              "JP", "BR", "CH", "ZA", ""};
  const std::vector<std::string> industries = {"software", "Retail", "finance"};
  const std::vector<std::string> personas = {"personas/a", "personas/b"};
  const std::vector<std::string> channels = {"WEBINAR", "EVENT", "EMAIL"};
  const std::vector<std::string> reasons = {"DEMO_REQUEST", "SCORE_THRESHOLD"};
  auto chance = [&rng](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  auto pick = [&rng](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  int leads_checked = 0;
  int fallbacks = 0;
  std::set<int> matched_positions;
  for (int round = 0; round < 200; ++round) {
    const int rule_count = std::uniform_int_distribution<int>(0, 60)(rng);
    std::vector<v1::RoutingRule> rules;
    for (int r = 0; r < rule_count; ++r) {
      rules.push_back(Rule(absl::StrCat("r", r), [&](v1::RuleCondition& c) {
        if (chance(70)) {
          const int n = std::uniform_int_distribution<int>(1, 3)(rng);
          for (int i = 0; i < n; ++i) c.add_territories(pick(territories));
        }
        if (chance(25)) c.set_min_employees(100 * (1 + rng() % 10));
        if (chance(20)) c.set_max_employees(500 + 100 * (rng() % 20));
        if (c.max_employees() != 0 && c.min_employees() > c.max_employees()) {
          c.set_max_employees(0);
        }
        if (chance(25)) c.add_industries(pick(industries));
        if (chance(15)) c.add_personas(pick(personas));
        if (chance(25)) c.set_min_score(rng() % 100);
        if (chance(10)) c.set_max_score(50 + rng() % 50);
        if (c.max_score() != 0 && c.min_score() > c.max_score()) {
          c.set_max_score(0);
        }
        if (chance(20)) c.add_campaign_channels(pick(channels));
        if (chance(15)) c.add_mql_reasons(pick(reasons));
      }));
    }
    const RuleMatcher m = Compile(RuleSetOf(std::move(rules)));
    for (int l = 0; l < 50; ++l) {
      v1::LeadSummary lead =
          Lead(pick(countries), chance(20) ? 0 : 1 + rng() % 3000,
               chance(20) ? "" : pick(industries));
      if (chance(60)) lead.set_persona(pick(personas));
      lead.set_score(rng() % 101);
      if (chance(80)) lead.set_campaign_channel(pick(channels));
      if (chance(80)) lead.set_mql_reason(pick(reasons));
      const LeadFacts facts = m.Resolve(lead);
      const RuleMatch indexed = m.Match(facts, 1000);
      const RuleMatch linear = m.MatchLinear(facts, 1000);
      ++leads_checked;
      ASSERT_EQ(indexed.rule, linear.rule)
          << "round " << round << " lead " << lead.ShortDebugString();
      const int before = indexed.rule < 0 ? m.size() : indexed.rule;
      ASSERT_EQ(indexed.evaluated + indexed.skipped, before);
      ASSERT_EQ(linear.evaluated, before);
      // Every rule the index evaluated failed as in the linear scan; every
      // rule it skipped fails the linear scan on territory.
      std::set<int> evaluated;
      for (const auto& [rule, criterion] : indexed.failed) {
        evaluated.insert(rule);
        ASSERT_EQ(criterion, linear.failed[rule].second);
      }
      for (const auto& [rule, criterion] : linear.failed) {
        if (!evaluated.contains(rule)) {
          ASSERT_EQ(criterion, Criterion::kTerritory) << "rule " << rule;
        }
      }
      if (indexed.rule < 0) {
        ++fallbacks;
      } else {
        matched_positions.insert(indexed.rule);
      }
    }
  }
  EXPECT_EQ(leads_checked, 10000);
  // The generator exercises both outcomes and many positions.
  EXPECT_GT(fallbacks, 100);
  EXPECT_GT(matched_positions.size(), 30u);
}

}  // namespace
}  // namespace handoff::routing::engine
