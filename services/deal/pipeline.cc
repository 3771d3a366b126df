#include "services/deal/pipeline.h"

#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff::deal {

bool IsOpenStage(v1::DealStage stage) {
  switch (stage) {
    case v1::DEAL_STAGE_QUALIFICATION:
    case v1::DEAL_STAGE_DISCOVERY:
    case v1::DEAL_STAGE_PROPOSAL:
    case v1::DEAL_STAGE_NEGOTIATION:
      return true;
    default:
      return false;
  }
}

bool IsClosedStage(v1::DealStage stage) {
  return stage == v1::DEAL_STAGE_CLOSED_WON ||
         stage == v1::DEAL_STAGE_CLOSED_LOST;
}

std::string_view StageName(v1::DealStage stage) {
  std::string_view name = v1::DealStage_Name(stage);
  constexpr std::string_view kPrefix = "DEAL_STAGE_";
  if (name.substr(0, kPrefix.size()) == kPrefix)
    name.remove_prefix(kPrefix.size());
  return name;
}

absl::Status CheckRequestedStage(int stage) {
  if (absl::Status s = CheckEnum("stage", stage, v1::DealStage_descriptor());
      !s.ok()) {
    return s;
  }
  const auto requested = static_cast<v1::DealStage>(stage);
  if (IsClosedStage(requested)) {
    return InvalidField("stage",
                        absl::StrCat(Sv(StageName(requested)),
                                     " is reached only through CloseDeal"));
  }
  return absl::OkStatus();
}

absl::Status CheckStageMove(std::string_view deal_name, v1::DealStage from,
                            v1::DealStage to) {
  if (IsClosedStage(from)) {
    return WrongState(deal_name,
                      absl::StrCat("is closed (", Sv(StageName(from)),
                                   "); its stage cannot change"));
  }
  // Open stages are numbered in pipeline order.
  if (to == from) {
    return WrongState("stage", absl::StrCat(Sv(deal_name), " is already in ",
                                            Sv(StageName(from))));
  }
  if (to < from) {
    return WrongState("stage", absl::StrCat("cannot move ", Sv(deal_name),
                                            " from ", Sv(StageName(from)),
                                            " back to ", Sv(StageName(to))));
  }
  return absl::OkStatus();
}

absl::Status CheckCanClose(std::string_view deal_name, v1::DealStage current) {
  if (IsClosedStage(current)) {
    return WrongState(deal_name, absl::StrCat("is already closed (",
                                              Sv(StageName(current)), ")"));
  }
  return absl::OkStatus();
}

v1::DealStage ClosedStageFor(v1::DealOutcome outcome) {
  return outcome == v1::DEAL_OUTCOME_WON ? v1::DEAL_STAGE_CLOSED_WON
                                         : v1::DEAL_STAGE_CLOSED_LOST;
}

}  // namespace handoff::deal
