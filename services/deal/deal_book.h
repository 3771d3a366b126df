#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "handoff/deal/v1/deal.pb.h"
#include "services/deal/deal_store.h"

namespace handoff::deal {

// Routing's view of who accepted a lead.
class AcceptedLeads {
 public:
  virtual ~AcceptedLeads() = default;
  // The rep (reps/{rep}) holding an accepted assignment of `lead`; NOT_FOUND
  // when there is none; UNAVAILABLE (or another error) when routing cannot
  // say.
  virtual absl::StatusOr<std::string> AcceptedRep(std::string_view lead) = 0;
};

// Outbox destinations and methods the deal service sends.
inline constexpr char kCampaignDestination[] = "campaign";
inline constexpr char kUpdateLeadStageMethod[] = "UpdateLeadStage";
inline constexpr char kRoutingDestination[] = "routing";
inline constexpr char kRecordConversionMethod[] = "RecordConversion";

// Deals and their pipeline: the logic behind every DealService RPC.
class DealBook {
 public:
  // The store must be migrated. Creates its metric series.
  DealBook(DealStore& store, Outbox& outbox, AcceptedLeads& accepted_leads,
           const Clock& clock, Metrics& metrics);

  // Opens a deal at QUALIFICATION for a lead a rep accepted, and tells
  // campaign (converted) and routing (conversion) through the outbox.
  absl::StatusOr<v1::Deal> Create(const v1::CreateDealRequest& request);
  absl::StatusOr<v1::Deal> Get(const v1::GetDealRequest& request);
  absl::StatusOr<v1::ListDealsResponse> List(
      const v1::ListDealsRequest& request);
  // Moves an open deal forward.
  absl::StatusOr<v1::Deal> UpdateStage(
      const v1::UpdateDealStageRequest& request);
  // Won or lost; tells campaign the outcome through the outbox.
  absl::StatusOr<v1::Deal> Close(const v1::CloseDealRequest& request);

 private:
  // Counts a history entry into `stage` once its transaction commits.
  void CountStageChange(Transaction& tx, v1::DealStage stage);
  prometheus::Counter& WonMinorUnits(std::string_view currency);

  DealStore& store_;
  Outbox& outbox_;
  AcceptedLeads& accepted_leads_;
  const Clock& clock_;

  prometheus::Counter& created_;
  prometheus::Counter& won_;
  prometheus::Counter& lost_;
  // By currency; codes outside the known set share "other", so the label
  // stays bounded.
  std::map<std::string, prometheus::Counter*, std::less<>> won_minor_units_;
  prometheus::Counter* won_minor_units_other_;
  std::map<v1::DealStage, prometheus::Counter*> stage_changes_;
};

}  // namespace handoff::deal
