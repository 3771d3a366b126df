#include "tools/handoffctl/rules_yaml.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "services/routing/engine/validation.h"

namespace handoff::ctl {
namespace {

namespace v1 = routing::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

v1::RuleSet ParseOk(const std::string& yaml) {
  auto parsed = ParseRuleSetYaml(yaml, "rules.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : v1::RuleSet();
}

std::string ParseError(const std::string& yaml) {
  auto parsed = ParseRuleSetYaml(yaml, "rules.yaml");
  EXPECT_FALSE(parsed.ok()) << "parsed:\n" << parsed->DebugString();
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

void ExpectRoundTrip(const v1::RuleSet& rule_set) {
  std::string yaml = FormatRuleSetYaml(rule_set);
  auto back = ParseRuleSetYaml(yaml, "formatted");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(rule_set, *back)) << diff << "\n" << yaml;
}

TEST(RulesYamlTest, ExampleFileParsesToTheRulesItDescribes) {
  v1::RuleSet rs = ParseOk(ReadSource("tools/handoffctl/examples/rules.yaml"));
  ASSERT_EQ(rs.rules_size(), 4);

  const v1::RoutingRule& dach = rs.rules(0);
  EXPECT_EQ(dach.name(), "rules/dach-enterprise");
  EXPECT_EQ(dach.team(), "dach-enterprise");
  EXPECT_THAT(dach.condition().territories(), ::testing::ElementsAre("DACH"));
  EXPECT_EQ(dach.condition().min_employees(), 1000);
  EXPECT_EQ(dach.condition().max_employees(), 0);
  EXPECT_EQ(dach.strategy(), v1::ROUTING_STRATEGY_LEAST_LOADED);
  EXPECT_EQ(dach.sla_policy(), "priority-demo");

  const v1::RoutingRule& north = rs.rules(1);
  EXPECT_EQ(north.condition().min_employees(), 0);
  EXPECT_EQ(north.condition().max_employees(), 999);
  EXPECT_EQ(north.strategy(), v1::ROUTING_STRATEGY_ROUND_ROBIN);

  const v1::RoutingRule& pool = rs.rules(2);
  EXPECT_EQ(pool.target_case(), v1::RoutingRule::kPool);
  EXPECT_THAT(pool.pool().reps(),
              ::testing::ElementsAre("reps/ae-olivia", "reps/ae-marcus",
                                     "reps/ae-priya"));
  EXPECT_EQ(pool.strategy(), v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN);
  EXPECT_EQ(pool.condition().min_score(), 70);
  EXPECT_TRUE(pool.only_in_working_hours());

  EXPECT_EQ(rs.fallback().name(), "rules/fallback");
  EXPECT_EQ(rs.fallback().team(), "global-inbound");
  EXPECT_FALSE(rs.fallback().has_condition());

  ASSERT_EQ(rs.sla_policies_size(), 2);
  const v1::SlaPolicy& demo = rs.sla_policies(0);
  EXPECT_EQ(demo.name(), "priority-demo");
  EXPECT_EQ(demo.accept_within().seconds(), 2 * 3600);
  EXPECT_EQ(demo.priority_accept_within().seconds(), 5 * 60);
  EXPECT_EQ(demo.priority().min_score(), 80);
  EXPECT_THAT(demo.priority().mql_reasons(),
              ::testing::ElementsAre("DEMO_REQUEST"));
  EXPECT_EQ(demo.calendar().time_zone(), "Europe/Berlin");
  EXPECT_EQ(demo.calendar().holidays_size(), 6);
  EXPECT_EQ(demo.warning_fraction_bp(), 7500);
  EXPECT_EQ(demo.max_attempts(), 3);
  EXPECT_EQ(demo.on_exhausted(), v1::EXHAUSTED_ACTION_ESCALATE_TO_MANAGER);
  EXPECT_EQ(demo.on_reject(), v1::REJECT_ACTION_REROUTE);
  // Two windows a day, Monday to Friday, sorted by day then start.
  const auto& windows = demo.calendar().working_hours().windows();
  ASSERT_EQ(windows.size(), 10);
  for (int day = 1; day <= 5; ++day) {
    const v1::WeeklyWindow& morning = windows[2 * (day - 1)];
    const v1::WeeklyWindow& afternoon = windows[2 * (day - 1) + 1];
    EXPECT_EQ(morning.day_of_week(), day);
    EXPECT_EQ(morning.start_minute(), 9 * 60);
    EXPECT_EQ(morning.end_minute(), 12 * 60);
    EXPECT_EQ(afternoon.day_of_week(), day);
    EXPECT_EQ(afternoon.start_minute(), 13 * 60);
    EXPECT_EQ(afternoon.end_minute(), 17 * 60);
  }

  const v1::SlaPolicy& standard = rs.sla_policies(1);
  EXPECT_EQ(standard.accept_within().seconds(), 4 * 3600);
  EXPECT_EQ(standard.on_exhausted(), v1::EXHAUSTED_ACTION_RECYCLE);
  EXPECT_FALSE(standard.has_calendar());
}

TEST(RulesYamlTest, ExampleRoundTrips) {
  ExpectRoundTrip(ParseOk(ReadSource("tools/handoffctl/examples/rules.yaml")));
}

TEST(RulesYamlTest, FormatIsReadable) {
  std::string yaml = FormatRuleSetYaml(
      ParseOk(ReadSource("tools/handoffctl/examples/rules.yaml")));
  EXPECT_THAT(yaml, HasSubstr("accept_within: 2h\n"));
  EXPECT_THAT(yaml, HasSubstr("priority_accept_within: 5m\n"));
  EXPECT_THAT(yaml, HasSubstr("{days: [mon, tue, wed, thu, fri], start: "
                              "\"09:00\", end: \"12:00\"}"));
  EXPECT_THAT(yaml, HasSubstr("{days: [mon, tue, wed, thu, fri], start: "
                              "\"13:00\", end: \"17:00\"}"));
  EXPECT_THAT(yaml, HasSubstr("strategy: weighted_round_robin\n"));
  EXPECT_THAT(yaml, HasSubstr("segments: [smb, mid_market]\n"));
  EXPECT_THAT(yaml, HasSubstr("warning_at: 75%\n"));
  EXPECT_THAT(yaml, HasSubstr("on_exhausted: escalate_to_manager\n"));
  EXPECT_THAT(yaml, HasSubstr("on_reject: reroute\n"));
  EXPECT_THAT(yaml, HasSubstr("\"2026-12-24\""));
  EXPECT_THAT(yaml, HasSubstr("name: rules/dach-enterprise\n"));
}

TEST(RulesYamlTest, UnusualValuesRoundTripExactly) {
  v1::RuleSet rs;
  rs.set_version(12);
  v1::RoutingRule* rule = rs.add_rules();
  rule->set_name("rules/odd");
  rule->set_team("");
  rule->mutable_condition()->set_min_employees(50);  // not a segment bound
  rule->mutable_condition()->add_territories("NO");  // Norway, not false
  rule->mutable_condition()->add_territories("on");
  rule->mutable_condition()->add_industries("");
  rule->mutable_condition()->add_personas("personas/cfo");
  rule->mutable_condition()->add_mql_reasons("DEMO_REQUEST");
  rule->set_require_persona_specialty(true);
  v1::RoutingRule* enterprise = rs.add_rules();
  enterprise->set_name("rules/mid-and-up");
  enterprise->mutable_condition()->set_min_employees(200);
  enterprise->mutable_pool()->add_reps("reps/a");
  rs.mutable_fallback()->set_name("rules/catch-all");
  rs.mutable_fallback()->mutable_condition();  // set but empty
  rs.mutable_fallback()->set_all_reps(true);
  v1::SlaPolicy* p = rs.add_sla_policies();
  p->set_name("odd");
  p->mutable_accept_within()->set_seconds(5400);
  p->mutable_first_touch_within()->set_seconds(90);
  p->mutable_queue_age_limit()->set_nanos(500000000);
  p->mutable_priority_accept_within();  // zero
  p->set_warning_fraction_bp(7550);
  p->mutable_calendar()->set_time_zone("America/New_York");
  auto* hours = p->mutable_calendar()->mutable_working_hours();
  // Sorted as the parser sorts them; one the shorthand cannot express.
  auto add = [&](int day, int start, int end) {
    auto* w = hours->add_windows();
    w->set_day_of_week(day);
    w->set_start_minute(start);
    w->set_end_minute(end);
  };
  add(1, 0, 1440);
  add(3, 480, 720);
  add(6, 600, 840);
  add(9, 60, 120);
  ExpectRoundTrip(rs);

  std::string yaml = FormatRuleSetYaml(rs);
  EXPECT_THAT(yaml, HasSubstr("accept_within: 1h30m\n"));
  EXPECT_THAT(yaml, HasSubstr("first_touch_within: 1m30s\n"));
  EXPECT_THAT(yaml, HasSubstr("warning_at: 75.5%\n"));
  EXPECT_THAT(yaml, HasSubstr("min_employees: 50\n"));
  EXPECT_THAT(yaml, HasSubstr("segments: [mid_market, enterprise]\n"));
  EXPECT_THAT(yaml, HasSubstr("[\"NO\", \"on\"]"));
  EXPECT_THAT(yaml, HasSubstr("end: \"24:00\""));
  EXPECT_THAT(yaml, HasSubstr("day_of_week: 9"));
  EXPECT_THAT(yaml, HasSubstr("all_reps: true\n"));
}

TEST(RulesYamlTest, EmptyRuleSetRoundTrips) { ExpectRoundTrip(v1::RuleSet()); }

TEST(RulesYamlTest, FriendlyForms) {
  v1::RuleSet rs = ParseOk(R"(
rules:
  - name: rules/already-qualified
    condition: {territories: DE, personas: [cfo], segments: smb}
    pool: [a, reps/b]
    strategy: ROUTING_STRATEGY_LEAST_LOADED
    slaPolicy: fast
  - name: short
    team: t
    strategy: Round_Robin
sla_policies:
  - name: fast
    accept_within: 1h30m
    queue_age_limit: 90s
    on_exhausted: RECYCLE
    warning_at: 50
    calendar:
      working_hours:
        windows:
          - {days: [sat, 7], start: "10:00", end: "14:00"}
          - {day_of_week: 1, start_minute: 60, end_minute: 120}
          - {days: Tuesday-thu, start: "8:30", end: "24:00"}
)");
  ASSERT_EQ(rs.rules_size(), 2);
  EXPECT_EQ(rs.rules(0).name(), "rules/already-qualified");
  EXPECT_THAT(rs.rules(0).condition().territories(),
              ::testing::ElementsAre("DE"));
  EXPECT_THAT(rs.rules(0).condition().personas(),
              ::testing::ElementsAre("personas/cfo"));
  EXPECT_EQ(rs.rules(0).condition().max_employees(), 199);
  EXPECT_THAT(rs.rules(0).pool().reps(),
              ::testing::ElementsAre("reps/a", "reps/b"));
  EXPECT_EQ(rs.rules(0).strategy(), v1::ROUTING_STRATEGY_LEAST_LOADED);
  EXPECT_EQ(rs.rules(0).sla_policy(), "fast");
  EXPECT_EQ(rs.rules(1).name(), "rules/short");
  EXPECT_EQ(rs.rules(1).strategy(), v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const v1::SlaPolicy& p = rs.sla_policies(0);
  EXPECT_EQ(p.accept_within().seconds(), 5400);
  EXPECT_EQ(p.queue_age_limit().seconds(), 90);
  EXPECT_EQ(p.warning_fraction_bp(), 5000);
  std::vector<std::tuple<int, int, int>> windows;
  for (const auto& w : p.calendar().working_hours().windows())
    windows.emplace_back(w.day_of_week(), w.start_minute(), w.end_minute());
  EXPECT_THAT(windows,
              ::testing::ElementsAre(
                  std::make_tuple(1, 60, 120), std::make_tuple(2, 510, 1440),
                  std::make_tuple(3, 510, 1440), std::make_tuple(4, 510, 1440),
                  std::make_tuple(6, 600, 840), std::make_tuple(7, 600, 840)));
}

TEST(RulesYamlTest, ErrorsNameTheLocationAndField) {
  EXPECT_THAT(ParseError("rules:\n  - name: a\n    conditon: {}\n"),
              StartsWith("rules.yaml:3:5: rules[0].conditon: unknown field; "
                         "one of name, display_name, condition, team, pool"));
  EXPECT_THAT(
      ParseError("rules:\n  - name: a\n    strategy: fastest\n"),
      StartsWith("rules.yaml:3:15: rules[0].strategy: unknown value "
                 "\"fastest\"; one of round_robin, weighted_round_robin, "
                 "least_loaded"));
  EXPECT_THAT(
      ParseError("sla_policies:\n  - name: p\n    accept_within: 300\n"),
      StartsWith("rules.yaml:3:20: sla_policies[0].accept_within: "
                 "\"300\" is not a duration"));
  EXPECT_THAT(ParseError("rules:\n  - condition:\n      min_score: high\n"),
              StartsWith("rules.yaml:3:18: rules[0].condition.min_score: "
                         "\"high\" is not an integer"));
  EXPECT_THAT(ParseError("rules:\n  - {team: a, pool: [b]}\n"),
              StartsWith("rules.yaml:2:15: rules[0].pool: conflicts with team; "
                         "give only one of team, pool"));
  EXPECT_THAT(ParseError("rules: {name: a}\n"),
              StartsWith("rules.yaml:1:8: rules: expected a list"));
  EXPECT_THAT(ParseError("fallback:\n  name: a\n  name: b\n"),
              StartsWith("rules.yaml:3:3: fallback.name: given twice"));
  EXPECT_THAT(ParseError("- a\n- b\n"),
              StartsWith("rules.yaml:1:1: rule set: expected a mapping"));
  EXPECT_THAT(ParseError(""), HasSubstr("holds no rule set"));
  EXPECT_THAT(ParseError("rules: [\n"),
              AllOf(StartsWith("rules.yaml:"), HasSubstr("not valid YAML")));
}

TEST(RulesYamlTest, ShorthandErrors) {
  EXPECT_THAT(
      ParseError("rules:\n  - condition: {segments: [smb, enterprise]}\n"),
      StartsWith("rules.yaml:2:27: rules[0].condition.segments: segments "
                 "must be adjacent"));
  EXPECT_THAT(ParseError("rules:\n  - condition: {segments: [tiny]}\n"),
              HasSubstr("rules[0].condition.segments[0]: unknown value "
                        "\"tiny\"; one of smb, mid_market, enterprise"));
  EXPECT_THAT(
      ParseError("rules:\n  - condition: {min_employees: 5, segments: smb}\n"),
      HasSubstr("rules[0].condition.segments: conflicts with min_employees"));
  const std::string prefix =
      "sla_policies:\n  - calendar:\n      working_hours:\n        - ";
  EXPECT_THAT(
      ParseError(prefix + "{days: [mon, funday], start: \"09:00\", end: "
                          "\"17:00\"}\n"),
      StartsWith("rules.yaml:4:24: "
                 "sla_policies[0].calendar.working_hours[0].days[1]: "
                 "\"funday\" is not a day"));
  EXPECT_THAT(ParseError(prefix + "{days: fri-mon, start: \"09:00\", end: "
                                  "\"17:00\"}\n"),
              HasSubstr("\"fri-mon\" is not a day"));
  EXPECT_THAT(
      ParseError(prefix + "{days: mon, start: \"25:00\", end: \"26:00\"}\n"),
      HasSubstr("working_hours[0].start: expected a time of day HH:MM"));
  EXPECT_THAT(
      ParseError(prefix + "{days: mon, start: \"17:00\", end: \"09:00\"}\n"),
      HasSubstr("working_hours[0].end: 09:00 is not after start 17:00"));
  EXPECT_THAT(ParseError(prefix + "{days: mon, start: \"09:00\"}\n"),
              HasSubstr("working_hours[0].end: missing"));
  EXPECT_THAT(
      ParseError(prefix + "{days: mon, from: \"09:00\", end: \"10:00\"}\n"),
      HasSubstr("working_hours[0].from: unknown field"));
  EXPECT_THAT(ParseError("sla_policies:\n  - warning_at: 120%\n"),
              HasSubstr("sla_policies[0].warning_at: expected a percentage"));
  EXPECT_THAT(ParseError("sla_policies:\n  - warning_at: 75.125%\n"),
              HasSubstr("at most two decimals"));
}

// The server's validation names proto paths under "rule_set."; the file
// positions recorded while parsing turn them into file:line:column.
TEST(RulesYamlTest, ServerErrorsGetTheFilePosition) {
  auto located = [](const std::string& yaml) -> std::string {
    RuleSetSourceMap where;
    auto parsed = ParseRuleSetYaml(yaml, "rules.yaml", &where);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (!parsed.ok()) return "";
    absl::Status server = routing::engine::ValidateRuleSet(*parsed);
    EXPECT_EQ(server.code(), absl::StatusCode::kInvalidArgument) << server;
    return std::string(LocateRuleSetError(server, "rule_set", where).message());
  };
  // A field given by its JSON name.
  EXPECT_THAT(located("rules:\n  - name: a\n    team: t\n"
                      "    slaPolicy: missing\n"),
              StartsWith("rules.yaml:4:5: rule_set.rules[0].sla_policy: no SLA "
                         "policy \"missing\""));
  EXPECT_THAT(located("rules:\n  - {name: a, team: t}\n  - name: b\n"
                      "    team: t\n    condition:\n      min_score: 50\n"
                      "      max_score: 10\n"),
              StartsWith("rules.yaml:7:7: rule_set.rules[1].condition."
                         "max_score: must be >= min_score"));
  // A shorthand stands for the fields it sets.
  EXPECT_THAT(located("sla_policies:\n  - name: p\n    accept_within: 1h\n"
                      "    warning_at: 100%\n"),
              StartsWith("rules.yaml:4:5: rule_set.sla_policies[0]."
                         "warning_fraction_bp:"));
  // Only part of the path was in the file: its deepest given part.
  EXPECT_THAT(located("rules:\n  - name: a\n    team: t\n"
                      "  - name: a\n    team: u\n"),
              StartsWith("rules.yaml:4:5: rule_set.rules[1].name: duplicate"));

  RuleSetSourceMap where;
  where["rules[0]"] = "rules.yaml:2:5";
  const absl::Status other_root =
      absl::InvalidArgumentError("leads[0].score: must be >= 0");
  EXPECT_EQ(LocateRuleSetError(other_root, "rule_set", where), other_root);
  const absl::Status aborted = absl::AbortedError("rule_set.rules[0]: stale");
  EXPECT_EQ(LocateRuleSetError(aborted, "rule_set", where), aborted);
  EXPECT_EQ(LocateRuleSetError(
                absl::InvalidArgumentError("draft_rule_set.rules[0].x: bad"),
                "draft_rule_set", where)
                .message(),
            "rules.yaml:2:5: draft_rule_set.rules[0].x: bad");
}

}  // namespace
}  // namespace handoff::ctl
