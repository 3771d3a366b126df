#include "services/routing/engine/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/proto_time.h"
#include "services/routing/engine/sla_choice.h"
#include "tests/services/routing/engine/engine_test_util.h"

namespace handoff::routing::engine {
namespace {

using ::testing::HasSubstr;
using testing::Monday10;
using testing::Rep;
using testing::RuleSetOf;
using testing::TeamRule;

void ExpectInvalid(const absl::Status& status, std::string_view field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(std::string(field))) << status;
}

v1::SlaPolicy Policy(std::string_view name) {
  v1::SlaPolicy policy;
  policy.set_name(std::string(name));
  *policy.mutable_accept_within() = ToProtoDuration(absl::Hours(2));
  return policy;
}

TEST(ValidateRuleSetTest, AValidSetPasses) {
  v1::RuleSet set = RuleSetOf({TeamRule("de", "dach")});
  set.mutable_rules(0)->mutable_condition()->add_territories("DACH");
  set.mutable_rules(0)->mutable_condition()->add_campaign_channels("webinar");
  set.mutable_rules(0)->mutable_condition()->add_campaign_channels(
      "CHANNEL_EVENT");
  set.mutable_rules(0)->set_sla_policy("fast");
  *set.add_sla_policies() = Policy("fast");
  EXPECT_TRUE(ValidateRuleSet(set).ok()) << ValidateRuleSet(set);
}

TEST(ValidateRuleSetTest, TheFallbackIsRequiredAndTakesEveryLead) {
  v1::RuleSet set = RuleSetOf({TeamRule("a", "t")});
  set.clear_fallback();
  ExpectInvalid(ValidateRuleSet(set), "rule_set.fallback");

  set = RuleSetOf({TeamRule("a", "t")});
  set.mutable_fallback()->mutable_condition()->set_min_score(10);
  ExpectInvalid(ValidateRuleSet(set), "rule_set.fallback.condition");
}

TEST(ValidateRuleSetTest, RuleNamesAreUniqueIncludingTheFallback) {
  ExpectInvalid(
      ValidateRuleSet(RuleSetOf({TeamRule("a", "t"), TeamRule("a", "u")})),
      "rule_set.rules[1].name");
  ExpectInvalid(ValidateRuleSet(RuleSetOf({TeamRule("fallback", "t")})),
                "rule_set.fallback.name");
  ExpectInvalid(ValidateRuleSet(RuleSetOf({TeamRule("", "t")})),
                "rule_set.rules[0].name");
}

TEST(ValidateRuleSetTest, ConditionsAreChecked) {
  auto with = [](auto mutate) {
    v1::RuleSet set = RuleSetOf({TeamRule("a", "t")});
    mutate(*set.mutable_rules(0)->mutable_condition());
    return ValidateRuleSet(set);
  };
  ExpectInvalid(with([](v1::RuleCondition& c) { c.add_territories("XX"); }),
                "rule_set.rules[0].condition.territories[0]");
  ExpectInvalid(with([](v1::RuleCondition& c) {
                  c.set_min_employees(500);
                  c.set_max_employees(100);
                }),
                "rule_set.rules[0].condition.max_employees");
  ExpectInvalid(with([](v1::RuleCondition& c) { c.set_min_score(-1); }),
                "condition.min_score");
  ExpectInvalid(with([](v1::RuleCondition& c) { c.add_personas("p1"); }),
                "condition.personas[0]");
  ExpectInvalid(
      with([](v1::RuleCondition& c) { c.add_campaign_channels("radio"); }),
      "condition.campaign_channels[0]");
  ExpectInvalid(with([](v1::RuleCondition& c) { c.add_industries(""); }),
                "condition.industries[0]");
  ExpectInvalid(with([](v1::RuleCondition& c) { c.add_mql_reasons(""); }),
                "condition.mql_reasons[0]");
}

TEST(ValidateRuleSetTest, TargetsStrategiesAndPolicies) {
  v1::RuleSet set = RuleSetOf({TeamRule("a", "t")});
  set.mutable_rules(0)->clear_team();
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].team");

  set = RuleSetOf({TeamRule("a", "bad team!")});
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].team");

  set = RuleSetOf({testing::PoolRule("a", {"x", "x"})});
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].pool.reps[1]");

  set = RuleSetOf({TeamRule("a", "t")});
  set.mutable_rules(0)->mutable_pool();
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].pool.reps");

  set = RuleSetOf({TeamRule("a", "t")});
  set.mutable_rules(0)->set_strategy(static_cast<v1::RoutingStrategy>(42));
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].strategy");

  set = RuleSetOf({TeamRule("a", "t")});
  set.mutable_rules(0)->set_sla_policy("missing");
  ExpectInvalid(ValidateRuleSet(set), "rule_set.rules[0].sla_policy");

  set = RuleSetOf({TeamRule("a", "t")});
  *set.add_sla_policies() = Policy("p");
  *set.add_sla_policies() = Policy("p");
  ExpectInvalid(ValidateRuleSet(set), "rule_set.sla_policies[1].name");
}

