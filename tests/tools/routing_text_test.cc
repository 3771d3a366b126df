#include "tools/handoffctl/routing_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace handoff::ctl {
namespace {

namespace v1 = routing::v1;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// 2026-03-02T09:00:00Z, a Monday.
constexpr int64_t kMonday = 1772442000;

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  return ts;
}

google::protobuf::Duration Dur(int64_t seconds) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  return d;
}

TEST(FormatApplyResultTest, VersionAndCounts) {
  v1::RuleSet rs;
  rs.set_version(7);
  for (int i = 0; i < 4; ++i) rs.add_rules();
  rs.add_sla_policies();
  rs.add_sla_policies();
  EXPECT_EQ(FormatApplyResult(rs, false, 6),
            "rule set version 7 applied (4 rules, 2 policies)\n");
  EXPECT_EQ(FormatApplyResult(rs, true, 6),
            "dry run: rule set is valid (4 rules, 2 policies); nothing "
            "applied, version 6 stays current\n");
  v1::RuleSet one;
  one.set_version(1);
  one.add_rules();
  one.add_sla_policies();
  EXPECT_EQ(FormatApplyResult(one, false, 0),
            "rule set version 1 applied (1 rule, 1 policy)\n");
}

v1::SimulateRoutingResponse Simulation() {
  v1::SimulateRoutingResponse r;
  r.set_rule_set_version(4);
  r.set_queued(1);
  auto* a = r.add_assignments();
  a->set_lead("anna@x.example");
  a->set_rule("rules/dach-enterprise");
  a->set_rep("reps/r1");
  a->set_team("dach-enterprise");
  a->set_sla_policy("priority-demo");
  a->set_priority(true);
  *a->mutable_accept_due_time() = Ts(kMonday + 300);
  a->set_explanation_text("rule rules/dach-enterprise matched\npicked reps/r1");
  auto* q = r.add_assignments();
  q->set_lead("bob@y.example");
  q->set_rule("rules/fallback");
  q->set_queued(true);
  q->set_sla_policy("standard");
  auto* l = r.add_loads();
  l->set_rep("reps/r1");
  l->set_team("dach-enterprise");
  l->set_capacity(2);
  l->set_open_assignments(2);
  l->set_simulated_offers(1);
  l->set_projected_open(3);
  return r;
}

TEST(FormatSimulationTest, LeadsLoadsAndExplanations) {
  std::string out = FormatSimulation(Simulation(), false, false);
  EXPECT_THAT(out, HasSubstr("simulated 2 leads against rule set version 4: "
                             "1 offered, 1 queued"));
  EXPECT_THAT(out, HasSubstr("LEAD            RULE                   REP      "
                             "POLICY         PRIORITY  DUE"));
  EXPECT_THAT(out, HasSubstr("anna@x.example  rules/dach-enterprise  reps/r1  "
                             "priority-demo  yes       2026-03-02T09:05:00Z"));
  EXPECT_THAT(out, HasSubstr("bob@y.example   rules/fallback         QUEUED   "
                             "standard       no        -"));
  EXPECT_THAT(out, HasSubstr("reps/r1  dach-enterprise         2         2  "
                             "        +1          3  over capacity"));
  EXPECT_THAT(out, Not(HasSubstr("picked reps/r1")));

  std::string explained = FormatSimulation(Simulation(), true, true);
  EXPECT_THAT(explained, HasSubstr("against the draft rule set"));
  EXPECT_THAT(explained,
              HasSubstr("anna@x.example:\n  rule rules/dach-enterprise "
                        "matched\n  picked reps/r1\n"));
  EXPECT_THAT(explained, HasSubstr("bob@y.example:\n  (no explanation)\n"));
}

