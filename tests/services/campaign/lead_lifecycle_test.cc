#include "services/campaign/lead_lifecycle.h"

#include <string>
#include <vector>

#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace handoff::campaign {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::UpdateLeadStageRequest Event(v1::LeadEvent event) {
  v1::UpdateLeadStageRequest request;
  request.set_lead("leads/l1");
  request.set_event(event);
  switch (event) {
    case v1::LEAD_EVENT_ACCEPTED:
      request.set_rep("reps/r1");
      break;
    case v1::LEAD_EVENT_REJECTED:
      request.set_reason("NOT_A_FIT");
      break;
    case v1::LEAD_EVENT_REJECTED_REROUTED:
      request.set_reason("NOT_A_FIT");
      request.set_note("wrong territory");
      request.set_rep("reps/r2");
      break;
    case v1::LEAD_EVENT_RECYCLED:
      request.set_reason("SLA_EXHAUSTED");
      break;
    case v1::LEAD_EVENT_CONVERTED:
      request.set_deal("deals/d1");
      break;
    case v1::LEAD_EVENT_WON:
      request.set_deal("deals/d1");
      request.mutable_amount()->set_currency_code("USD");
      request.mutable_amount()->set_minor_units(500000);
      break;
    case v1::LEAD_EVENT_LOST:
      request.set_deal("deals/d1");
      request.set_reason("NO_BUDGET");
      break;
    default:
      break;
  }
  return request;
}

v1::Lead LeadIn(v1::LeadStage stage) {
  v1::Lead lead;
  lead.set_name("leads/l1");
  lead.set_stage(stage);
  return lead;
}

// Expected outcome of one event in one stage.
struct Case {
  v1::LeadStage stage;
  v1::LeadEvent event;
  // UNSPECIFIED: no-op; -1: FAILED_PRECONDITION; -2: stage kept, rejection
  // recorded.
  int to;
};

constexpr int kNoOp = v1::LEAD_STAGE_UNSPECIFIED;
constexpr int kWrong = -1;
constexpr int kRecord = -2;

TEST(LeadLifecycleTest, TransitionTable) {
  using E = v1::LeadEvent;
  const E kEvents[] = {v1::LEAD_EVENT_ACCEPTED,
                       v1::LEAD_EVENT_REJECTED,
                       v1::LEAD_EVENT_RECYCLED,
                       v1::LEAD_EVENT_CONVERTED,
                       v1::LEAD_EVENT_WON,
                       v1::LEAD_EVENT_LOST,
                       v1::LEAD_EVENT_REJECTED_REROUTED};
  // Columns follow kEvents.
  const std::vector<std::pair<v1::LeadStage, std::vector<int>>> table = {
      {v1::LEAD_STAGE_LEAD,
       {kWrong, kWrong, kWrong, kWrong, kWrong, kWrong, kWrong}},
      {v1::LEAD_STAGE_MQL,
       {v1::LEAD_STAGE_SAL, v1::LEAD_STAGE_RECYCLED, v1::LEAD_STAGE_RECYCLED,
        v1::LEAD_STAGE_SQL, kWrong, kWrong, kRecord}},
      {v1::LEAD_STAGE_SAL,
       {kNoOp, kNoOp, v1::LEAD_STAGE_RECYCLED, v1::LEAD_STAGE_SQL,
        v1::LEAD_STAGE_CUSTOMER, kWrong, kNoOp}},
      {v1::LEAD_STAGE_SQL,
       {kNoOp, kNoOp, kNoOp, kNoOp, v1::LEAD_STAGE_CUSTOMER,
        v1::LEAD_STAGE_RECYCLED, kNoOp}},
      {v1::LEAD_STAGE_CUSTOMER,
       {kNoOp, kNoOp, kNoOp, kNoOp, kNoOp, kNoOp, kNoOp}},
      {v1::LEAD_STAGE_RECYCLED,
       {kNoOp, kNoOp, kNoOp, kWrong, kWrong, kNoOp, kNoOp}},
      {v1::LEAD_STAGE_DISQUALIFIED,
       {kNoOp, kNoOp, kNoOp, kWrong, kWrong, kNoOp, kNoOp}},
  };
  for (const auto& [stage, outcomes] : table) {
    for (size_t i = 0; i < std::size(kEvents); ++i) {
      v1::Lead lead = LeadIn(stage);
      // Leads past SAL were accepted, so a late ACCEPTED is a plain repeat.
      *lead.mutable_accept_time() = ToProtoTime(absl::FromUnixSeconds(1));
      const v1::UpdateLeadStageRequest request = Event(kEvents[i]);
      ASSERT_TRUE(ValidateStageRequest(request).ok());
      absl::StatusOr<StagePlan> plan = PlanStageChange(lead, request);
      const std::string label =
          v1::LeadStage_Name(stage) + " + " + v1::LeadEvent_Name(kEvents[i]);
      if (outcomes[i] == kWrong) {
        ASSERT_FALSE(plan.ok()) << label;
        EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition)
            << label;
      } else if (outcomes[i] == kNoOp) {
        ASSERT_TRUE(plan.ok()) << label << ": " << plan.status();
        EXPECT_EQ(plan->action, StagePlan::Action::kNoOp) << label;
      } else if (outcomes[i] == kRecord) {
        ASSERT_TRUE(plan.ok()) << label << ": " << plan.status();
        EXPECT_EQ(plan->action, StagePlan::Action::kRecordRejection) << label;
        EXPECT_EQ(plan->to, stage) << label;
      } else {
        ASSERT_TRUE(plan.ok()) << label << ": " << plan.status();
        EXPECT_EQ(plan->action, StagePlan::Action::kApply) << label;
        EXPECT_EQ(plan->to, outcomes[i]) << label;
      }
    }
  }
}

