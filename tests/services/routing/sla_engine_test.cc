// The routing and SLA engine through the Router's API: rule sets, business
// time deadlines, priority windows, warnings, the breach ladder (reassign,
// escalate, recycle), reject reroute, per-rule queues and simulation.

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/routing/sla_report.h"
#include "tests/services/routing/routing_fixture.h"

namespace handoff::routing {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                         absl::UTCTimeZone());
}

// Monday to Friday, 09:00-17:00 UTC.
v1::BusinessCalendar OfficeHours() {
  v1::BusinessCalendar calendar;
  calendar.set_time_zone("UTC");
  for (int day = 1; day <= 5; ++day) {
    v1::WeeklyWindow& w = *calendar.mutable_working_hours()->add_windows();
    w.set_day_of_week(day);
    w.set_start_minute(9 * 60);
    w.set_end_minute(17 * 60);
  }
  return calendar;
}

v1::RoutingRule TeamRule(const std::string& name, const std::string& team,
                         const std::string& policy) {
  v1::RoutingRule rule;
  rule.set_name(name);
  rule.set_team(team);
  rule.set_sla_policy(policy);
  return rule;
}

class SlaEngineTest : public RoutingFixture {
 protected:
  void SetUp() override {
    // Saturday 28 November 2026, 15:00 UTC.
    clock_.Set(Utc(2026, 11, 28, 15));
    RoutingFixture::SetUp();
  }

  // Rules: DE and AT leads to team "dach", the rest to team "emea"; both
  // under "office": 1 business hour in office hours, 5 minutes for demo
  // requests, warning at half the window.
  v1::RuleSet OfficeRules() {
    v1::RuleSet rules;
    v1::SlaPolicy& office = *rules.add_sla_policies();
    office.set_name("office");
    *office.mutable_accept_within() = ToProtoDuration(absl::Hours(1));
    *office.mutable_priority_accept_within() =
        ToProtoDuration(absl::Minutes(5));
    office.mutable_priority()->add_mql_reasons("DEMO_REQUEST");
    *office.mutable_calendar() = OfficeHours();
    office.set_warning_fraction_bp(5000);
    office.set_max_attempts(2);
    office.set_on_exhausted(v1::EXHAUSTED_ACTION_RECYCLE);
    v1::RoutingRule dach = TeamRule("rules/dach", "dach", "office");
    dach.mutable_condition()->add_territories("DE");
    dach.mutable_condition()->add_territories("AT");
    *rules.add_rules() = dach;
    *rules.mutable_fallback() = TeamRule("rules/rest", "emea", "office");
    return rules;
  }

  // The same with a first touch due 2 business hours after accept.
  v1::RuleSet OfficeRulesWithFirstTouch() {
    v1::RuleSet rules = OfficeRules();
    *rules.mutable_sla_policies(0)->mutable_first_touch_within() =
        ToProtoDuration(absl::Hours(2));
    return rules;
  }

  absl::StatusOr<v1::RuleSet> Apply(const v1::RuleSet& rules,
                                    int64_t expected_version,
                                    bool validate_only = false) {
    v1::ApplyRuleSetRequest request;
    *request.mutable_rule_set() = rules;
    request.set_expected_version(expected_version);
    request.set_validate_only(validate_only);
    return router_->ApplyRuleSet(request);
  }

  absl::StatusOr<v1::RouteLeadResponse> RouteFrom(
      const std::string& lead, const std::string& country,
      const std::string& mql_reason = "SCORE_THRESHOLD") {
    v1::RouteLeadRequest request;
    request.set_lead(lead);
    request.mutable_lead_summary()->set_score(70);
    request.mutable_lead_summary()->set_mql_reason(mql_reason);
    request.mutable_lead_summary()->mutable_profile()->set_country(country);
    return router_->RouteLead(request);
  }

  // Events of the log, in order.
  std::vector<v1::AssignmentEvent> Events() {
    std::vector<v1::AssignmentEvent> out;
    EXPECT_TRUE(db_->Read([&](Transaction& tx) -> absl::Status {
                     absl::StatusOr<std::vector<v1::AssignmentEvent>> events =
                         store_->EventsAfter(tx, 0, {}, 10000);
                     if (!events.ok()) return events.status();
                     out = *std::move(events);
                     return absl::OkStatus();
                   })
                    .ok());
    return out;
  }

