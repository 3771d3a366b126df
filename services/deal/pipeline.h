#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "handoff/deal/v1/deal.pb.h"

// The deal pipeline's stage rules, free of storage and RPC concerns.
namespace handoff::deal {

// QUALIFICATION, DISCOVERY, PROPOSAL or NEGOTIATION.
bool IsOpenStage(v1::DealStage stage);
// CLOSED_WON or CLOSED_LOST.
bool IsClosedStage(v1::DealStage stage);

// "PROPOSAL" for DEAL_STAGE_PROPOSAL.
std::string_view StageName(v1::DealStage stage);

// Checks the `stage` of an UpdateDealStage request on its own: a defined open
// stage (closed stages are reached only through CloseDeal).
absl::Status CheckRequestedStage(int stage);

// Whether deal `deal_name`, now at `from`, may move to the open stage `to`:
// only an open deal, only forward.
absl::Status CheckStageMove(std::string_view deal_name, v1::DealStage from,
                            v1::DealStage to);

// Whether deal `deal_name` at `current` may be closed.
absl::Status CheckCanClose(std::string_view deal_name, v1::DealStage current);

// CLOSED_WON for WON, CLOSED_LOST for LOST.
v1::DealStage ClosedStageFor(v1::DealOutcome outcome);

}  // namespace handoff::deal