TEST(LeadLifecycleTest, WrongStateNamesLeadEventAndStages) {
  absl::StatusOr<StagePlan> plan = PlanStageChange(
      LeadIn(v1::LEAD_STAGE_LEAD), Event(v1::LEAD_EVENT_ACCEPTED));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(plan.status()),
              AllOf(StartsWith("leads/l1: "), HasSubstr("ACCEPTED"),
                    HasSubstr("stage MQL"), HasSubstr("stage LEAD")));
}

TEST(LeadLifecycleTest, RejectionForDuplicateOrBadDataDisqualifies) {
  for (const char* reason :
       {"DUPLICATE", "BAD_CONTACT_DATA", "REJECT_REASON_DUPLICATE"}) {
    v1::UpdateLeadStageRequest request = Event(v1::LEAD_EVENT_REJECTED);
    request.set_reason(reason);
    absl::StatusOr<StagePlan> plan =
        PlanStageChange(LeadIn(v1::LEAD_STAGE_MQL), request);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->to, v1::LEAD_STAGE_DISQUALIFIED) << reason;
  }
}

TEST(LeadLifecycleTest, ReroutedRejectionKeepsMqlAndGoesIntoHistory) {
  v1::Lead lead = LeadIn(v1::LEAD_STAGE_MQL);
  v1::UpdateLeadStageRequest request = Event(v1::LEAD_EVENT_REJECTED_REROUTED);
  request.set_rep("reps/r2");
  // DUPLICATE would disqualify on a plain REJECTED; routing still offers the
  // lead on, so it stays an MQL either way.
  for (const char* reason : {"NOT_A_FIT", "DUPLICATE"}) {
    v1::UpdateLeadStageRequest with_reason = request;
    with_reason.set_reason(reason);
    absl::StatusOr<StagePlan> plan = PlanStageChange(lead, with_reason);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->action, StagePlan::Action::kRecordRejection) << reason;
  }
  absl::StatusOr<StagePlan> plan = PlanStageChange(lead, request);
  ASSERT_TRUE(plan.ok());
  ApplyStageChange(*plan, request, absl::FromUnixSeconds(30), lead);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_MQL);
  ASSERT_EQ(lead.history_size(), 1);
  const v1::StageChange& change = lead.history(0);
  EXPECT_EQ(change.stage(), v1::LEAD_STAGE_MQL);
  EXPECT_EQ(change.event(), v1::LEAD_EVENT_REJECTED_REROUTED);
  EXPECT_EQ(change.reason(), "NOT_A_FIT");
  EXPECT_EQ(change.note(), "wrong territory");
  EXPECT_EQ(change.rep(), "reps/r2");
  EXPECT_EQ(FromProtoTime(change.time()), absl::FromUnixSeconds(30));
  // The rejecting rep is not the lead's rep, and nobody accepted yet.
  EXPECT_EQ(lead.rep(), "");
  EXPECT_FALSE(lead.has_accept_time());
}

TEST(LeadLifecycleTest, RepeatedConversionOfRecycledLeadIsNoOp) {
  v1::Lead lead = LeadIn(v1::LEAD_STAGE_RECYCLED);
  lead.set_deal("deals/d1");
  absl::StatusOr<StagePlan> plan =
      PlanStageChange(lead, Event(v1::LEAD_EVENT_CONVERTED));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->action, StagePlan::Action::kNoOp);
}

TEST(LeadLifecycleTest, LateAcceptanceIsRecordedWithoutMovingStage) {
  v1::Lead lead = LeadIn(v1::LEAD_STAGE_SQL);
  lead.set_deal("deals/d1");
  const v1::UpdateLeadStageRequest request = Event(v1::LEAD_EVENT_ACCEPTED);
  absl::StatusOr<StagePlan> plan = PlanStageChange(lead, request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->action, StagePlan::Action::kRecordAcceptance);
  ApplyStageChange(*plan, request, absl::FromUnixSeconds(100), lead);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_SQL);
  EXPECT_EQ(FromProtoTime(lead.accept_time()), absl::FromUnixSeconds(100));
  EXPECT_EQ(lead.rep(), "reps/r1");
  EXPECT_EQ(lead.history_size(), 0);
}

