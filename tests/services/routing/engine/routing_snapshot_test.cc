#include "services/routing/engine/routing_snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "common/proto_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/routing/engine/engine_test_util.h"

namespace handoff::routing::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Lead;
using testing::Monday10;
using testing::PoolRule;
using testing::Rep;
using testing::RuleSetOf;
using testing::TeamRule;

RoutingSnapshot Build(const v1::RuleSet& set, std::vector<RepInput> reps,
                      EngineOptions options = {}) {
  absl::StatusOr<RoutingSnapshot> snap =
      RoutingSnapshot::Build(set, std::move(reps), std::move(options));
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *std::move(snap);
}

RepLoad Load(int32_t open = 0, int32_t offers_today = 0,
             absl::CivilDay day = absl::CivilDay()) {
  RepLoad load;
  load.open = open;
  load.offers_today = offers_today;
  load.day = day;
  return load;
}

std::vector<RepInput> Inputs(std::vector<v1::Rep> reps) {
  std::vector<RepInput> out;
  for (v1::Rep& rep : reps) out.push_back(RepInput{std::move(rep), Load()});
  return out;
}

const v1::CandidateEvaluation* CandidateOf(const v1::RoutingExplanation& ex,
                                           std::string_view rep) {
  for (const v1::CandidateEvaluation& c : ex.candidates()) {
    if (c.rep() == rep) return &c;
  }
  return nullptr;
}

std::map<v1::ExclusionReason, int> Counts(const v1::RoutingExplanation& ex) {
  std::map<v1::ExclusionReason, int> out;
  for (const v1::ExclusionCount& c : ex.exclusion_counts()) {
    out[c.reason()] = c.count();
  }
  return out;
}

// Decides and commits `n` leads; returns the picked reps.
std::vector<std::string> Route(RoutingSnapshot& snap,
                               const v1::LeadSummary& lead, int n,
                               absl::Time now = Monday10()) {
  std::vector<std::string> picks;
  for (int i = 0; i < n; ++i) {
    Decision d = snap.Decide(lead, now);
    picks.push_back(d.rep);
    if (d.offered()) {
      EXPECT_TRUE(snap.Commit(d, now).ok());
    }
  }
  return picks;
}

v1::RoutingRule DeRule(
    v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN) {
  v1::RoutingRule rule = TeamRule("de", "dach", strategy);
  rule.mutable_condition()->add_territories("DE");
  return rule;
}

TEST(RoutingSnapshotTest, DecidesWithRuleCandidatesAndStrategyState) {
  RoutingSnapshot snap =
      Build(RuleSetOf({DeRule()}, 7),
            Inputs({Rep("b", "dach"), Rep("a", "dach"), Rep("z", "other")}));
  const Decision d = snap.Decide(Lead("DE"), Monday10());
  ASSERT_TRUE(d.offered());
  EXPECT_EQ(d.rule, "rules/de");
  EXPECT_FALSE(d.fallback);
  EXPECT_EQ(d.pool, "teams/dach");
  EXPECT_EQ(d.rep, "reps/a");
  EXPECT_EQ(d.team, "dach");
  const v1::RoutingExplanation& ex = d.explanation();
  EXPECT_EQ(ex.rule_set_version(), 7);
  EXPECT_EQ(ex.matched_rule(), "rules/de");
  EXPECT_EQ(ex.strategy(), v1::ROUTING_STRATEGY_ROUND_ROBIN);
  EXPECT_EQ(ex.candidates_total(), 2);
  EXPECT_EQ(ex.candidates_eligible(), 2);
  ASSERT_EQ(ex.candidates_size(), 2);
  EXPECT_EQ(ex.candidates(0).rep(), "reps/a");
  EXPECT_TRUE(ex.candidates(0).eligible());
  EXPECT_THAT(ex.candidates(0).detail(), HasSubstr("picked"));
  EXPECT_EQ(ex.picked_rep(), "reps/a");
  EXPECT_THAT(ex.pick_reason(), HasSubstr("round robin"));
  EXPECT_EQ(ex.state_before().round_robin_pointer(), "");
  EXPECT_EQ(ex.state_after().round_robin_pointer(), "reps/a");
  EXPECT_EQ(ex.state_after().assignments(), 1);
  // Deciding changes nothing.
  EXPECT_EQ(snap.Decide(Lead("DE"), Monday10()).rep, "reps/a");
}