  std::vector<v1::SlaStepType> Steps(const v1::Assignment& a) {
    std::vector<v1::SlaStepType> out;
    for (const v1::SlaStep& step : a.sla_steps()) out.push_back(step.type());
    return out;
  }
};

TEST_F(SlaEngineTest, ApplyRuleSetIsVersionedAndAStaleVersionIsAborted) {
  absl::StatusOr<v1::RuleSet> current =
      router_->GetRuleSet(v1::GetRuleSetRequest());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version(), 0);
  EXPECT_EQ(current->fallback().name(), "rules/default");

  // validate_only changes nothing.
  absl::StatusOr<v1::RuleSet> checked = Apply(OfficeRules(), 0, true);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(router_->GetRuleSet({})->version(), 0);

  absl::StatusOr<v1::RuleSet> applied = Apply(OfficeRules(), 0);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->version(), 1);
  EXPECT_EQ(router_->GetRuleSet({})->version(), 1);

  absl::StatusOr<v1::RuleSet> stale = Apply(OfficeRules(), 0);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("expected_version"));
  EXPECT_EQ(router_->GetRuleSet({})->version(), 1);

  v1::RuleSet broken = OfficeRules();
  broken.mutable_rules(0)->set_sla_policy("missing");
  absl::StatusOr<v1::RuleSet> invalid = Apply(broken, 1);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("rules[0].sla_policy"));
  EXPECT_EQ(router_->GetRuleSet({})->version(), 1);

  // The version survives a restart.
  NewRouter();
  EXPECT_EQ(router_->GetRuleSet({})->version(), 1);
}

TEST_F(SlaEngineTest, RulesRouteByTerritoryAndAssignmentsRecordTheVersion) {
  const std::string berlin =
      AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  const std::string paris =
      AddRep("Paris", 5, v1::REP_STATUS_AVAILABLE, "emea");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());

  absl::StatusOr<v1::RouteLeadResponse> de = RouteFrom("leads/de", "DE");
  ASSERT_TRUE(de.ok()) << de.status();
  EXPECT_EQ(de->assignment().rep(), berlin);
  EXPECT_EQ(de->assignment().rule(), "rules/dach");
  EXPECT_EQ(de->assignment().rule_set_version(), 1);
  EXPECT_EQ(de->assignment().sla_policy(), "office");

  absl::StatusOr<v1::RouteLeadResponse> fr = RouteFrom("leads/fr", "FR");
  ASSERT_TRUE(fr.ok());
  EXPECT_EQ(fr->assignment().rep(), paris);
  EXPECT_EQ(fr->assignment().rule(), "rules/rest");
  const v1::RoutingExplanation& why = fr->assignment().explanation_detail();
  EXPECT_TRUE(why.fallback());
  EXPECT_EQ(why.rule_set_version(), 1);
  // GetAssignment returns the explanation as stored.
  EXPECT_EQ(Get(fr->assignment().name()).explanation_detail().matched_rule(),
            "rules/rest");
}

