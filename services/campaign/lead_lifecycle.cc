#include "services/campaign/lead_lifecycle.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "services/campaign/money.h"

namespace handoff::campaign {
namespace {

using v1::LeadEvent;
using v1::LeadStage;

constexpr size_t kMaxReason = 64;
constexpr size_t kMaxNote = 2000;

std::string StageName(LeadStage stage) {
  return ShortEnumName(stage, v1::LeadStage_descriptor(), "LEAD_STAGE_");
}

std::string EventName(LeadEvent event) {
  return ShortEnumName(event, v1::LeadEvent_descriptor(), "LEAD_EVENT_");
}

bool In(LeadStage stage, const std::vector<LeadStage>& stages) {
  for (LeadStage s : stages) {
    if (s == stage) return true;
  }
  return false;
}

absl::Status CheckReasonCode(std::string_view reason) {
  if (reason.size() > kMaxReason) {
    return InvalidField("reason", "longer than 64 characters");
  }
  for (char c : reason) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return InvalidField("reason",
                          "must be upper-case letters, digits and '_', e.g. "
                          "NOT_A_FIT");
    }
  }
  return absl::OkStatus();
}

// Routing sends its RejectReason short names; the full enum names are
// accepted too.
bool Disqualifies(std::string_view reason) {
  for (std::string_view code : {"DUPLICATE", "BAD_CONTACT_DATA"}) {
    if (reason == code ||
        reason == absl::StrCat("REJECT_REASON_", std::string(code))) {
      return true;
    }
  }
  return false;
}

StagePlan Apply(LeadStage to) { return {StagePlan::Action::kApply, to}; }
StagePlan NoOp() {
  return {StagePlan::Action::kNoOp, v1::LEAD_STAGE_UNSPECIFIED};
}

}  // namespace

