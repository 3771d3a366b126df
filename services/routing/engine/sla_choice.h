#pragma once

#include "absl/time/time.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::routing::engine {

// Whether the lead gets the policy's priority window: a score at or above
// priority.min_score (when set) or an MQL reason among priority.mql_reasons.
bool IsPriorityLead(const v1::SlaPolicy& policy, const v1::LeadSummary& lead);

// The accept window in business time: priority_accept_within for priority
// leads when set, accept_within otherwise.
absl::Duration AcceptWindow(const v1::SlaPolicy& policy, bool priority);

}  // namespace handoff::routing::engine
