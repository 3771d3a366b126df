#include "services/routing/engine/sla_choice.h"

#include "common/proto_time.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing::engine {

bool IsPriorityLead(const v1::SlaPolicy& policy, const v1::LeadSummary& lead) {
  const v1::SlaPriorityCondition& p = policy.priority();
  if (p.min_score() > 0 && lead.score() >= p.min_score()) return true;
  if (lead.mql_reason().empty()) return false;
  const std::string reason = CanonicalMqlReason(lead.mql_reason());
  for (const std::string& r : p.mql_reasons()) {
    if (CanonicalMqlReason(r) == reason) return true;
  }
  return false;
}

absl::Duration AcceptWindow(const v1::SlaPolicy& policy, bool priority) {
  if (priority && policy.has_priority_accept_within()) {
    return FromProtoDuration(policy.priority_accept_within());
  }
  return FromProtoDuration(policy.accept_within());
}

}  // namespace handoff::routing::engine
