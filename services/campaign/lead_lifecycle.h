#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/campaign/v1/campaign.pb.h"

// The lead lifecycle driven by feedback from sales and deals
// (UpdateLeadStage). Pure rules: no storage, no clock.
//
// Feedback arrives through other services' outboxes, so it may repeat and,
// between different senders (routing, deal), arrive out of order. An event
// that repeats, or that would move a lead backwards because it already moved
// on, changes nothing. An event for a lead that cannot have reached the
// event's stage yet (e.g. ACCEPTED for a lead that never was an MQL) is
// FAILED_PRECONDITION.
//
//   ACCEPTED: MQL -> SAL; no-op in SAL SQL CUSTOMER RECYCLED DISQUALIFIED
//   REJECTED: MQL -> RECYCLED, or DISQUALIFIED for DUPLICATE /
//     BAD_CONTACT_DATA; no-op in SAL SQL CUSTOMER RECYCLED DISQUALIFIED
//   REJECTED_REROUTED: MQL stays MQL, the rejection goes into history;
//     no-op in SAL SQL CUSTOMER RECYCLED DISQUALIFIED
//   RECYCLED: MQL SAL -> RECYCLED; no-op in SQL CUSTOMER RECYCLED
//     DISQUALIFIED
//   CONVERTED: MQL SAL -> SQL; no-op in SQL CUSTOMER, and in RECYCLED
//     DISQUALIFIED when it names the lead's deal
//   WON: SAL SQL -> CUSTOMER; no-op in CUSTOMER
//   LOST: SQL -> RECYCLED; no-op in CUSTOMER RECYCLED DISQUALIFIED
namespace handoff::campaign {

struct StagePlan {
  enum class Action {
    kApply,
    kNoOp,
    // An ACCEPTED that arrives after the deal already moved the lead on
    // (routing's and deal's feedback travel separately): the stage stays, the
    // acceptance (time, rep) is recorded so the funnel counts it.
    kRecordAcceptance,
    // A rejection routing answered by offering the lead to the next rep: the
    // lead stays an MQL, the rejection goes into history. Not a stage move.
    kRecordRejection,
  };
  Action action = Action::kNoOp;
  v1::LeadStage to = v1::LEAD_STAGE_UNSPECIFIED;
};

// Checks the request on its own: lead name, event, and the fields the event
// needs (reason for REJECTED, REJECTED_REROUTED, RECYCLED and LOST; deal for
// CONVERTED and WON; amount for WON). INVALID_ARGUMENT naming the field.
absl::Status ValidateStageRequest(const v1::UpdateLeadStageRequest& request);

// What `request` (already validated) does to `lead`; FAILED_PRECONDITION
// naming the lead, the event and the stages when the event does not fit.
absl::StatusOr<StagePlan> PlanStageChange(
    const v1::Lead& lead, const v1::UpdateLeadStageRequest& request);

// Applies a kApply, kRecordAcceptance or kRecordRejection plan: stage and
// history, and the facts the event carries (accept time and rep, deal, won
// amount). Leaves etag and update_time to the caller.
void ApplyStageChange(const StagePlan& plan,
                      const v1::UpdateLeadStageRequest& request,
                      absl::Time event_time, v1::Lead& lead);

// Appends one history entry.
void RecordStage(v1::Lead& lead, v1::LeadStage stage, absl::Time time,
                 std::string_view reason, std::string_view note = {},
                 v1::LeadEvent event = v1::LEAD_EVENT_UNSPECIFIED,
                 std::string_view rep = {});

// True when the lead's history shows a lost deal.
bool WasLost(const v1::Lead& lead);

}  // namespace handoff::campaign