TEST_F(SlaEngineTest, DeadlineCountsBusinessTimeOnly) {
  AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  // Saturday 15:00 + 1 business hour in Mon-Fri 09-17 is Monday 10:00.
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(FromProtoTime(lead->assignment().accept_due_time()),
            Utc(2026, 11, 30, 10));
  // The warning at half the window: Monday 09:30.
  EXPECT_EQ(FromProtoTime(lead->assignment().warning_time()),
            Utc(2026, 11, 30, 9, 30));

  // A demo request gets the priority window: Monday 09:05.
  absl::StatusOr<v1::RouteLeadResponse> demo =
      RouteFrom("leads/demo", "DE", "DEMO_REQUEST");
  ASSERT_TRUE(demo.ok());
  EXPECT_TRUE(demo->assignment().priority());
  EXPECT_EQ(FromProtoTime(demo->assignment().accept_due_time()),
            Utc(2026, 11, 30, 9, 5));

  // Nothing breaches over the weekend.
  clock_.Set(Utc(2026, 11, 30, 8, 59));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);

  // Accepted Monday 09:45: 45 minutes of business time, not 42 hours.
  clock_.Set(Utc(2026, 11, 30, 9, 45));
  absl::StatusOr<v1::Assignment> accepted =
      Accept(lead->assignment().name(), lead->assignment().rep());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(FromProtoDuration(accepted->time_to_accept()), absl::Minutes(45));
  EXPECT_THAT(Steps(*accepted),
              testing::ElementsAre(v1::SLA_STEP_TYPE_OFFERED,
                                   v1::SLA_STEP_TYPE_ACCEPTED));
  // The histogram gets the same business time, not the wall time.
  bool found = false;
  for (const prometheus::MetricFamily& family :
       metrics_->registry().Collect()) {
    if (family.name != "handoff_routing_time_to_accept_seconds") continue;
    found = true;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].histogram.sample_count, 1u);
    EXPECT_DOUBLE_EQ(family.metric[0].histogram.sample_sum, 45 * 60);
  }
  EXPECT_TRUE(found);
}

TEST_F(SlaEngineTest, WarningFiresOnceAndIsRecorded) {
  AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  const std::string id = lead->assignment().name().substr(12);

  clock_.Set(Utc(2026, 11, 30, 9, 29));
  EXPECT_EQ(*router_->WarnDue({id}), 0) << "not yet";
  clock_.Set(Utc(2026, 11, 30, 9, 30));
  EXPECT_EQ(*router_->WarnDue({id}), 1);
  EXPECT_EQ(*router_->WarnDue({id}), 0) << "a second firing changes nothing";
  v1::Assignment warned = Get(lead->assignment().name());
  EXPECT_THAT(Steps(warned), testing::ElementsAre(v1::SLA_STEP_TYPE_OFFERED,
                                                  v1::SLA_STEP_TYPE_WARNED));
  int warnings = 0;
  for (const v1::AssignmentEvent& e : Events()) {
    if (e.type() == v1::ASSIGNMENT_EVENT_TYPE_WARNED) ++warnings;
  }
  EXPECT_EQ(warnings, 1);
}

TEST_F(SlaEngineTest, PendingWarningsAndDailyCapsSurviveARestart) {
  v1::CreateRepRequest create;
  create.mutable_rep()->set_display_name("Capped");
  create.mutable_rep()->set_team("dach");
  create.mutable_rep()->set_capacity(5);
  create.mutable_rep()->set_daily_cap(1);
  ASSERT_TRUE(reps_->CreateRep(create).ok());
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  ASSERT_FALSE(lead->queued());

  NewRouter();  // as after kill -9
  std::vector<std::string> reloaded;
  ASSERT_TRUE(store_
                  ->LoadPendingTimers(SlaTimer::kWarning,
                                      [&](std::string_view id, absl::Time) {
                                        reloaded.emplace_back(id);
                                        return true;
                                      })
                  .ok());
  ASSERT_EQ(reloaded.size(), 1u);
  EXPECT_EQ("assignments/" + reloaded[0], lead->assignment().name());
  // The daily cap counts the offer made before the restart.
  EXPECT_TRUE(RouteFrom("leads/l2", "DE")->queued());

  clock_.Set(Utc(2026, 11, 30, 9, 30));
  EXPECT_EQ(*router_->WarnDue(reloaded), 1);
  reloaded.clear();
  ASSERT_TRUE(store_
                  ->LoadPendingTimers(SlaTimer::kWarning,
                                      [&](std::string_view id, absl::Time) {
                                        reloaded.emplace_back(id);
                                        return true;
                                      })
                  .ok());
  EXPECT_TRUE(reloaded.empty()) << "a fired warning does not come back";
}