TEST(FormatAssignmentDescriptionTest, FieldsLadderAndDecision) {
  v1::Assignment a;
  a.set_name("assignments/a2");
  a.set_lead("leads/l1");
  a.set_rep("reps/r2");
  a.set_team("emea-smb");
  a.set_state(v1::ASSIGNMENT_STATE_ACCEPTED);
  a.set_attempt(2);
  a.set_previous_assignment("assignments/a1");
  *a.mutable_offer_time() = Ts(kMonday);
  *a.mutable_accept_due_time() = Ts(kMonday + 300);
  *a.mutable_accept_time() = Ts(kMonday + 250);
  *a.mutable_time_to_accept() = Dur(250);
  a.set_rule("rules/emea-smb");
  a.set_rule_set_version(4);
  a.set_sla_policy("priority-demo");
  a.set_priority(true);
  a.mutable_lead_summary()->set_score(86);
  a.mutable_lead_summary()->mutable_profile()->set_country("DE");
  a.mutable_lead_summary()->set_mql_reason("DEMO_REQUEST");
  a.set_explanation("rule rules/emea-smb matched.\nleast loaded: reps/r2");
  const v1::SlaStepType kSteps[] = {
      v1::SLA_STEP_TYPE_OFFERED, v1::SLA_STEP_TYPE_WARNED,
      v1::SLA_STEP_TYPE_BREACHED, v1::SLA_STEP_TYPE_REASSIGNED,
      v1::SLA_STEP_TYPE_ACCEPTED};
  for (int i = 0; i < 5; ++i) {
    auto* s = a.add_sla_steps();
    s->set_type(kSteps[i]);
    *s->mutable_time() = Ts(kMonday - 600 + 150 * i);
  }
  a.mutable_sla_steps(3)->set_detail("assignments/a1 to reps/r2");
  auto* e = a.mutable_explanation_detail();
  e->set_rule_set_version(4);
  e->set_matched_rule("rules/emea-smb");
  auto* r0 = e->add_rules();
  r0->set_rule("rules/dach-enterprise");
  r0->set_condition("company_size");
  r0->set_reason("employee_count 40 below min_employees 1000");
  e->add_rules()->set_rule("rules/emea-smb");
  e->mutable_rules(1)->set_matched(true);
  e->set_pool("teams/emea-smb");
  e->set_strategy(v1::ROUTING_STRATEGY_LEAST_LOADED);
  e->set_candidates_total(5);
  e->set_candidates_eligible(2);
  auto* away = e->add_exclusion_counts();
  away->set_reason(v1::EXCLUSION_REASON_AWAY);
  away->set_count(2);
  auto* lapsed = e->add_exclusion_counts();
  lapsed->set_reason(v1::EXCLUSION_REASON_LAPSED);
  lapsed->set_count(1);
  auto* c = e->add_candidates();
  c->set_rep("reps/r1");
  c->set_exclusion_reason(v1::EXCLUSION_REASON_LAPSED);
  c->set_capacity(5);
  c->set_open_assignments(1);
  e->set_picked_rep("reps/r2");
  e->set_pick_reason("least loaded: 1/5");
  e->mutable_state_before()->set_tie_break_pointer("reps/r1");
  e->mutable_state_before()->set_assignments(11);
  e->mutable_state_after()->set_tie_break_pointer("reps/r2");
  e->mutable_state_after()->set_assignments(12);

  std::string out = FormatAssignmentDescription(a);
  EXPECT_THAT(out, HasSubstr("assignments/a2\n  lead              leads/l1\n"));
  EXPECT_THAT(out, HasSubstr("  state             ACCEPTED\n"));
  EXPECT_THAT(out, HasSubstr("  attempt           2 (after assignments/a1)\n"));
  EXPECT_THAT(out, HasSubstr("  accept due        2026-03-02T09:05:00Z\n"));
  EXPECT_THAT(out, HasSubstr("  accepted          2026-03-02T09:04:10Z (4m10s "
                             "business time)\n"));
  EXPECT_THAT(out, HasSubstr("  rule set version  4\n"));
  EXPECT_THAT(out, HasSubstr("  escalated         no\n"));
  EXPECT_THAT(out, HasSubstr("  lead summary      score 86, DE, MQL by "
                             "DEMO_REQUEST\n"));
  EXPECT_THAT(out, ContainsRegex("OFFERED.*\n.*WARNED.*\n.*BREACHED.*\n.*"
                                 "REASSIGNED  assignments/a1 to reps/r2\n.*"
                                 "ACCEPTED"));
  EXPECT_THAT(out, HasSubstr("explanation\n  rule rules/emea-smb matched.\n"
                             "  least loaded: reps/r2\n"));
  EXPECT_THAT(out, HasSubstr("matched rule     rules/emea-smb in rule set "
                             "version 4"));
  EXPECT_THAT(out, HasSubstr("rules evaluated  rules/dach-enterprise no: "
                             "company_size (employee_count 40 below "
                             "min_employees 1000)\n"));
  EXPECT_THAT(out, HasSubstr("rules/emea-smb matched\n"));
  EXPECT_THAT(out, HasSubstr("candidates       2 eligible of 5\n"));
  EXPECT_THAT(out, HasSubstr("excluded         AWAY 2, LAPSED 1\n"));
  EXPECT_THAT(out, HasSubstr("candidate list   reps/r1 LAPSED, 1/5 open\n"));
  EXPECT_THAT(out, HasSubstr("picked           reps/r2: least loaded: 1/5\n"));
  EXPECT_THAT(out, HasSubstr("state before     tie-break pointer reps/r1; 11 "
                             "picks\n"));
  EXPECT_THAT(out, HasSubstr("state after      tie-break pointer reps/r2; 12 "
                             "picks\n"));
}