TEST(LeadLifecycleTest, ApplyRecordsFactsAndHistory) {
  v1::Lead lead = LeadIn(v1::LEAD_STAGE_MQL);
  v1::UpdateLeadStageRequest accepted = Event(v1::LEAD_EVENT_ACCEPTED);
  ApplyStageChange(*PlanStageChange(lead, accepted), accepted,
                   absl::FromUnixSeconds(10), lead);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_SAL);
  EXPECT_EQ(lead.rep(), "reps/r1");
  EXPECT_EQ(FromProtoTime(lead.accept_time()), absl::FromUnixSeconds(10));

  v1::UpdateLeadStageRequest won = Event(v1::LEAD_EVENT_WON);
  ApplyStageChange(*PlanStageChange(lead, won), won, absl::FromUnixSeconds(20),
                   lead);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(lead.deal(), "deals/d1");
  EXPECT_EQ(lead.won_amount().minor_units(), 500000);
  ASSERT_EQ(lead.history_size(), 2);
  EXPECT_EQ(lead.history(0).event(), v1::LEAD_EVENT_ACCEPTED);
  EXPECT_EQ(lead.history(1).stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(FromProtoTime(lead.history(1).time()), absl::FromUnixSeconds(20));
  EXPECT_FALSE(WasLost(lead));
}

TEST(LeadLifecycleTest, LostDealRecyclesAndIsRemembered) {
  v1::Lead lead = LeadIn(v1::LEAD_STAGE_SQL);
  const v1::UpdateLeadStageRequest lost = Event(v1::LEAD_EVENT_LOST);
  ApplyStageChange(*PlanStageChange(lead, lost), lost, absl::FromUnixSeconds(5),
                   lead);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_RECYCLED);
  EXPECT_EQ(lead.history(0).reason(), "NO_BUDGET");
  EXPECT_TRUE(WasLost(lead));
}

TEST(LeadLifecycleTest, ValidationNamesTheField) {
  struct Bad {
    v1::UpdateLeadStageRequest request;
    std::string field;
  };
  std::vector<Bad> cases;
  auto add = [&](v1::LeadEvent event, auto mutate, std::string field) {
    v1::UpdateLeadStageRequest request = Event(event);
    mutate(request);
    cases.push_back({request, field});
  };
  add(
      v1::LEAD_EVENT_ACCEPTED, [](auto& r) { r.set_lead("lead/1"); }, "lead");
  add(
      v1::LEAD_EVENT_ACCEPTED, [](auto& r) { r.set_event(v1::LeadEvent(0)); },
      "event");
  add(
      v1::LEAD_EVENT_ACCEPTED, [](auto& r) { r.set_event(v1::LeadEvent(42)); },
      "event");
  add(
      v1::LEAD_EVENT_ACCEPTED, [](auto& r) { r.set_rep("rep-1"); }, "rep");
  add(
      v1::LEAD_EVENT_REJECTED, [](auto& r) { r.clear_reason(); }, "reason");
  add(
      v1::LEAD_EVENT_REJECTED, [](auto& r) { r.set_reason("not a fit"); },
      "reason");
  add(
      v1::LEAD_EVENT_REJECTED_REROUTED, [](auto& r) { r.clear_reason(); },
      "reason");
  add(
      v1::LEAD_EVENT_REJECTED_REROUTED,
      [](auto& r) { r.set_reason("not a fit"); }, "reason");
  add(
      v1::LEAD_EVENT_REJECTED_REROUTED, [](auto& r) { r.set_rep("r2"); },
      "rep");
  add(
      v1::LEAD_EVENT_RECYCLED, [](auto& r) { r.clear_reason(); }, "reason");
  add(
      v1::LEAD_EVENT_LOST, [](auto& r) { r.clear_reason(); }, "reason");
  add(
      v1::LEAD_EVENT_CONVERTED, [](auto& r) { r.clear_deal(); }, "deal");
  add(
      v1::LEAD_EVENT_CONVERTED, [](auto& r) { r.set_deal("d1"); }, "deal");
  add(
      v1::LEAD_EVENT_WON, [](auto& r) { r.clear_deal(); }, "deal");
  add(
      v1::LEAD_EVENT_WON, [](auto& r) { r.clear_amount(); }, "amount");
  add(
      v1::LEAD_EVENT_WON,
      [](auto& r) { r.mutable_amount()->set_minor_units(-1); },
      "amount.minor_units");
  add(
      v1::LEAD_EVENT_WON,
      [](auto& r) { r.mutable_amount()->set_currency_code("usd"); },
      "amount.currency_code");
  add(
      v1::LEAD_EVENT_WON,
      [](auto& r) { r.mutable_amount()->set_currency_code("USDX"); },
      "amount.currency_code");
  add(
      v1::LEAD_EVENT_ACCEPTED,
      [](auto& r) { r.mutable_event_time()->set_nanos(-5); }, "event_time");
  for (const Bad& bad : cases) {
    absl::Status status = ValidateStageRequest(bad.request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << bad.request.ShortDebugString();
    EXPECT_THAT(Msg(status), StartsWith(bad.field + ": "))
        << bad.request.ShortDebugString();
  }
}

}  // namespace
}  // namespace handoff::campaign