TEST_F(SlaEngineTest, FirstTouchCountsBusinessTimeAndOnlyTheFirstCounts) {
  const std::string berlin =
      AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRulesWithFirstTouch(), 0).ok());
  clock_.Set(Utc(2026, 12, 4, 15));  // a Friday
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  const std::string name = lead->assignment().name();
  v1::RecordFirstTouchRequest touch;
  touch.set_name(name);
  touch.set_rep(berlin);
  EXPECT_EQ(router_->RecordFirstTouch(touch).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "not accepted yet";

  // Accepted Friday 15:30: two business hours later is Monday 09:30.
  clock_.Set(Utc(2026, 12, 4, 15, 30));
  ASSERT_TRUE(Accept(name, berlin).ok());
  EXPECT_EQ(FromProtoTime(Get(name).first_touch_due_time()),
            Utc(2026, 12, 7, 9, 30));

  v1::RecordFirstTouchRequest bad = touch;
  bad.set_rep("");
  EXPECT_EQ(router_->RecordFirstTouch(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.set_rep("reps/nobody");
  EXPECT_EQ(router_->RecordFirstTouch(bad).status().code(),
            absl::StatusCode::kFailedPrecondition);
  bad = touch;
  bad.set_name("deals/x");
  EXPECT_EQ(router_->RecordFirstTouch(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(name).sla_steps_size(), 2) << "rejected calls change nothing";

  // Touched Monday 09:15: 1 h 45 min of business time after the accept.
  clock_.Set(Utc(2026, 12, 7, 9, 15));
  absl::StatusOr<v1::Assignment> touched = router_->RecordFirstTouch(touch);
  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_EQ(FromProtoTime(touched->first_touch_time()), clock_.Now());
  EXPECT_EQ(FromProtoDuration(touched->time_to_first_touch()),
            absl::Minutes(105));
  EXPECT_FALSE(touched->first_touch_breached());
  EXPECT_THAT(Steps(*touched),
              testing::ElementsAre(v1::SLA_STEP_TYPE_OFFERED,
                                   v1::SLA_STEP_TYPE_ACCEPTED,
                                   v1::SLA_STEP_TYPE_FIRST_TOUCHED));
  EXPECT_FALSE(touched->explanation().empty());

  // A second touch returns the first; the timer has nothing left to do.
  clock_.Set(Utc(2026, 12, 7, 11));
  absl::StatusOr<v1::Assignment> again = router_->RecordFirstTouch(touch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first_touch_time().seconds(),
            touched->first_touch_time().seconds());
  const std::string id = name.substr(std::string("assignments/").size());
  EXPECT_EQ(*router_->FirstTouchDue({id}), 0);
  int touches = 0;
  for (const v1::AssignmentEvent& e : Events()) {
    if (e.type() == v1::ASSIGNMENT_EVENT_TYPE_FIRST_TOUCHED) ++touches;
    EXPECT_NE(e.type(), v1::ASSIGNMENT_EVENT_TYPE_FIRST_TOUCH_BREACHED);
  }
  EXPECT_EQ(touches, 1);
  bool pending = false;
  ASSERT_TRUE(store_
                  ->LoadPendingTimers(SlaTimer::kFirstTouch,
                                      [&](std::string_view, absl::Time) {
                                        pending = true;
                                        return true;
                                      })
                  .ok());
  EXPECT_FALSE(pending);
}

TEST_F(SlaEngineTest, AMissedFirstTouchIsRecordedOnceAcrossARestart) {
  const std::string berlin =
      AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRulesWithFirstTouch(), 0).ok());
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  const std::string name = lead->assignment().name();
  clock_.Set(Utc(2026, 11, 30, 9, 45));
  ASSERT_TRUE(Accept(name, berlin).ok());

  NewRouter();  // as after kill -9: the timer comes back from the store
  std::vector<std::string> reloaded;
  ASSERT_TRUE(store_
                  ->LoadPendingTimers(SlaTimer::kFirstTouch,
                                      [&](std::string_view id, absl::Time due) {
                                        EXPECT_EQ(due,
                                                  Utc(2026, 11, 30, 11, 45));
                                        reloaded.emplace_back(id);
                                        return true;
                                      })
                  .ok());
  ASSERT_EQ(reloaded.size(), 1u);
  EXPECT_EQ("assignments/" + reloaded[0], name);

  clock_.Set(Utc(2026, 11, 30, 11, 44));
  EXPECT_EQ(*router_->FirstTouchDue(reloaded), 0) << "not yet";
  clock_.Set(Utc(2026, 11, 30, 11, 45));
  EXPECT_EQ(*router_->FirstTouchDue(reloaded), 1);
  EXPECT_EQ(*router_->FirstTouchDue(reloaded), 0)
      << "a second firing changes nothing";

  v1::Assignment late = Get(name);
  EXPECT_TRUE(late.first_touch_breached());
  EXPECT_EQ(late.state(), v1::ASSIGNMENT_STATE_ACCEPTED);
  EXPECT_EQ(late.rep(), berlin);
  EXPECT_THAT(Steps(late),
              testing::ElementsAre(v1::SLA_STEP_TYPE_OFFERED,
                                   v1::SLA_STEP_TYPE_ACCEPTED,
                                   v1::SLA_STEP_TYPE_FIRST_TOUCH_BREACHED));
  int breaches = 0;
  for (const v1::AssignmentEvent& e : Events()) {
    if (e.type() == v1::ASSIGNMENT_EVENT_TYPE_FIRST_TOUCH_BREACHED) {
      ++breaches;
      EXPECT_EQ(e.rep(), berlin);
    }
  }
  EXPECT_EQ(breaches, 1);
  double counted = -1;
  for (const prometheus::MetricFamily& family :
       metrics_->registry().Collect()) {
    if (family.name != "handoff_routing_first_touch_breaches_total") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    counted = family.metric[0].counter.value;
  }
  EXPECT_EQ(counted, 1);
  // The accept deadline's breach counter is another family.
  for (const prometheus::MetricFamily& family :
       metrics_->registry().Collect()) {
    if (family.name == "handoff_routing_sla_breaches_total") {
      EXPECT_TRUE(family.metric.empty());
    }
  }

  clock_.Set(Utc(2026, 11, 30, 13));
  v1::RecordFirstTouchRequest touch;
  touch.set_name(name);
  touch.set_rep(berlin);
  absl::StatusOr<v1::Assignment> touched = router_->RecordFirstTouch(touch);
  ASSERT_TRUE(touched.ok()) << touched.status();
  EXPECT_EQ(FromProtoDuration(touched->time_to_first_touch()),
            absl::Minutes(195));
  EXPECT_THAT(touched->sla_steps(3).detail(),
              HasSubstr("after the first-touch due time"));
}

TEST_F(SlaEngineTest, BreachReassignsThenRecyclesWhenAttemptsRunOut) {
  const std::string a = AddRep("A", 5, v1::REP_STATUS_AVAILABLE, "dach");
  const std::string b = AddRep("B", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  ASSERT_TRUE(RouteFrom("leads/l1", "DE").ok());

  clock_.Set(Utc(2026, 11, 30, 10));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].rep(), a);
  EXPECT_EQ(chain[1].rep(), b);
  EXPECT_THAT(Steps(chain[0]),
              testing::ElementsAre(v1::SLA_STEP_TYPE_OFFERED,
                                   v1::SLA_STEP_TYPE_BREACHED,
                                   v1::SLA_STEP_TYPE_REASSIGNED));
  EXPECT_THAT(chain[0].sla_steps(2).detail(), HasSubstr(chain[1].name()));

  // max_attempts 2: the second breach returns the lead to marketing.
  clock_.Set(Utc(2026, 11, 30, 11));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(Steps(chain[1]).back(), v1::SLA_STEP_TYPE_RECYCLED);
  std::vector<SentMessage> sent = Outgoing();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].request.event(), campaign::v1::LEAD_EVENT_RECYCLED);
  EXPECT_EQ(sent[0].request.reason(), "SLA_EXHAUSTED");
}