TEST(RoutingSnapshotTest, UnmatchedLeadsGoToTheFallbackAndQueueWithoutReps) {
  RoutingSnapshot snap =
      Build(RuleSetOf({DeRule()}), Inputs({Rep("a", "dach")}));
  const Decision d = snap.Decide(Lead("FR"), Monday10());
  EXPECT_EQ(d.rule, "rules/fallback");
  EXPECT_TRUE(d.fallback);
  EXPECT_FALSE(d.offered());
  EXPECT_EQ(d.explanation().rules_skipped_by_territory(), 1);
  ASSERT_EQ(d.explanation().rules_size(), 1);
  EXPECT_TRUE(d.explanation().rules(0).matched());
  EXPECT_THAT(d.explanation().rules(0).reason(), HasSubstr("fallback"));
  EXPECT_THAT(d.explanation().pick_reason(), HasSubstr("queues"));
  EXPECT_EQ(d.explanation().candidates_total(), 0);
  EXPECT_EQ(snap.Commit(d, Monday10()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RoutingSnapshotTest, TheExplanationSaysWhyEarlierRulesFailed) {
  v1::RoutingRule big = TeamRule("big", "dach");
  big.mutable_condition()->set_min_employees(1000);
  v1::RoutingRule us = TeamRule("us", "dach");
  us.mutable_condition()->add_territories("US");
  RoutingSnapshot snap =
      Build(RuleSetOf({big, us, DeRule()}), Inputs({Rep("a", "dach")}));
  const Decision d = snap.Decide(Lead("DE", 50), Monday10());
  EXPECT_EQ(d.rule, "rules/de");
  const v1::RoutingExplanation& ex = d.explanation();
  ASSERT_EQ(ex.rules_size(), 2);
  EXPECT_EQ(ex.rules(0).rule(), "rules/big");
  EXPECT_FALSE(ex.rules(0).matched());
  EXPECT_EQ(ex.rules(0).condition(), "company_size");
  EXPECT_EQ(ex.rules(0).reason(), "employee_count 50 below min_employees 1000");
  EXPECT_EQ(ex.rules(1).rule(), "rules/de");
  EXPECT_TRUE(ex.rules(1).matched());
  EXPECT_EQ(ex.rules_skipped_by_territory(), 1);
  EXPECT_EQ(ex.rules_not_listed(), 0);
}

TEST(RoutingSnapshotTest, EveryExclusionReason) {
  const absl::Time now = Monday10();
  v1::RoutingRule rule = DeRule();
  rule.set_require_persona_specialty(true);
  rule.set_only_in_working_hours(true);
  std::vector<RepInput> reps;
  auto add = [&reps](v1::Rep rep, RepLoad load = {}) {
    rep.add_persona_specialties("personas/cfo");
    reps.push_back(RepInput{std::move(rep), load});
  };
  add(Rep("a-lapsed", "dach"));
  v1::Rep away = Rep("b-away", "dach");
  away.set_status(v1::REP_STATUS_AWAY);
  add(away);
  v1::Rep ooo = Rep("c-ooo", "dach");
  v1::TimeRange* range = ooo.add_out_of_office();
  *range->mutable_start_time() = ToProtoTime(now - absl::Hours(24));
  *range->mutable_end_time() = ToProtoTime(now + absl::Hours(48));
  add(ooo);
  v1::Rep french = Rep("d-territory", "dach");
  french.add_territories("FR");
  french.add_territories("BENELUX");
  add(french);
  v1::Rep enterprise = Rep("e-segment", "dach");
  enterprise.add_segments(v1::COMPANY_SEGMENT_ENTERPRISE);
  add(enterprise);
  v1::Rep cto = Rep("f-persona", "dach");
  cto.add_persona_specialties("personas/cto");
  reps.push_back(RepInput{cto, Load()});
  add(Rep("g-capacity", "dach", 2), Load(2));
  v1::Rep capped = Rep("h-daily", "dach");
  capped.set_daily_cap(3);
  add(capped, Load(0, 3, absl::CivilDay(2026, 1, 5)));
  v1::Rep tokyo = Rep("i-hours", "dach");
  tokyo.set_time_zone("Asia/Tokyo");  // 19:00 there
  *tokyo.mutable_working_hours() = testing::OfficeHours();
  add(tokyo);
  v1::Rep ok = Rep("j-ok", "dach");
  ok.add_territories("DACH");
  ok.add_segments(v1::COMPANY_SEGMENT_SMB);
  ok.set_time_zone("Europe/Berlin");  // 11:00 there
  *ok.mutable_working_hours() = testing::OfficeHours();
  add(ok, Load(1));

  RoutingSnapshot snap = Build(RuleSetOf({rule}), std::move(reps));
  v1::LeadSummary lead = Lead("DE", 50);
  lead.set_persona("personas/cfo");
  const std::vector<std::string> lapsed = {"reps/a-lapsed", "reps/unknown"};
  const Decision d = snap.Decide(lead, now, lapsed);
  ASSERT_EQ(d.rep, "reps/j-ok");
  const v1::RoutingExplanation& ex = d.explanation();
  EXPECT_EQ(ex.candidates_total(), 10);
  EXPECT_EQ(ex.candidates_eligible(), 1);
  EXPECT_EQ(ex.candidates_not_listed(), 0);

  struct Expected {
    const char* rep;
    v1::ExclusionReason reason;
    const char* detail;
  };
  for (const Expected& e : std::vector<Expected>{
           {"reps/a-lapsed", v1::EXCLUSION_REASON_LAPSED, ""},
           {"reps/b-away", v1::EXCLUSION_REASON_AWAY, ""},
           {"reps/c-ooo", v1::EXCLUSION_REASON_OUT_OF_OFFICE,
            "until 2026-01-07T10:00:00Z"},
           {"reps/d-territory", v1::EXCLUSION_REASON_TERRITORY_MISMATCH,
            "country DE"},
           {"reps/e-segment", v1::EXCLUSION_REASON_SEGMENT_MISMATCH, "SMB"},
           {"reps/f-persona", v1::EXCLUSION_REASON_PERSONA_MISMATCH,
            "personas/cfo"},
           {"reps/g-capacity", v1::EXCLUSION_REASON_AT_CAPACITY, ""},
           {"reps/h-daily", v1::EXCLUSION_REASON_DAILY_CAP, "3/3 today"},
           {"reps/i-hours", v1::EXCLUSION_REASON_OUT_OF_HOURS, "Asia/Tokyo"},
           {"reps/j-ok", v1::EXCLUSION_REASON_UNSPECIFIED, "picked"},
       }) {
    const v1::CandidateEvaluation* c = CandidateOf(ex, e.rep);
    ASSERT_NE(c, nullptr) << e.rep;
    EXPECT_EQ(c->exclusion_reason(), e.reason) << e.rep;
    EXPECT_EQ(c->eligible(), e.reason == v1::EXCLUSION_REASON_UNSPECIFIED);
    EXPECT_EQ(c->detail(), e.detail) << e.rep;
  }
  EXPECT_EQ(CandidateOf(ex, "reps/g-capacity")->open_assignments(), 2);
  EXPECT_EQ(CandidateOf(ex, "reps/g-capacity")->capacity(), 2);
  const std::map<v1::ExclusionReason, int> counts = Counts(ex);
  EXPECT_EQ(counts.size(), 9u);
  for (const auto& [reason, count] : counts) EXPECT_EQ(count, 1) << reason;
}

TEST(RoutingSnapshotTest, APoolNamingAnUnknownRepSaysSoAndPicksItUpLater) {
  RoutingSnapshot snap = Build(RuleSetOf({PoolRule("vip", {"a", "ghost"})}),
                               Inputs({Rep("a", "t")}));
  ASSERT_TRUE(snap.SetLoad("reps/a", Load(10)).ok());
  Decision d = snap.Decide(Lead("DE"), Monday10());
  EXPECT_EQ(d.pool, "rules/vip");
  EXPECT_FALSE(d.offered());
  const v1::CandidateEvaluation* ghost =
      CandidateOf(d.explanation(), "reps/ghost");
  ASSERT_NE(ghost, nullptr);
  EXPECT_EQ(ghost->exclusion_reason(), v1::EXCLUSION_REASON_UNKNOWN_REP);
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_UNKNOWN_REP], 1);
  EXPECT_EQ(d.explanation().candidates_total(), 2);

  ASSERT_TRUE(snap.UpsertRep(Rep("ghost", "elsewhere"), Load()).ok());
  d = snap.Decide(Lead("DE"), Monday10());
  EXPECT_EQ(d.rep, "reps/ghost");
  EXPECT_EQ(d.team, "elsewhere");
}