TEST(FormatAssignmentDescriptionTest, FirstTouchDueMissedAndDone) {
  v1::Assignment a;
  a.set_name("assignments/a3");
  a.set_state(v1::ASSIGNMENT_STATE_ACCEPTED);
  *a.mutable_first_touch_due_time() = Ts(kMonday + 3600);
  a.set_first_touch_breached(true);
  EXPECT_THAT(FormatAssignmentDescription(a),
              HasSubstr("  first touch due   2026-03-02T10:00:00Z (missed)\n"));
  *a.mutable_first_touch_time() = Ts(kMonday + 7200);
  *a.mutable_time_to_first_touch() = Dur(5400);
  EXPECT_THAT(FormatAssignmentDescription(a),
              HasSubstr("  first touch       2026-03-02T11:00:00Z (1h30m "
                        "business time after accept)\n"));
}

TEST(FormatAssignmentDescriptionTest, QueuedDecisionAndMissingParts) {
  v1::Assignment a;
  a.set_name("assignments/a3");
  a.set_lead("leads/l3");
  std::string out = FormatAssignmentDescription(a);
  EXPECT_THAT(out, HasSubstr("  offered           -\n"));
  EXPECT_THAT(out, HasSubstr("SLA ladder\n  (no steps)\n"));
  EXPECT_THAT(out, HasSubstr("explanation\n  (none)\n"));
  EXPECT_THAT(out, Not(HasSubstr("decision")));
  v1::RoutingExplanation e;
  e.set_matched_rule("rules/fallback");
  e.set_fallback(true);
  EXPECT_THAT(FormatRoutingExplanation(e, 0),
              HasSubstr("picked        nobody (the lead queues)"));
  EXPECT_THAT(FormatRoutingExplanation(e, 0), HasSubstr("(fallback)"));
}

TEST(ParseReportTimeTest, DatesAreMidnightInTheZone) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  // Midnight in Berlin (UTC+1 in March before the switch) is 23:00 UTC.
  EXPECT_EQ(*ParseReportTime("--from", "2026-03-01", berlin),
            absl::FromUnixSeconds(1772319600));
  EXPECT_EQ(*ParseReportTime("--from", "2026-03-01", absl::UTCTimeZone()),
            absl::FromUnixSeconds(1772323200));
  EXPECT_EQ(*ParseReportTime("--to", "2026-03-02T09:00:00Z", berlin),
            absl::FromUnixSeconds(kMonday));
  auto bad = ParseReportTime("--to", "next week", berlin);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--to"));
}

TEST(FormatReportPeriodTest, DayWeekAndAll) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  EXPECT_EQ(
      FormatReportPeriod(Ts(1772319600), v1::SLA_REPORT_PERIOD_DAY, berlin),
      "2026-03-01");
  EXPECT_EQ(FormatReportPeriod(Ts(kMonday), v1::SLA_REPORT_PERIOD_WEEK,
                               absl::UTCTimeZone()),
            "2026-W10");
  // 2027-01-01 is a Friday: its ISO week is the 53rd of 2026.
  EXPECT_EQ(FormatReportPeriod(Ts(1798761600), v1::SLA_REPORT_PERIOD_WEEK,
                               absl::UTCTimeZone()),
            "2026-W53");
  EXPECT_EQ(FormatReportPeriod(Ts(kMonday), v1::SLA_REPORT_PERIOD_UNSPECIFIED,
                               absl::UTCTimeZone()),
            "all");
}