TEST_F(SlaEngineTest, ExhaustedAttemptsEscalateToTheManager) {
  const std::string boss = AddRep("Boss", 5, v1::REP_STATUS_AWAY, "dach");
  v1::CreateRepRequest create;
  create.mutable_rep()->set_display_name("A");
  create.mutable_rep()->set_team("dach");
  create.mutable_rep()->set_capacity(5);
  create.mutable_rep()->set_manager(boss);
  absl::StatusOr<v1::Rep> a = reps_->CreateRep(create);
  ASSERT_TRUE(a.ok()) << a.status();
  v1::RuleSet rules = OfficeRules();
  rules.mutable_sla_policies(0)->set_max_attempts(1);
  rules.mutable_sla_policies(0)->set_on_exhausted(
      v1::EXHAUSTED_ACTION_ESCALATE_TO_MANAGER);
  ASSERT_TRUE(Apply(rules, 0).ok());
  ASSERT_TRUE(RouteFrom("leads/l1", "DE").ok());

  clock_.Set(Utc(2026, 11, 30, 10));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].rep(), boss) << "managers take escalations even away";
  EXPECT_TRUE(chain[1].escalated());
  EXPECT_EQ(Steps(chain[0]).back(), v1::SLA_STEP_TYPE_ESCALATED);
  ASSERT_TRUE(Accept(chain[1].name(), boss).ok());
  EXPECT_TRUE(Outgoing().size() == 1u && Outgoing()[0].request.event() ==
                                             campaign::v1::LEAD_EVENT_ACCEPTED);
}