TEST(RoutingSnapshotTest, UnknownLeadAttributesExcludeNobody) {
  v1::Rep rep = Rep("a", "t");
  rep.add_territories("FR");
  rep.add_segments(v1::COMPANY_SEGMENT_ENTERPRISE);
  rep.add_persona_specialties("personas/cto");
  v1::RoutingRule rule = TeamRule("any", "t");
  rule.set_require_persona_specialty(true);
  RoutingSnapshot snap = Build(RuleSetOf({rule}), Inputs({rep}));
  EXPECT_EQ(snap.Decide(Lead(""), Monday10()).rep, "reps/a");
  EXPECT_FALSE(snap.Decide(Lead("DE"), Monday10()).offered());
  EXPECT_FALSE(snap.Decide(Lead("", 10), Monday10()).offered());
}

TEST(RoutingSnapshotTest, WorkingHoursPolicyQueuesOrOffersOutsideHours) {
  v1::Rep early = Rep("a", "t");
  early.set_time_zone("America/New_York");  // 05:00 there
  *early.mutable_working_hours() = testing::OfficeHours();
  v1::Rep late = Rep("b", "t");
  late.set_time_zone("Asia/Tokyo");  // 19:00 there
  *late.mutable_working_hours() = testing::OfficeHours();

  v1::RoutingRule strict = TeamRule("strict", "t");
  strict.set_only_in_working_hours(true);
  RoutingSnapshot queueing = Build(RuleSetOf({strict}), Inputs({early, late}));
  Decision d = queueing.Decide(Lead("DE"), Monday10());
  EXPECT_FALSE(d.offered());
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_OUT_OF_HOURS], 2);

  RoutingSnapshot offering =
      Build(RuleSetOf({TeamRule("lenient", "t")}), Inputs({early, late}));
  d = offering.Decide(Lead("DE"), Monday10());
  EXPECT_EQ(d.rep, "reps/a");
  EXPECT_TRUE(d.explanation().outside_working_hours());
  EXPECT_EQ(d.explanation().candidates_eligible(), 2);
  EXPECT_THAT(d.explanation().candidates(0).detail(),
              HasSubstr("outside working hours"));

  // Someone in hours is preferred even when the rotation points elsewhere.
  v1::Rep berlin = Rep("c", "t");
  berlin.set_time_zone("Europe/Berlin");
  *berlin.mutable_working_hours() = testing::OfficeHours();
  ASSERT_TRUE(offering.UpsertRep(berlin, Load()).ok());
  EXPECT_THAT(Route(offering, Lead("DE"), 3),
              ElementsAre("reps/c", "reps/c", "reps/c"));
  d = offering.Decide(Lead("DE"), Monday10());
  EXPECT_FALSE(d.explanation().outside_working_hours());
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_OUT_OF_HOURS], 2);
}

