#include "services/campaign/campaign_report.h"

#include <limits>
#include <string>

#include "services/campaign/lead_lifecycle.h"
#include "services/campaign/money.h"

namespace handoff::campaign {
namespace {

int64_t Saturate(__int128 value) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (value > kMax) return kMax;
  if (value < kMin) return kMin;
  return static_cast<int64_t>(value);
}

}  // namespace

int64_t BasisPoints(int64_t num, int64_t den) {
  if (den == 0) return 0;
  return Saturate(static_cast<__int128>(num) * 10000 / den);
}

int64_t RoiBasisPoints(int64_t revenue, int64_t spend) {
  if (spend == 0) return 0;
  const __int128 gain = static_cast<__int128>(revenue) - spend;
  return Saturate(gain * 10000 / spend);
}

std::optional<int64_t> CostPer(int64_t spend, int64_t count) {
  if (count == 0) return std::nullopt;
  return spend / count;
}

v1::CampaignReport ComputeCampaignReport(const v1::Campaign& campaign,
                                         const std::vector<v1::Lead>& leads) {
  v1::CampaignReport report;
  report.set_campaign(campaign.name());
  report.set_display_name(campaign.display_name());
  report.set_channel(campaign.channel());

  std::string currency = CampaignCurrency(campaign);
  __int128 revenue = 0;
  for (const v1::Lead& lead : leads) {
    report.set_leads(report.leads() + 1);
    if (lead.has_mql_time()) report.set_mqls(report.mqls() + 1);
    if (lead.has_accept_time()) report.set_accepted(report.accepted() + 1);
    if (!lead.deal().empty()) report.set_deals(report.deals() + 1);
    if (lead.stage() == v1::LEAD_STAGE_CUSTOMER) {
      report.set_won(report.won() + 1);
    }
    if (WasLost(lead)) report.set_lost(report.lost() + 1);
    if (lead.stage() == v1::LEAD_STAGE_RECYCLED) {
      report.set_recycled(report.recycled() + 1);
    }
    if (lead.stage() == v1::LEAD_STAGE_DISQUALIFIED) {
      report.set_disqualified(report.disqualified() + 1);
    }
    if (lead.has_won_amount()) {
      // A campaign without budget or spend takes the currency of its first
      // win, so its revenue still shows.
      if (currency.empty()) currency = lead.won_amount().currency_code();
      if (lead.won_amount().currency_code() == currency) {
        revenue += lead.won_amount().minor_units();
      } else {
        report.set_won_other_currency(report.won_other_currency() + 1);
      }
    }
  }

  report.set_lead_to_mql_bp(BasisPoints(report.mqls(), report.leads()));
  report.set_mql_to_accepted_bp(BasisPoints(report.accepted(), report.mqls()));
  report.set_accepted_to_deal_bp(
      BasisPoints(report.deals(), report.accepted()));
  report.set_deal_to_won_bp(BasisPoints(report.won(), report.deals()));

  if (currency.empty()) return report;  // No money anywhere to report.
  const int64_t spend = campaign.spend().minor_units();
  const int64_t revenue_units = Saturate(revenue);
  *report.mutable_spend() = MakeMoney(currency, spend);
  *report.mutable_attributed_revenue() = MakeMoney(currency, revenue_units);
  if (std::optional<int64_t> cpl = CostPer(spend, report.leads())) {
    *report.mutable_cost_per_lead() = MakeMoney(currency, *cpl);
  }
  if (std::optional<int64_t> cpm = CostPer(spend, report.mqls())) {
    *report.mutable_cost_per_mql() = MakeMoney(currency, *cpm);
  }
  report.set_roi_basis_points(RoiBasisPoints(revenue_units, spend));
  return report;
}

}  // namespace handoff::campaign