TEST_F(SlaEngineTest, RejectReroutesPerPolicyAndNeverBackToTheRejecter) {
  const std::string a = AddRep("A", 5, v1::REP_STATUS_AVAILABLE, "dach");
  const std::string b = AddRep("B", 5, v1::REP_STATUS_AVAILABLE, "dach");
  v1::RuleSet rules = OfficeRules();
  rules.mutable_sla_policies(0)->set_on_reject(v1::REJECT_ACTION_REROUTE);
  ASSERT_TRUE(Apply(rules, 0).ok());
  clock_.Set(Utc(2026, 11, 30, 9));
  absl::StatusOr<v1::RouteLeadResponse> first = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->assignment().rep(), a);

  ASSERT_TRUE(
      Reject(first->assignment().name(), a, v1::REJECT_REASON_WRONG_TERRITORY)
          .ok());
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].rep(), b);
  EXPECT_EQ(chain[1].attempt(), 2);
  std::vector<SentMessage> sent = Outgoing();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].request.event(),
            campaign::v1::LEAD_EVENT_REJECTED_REROUTED);
  EXPECT_EQ(sent[0].request.reason(), "WRONG_TERRITORY");

  // B rejects too: attempts are used up, the round ends as a rejection.
  ASSERT_TRUE(Reject(chain[1].name(), b, v1::REJECT_REASON_NOT_A_FIT).ok());
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 2u);
  sent = Outgoing();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].request.event(), campaign::v1::LEAD_EVENT_REJECTED);
}

TEST_F(SlaEngineTest, QueuePerRuleDrainsWhenARepComesBackAndAgesOut) {
  const std::string a = AddRep("A", 5, v1::REP_STATUS_AWAY, "dach");
  v1::RuleSet rules = OfficeRules();
  *rules.mutable_sla_policies(0)->mutable_queue_age_limit() =
      ToProtoDuration(absl::Hours(2));
  ASSERT_TRUE(Apply(rules, 0).ok());

  absl::StatusOr<v1::RouteLeadResponse> l1 = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(l1.ok());
  EXPECT_TRUE(l1->queued());
  ASSERT_TRUE(router_->RefreshGauges().ok());
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("handoff_routing_queue_depth{rule=\"rules/dach\"} 1"));

  // The rep comes back: the queued lead is offered at once.
  v1::SetRepStatusRequest back;
  back.set_name(a);
  back.set_status(v1::REP_STATUS_AVAILABLE);
  ASSERT_TRUE(reps_->SetRepStatus(back).ok());
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0].rep(), a);

  // Another lead waits past the queue-age limit and goes back to marketing.
  back.set_status(v1::REP_STATUS_AWAY);
  ASSERT_TRUE(reps_->SetRepStatus(back).ok());
  ASSERT_TRUE(RouteFrom("leads/l2", "DE")->queued());
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(*router_->DrainQueue(), 0);
  std::vector<SentMessage> sent = Outgoing();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().request.lead(), "leads/l2");
  EXPECT_EQ(sent.back().request.event(), campaign::v1::LEAD_EVENT_RECYCLED);
  EXPECT_EQ(sent.back().request.reason(), "QUEUE_AGE_LIMIT");
  ASSERT_TRUE(router_->RefreshGauges().ok());
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("handoff_routing_queue_depth{rule=\"rules/dach\"} 0"));
}

