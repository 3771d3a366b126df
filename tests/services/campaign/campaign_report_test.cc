#include "services/campaign/campaign_report.h"

#include <limits>
#include <vector>

#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "services/campaign/lead_lifecycle.h"
#include "services/campaign/money.h"

namespace handoff::campaign {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(ReportArithmeticTest, RoiBasisPoints) {
  EXPECT_EQ(RoiBasisPoints(15000, 10000), 5000);   // +50%
  EXPECT_EQ(RoiBasisPoints(10000, 10000), 0);      // break-even
  EXPECT_EQ(RoiBasisPoints(0, 10000), -10000);     // all lost
  EXPECT_EQ(RoiBasisPoints(40000, 10000), 30000);  // +300%
  EXPECT_EQ(RoiBasisPoints(1, 3), -6666);          // truncated toward zero
  EXPECT_EQ(RoiBasisPoints(5, 3), 6666);
}

TEST(ReportArithmeticTest, RoiIsZeroWithoutSpend) {
  EXPECT_EQ(RoiBasisPoints(0, 0), 0);
  EXPECT_EQ(RoiBasisPoints(123456, 0), 0);
}

TEST(ReportArithmeticTest, RoiSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(RoiBasisPoints(kMax, 1), kMax);
  EXPECT_EQ(RoiBasisPoints(kMax, kMax), 0);
  EXPECT_EQ(RoiBasisPoints(0, kMax), -10000);
}

TEST(ReportArithmeticTest, BasisPoints) {
  EXPECT_EQ(BasisPoints(1, 3), 3333);
  EXPECT_EQ(BasisPoints(3, 3), 10000);
  EXPECT_EQ(BasisPoints(0, 3), 0);
  EXPECT_EQ(BasisPoints(5, 0), 0);
  EXPECT_EQ(BasisPoints(kMax, 1), kMax);
}

TEST(ReportArithmeticTest, CostPerIsIntegerDivisionAndUnsetForZero) {
  EXPECT_EQ(CostPer(1000, 3), 333);
  EXPECT_EQ(CostPer(0, 3), 0);
  EXPECT_EQ(CostPer(1000, 0), std::nullopt);
}

v1::Lead Lead(v1::LeadStage stage, bool mql, bool accepted, bool deal) {
  v1::Lead lead;
  lead.set_stage(stage);
  if (mql) *lead.mutable_mql_time() = ToProtoTime(absl::FromUnixSeconds(1));
  if (accepted)
    *lead.mutable_accept_time() = ToProtoTime(absl::FromUnixSeconds(2));
  if (deal) lead.set_deal("deals/d");
  return lead;
}

TEST(CampaignReportTest, CountsFunnelRevenueAndRoi) {
  v1::Campaign campaign;
  campaign.set_name("campaigns/c1");
  campaign.set_display_name("Spring webinar");
  campaign.set_channel(v1::CHANNEL_WEBINAR);
  *campaign.mutable_budget() = MakeMoney("USD", 100000);
  *campaign.mutable_spend() = MakeMoney("USD", 20000);

  std::vector<v1::Lead> leads;
  leads.push_back(Lead(v1::LEAD_STAGE_LEAD, false, false, false));
  leads.push_back(Lead(v1::LEAD_STAGE_MQL, true, false, false));
  leads.push_back(Lead(v1::LEAD_STAGE_SAL, true, true, false));
  v1::Lead won = Lead(v1::LEAD_STAGE_CUSTOMER, true, true, true);
  *won.mutable_won_amount() = MakeMoney("USD", 50000);
  leads.push_back(won);
  v1::Lead lost = Lead(v1::LEAD_STAGE_RECYCLED, true, true, true);
  RecordStage(lost, v1::LEAD_STAGE_RECYCLED, absl::FromUnixSeconds(3),
              "NO_BUDGET", "", v1::LEAD_EVENT_LOST);
  leads.push_back(lost);
  leads.push_back(Lead(v1::LEAD_STAGE_DISQUALIFIED, true, false, false));

  const v1::CampaignReport report = ComputeCampaignReport(campaign, leads);
  EXPECT_EQ(report.campaign(), "campaigns/c1");
  EXPECT_EQ(report.display_name(), "Spring webinar");
  EXPECT_EQ(report.channel(), v1::CHANNEL_WEBINAR);
  EXPECT_EQ(report.leads(), 6);
  EXPECT_EQ(report.mqls(), 5);
  EXPECT_EQ(report.accepted(), 3);
  EXPECT_EQ(report.deals(), 2);
  EXPECT_EQ(report.won(), 1);
  EXPECT_EQ(report.lost(), 1);
  EXPECT_EQ(report.recycled(), 1);
  EXPECT_EQ(report.disqualified(), 1);
  EXPECT_EQ(report.spend().currency_code(), "USD");
  EXPECT_EQ(report.spend().minor_units(), 20000);
  EXPECT_EQ(report.attributed_revenue().minor_units(), 50000);
  EXPECT_EQ(report.cost_per_lead().minor_units(), 3333);
  EXPECT_EQ(report.cost_per_mql().minor_units(), 4000);
  EXPECT_EQ(report.roi_basis_points(), 15000);
  EXPECT_EQ(report.lead_to_mql_bp(), 8333);
  EXPECT_EQ(report.mql_to_accepted_bp(), 6000);
  EXPECT_EQ(report.accepted_to_deal_bp(), 6666);
  EXPECT_EQ(report.deal_to_won_bp(), 5000);
}

TEST(CampaignReportTest, EmptyCampaignHasNoDivisionByZero) {
  v1::Campaign campaign;
  campaign.set_name("campaigns/c1");
  *campaign.mutable_budget() = MakeMoney("EUR", 5000);
  const v1::CampaignReport report = ComputeCampaignReport(campaign, {});
  EXPECT_EQ(report.leads(), 0);
  EXPECT_EQ(report.spend().currency_code(), "EUR");
  EXPECT_EQ(report.spend().minor_units(), 0);
  EXPECT_EQ(report.attributed_revenue().minor_units(), 0);
  EXPECT_FALSE(report.has_cost_per_lead());
  EXPECT_FALSE(report.has_cost_per_mql());
  EXPECT_EQ(report.roi_basis_points(), 0);
  EXPECT_EQ(report.lead_to_mql_bp(), 0);
  EXPECT_EQ(report.deal_to_won_bp(), 0);
}

TEST(CampaignReportTest, LeadsButNoMqlsLeaveCostPerMqlUnset) {
  v1::Campaign campaign;
  *campaign.mutable_spend() = MakeMoney("USD", 900);
  const v1::CampaignReport report = ComputeCampaignReport(
      campaign, {Lead(v1::LEAD_STAGE_LEAD, false, false, false),
                 Lead(v1::LEAD_STAGE_LEAD, false, false, false)});
  EXPECT_EQ(report.cost_per_lead().minor_units(), 450);
  EXPECT_FALSE(report.has_cost_per_mql());
  EXPECT_EQ(report.roi_basis_points(), -10000);
}

TEST(CampaignReportTest, RevenueInAnotherCurrencyIsLeftOut) {
  v1::Campaign campaign;
  *campaign.mutable_spend() = MakeMoney("USD", 1000);
  v1::Lead in_usd = Lead(v1::LEAD_STAGE_CUSTOMER, true, true, true);
  *in_usd.mutable_won_amount() = MakeMoney("USD", 3000);
  v1::Lead in_eur = Lead(v1::LEAD_STAGE_CUSTOMER, true, true, true);
  *in_eur.mutable_won_amount() = MakeMoney("EUR", 999999);
  const v1::CampaignReport report =
      ComputeCampaignReport(campaign, {in_usd, in_eur});
  EXPECT_EQ(report.won(), 2);
  EXPECT_EQ(report.attributed_revenue().currency_code(), "USD");
  EXPECT_EQ(report.attributed_revenue().minor_units(), 3000);
  EXPECT_EQ(report.won_other_currency(), 1);
  EXPECT_EQ(report.roi_basis_points(), 20000);
}

TEST(CampaignReportTest, CampaignWithoutMoneyTakesCurrencyOfFirstWin) {
  v1::Campaign campaign;
  v1::Lead won = Lead(v1::LEAD_STAGE_CUSTOMER, true, true, true);
  *won.mutable_won_amount() = MakeMoney("GBP", 700);
  const v1::CampaignReport report = ComputeCampaignReport(campaign, {won});
  EXPECT_EQ(report.attributed_revenue().currency_code(), "GBP");
  EXPECT_EQ(report.attributed_revenue().minor_units(), 700);
  EXPECT_EQ(report.spend().minor_units(), 0);
  EXPECT_EQ(report.roi_basis_points(), 0);

  const v1::CampaignReport none = ComputeCampaignReport(campaign, {});
  EXPECT_FALSE(none.has_spend());
  EXPECT_FALSE(none.has_attributed_revenue());
}

}  // namespace
}  // namespace handoff::campaign