TEST(RoutingSnapshotTest, APluggableWorkingPredicateReplacesWeeklyWindows) {
  v1::RoutingRule rule = TeamRule("strict", "t");
  rule.set_only_in_working_hours(true);
  EngineOptions options;
  options.is_working = [](const v1::Rep& rep, absl::Time) {
    return rep.name() != "reps/a";  // e.g. a holiday in a's calendar
  };
  RoutingSnapshot snap =
      Build(RuleSetOf({rule}), Inputs({Rep("a", "t"), Rep("b", "t")}),
            std::move(options));
  Decision d = snap.Decide(Lead("DE"), Monday10());
  EXPECT_EQ(d.rep, "reps/b");
  EXPECT_EQ(CandidateOf(d.explanation(), "reps/a")->exclusion_reason(),
            v1::EXCLUSION_REASON_OUT_OF_HOURS);
}

TEST(RoutingSnapshotTest, TheDailyCapCountsTheRepsLocalDay) {
  v1::Rep rep = Rep("a", "t");
  rep.set_time_zone("America/Los_Angeles");
  rep.set_daily_cap(1);
  RoutingSnapshot snap =
      Build(RuleSetOf({TeamRule("all", "t")}), Inputs({rep}));
  const absl::Time monday_2am_la = Monday10();
  EXPECT_EQ(*snap.LocalDay("reps/a", monday_2am_la),
            absl::CivilDay(2026, 1, 5));
  EXPECT_THAT(Route(snap, Lead("DE"), 2, monday_2am_la),
              ElementsAre("reps/a", ""));
  // Still Monday in Los Angeles (Monday 23:30 there).
  const absl::Time monday_late_la =
      Monday10() + absl::Hours(21) + absl::Minutes(30);
  Decision d = snap.Decide(Lead("DE"), monday_late_la);
  EXPECT_EQ(d.explanation().candidates(0).exclusion_reason(),
            v1::EXCLUSION_REASON_DAILY_CAP);
  // Tuesday there: the count starts again.
  EXPECT_EQ(snap.Decide(Lead("DE"), monday_late_la + absl::Hours(1)).rep,
            "reps/a");
  // A load counted on an earlier day reads as zero.
  ASSERT_TRUE(
      snap.SetLoad("reps/a", Load(0, 5, absl::CivilDay(2026, 1, 4))).ok());
  EXPECT_EQ(snap.Decide(Lead("DE"), monday_2am_la).rep, "reps/a");
}

TEST(RoutingSnapshotTest, CommitsAdvanceTheRotationAndTheLoads) {
  RoutingSnapshot snap = Build(
      RuleSetOf({DeRule()}),
      Inputs({Rep("a", "dach", 2), Rep("b", "dach", 2), Rep("c", "dach", 1)}));
  EXPECT_THAT(
      Route(snap, Lead("DE"), 6),
      ElementsAre("reps/a", "reps/b", "reps/c", "reps/a", "reps/b", ""));
  const Decision d = snap.Decide(Lead("DE"), Monday10());
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_AT_CAPACITY], 3);
  EXPECT_EQ(*snap.AvailableWithRoom("teams/dach"), 0);
  ASSERT_TRUE(snap.SetLoad("reps/b", Load(1)).ok());
  EXPECT_EQ(*snap.AvailableWithRoom("teams/dach"), 1);
  EXPECT_EQ(snap.Decide(Lead("DE"), Monday10()).rep, "reps/b");
}

TEST(RoutingSnapshotTest, TheCopiedStateIsWhatCommitLeaves) {
  std::vector<v1::Rep> reps = {Rep("a", "dach"), Rep("b", "dach"),
                               Rep("c", "dach")};
  reps[0].set_weight(3);
  RoutingSnapshot snap =
      Build(RuleSetOf({DeRule(v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN)}),
            Inputs(reps));
  for (int i = 0; i < 4; ++i) {
    const Decision d = snap.Decide(Lead("DE"), Monday10());
    ASSERT_TRUE(snap.Commit(d, Monday10()).ok());
    absl::StatusOr<PoolStateCopy> copy = snap.CopyState(d.pool);
    ASSERT_TRUE(copy.ok());
    const v1::PoolStrategyState after = copy->ToProto();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        after, *snap.ExportState("teams/dach")))
        << after.ShortDebugString();
    EXPECT_EQ(after.assignments(), i + 1);
    ASSERT_EQ(after.reps_size(), 3);
    // The explanation's after-state agrees for the reps it lists.
    for (const v1::RepStrategyState& listed :
         d.explanation().state_after().reps()) {
      bool found = false;
      for (const v1::RepStrategyState& full : after.reps()) {
        if (full.rep() != listed.rep()) continue;
        found = true;
        EXPECT_TRUE(
            google::protobuf::util::MessageDifferencer::Equals(full, listed));
      }
      EXPECT_TRUE(found);
    }
  }
  EXPECT_EQ(snap.CopyState("teams/nowhere").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RoutingSnapshotTest, AStaleDecisionIsAborted) {
  RoutingSnapshot snap = Build(RuleSetOf({DeRule()}),
                               Inputs({Rep("a", "dach"), Rep("b", "dach")}));
  const Decision first = snap.Decide(Lead("DE"), Monday10());
  const Decision second = snap.Decide(Lead("DE"), Monday10());
  ASSERT_TRUE(snap.Commit(first, Monday10()).ok());
  EXPECT_EQ(snap.Commit(second, Monday10()).code(), absl::StatusCode::kAborted);

  // A membership change also invalidates decisions about the pool.
  const Decision third = snap.Decide(Lead("DE"), Monday10());
  ASSERT_TRUE(snap.UpsertRep(Rep("c", "dach"), Load()).ok());
  EXPECT_EQ(snap.Commit(third, Monday10()).code(), absl::StatusCode::kAborted);

  // A decision of another snapshot is refused.
  RoutingSnapshot other = Build(RuleSetOf({DeRule()}),
                                Inputs({Rep("a", "dach"), Rep("b", "dach")}));
  EXPECT_EQ(
      other.Commit(snap.Decide(Lead("DE"), Monday10()), Monday10()).code(),
      absl::StatusCode::kAborted);
}