TEST_F(SlaEngineTest, OutOfOfficeRepIsSkippedWithTheReason) {
  const std::string a = AddRep("A", 5, v1::REP_STATUS_AVAILABLE, "dach");
  const std::string b = AddRep("B", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  v1::SetOutOfOfficeRequest ooo;
  ooo.set_name(a);
  v1::TimeRange& period = *ooo.add_out_of_office();
  *period.mutable_start_time() = ToProtoTime(Utc(2026, 11, 28, 0));
  *period.mutable_end_time() = ToProtoTime(Utc(2026, 12, 5, 0));
  ASSERT_TRUE(reps_->SetOutOfOffice(ooo).ok());

  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->assignment().rep(), b);
  bool seen = false;
  for (const v1::CandidateEvaluation& c :
       lead->assignment().explanation_detail().candidates()) {
    if (c.rep() == a) {
      seen = true;
      EXPECT_EQ(c.exclusion_reason(), v1::EXCLUSION_REASON_OUT_OF_OFFICE);
    }
  }
  EXPECT_TRUE(seen);

  // A period that ends before it starts is refused and changes nothing.
  *period.mutable_end_time() = ToProtoTime(Utc(2026, 11, 1, 0));
  absl::StatusOr<v1::Rep> bad = reps_->SetOutOfOffice(ooo);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetRep(a).out_of_office_size(), 1);
}

TEST_F(SlaEngineTest, SimulationHasNoSideEffectsAndProjectsLoad) {
  const std::string berlin =
      AddRep("Berlin", 5, v1::REP_STATUS_AVAILABLE, "dach");
  AddRep("Paris", 5, v1::REP_STATUS_AVAILABLE, "emea");
  ASSERT_TRUE(RouteFrom("leads/existing", "DE").ok());  // default rules
  const int before = CountAssignments();

  v1::SimulateRoutingRequest request;
  *request.mutable_draft_rule_set() = OfficeRules();
  for (const char* country : {"DE", "AT", "FR"}) {
    v1::SimulatedLead& lead = *request.add_leads();
    lead.set_lead(country);
    lead.mutable_lead_summary()->mutable_profile()->set_country(country);
  }
  absl::StatusOr<v1::SimulateRoutingResponse> sim =
      router_->SimulateRouting(request);
  ASSERT_TRUE(sim.ok()) << sim.status();
  ASSERT_EQ(sim->assignments_size(), 3);
  EXPECT_EQ(sim->assignments(0).rep(), berlin);
  EXPECT_EQ(sim->assignments(0).rule(), "rules/dach");
  EXPECT_EQ(sim->assignments(2).rule(), "rules/rest");
  EXPECT_FALSE(sim->assignments(0).explanation_text().empty());
  for (const v1::ProjectedLoad& load : sim->loads()) {
    if (load.rep() == berlin) {
      EXPECT_EQ(load.simulated_offers(), 2);
      EXPECT_EQ(load.projected_open(), load.open_assignments() + 2);
    }
  }
  EXPECT_EQ(CountAssignments(), before);
  EXPECT_EQ(router_->GetRuleSet({})->version(), 0) << "draft not applied";
}

// Against the current rules the simulation starts from the live engine's
// state, and leaves it as it was.
TEST_F(SlaEngineTest, SimulatingTheCurrentRulesStartsFromTheLiveState) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  absl::StatusOr<v1::RouteLeadResponse> first = RouteFrom("leads/l1", "FR");
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string next = first->assignment().rep() == a ? b : a;

  v1::SimulateRoutingRequest request;
  for (const char* lead : {"s1", "s2", "s3"}) {
    v1::SimulatedLead& simulated = *request.add_leads();
    simulated.set_lead(lead);
    simulated.mutable_lead_summary()->mutable_profile()->set_country("FR");
  }
  absl::StatusOr<v1::SimulateRoutingResponse> sim =
      router_->SimulateRouting(request);
  ASSERT_TRUE(sim.ok()) << sim.status();
  ASSERT_EQ(sim->assignments_size(), 3);
  EXPECT_EQ(sim->assignments(0).rep(), next);
  EXPECT_EQ(sim->assignments(1).rep(), first->assignment().rep());
  EXPECT_EQ(sim->assignments(2).rep(), next);
  for (const v1::ProjectedLoad& load : sim->loads()) {
    EXPECT_EQ(load.open_assignments(), load.rep() == next ? 0 : 1);
    EXPECT_EQ(load.simulated_offers(), load.rep() == next ? 2 : 1);
  }

  absl::StatusOr<v1::RouteLeadResponse> second = RouteFrom("leads/l2", "FR");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->assignment().rep(), next);
  absl::StatusOr<v1::SimulateRoutingResponse> again =
      router_->SimulateRouting(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->assignments(0).rep(), first->assignment().rep());
}