absl::Status ValidateStageRequest(const v1::UpdateLeadStageRequest& request) {
  absl::StatusOr<std::string> lead_id =
      ParseResourceName("lead", request.lead(), "leads");
  if (!lead_id.ok()) return lead_id.status();
  if (absl::Status s =
          CheckEnum("event", request.event(), v1::LeadEvent_descriptor());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReasonCode(request.reason()); !s.ok()) return s;
  if (request.note().size() > kMaxNote) {
    return InvalidField("note", "longer than 2000 characters");
  }
  if (!request.rep().empty()) {
    absl::StatusOr<std::string> rep =
        ParseResourceName("rep", request.rep(), "reps");
    if (!rep.ok()) return rep.status();
  }
  if (!request.deal().empty()) {
    absl::StatusOr<std::string> deal =
        ParseResourceName("deal", request.deal(), "deals");
    if (!deal.ok()) return deal.status();
  }
  if (request.has_amount()) {
    if (absl::Status s = ValidateMoney("amount", request.amount()); !s.ok()) {
      return s;
    }
  }
  if (request.has_event_time()) {
    absl::StatusOr<absl::Time> t =
        ParseProtoTime("event_time", request.event_time());
    if (!t.ok()) return t.status();
  }
  const std::string event = EventName(request.event());
  switch (request.event()) {
    case v1::LEAD_EVENT_REJECTED:
    case v1::LEAD_EVENT_REJECTED_REROUTED:
    case v1::LEAD_EVENT_RECYCLED:
    case v1::LEAD_EVENT_LOST:
      if (request.reason().empty()) {
        return InvalidField("reason", absl::StrCat("required for ", event));
      }
      break;
    case v1::LEAD_EVENT_CONVERTED:
      if (request.deal().empty()) {
        return InvalidField("deal", absl::StrCat("required for ", event));
      }
      break;
    case v1::LEAD_EVENT_WON:
      if (request.deal().empty()) {
        return InvalidField("deal", absl::StrCat("required for ", event));
      }
      if (!request.has_amount()) {
        return InvalidField("amount", absl::StrCat("required for ", event));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<StagePlan> PlanStageChange(
    const v1::Lead& lead, const v1::UpdateLeadStageRequest& request) {
  using v1::LEAD_STAGE_CUSTOMER;
  using v1::LEAD_STAGE_DISQUALIFIED;
  using v1::LEAD_STAGE_MQL;
  using v1::LEAD_STAGE_RECYCLED;
  using v1::LEAD_STAGE_SAL;
  using v1::LEAD_STAGE_SQL;
  const LeadStage stage = lead.stage();
  // Named in the error when the event does not fit.
  std::vector<LeadStage> applies_in;
  switch (request.event()) {
    case v1::LEAD_EVENT_ACCEPTED:
      applies_in = {LEAD_STAGE_MQL};
      if (stage == LEAD_STAGE_MQL) return Apply(LEAD_STAGE_SAL);
      if (In(stage, {LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER}) &&
          !lead.has_accept_time()) {
        return StagePlan{StagePlan::Action::kRecordAcceptance, stage};
      }
      if (In(stage, {LEAD_STAGE_SAL, LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER,
                     LEAD_STAGE_RECYCLED, LEAD_STAGE_DISQUALIFIED})) {
        return NoOp();
      }
      break;
    case v1::LEAD_EVENT_REJECTED:
      applies_in = {LEAD_STAGE_MQL};
      if (stage == LEAD_STAGE_MQL) {
        return Apply(Disqualifies(request.reason()) ? LEAD_STAGE_DISQUALIFIED
                                                    : LEAD_STAGE_RECYCLED);
      }
      if (In(stage, {LEAD_STAGE_SAL, LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER,
                     LEAD_STAGE_RECYCLED, LEAD_STAGE_DISQUALIFIED})) {
        return NoOp();
      }
      break;
    case v1::LEAD_EVENT_REJECTED_REROUTED:
      // In later stages the round already ended, so the rejection is stale.
      applies_in = {LEAD_STAGE_MQL};
      if (stage == LEAD_STAGE_MQL) {
        return StagePlan{StagePlan::Action::kRecordRejection, LEAD_STAGE_MQL};
      }
      if (In(stage, {LEAD_STAGE_SAL, LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER,
                     LEAD_STAGE_RECYCLED, LEAD_STAGE_DISQUALIFIED})) {
        return NoOp();
      }
      break;
    case v1::LEAD_EVENT_RECYCLED:
      applies_in = {LEAD_STAGE_MQL, LEAD_STAGE_SAL};
      if (In(stage, applies_in)) return Apply(LEAD_STAGE_RECYCLED);
      if (In(stage, {LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER, LEAD_STAGE_RECYCLED,
                     LEAD_STAGE_DISQUALIFIED})) {
        return NoOp();
      }
      break;
    case v1::LEAD_EVENT_CONVERTED:
      applies_in = {LEAD_STAGE_MQL, LEAD_STAGE_SAL};
      if (In(stage, applies_in)) return Apply(LEAD_STAGE_SQL);
      if (In(stage, {LEAD_STAGE_SQL, LEAD_STAGE_CUSTOMER})) return NoOp();
      if (In(stage, {LEAD_STAGE_RECYCLED, LEAD_STAGE_DISQUALIFIED}) &&
          lead.deal() == request.deal()) {
        return NoOp();
      }
      break;
    case v1::LEAD_EVENT_WON:
      applies_in = {LEAD_STAGE_SAL, LEAD_STAGE_SQL};
      if (In(stage, applies_in)) return Apply(LEAD_STAGE_CUSTOMER);
      if (stage == LEAD_STAGE_CUSTOMER) return NoOp();
      break;
    case v1::LEAD_EVENT_LOST:
      applies_in = {LEAD_STAGE_SQL};
      if (stage == LEAD_STAGE_SQL) return Apply(LEAD_STAGE_RECYCLED);
      if (In(stage, {LEAD_STAGE_CUSTOMER, LEAD_STAGE_RECYCLED,
                     LEAD_STAGE_DISQUALIFIED})) {
        return NoOp();
      }
      break;
    default:
      return InvalidField("event", "unknown event");
  }
  std::vector<std::string> names;
  for (LeadStage s : applies_in) names.push_back(StageName(s));
  return WrongState(
      lead.name(),
      absl::StrCat(EventName(request.event()), " applies to a lead in stage ",
                   absl::StrJoin(names, " or "), ", this lead is in stage ",
                   StageName(stage)));
}

void RecordStage(v1::Lead& lead, LeadStage stage, absl::Time time,
                 std::string_view reason, std::string_view note,
                 LeadEvent event, std::string_view rep) {
  v1::StageChange* change = lead.add_history();
  change->set_stage(stage);
  *change->mutable_time() = ToProtoTime(time);
  change->set_reason(std::string(reason));
  change->set_note(std::string(note));
  change->set_event(event);
  change->set_rep(std::string(rep));
}

void ApplyStageChange(const StagePlan& plan,
                      const v1::UpdateLeadStageRequest& request,
                      absl::Time event_time, v1::Lead& lead) {
  if (plan.action == StagePlan::Action::kNoOp) return;
  if (plan.action == StagePlan::Action::kRecordRejection) {
    RecordStage(lead, lead.stage(), event_time, request.reason(),
                request.note(), request.event(), request.rep());
    return;
  }
  if (request.event() == v1::LEAD_EVENT_ACCEPTED) {
    *lead.mutable_accept_time() = ToProtoTime(event_time);
    if (!request.rep().empty()) lead.set_rep(request.rep());
  }
  if (plan.action == StagePlan::Action::kRecordAcceptance) return;
  switch (request.event()) {
    case v1::LEAD_EVENT_CONVERTED:
      lead.set_deal(request.deal());
      break;
    case v1::LEAD_EVENT_WON:
      lead.set_deal(request.deal());
      *lead.mutable_won_amount() = request.amount();
      break;
    default:
      break;
  }
  lead.set_stage(plan.to);
  RecordStage(lead, plan.to, event_time, request.reason(), request.note(),
              request.event(), request.rep());
}

bool WasLost(const v1::Lead& lead) {
  for (const v1::StageChange& change : lead.history()) {
    if (change.event() == v1::LEAD_EVENT_LOST) return true;
  }
  return false;
}

}  // namespace handoff::campaign
