#pragma once

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "services/campaign/campaign_store.h"

namespace handoff::campaign {

// Campaigns (create, read, list, update) and their funnel/ROI reports.
class CampaignBook {
 public:
  CampaignBook(Database& db, const CampaignStore& store, const Clock& clock)
      : db_(db), store_(store), clock_(clock) {}

  absl::StatusOr<v1::Campaign> CreateCampaign(
      const v1::CreateCampaignRequest& request);
  absl::StatusOr<v1::Campaign> GetCampaign(
      const v1::GetCampaignRequest& request);
  absl::StatusOr<v1::ListCampaignsResponse> ListCampaigns(
      const v1::ListCampaignsRequest& request);
  absl::StatusOr<v1::Campaign> UpdateCampaign(
      const v1::UpdateCampaignRequest& request);
  absl::StatusOr<v1::CampaignReport> GetCampaignReport(
      const v1::GetCampaignReportRequest& request);

 private:
  Database& db_;
  const CampaignStore& store_;
  const Clock& clock_;
};

// Checks every client-settable field of `campaign`; INVALID_ARGUMENT naming
// "campaign.<field>". Target personas are checked for form only: a campaign
// can be planned while the persona service is down.
absl::Status ValidateCampaign(const v1::Campaign& campaign);

}  // namespace handoff::campaign
