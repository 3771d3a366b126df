#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "services/campaign/campaign_store.h"
#include "services/campaign/persona_fit.h"

namespace handoff::campaign {

// The outbox address of the MQL handoff. The payload is a
// handoff.routing.v1.RouteLeadRequest with request_id left empty: the
// handler sets it to the message's idempotency key.
inline constexpr std::string_view kRoutingDestination = "routing";
inline constexpr std::string_view kRouteLeadMethod = "RouteLead";

// Leads: capture with dedupe, engagement scoring and the MQL handoff, and
// the stage changes sales and deals report back.
class LeadBook {
 public:
  LeadBook(Database& db, const CampaignStore& store, Outbox& outbox,
           PersonaFit& persona, const Clock& clock, Metrics& metrics,
           int default_mql_threshold);

  absl::StatusOr<v1::CaptureLeadResponse> CaptureLead(
      const v1::CaptureLeadRequest& request);
  absl::StatusOr<v1::Lead> GetLead(const v1::GetLeadRequest& request);
  absl::StatusOr<v1::ListLeadsResponse> ListLeads(
      const v1::ListLeadsRequest& request);
  absl::StatusOr<v1::RecordEngagementResponse> RecordEngagement(
      const v1::RecordEngagementRequest& request);
  absl::StatusOr<v1::Lead> UpdateLeadStage(
      const v1::UpdateLeadStageRequest& request);

 private:
  // A persona answer for one profile; nullopt when persona could not be asked.
  struct Fit {
    persona::v1::LeadProfile profile;
    int score = 0;
    std::string persona;
  };
  std::optional<Fit> AskPersona(const persona::v1::LeadProfile& profile);
  // Takes `fit` when it was computed for the lead's current profile.
  static void ApplyFit(const std::optional<Fit>& fit, v1::Lead& lead);
  // `channel` is the one of the lead's campaign; UNSPECIFIED when the
  // campaign is gone.
  absl::Status EnqueueRouteLead(Transaction& tx, const v1::Lead& lead,
                                std::string_view reason, v1::Channel channel);

  Database& db_;
  const CampaignStore& store_;
  Outbox& outbox_;
  PersonaFit& persona_;
  const Clock& clock_;
  const int default_mql_threshold_;

  prometheus::Counter& leads_captured_;
  prometheus::Counter& lead_touches_;
  prometheus::Counter& persona_failures_;
  // Indexed by enum value; bounded label sets created up front.
  std::array<prometheus::Counter*, v1::EngagementType_ARRAYSIZE> engagements_{};
  std::array<prometheus::Counter*, v1::LeadStage_ARRAYSIZE> stage_changes_{};
  prometheus::Counter& mqls_by_score_;
  prometheus::Counter& mqls_by_demo_;
};

}  // namespace handoff::campaign