TEST(RoutingSnapshotTest, RestoredStateResumesEveryStrategyAfterARestart) {
  std::vector<v1::Rep> reps = {Rep("a", "dach"), Rep("b", "dach"),
                               Rep("c", "dach"), Rep("d", "t2")};
  reps[0].set_weight(4);
  reps[1].set_weight(2);
  v1::RoutingRule ll = TeamRule("ll", "t2", v1::ROUTING_STRATEGY_LEAST_LOADED);
  ll.mutable_condition()->add_territories("FR");
  v1::RoutingRule rr = PoolRule("rr", {"a", "b", "c"});
  rr.mutable_condition()->add_territories("US");
  const v1::RuleSet set =
      RuleSetOf({DeRule(v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN), ll, rr});
  RoutingSnapshot before = Build(set, Inputs(reps));
  Route(before, Lead("DE"), 5);
  Route(before, Lead("US"), 2);
  Route(before, Lead("FR"), 1);

  // "Restart": a fresh snapshot from the same rule set and current loads,
  // then the persisted states.
  std::vector<RepInput> reloaded;
  for (const v1::Rep& rep : reps) {
    reloaded.push_back(RepInput{rep, Load()});
  }
  RoutingSnapshot after = Build(set, std::move(reloaded));
  for (const v1::PoolStrategyState& state : before.ExportAllStates()) {
    std::string bytes = state.SerializeAsString();
    v1::PoolStrategyState parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    ASSERT_TRUE(after.RestoreState(parsed).ok()) << parsed.pool();
  }
  for (const char* rep : {"reps/a", "reps/b", "reps/c", "reps/d"}) {
    ASSERT_TRUE(after.SetLoad(rep, Load()).ok());
    ASSERT_TRUE(before.SetLoad(rep, Load()).ok());
  }
  for (const char* country : {"DE", "US", "FR"}) {
    EXPECT_EQ(Route(before, Lead(country), 9), Route(after, Lead(country), 9))
        << country;
  }
  v1::PoolStrategyState unknown;
  unknown.set_pool("teams/gone");
  EXPECT_EQ(after.RestoreState(unknown).code(), absl::StatusCode::kNotFound);
}