TEST(ValidateSlaPolicyTest, FieldsAreChecked) {
  EXPECT_TRUE(ValidateSlaPolicy(Policy("p"), "p").ok());
  v1::SlaPolicy p = Policy("p");
  p.clear_accept_within();
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.accept_within");
  p = Policy("p");
  p.mutable_first_touch_within()->set_seconds(-1);
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.first_touch_within");
  p = Policy("p");
  p.set_warning_fraction_bp(10000);
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.warning_fraction_bp");
  p = Policy("p");
  p.mutable_calendar()->add_holidays("2026-13-01");
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.calendar.holidays[0]");
  p = Policy("p");
  p.mutable_calendar()->add_holidays("2026-12-25");
  p.mutable_calendar()->set_time_zone("Europe/Berlin");
  EXPECT_TRUE(ValidateSlaPolicy(p, "policy").ok());
  p.mutable_calendar()->set_time_zone("Mars/Olympus");
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.calendar.time_zone");
  p = Policy("p");
  p.set_on_exhausted(static_cast<v1::ExhaustedAction>(9));
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.on_exhausted");
  p = Policy("p");
  p.set_max_attempts(-1);
  ExpectInvalid(ValidateSlaPolicy(p, "policy"), "policy.max_attempts");
}

TEST(ValidateRepRoutingTest, RoutingAttributesAreChecked) {
  v1::Rep rep = Rep("a", "t");
  rep.add_territories("EMEA");
  rep.add_segments(v1::COMPANY_SEGMENT_SMB);
  rep.add_persona_specialties("personas/cfo");
  rep.set_time_zone("America/New_York");
  *rep.mutable_working_hours() = testing::OfficeHours();
  EXPECT_TRUE(ValidateRepRouting(rep).ok()) << ValidateRepRouting(rep);

  auto with = [&rep](auto mutate) {
    v1::Rep copy = rep;
    mutate(copy);
    return ValidateRepRouting(copy);
  };
  ExpectInvalid(with([](v1::Rep& r) { r.add_territories("Atlantis"); }),
                "rep.territories[1]");
  ExpectInvalid(with([](v1::Rep& r) { r.add_segments(v1::CompanySegment(0)); }),
                "rep.segments[1]");
  ExpectInvalid(with([](v1::Rep& r) { r.add_persona_specialties("cfo"); }),
                "rep.persona_specialties[1]");
  ExpectInvalid(with([](v1::Rep& r) { r.set_daily_cap(-1); }), "rep.daily_cap");
  ExpectInvalid(with([](v1::Rep& r) { r.set_weight(-2); }), "rep.weight");
  ExpectInvalid(with([](v1::Rep& r) { r.set_time_zone("Nowhere/City"); }),
                "rep.time_zone");
  ExpectInvalid(with([](v1::Rep& r) {
                  testing::AddWindow(r.mutable_working_hours(), 0, 0, 10);
                }),
                "rep.working_hours.windows[5].day_of_week");
  ExpectInvalid(with([](v1::Rep& r) { r.set_manager("a"); }), "rep.manager");
  ExpectInvalid(with([](v1::Rep& r) { r.set_manager(r.name()); }),
                "rep.manager");
  ExpectInvalid(with([](v1::Rep& r) {
                  v1::TimeRange* ooo = r.add_out_of_office();
                  *ooo->mutable_start_time() = ToProtoTime(Monday10());
                  *ooo->mutable_end_time() = ToProtoTime(Monday10());
                }),
                "rep.out_of_office[0].end_time");
}

TEST(CanonicalFormsTest, ChannelsReasonsAndIndustries) {
  EXPECT_EQ(CanonicalChannel("CHANNEL_WEBINAR"), "WEBINAR");
  EXPECT_EQ(CanonicalChannel(" webinar "), "WEBINAR");
  EXPECT_EQ(CanonicalMqlReason("demo_request"), "DEMO_REQUEST");
  EXPECT_EQ(CanonicalIndustry("SaaS "), "saas");
}

TEST(SlaChoiceTest, PriorityByScoreOrReasonPicksTheShortWindow) {
  v1::SlaPolicy p = Policy("p");
  *p.mutable_priority_accept_within() = ToProtoDuration(absl::Minutes(5));
  p.mutable_priority()->set_min_score(80);
  p.mutable_priority()->add_mql_reasons("DEMO_REQUEST");

  v1::LeadSummary lead;
  lead.set_score(79);
  lead.set_mql_reason("SCORE_THRESHOLD");
  EXPECT_FALSE(IsPriorityLead(p, lead));
  EXPECT_EQ(AcceptWindow(p, false), absl::Hours(2));
  lead.set_score(80);
  EXPECT_TRUE(IsPriorityLead(p, lead));
  lead.set_score(10);
  lead.set_mql_reason("demo_request");
  EXPECT_TRUE(IsPriorityLead(p, lead));
  EXPECT_EQ(AcceptWindow(p, true), absl::Minutes(5));

  // No score bar: a low score is no reason; no priority window: the normal
  // one.
  v1::SlaPolicy plain = Policy("plain");
  lead.set_mql_reason("");
  EXPECT_FALSE(IsPriorityLead(plain, lead));
  EXPECT_EQ(AcceptWindow(plain, true), absl::Hours(2));
}

}  // namespace
}  // namespace handoff::routing::engine
