#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "handoff/campaign/v1/campaign.pb.h"

// Campaign report arithmetic. Pure: no storage.
namespace handoff::campaign {

// num / den in basis points (10000 = 100%), truncated; 0 when den is 0.
int64_t BasisPoints(int64_t num, int64_t den);

// (revenue - spend) / spend in basis points, truncated toward zero; 0 when
// spend is 0. Saturates instead of overflowing on absurd amounts.
int64_t RoiBasisPoints(int64_t revenue, int64_t spend);

// spend / count in minor units, truncated; nullopt when count is 0.
std::optional<int64_t> CostPer(int64_t spend, int64_t count);

// The report of `campaign` over the leads attributed to it (first touch).
// Counts: leads; ever MQL (mql_time set); accepted (accept_time set); deals
// (deal set); won (CUSTOMER); lost (a LOST event in history); recycled and
// disqualified (current stage). Money is in the campaign's currency (budget,
// else spend). UpdateLeadStage rejects WON amounts in another currency, so
// every won amount counts; a lead won before the campaign had a currency in
// a different one is left out rather than added across currencies.
v1::CampaignReport ComputeCampaignReport(const v1::Campaign& campaign,
                                         const std::vector<v1::Lead>& leads);

}  // namespace handoff::campaign