TEST(FormatSlaReportTest, RowsAndMqlDelivery) {
  v1::SlaReport report;
  auto* r = report.add_rows();
  r->set_group("emea-smb");
  *r->mutable_period_start() = Ts(kMonday);
  r->set_offers(40);
  r->set_accepted_within_sla(35);
  r->set_accepted_within_sla_share(35.0 / 38.0);
  *r->mutable_median_time_to_accept() = Dur(250);
  *r->mutable_p90_time_to_accept() = Dur(720);
  r->set_breaches(3);
  auto* rej = r->add_rejections();
  rej->set_reason(v1::REJECT_REASON_NOT_A_FIT);
  rej->set_count(2);
  rej = r->add_rejections();
  rej->set_reason(v1::REJECT_REASON_DUPLICATE);
  rej->set_count(1);
  r->set_recycled(1);
  r->set_escalations(2);
  auto* empty = report.add_rows();
  empty->set_group("north-smb");
  *empty->mutable_period_start() = Ts(kMonday);
  auto* d = report.add_mql_delivery();
  *d->mutable_period_start() = Ts(kMonday);
  d->set_mqls_delivered(120);
  d->set_target(150);
  d->set_attainment(0.8);
  auto* untargeted = report.add_mql_delivery();
  *untargeted->mutable_period_start() = Ts(kMonday + 7 * 86400);
  untargeted->set_mqls_delivered(7);

  std::string out =
      FormatSlaReport(report, v1::SLA_REPORT_PERIOD_WEEK, absl::UTCTimeZone());
  EXPECT_THAT(out, ContainsRegex("emea-smb +2026-W10 +40 +35 +92\\.1% +4m10s "
                                 "+12m00s +3 +3 +1 +2  NOT_A_FIT 2, "
                                 "DUPLICATE 1\n"));
  EXPECT_THAT(out, ContainsRegex("north-smb +2026-W10 +0 +0 +n/a +- +- +0 +0 "
                                 "+0 +0\n"));
  EXPECT_THAT(out, HasSubstr("MQL delivery\n"));
  EXPECT_THAT(out, ContainsRegex("2026-W10 +120 +150 +80\\.0%\n"));
  EXPECT_THAT(out, ContainsRegex("2026-W11 +7 +- +-\n"));

  EXPECT_EQ(FormatSlaReport(v1::SlaReport(), v1::SLA_REPORT_PERIOD_DAY,
                            absl::UTCTimeZone()),
            "no offers in this range\n");
}

TEST(FormatAssignmentEventTest, OneLineWithCursor) {
  v1::AssignmentEvent e;
  e.set_cursor("c42");
  e.set_type(v1::ASSIGNMENT_EVENT_TYPE_REJECTED);
  *e.mutable_event_time() = Ts(kMonday);
  e.set_lead("leads/l1");
  e.set_rep("reps/r1");
  e.set_team("emea-smb");
  e.set_rule("rules/emea-smb");
  e.mutable_assignment()->set_name("assignments/a1");
  e.mutable_assignment()->set_attempt(1);
  e.set_detail("NOT_A_FIT wrong product");
  e.set_sla_policy("standard");
  EXPECT_EQ(FormatAssignmentEvent(e),
            "2026-03-02T09:00:00Z  REJECTED   lead=leads/l1 rep=reps/r1 "
            "team=emea-smb rule=rules/emea-smb assignment=assignments/a1 "
            "attempt=1 policy=standard detail=\"NOT_A_FIT wrong product\" "
            "cursor=c42");
  v1::AssignmentEvent routed;
  routed.set_cursor("c43");
  routed.set_type(v1::ASSIGNMENT_EVENT_TYPE_ROUTED);
  *routed.mutable_event_time() = Ts(kMonday);
  routed.set_lead("leads/l2");
  EXPECT_EQ(FormatAssignmentEvent(routed),
            "2026-03-02T09:00:00Z  ROUTED     lead=leads/l2 cursor=c43");
  v1::AssignmentEvent queued;
  queued.set_cursor("c44");
  queued.set_type(v1::ASSIGNMENT_EVENT_TYPE_QUEUED);
  *queued.mutable_event_time() = Ts(kMonday);
  queued.set_lead("leads/l3");
  queued.set_team("emea");
  queued.set_round_start(true);
  EXPECT_EQ(FormatAssignmentEvent(queued),
            "2026-03-02T09:00:00Z  QUEUED     lead=leads/l3 team=emea "
            "round_start=true cursor=c44");
}

TEST(FormatPoolFairnessTest, SharesAgainstTargets) {
  v1::PoolFairness f;
  f.set_pool("rules/namer-fintech-hot");
  f.set_assignments(30);
  auto* a = f.add_reps();
  a->set_rep("reps/ae-olivia");
  a->set_weight(2);
  a->set_assignments(21);
  a->set_share(0.7);
  a->set_target_share(2.0 / 3.0);
  a->set_expected_assignments(20);
  auto* b = f.add_reps();
  b->set_rep("reps/ae-marcus");
  b->set_weight(1);
  b->set_assignments(9);
  b->set_share(0.3);
  b->set_target_share(1.0 / 3.0);
  b->set_expected_assignments(10);
  std::string out = FormatPoolFairness(f);
  EXPECT_THAT(out, HasSubstr("rules/namer-fintech-hot: 30 assignments\n"));
  EXPECT_THAT(out, ContainsRegex("reps/ae-olivia +2 +21 +70\\.0% +66\\.7% "
                                 "+20\\.0 +\\+1\\.0\n"));
  EXPECT_THAT(out, ContainsRegex("reps/ae-marcus +1 +9 +30\\.0% +33\\.3% "
                                 "+10\\.0 +-1\\.0\n"));
}

}  // namespace
}  // namespace handoff::ctl