TEST(RoutingSnapshotTest, RepsMoveBetweenTeamsAndLeave) {
  RoutingSnapshot snap = Build(RuleSetOf({DeRule()}),
                               Inputs({Rep("a", "dach"), Rep("b", "dach")}));
  ASSERT_TRUE(snap.UpsertRep(Rep("a", "nordics"), Load()).ok());
  EXPECT_THAT(Route(snap, Lead("DE"), 2), ElementsAre("reps/b", "reps/b"));
  EXPECT_EQ(
      snap.Decide(Lead("DE"), Monday10()).explanation().candidates_total(), 1);
  ASSERT_TRUE(snap.UpsertRep(Rep("a", "dach"), Load()).ok());
  EXPECT_EQ(
      snap.Decide(Lead("DE"), Monday10()).explanation().candidates_total(), 2);
  ASSERT_TRUE(snap.RemoveRep("reps/b").ok());
  EXPECT_THAT(Route(snap, Lead("DE"), 2), ElementsAre("reps/a", "reps/a"));
  EXPECT_EQ(snap.RemoveRep("reps/b").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(snap.SetLoad("reps/b", Load()).code(), absl::StatusCode::kNotFound);
  v1::Rep bad = Rep("x", "dach");
  bad.set_capacity(0);
  EXPECT_EQ(snap.UpsertRep(bad, Load()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RoutingSnapshotTest, BigPoolsHaveBoundedExplanations) {
  std::vector<v1::Rep> reps;
  for (int i = 0; i < 200; ++i) {
    v1::Rep rep = Rep(absl::StrFormat("r%03d", i), "big");
    if (i % 5 < 3) rep.set_status(v1::REP_STATUS_AWAY);  // 120 away
    reps.push_back(rep);
  }
  RoutingSnapshot snap =
      Build(RuleSetOf({TeamRule("all", "big")}), Inputs(reps));
  // Point the rotation past every listed eligible rep.
  v1::PoolStrategyState state;
  state.set_pool("teams/big");
  state.set_round_robin_pointer("reps/r190");
  ASSERT_TRUE(snap.RestoreState(state).ok());
  const Decision d = snap.Decide(Lead("DE"), Monday10());
  ASSERT_EQ(d.rep, "reps/r193");
  const v1::RoutingExplanation& ex = d.explanation();
  EXPECT_EQ(ex.candidates_total(), 200);
  EXPECT_EQ(ex.candidates_eligible(), 80);
  EXPECT_EQ(Counts(ex)[v1::EXCLUSION_REASON_AWAY], 120);
  int listed_eligible = 0;
  int listed_excluded = 0;
  for (const auto& c : ex.candidates())
    ++(c.eligible() ? listed_eligible : listed_excluded);
  EXPECT_EQ(listed_excluded, 50);
  EXPECT_EQ(listed_eligible, 11);  // 10 and the picked rep
  EXPECT_NE(CandidateOf(ex, "reps/r193"), nullptr);
  EXPECT_EQ(ex.candidates_not_listed(), 200 - 61);
}

TEST(RoutingSnapshotTest, ABigPoolWithNobodyFreeIsSummarizedFromCounters) {
  std::vector<RepInput> reps;
  for (int i = 0; i < 100; ++i) {
    v1::Rep rep = Rep(absl::StrFormat("r%03d", i), "big", 1);
    if (i < 30) rep.set_status(v1::REP_STATUS_AWAY);
    reps.push_back(RepInput{rep, Load(1)});
  }
  RoutingSnapshot snap =
      Build(RuleSetOf({TeamRule("all", "big")}), std::move(reps));
  EXPECT_EQ(*snap.AvailableWithRoom("teams/big"), 0);
  const Decision d = snap.Decide(Lead("DE"), Monday10());
  EXPECT_FALSE(d.offered());
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_AWAY], 30);
  EXPECT_EQ(Counts(d.explanation())[v1::EXCLUSION_REASON_AT_CAPACITY], 70);
  EXPECT_EQ(d.explanation().candidates_size(), 50);
  EXPECT_EQ(d.explanation().candidates_not_listed(), 50);
  EXPECT_THAT(d.explanation().pick_reason(), HasSubstr("nobody in the pool"));
  ASSERT_TRUE(snap.SetLoad("reps/r050", Load(0)).ok());
  EXPECT_EQ(snap.Decide(Lead("DE"), Monday10()).rep, "reps/r050");
}

TEST(RoutingSnapshotTest, WeightedRoundRobinThroughTheSnapshot) {
  std::vector<v1::Rep> reps = {Rep("a", "t", 100), Rep("b", "t", 100),
                               Rep("c", "t", 100)};
  reps[0].set_weight(5);
  RoutingSnapshot snap = Build(
      RuleSetOf(
          {TeamRule("w", "t", v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN)}),
      Inputs(reps));
  EXPECT_THAT(Route(snap, Lead("DE"), 7),
              ElementsAre("reps/a", "reps/a", "reps/b", "reps/a", "reps/c",
                          "reps/a", "reps/a"));
  // b goes away for a while and returns without a backlog.
  reps[1].set_status(v1::REP_STATUS_AWAY);
  ASSERT_TRUE(snap.UpsertRep(reps[1], Load(1)).ok());
  Route(snap, Lead("DE"), 60);
  reps[1].set_status(v1::REP_STATUS_AVAILABLE);
  ASSERT_TRUE(snap.UpsertRep(reps[1], Load(1)).ok());
  const std::vector<std::string> next = Route(snap, Lead("DE"), 7);
  EXPECT_EQ(std::count(next.begin(), next.end(), "reps/b"), 1);

  absl::StatusOr<v1::PoolFairness> f = snap.Fairness("teams/t");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->assignments(), 74);
  ASSERT_EQ(f->reps_size(), 3);
  EXPECT_DOUBLE_EQ(f->reps(0).target_share(), 5.0 / 7);
  // b was due its share only while present, and got it.
  EXPECT_EQ(f->reps(1).assignments(), 2);
  EXPECT_NEAR(f->reps(1).expected_assignments(), 2.0, 0.01);
  EXPECT_EQ(snap.Fairness("teams/none").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RoutingSnapshotTest, LeastLoadedFollowsLoadsAndRotatesTies) {
  RoutingSnapshot snap = Build(
      RuleSetOf({TeamRule("ll", "t", v1::ROUTING_STRATEGY_LEAST_LOADED)}),
      {RepInput{Rep("a", "t", 4), Load(2)}, RepInput{Rep("b", "t", 8), Load(2)},
       RepInput{Rep("c", "t", 4), Load(1)}});
  // b (2/8) and c (1/4) tie at 25%: b. Then c (1/4 < 3/8), then b (3/8 <
  // 2/4), then a three-way tie at 50% goes to the first after b.
  EXPECT_THAT(Route(snap, Lead("DE"), 4),
              ElementsAre("reps/b", "reps/c", "reps/b", "reps/c"));
  // Equal loads everywhere: ties rotate after the last pick.
  RoutingSnapshot even =
      Build(RuleSetOf({TeamRule("ll", "t", v1::ROUTING_STRATEGY_LEAST_LOADED)}),
            Inputs({Rep("a", "t"), Rep("b", "t"), Rep("c", "t")}));
  EXPECT_THAT(
      Route(even, Lead("DE"), 6),
      ElementsAre("reps/a", "reps/b", "reps/c", "reps/a", "reps/b", "reps/c"));
  const Decision d = even.Decide(Lead("DE"), Monday10());
  EXPECT_THAT(d.explanation().pick_reason(), HasSubstr("tied with 2"));
}

TEST(RoutingSnapshotTest, TheRulesSlaPolicyAndPriorityComeWithTheDecision) {
  v1::RuleSet set = RuleSetOf({DeRule()});
  v1::SlaPolicy* fast = set.add_sla_policies();
  fast->set_name("fast");
  *fast->mutable_accept_within() = ToProtoDuration(absl::Hours(2));
  *fast->mutable_priority_accept_within() = ToProtoDuration(absl::Minutes(5));
  fast->mutable_priority()->add_mql_reasons("DEMO_REQUEST");
  set.mutable_rules(0)->set_sla_policy("fast");
  RoutingSnapshot snap = Build(set, Inputs({Rep("a", "dach")}));
  v1::LeadSummary lead = Lead("DE");
  EXPECT_FALSE(snap.Decide(lead, Monday10()).priority);
  lead.set_mql_reason("DEMO_REQUEST");
  const Decision d = snap.Decide(lead, Monday10());
  EXPECT_EQ(d.sla_policy, "fast");
  EXPECT_TRUE(d.priority);
  EXPECT_TRUE(d.explanation().priority());
  EXPECT_EQ(d.explanation().sla_policy(), "fast");
}

v1::Rep Managed(std::string_view id, std::string_view manager_id) {
  v1::Rep rep = Rep(id, "emea");
  rep.set_manager(absl::StrCat("reps/", Sv(manager_id)));
  return rep;
}

TEST(RoutingSnapshotTest, APoolsManagerIsTheOneMostMembersName) {
  const v1::RuleSet set = RuleSetOf({TeamRule("emea", "emea")});
  // "ghost" is named by most members but is not a rep: it cannot take a
  // lead, so it does not count.
  RoutingSnapshot snap =
      Build(set, Inputs({Managed("a", "zoe"), Managed("b", "max"),
                         Managed("c", "zoe"), Managed("d", "ghost"),
                         Managed("e", "ghost"), Managed("f", "ghost"),
                         Rep("max", "managers"), Rep("zoe", "managers")}));
  EXPECT_EQ(*snap.PoolManager("teams/emea"), "reps/zoe");

  // A tie goes to the first by name, whatever the members' order.
  snap = Build(set, Inputs({Managed("a", "zoe"), Managed("b", "max"),
                            Rep("max", "managers"), Rep("zoe", "managers")}));
  EXPECT_EQ(*snap.PoolManager("teams/emea"), "reps/max");

  snap = Build(set, Inputs({Managed("a", "ghost"), Rep("b", "emea")}));
  EXPECT_EQ(*snap.PoolManager("teams/emea"), "");
  EXPECT_EQ(snap.PoolManager("teams/nobody").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RoutingSnapshotTest, BuildRejectsInvalidInput) {
  EXPECT_EQ(RoutingSnapshot::Build(v1::RuleSet(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RoutingSnapshot::Build(RuleSetOf({}),
                                   Inputs({Rep("a", "t"), Rep("a", "u")}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  v1::Rep no_team = Rep("a", "");
  EXPECT_EQ(
      RoutingSnapshot::Build(RuleSetOf({}), Inputs({no_team})).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// Random rule sets, reps and leads: the indexed snapshot and the naive one
// (linear rule scan, every rep scanned) make identical decisions and
// explanations, committed in lockstep.
TEST(RoutingSnapshotTest, IndexedAndNaiveSnapshotsDecideAlike) {
  std::mt19937 rng(42);
  auto chance = [&rng](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  const std::vector<std::string> territories = {"DE",   "FR",   "US",
                                                "DACH", "EMEA", "APAC"};
  const std::vector<std::string> countries = {"DE", "AT", "FR", "US", "JP", ""};
  const std::vector<std::string> zones = {"", "Europe/Berlin",
                                          "America/New_York", "Asia/Tokyo"};
  const std::vector<std::string> personas = {"personas/a", "personas/b"};
  auto pick = [&rng](const std::vector<std::string>& from) {
    return from[rng() % from.size()];
  };
  const auto strategies = {v1::ROUTING_STRATEGY_ROUND_ROBIN,
                           v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN,
                           v1::ROUTING_STRATEGY_LEAST_LOADED};
  int decisions = 0;
  int offered = 0;
  for (int round = 0; round < 40; ++round) {
    const int teams = 1 + rng() % 5;
    // At most 50 reps, so no pool is big enough to be summarized.
    const int rep_count = 5 + rng() % 45;
    std::vector<RepInput> reps;
    for (int i = 0; i < rep_count; ++i) {
      v1::Rep rep = Rep(absl::StrCat("r", rng() % 1000, "-", i),
                        absl::StrCat("t", rng() % teams), 1 + rng() % 4);
      if (chance(15)) rep.set_status(v1::REP_STATUS_AWAY);
      if (chance(30)) rep.add_territories(pick(territories));
      if (chance(20))
        rep.add_segments(static_cast<v1::CompanySegment>(1 + rng() % 3));
      if (chance(30)) rep.add_persona_specialties(pick(personas));
      if (chance(20)) rep.set_daily_cap(1 + rng() % 5);
      rep.set_weight(rng() % 4);
      rep.set_time_zone(pick(zones));
      if (chance(40)) *rep.mutable_working_hours() = testing::OfficeHours();
      if (chance(10)) {
        v1::TimeRange* ooo = rep.add_out_of_office();
        const absl::Time start = Monday10() + absl::Hours(rng() % 48);
        *ooo->mutable_start_time() = ToProtoTime(start);
        *ooo->mutable_end_time() = ToProtoTime(start + absl::Hours(12));
      }
      reps.push_back(RepInput{rep, Load(static_cast<int32_t>(rng() % 3),
                                        static_cast<int32_t>(rng() % 3),
                                        absl::CivilDay(2026, 1, 5))});
    }
    std::vector<v1::RoutingRule> rules;
    const int rule_count = rng() % 30;
    for (int r = 0; r < rule_count; ++r) {
      v1::RoutingRule rule;
      if (chance(20)) {
        std::vector<std::string> ids;
        for (int k = 0; k < 3; ++k) {
          ids.push_back(
              std::string(reps[rng() % reps.size()].rep.name().substr(5)));
        }
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        if (chance(30)) ids.push_back(absl::StrCat("ghost", r));
        rule = PoolRule(absl::StrCat("p", r), ids);
      } else {
        rule = TeamRule(absl::StrCat("r", r),
                        absl::StrCat("t", rng() % (teams + 1)));
      }
      rule.set_strategy(*(strategies.begin() + rng() % 3));
      rule.set_only_in_working_hours(chance(50));
      rule.set_require_persona_specialty(chance(30));
      if (chance(60))
        rule.mutable_condition()->add_territories(pick(territories));
      if (chance(20)) rule.mutable_condition()->set_min_employees(100);
      if (chance(20)) rule.mutable_condition()->set_min_score(50);
      rules.push_back(rule);
    }
    const v1::RuleSet set = RuleSetOf(rules, round);
    RoutingSnapshot indexed = Build(set, reps);
    EngineOptions naive_options;
    naive_options.use_indexes = false;
    RoutingSnapshot naive = Build(set, reps, std::move(naive_options));
    for (int l = 0; l < 100; ++l) {
      v1::LeadSummary lead =
          Lead(pick(countries), chance(20) ? 0 : 1 + rng() % 2000);
      if (chance(60)) lead.set_persona(pick(personas));
      lead.set_score(rng() % 100);
      const absl::Time now = Monday10() + absl::Minutes(rng() % (3 * 24 * 60));
      std::vector<std::string> lapsed;
      if (chance(30)) lapsed.push_back(reps[rng() % reps.size()].rep.name());
      const Decision a = indexed.Decide(lead, now, lapsed);
      const Decision b = naive.Decide(lead, now, lapsed);
      ++decisions;
      ASSERT_EQ(a.rule, b.rule);
      ASSERT_EQ(a.rep, b.rep) << "round " << round << " lead " << l;
      // The rule lists differ by design: the index does not evaluate rules
      // of other territories, it counts them.
      v1::RoutingExplanation ea = a.explanation();
      v1::RoutingExplanation eb = b.explanation();
      ASSERT_EQ(eb.rules_skipped_by_territory(), 0);
      ASSERT_EQ(ea.rules_size() + ea.rules_skipped_by_territory(),
                eb.rules_size());
      int next = 0;
      for (const v1::RuleEvaluation& e : eb.rules()) {
        if (next < ea.rules_size() && ea.rules(next).rule() == e.rule()) {
          ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
              ea.rules(next), e));
          ++next;
        } else {
          ASSERT_EQ(e.condition(), "territory") << e.ShortDebugString();
        }
      }
      ASSERT_EQ(next, ea.rules_size());
      for (v1::RoutingExplanation* e : {&ea, &eb}) {
        e->clear_rules();
        e->clear_rules_skipped_by_territory();
      }
      ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ea, eb))
          << ea.ShortDebugString() << "\nvs\n"
          << eb.ShortDebugString();
      if (a.offered()) {
        ++offered;
        ASSERT_TRUE(indexed.Commit(a, now).ok());
        ASSERT_TRUE(naive.Commit(b, now).ok());
      }
      if (chance(5)) {
        // Capacity frees up now and then, as leads close.
        const v1::Rep& rep = reps[rng() % reps.size()].rep;
        ASSERT_TRUE(indexed.SetLoad(rep.name(), Load()).ok());
        ASSERT_TRUE(naive.SetLoad(rep.name(), Load()).ok());
      }
    }
  }
  EXPECT_EQ(decisions, 4000);
  EXPECT_GT(offered, 500);
  EXPECT_LT(offered, 3900);
}

}  // namespace
}  // namespace handoff::routing::engine
