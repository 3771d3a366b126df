#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.pb.h"

namespace handoff::campaign {

// Campaign and lead rows. The only place that knows the SQL; every method
// runs inside the caller's transaction. Rows are keyed by resource id.
class CampaignStore {
 public:
  // Applies the campaign schema.
  static absl::Status Migrate(Database& db);

  struct CampaignQuery {
    std::string after_id;
    int limit = 50;
    std::optional<int> state;
    std::optional<int> channel;
  };
  struct LeadQuery {
    std::string after_id;
    int limit = 50;
    std::optional<int> stage;
    // campaigns/{id}
    std::optional<std::string> campaign;
  };

  absl::StatusOr<std::optional<v1::Campaign>> FindCampaign(
      Transaction& tx, std::string_view id) const;
  absl::Status InsertCampaign(Transaction& tx, std::string_view id,
                              const v1::Campaign& campaign) const;
  absl::Status UpdateCampaign(Transaction& tx, std::string_view id,
                              const v1::Campaign& campaign) const;
  // Up to query.limit rows with id > after_id, by id.
  absl::StatusOr<std::vector<v1::Campaign>> ListCampaigns(
      Transaction& tx, const CampaignQuery& query) const;

  absl::StatusOr<std::optional<v1::Lead>> FindLead(Transaction& tx,
                                                   std::string_view id) const;
  absl::StatusOr<std::optional<v1::Lead>> FindLeadByEmail(
      Transaction& tx, std::string_view normalized_email) const;
  // ALREADY_EXISTS when the normalized email is taken.
  absl::Status InsertLead(Transaction& tx, std::string_view id,
                          const v1::Lead& lead) const;
  absl::Status UpdateLead(Transaction& tx, std::string_view id,
                          const v1::Lead& lead) const;
  absl::StatusOr<std::vector<v1::Lead>> ListLeads(Transaction& tx,
                                                  const LeadQuery& query) const;
  // Every lead attributed to `campaign` (campaigns/{id}).
  absl::StatusOr<std::vector<v1::Lead>> LeadsOfCampaign(
      Transaction& tx, std::string_view campaign) const;
};

}  // namespace handoff::campaign