TEST_F(SlaEngineTest, RoundRobinPointerSurvivesRestart) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  EXPECT_EQ(Offer("leads/l1").rep(), a);
  NewRouter();
  EXPECT_EQ(Offer("leads/l2").rep(), b);
}

TEST_F(SlaEngineTest, EveryStepLandsInTheEventLog) {
  const std::string a = AddRep("A", 5, v1::REP_STATUS_AVAILABLE, "dach");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  absl::StatusOr<v1::RouteLeadResponse> lead = RouteFrom("leads/l1", "DE");
  ASSERT_TRUE(lead.ok());
  clock_.Set(Utc(2026, 11, 30, 9, 10));
  ASSERT_TRUE(Accept(lead->assignment().name(), a).ok());
  ASSERT_TRUE(Convert("leads/l1", "deals/d1").ok());
  std::vector<v1::AssignmentEventType> types;
  std::vector<bool> round_starts;
  for (const v1::AssignmentEvent& e : Events()) {
    types.push_back(e.type());
    round_starts.push_back(e.round_start());
  }
  EXPECT_THAT(types, testing::ElementsAre(v1::ASSIGNMENT_EVENT_TYPE_OFFERED,
                                          v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED,
                                          v1::ASSIGNMENT_EVENT_TYPE_CONVERTED));
  // One event per step: the first offer also marks the round's start.
  EXPECT_THAT(round_starts, testing::ElementsAre(true, false, false));
  EXPECT_EQ(Events()[1].rep(), a);
  EXPECT_EQ(Events()[1].team(), "dach");
}

// The marketing side of the report counts each routing round once, for the
// team whose rule took the lead, whether the lead was offered or queued.
TEST_F(SlaEngineTest, MqlsDeliveredCountEachRoundOnceForItsTeam) {
  AddRep("A", 5, v1::REP_STATUS_AVAILABLE, "dach");
  const std::string b = AddRep("B", 5, v1::REP_STATUS_AWAY, "emea");
  ASSERT_TRUE(Apply(OfficeRules(), 0).ok());
  ASSERT_TRUE(RouteFrom("leads/l1", "DE")->has_assignment());
  ASSERT_TRUE(RouteFrom("leads/l2", "FR")->queued());
  v1::SetRepStatusRequest back;
  back.set_name(b);
  back.set_status(v1::REP_STATUS_AVAILABLE);
  ASSERT_TRUE(reps_->SetRepStatus(back).ok());
  ASSERT_EQ(AssignmentsOf("leads/l2").size(), 1u);

  SlaReporter reporter(*store_);
  auto delivered = [&](const std::string& team) -> int64_t {
    v1::GetSlaReportRequest request;
    *request.mutable_start_time() = ToProtoTime(clock_.Now() - absl::Hours(1));
    *request.mutable_end_time() = ToProtoTime(clock_.Now() + absl::Hours(1));
    request.set_team(team);
    absl::StatusOr<v1::SlaReport> report = reporter.GetSlaReport(request);
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok() || report->mql_delivery_size() != 1) return -1;
    return report->mql_delivery(0).mqls_delivered();
  };
  EXPECT_EQ(delivered(""), 2);
  EXPECT_EQ(delivered("dach"), 1);
  EXPECT_EQ(delivered("emea"), 1);
  EXPECT_EQ(delivered("apac"), 0);
}

}  // namespace
}  // namespace handoff::routing
