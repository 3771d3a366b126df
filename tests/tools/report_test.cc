#include "tools/handoffctl/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace handoff::ctl {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

type::Money M(std::string code, int64_t minor) {
  type::Money m;
  m.set_currency_code(code);
  m.set_minor_units(minor);
  return m;
}

TEST(FormatMoneyTest, MinorUnitsWithGroupingAndCurrency) {
  EXPECT_EQ(FormatMoney(M("USD", 123456)), "$1,234.56");
  EXPECT_EQ(FormatMoney(M("USD", 5)), "$0.05");
  EXPECT_EQ(FormatMoney(M("USD", 0)), "$0.00");
  EXPECT_EQ(FormatMoney(M("USD", 100000000)), "$1,000,000.00");
  EXPECT_EQ(FormatMoney(M("EUR", 99)), "0.99 EUR");
  EXPECT_EQ(FormatMoney(M("JPY", 1234567)), "1,234,567 JPY");
  EXPECT_EQ(FormatMoney(M("KWD", 1234)), "1.234 KWD");
  EXPECT_EQ(FormatMoney(M("", 250)), "2.50");
}

TEST(FormatMoneyTest, Negative) {
  EXPECT_EQ(FormatMoney(M("USD", -123456)), "-$1,234.56");
  EXPECT_EQ(FormatMoney(M("EUR", -1)), "-0.01 EUR");
  EXPECT_EQ(FormatMoney(M("USD", INT64_MIN)), "-$92,233,720,368,547,758.08");
}

TEST(FormatMoneyTest, PerCountIsNotApplicableForZeroDivisor) {
  EXPECT_EQ(FormatMoneyPer(M("USD", 0), 0), "n/a");
  EXPECT_EQ(FormatMoneyPer(M("USD", 40323), 31), "$403.23");
  EXPECT_EQ(FormatMoneyPer(M("USD", 0), 5), "$0.00");
}

TEST(FormatPercentTest, BasisPoints) {
  EXPECT_EQ(FormatBasisPoints(3690), "36.90%");
  EXPECT_EQ(FormatBasisPoints(10000), "100.00%");
  EXPECT_EQ(FormatBasisPoints(5), "0.05%");
  EXPECT_EQ(FormatBasisPoints(0), "0.00%");
  EXPECT_EQ(FormatBasisPoints(-4520), "-45.20%");
  EXPECT_EQ(FormatBasisPoints(135920), "1,359.20%");
}

TEST(FormatPercentTest, RatioIsNotApplicableForZeroDivisor) {
  EXPECT_EQ(FormatRatio(0, 0), "n/a");
  EXPECT_EQ(FormatRatio(0, 12), "0.00%");
  EXPECT_EQ(FormatRatio(8065, 31), "80.65%");
}

TEST(FormatPercentTest, FromCounts) {
  EXPECT_EQ(FormatPercent(1, 3), "33.33%");
  EXPECT_EQ(FormatPercent(2, 3), "66.67%");
  EXPECT_EQ(FormatPercent(3, 3), "100.00%");
  EXPECT_EQ(FormatPercent(0, 0), "n/a");
  EXPECT_EQ(FormatPercent(5, 0), "n/a");
  EXPECT_EQ(FormatPercent(-1, 3), "-33.33%");
}

TEST(FormatCountTest, Grouping) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(-1234), "-1,234");
}

TEST(ParseMoneyTest, ToMinorUnits) {
  auto m = ParseMoney("--amount", "12,500.5", "usd");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->currency_code(), "USD");
  EXPECT_EQ(m->minor_units(), 1250050);
  EXPECT_EQ(ParseMoney("--amount", "20000", "USD")->minor_units(), 2000000);
  EXPECT_EQ(ParseMoney("--amount", "0.07", "USD")->minor_units(), 7);
  EXPECT_EQ(ParseMoney("--amount", "1500", "JPY")->minor_units(), 1500);
  EXPECT_EQ(ParseMoney("--amount", "-3.25", "EUR")->minor_units(), -325);
}

TEST(ParseMoneyTest, RejectsMalformedNamingTheOption) {
  for (const char* bad : {"", "abc", "1.234", "12.3.4", "1e5", "$12"}) {
    auto m = ParseMoney("--budget", bad, "USD");
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("--budget"));
  }
  EXPECT_FALSE(ParseMoney("--amount", "1.5", "JPY").ok());
  EXPECT_FALSE(ParseMoney("--amount", "1", "US").ok());
  EXPECT_FALSE(ParseMoney("--amount", "1", "U$D").ok());
}

TEST(FormatTimestampTest, WholeSecondsUtc) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(1767603600);  // 2026-01-05 09:00:00 UTC
  ts.set_nanos(999000000);
  EXPECT_EQ(FormatTimestamp(ts), "2026-01-05T09:00:00Z");
}

campaign::v1::CampaignReport SampleReport() {
  campaign::v1::CampaignReport r;
  r.set_campaign("campaigns/abc");
  r.set_display_name("Webinar: Migrations");
  r.set_channel(campaign::v1::CHANNEL_WEBINAR);
  r.set_leads(84);
  r.set_mqls(31);
  r.set_accepted(25);
  r.set_deals(14);
  r.set_won(6);
  r.set_lost(3);
  r.set_recycled(7);
  r.set_disqualified(1);
  *r.mutable_spend() = M("USD", 1250000);
  *r.mutable_attributed_revenue() = M("USD", 18240000);
  *r.mutable_cost_per_lead() = M("USD", 14881);
  *r.mutable_cost_per_mql() = M("USD", 40323);
  r.set_roi_basis_points(135920);
  r.set_lead_to_mql_bp(3690);
  r.set_mql_to_accepted_bp(8065);
  r.set_accepted_to_deal_bp(5600);
  r.set_deal_to_won_bp(4286);
  return r;
}

TEST(FormatCampaignFunnelTest, RendersTheServiceNumbers) {
  std::string text = FormatCampaignFunnel(SampleReport());
  EXPECT_THAT(text, HasSubstr("Webinar: Migrations"));
  EXPECT_THAT(text, HasSubstr("WEBINAR"));
  EXPECT_THAT(text, HasSubstr("campaigns/abc"));
  EXPECT_THAT(text, ContainsRegex(R"(36\.90% +of leads)"));
  // One row per stage: count, bar, conversion from the stage before.
  EXPECT_THAT(text, ContainsRegex(R"(MQL +31 +#+ +36\.90% +of leads)"));
  EXPECT_THAT(text, ContainsRegex(R"(won +6 +#+ +42\.86% +of deals)"));
  EXPECT_THAT(text, ContainsRegex(R"(80\.65% +of MQL)"));
  EXPECT_THAT(text, ContainsRegex(R"(56\.00% +of accepted)"));
  EXPECT_THAT(text, ContainsRegex(R"(42\.86% +of deals)"));
  EXPECT_THAT(text, HasSubstr("$12,500.00"));
  EXPECT_THAT(text, HasSubstr("$182,400.00"));
  EXPECT_THAT(text, HasSubstr("$148.81"));
  EXPECT_THAT(text, HasSubstr("$403.23"));
  EXPECT_THAT(text, HasSubstr("1,359.20%"));
  EXPECT_THAT(text, HasSubstr("lost 3, now recycled 7, disqualified 1"));
  // The full-width bar belongs to the leads row.
  EXPECT_THAT(text, HasSubstr(std::string(30, '#')));
}

TEST(FormatCampaignFunnelTest, OtherNumbersOtherText) {
  auto r = SampleReport();
  r.set_mqls(40);
  r.set_lead_to_mql_bp(4762);
  r.set_roi_basis_points(-4520);
  std::string text = FormatCampaignFunnel(r);
  EXPECT_THAT(text, ContainsRegex(R"(47\.62% +of leads)"));
  EXPECT_THAT(text, HasSubstr("-45.20%"));
  EXPECT_THAT(text, Not(HasSubstr("36.90%")));
}

TEST(FormatCampaignFunnelTest, EmptyCampaignShowsNotApplicable) {
  campaign::v1::CampaignReport r;
  r.set_campaign("campaigns/new");
  r.set_display_name("Brand new");
  r.set_channel(campaign::v1::CHANNEL_EMAIL);
  std::string text = FormatCampaignFunnel(r);
  EXPECT_THAT(text, ContainsRegex(R"(MQL +0 +n/a +of leads)"));
  EXPECT_THAT(text, ContainsRegex(R"(n/a +of MQL)"));
  EXPECT_THAT(text, ContainsRegex(R"(n/a +of accepted)"));
  EXPECT_THAT(text, ContainsRegex(R"(n/a +of deals)"));
  EXPECT_THAT(text, Not(HasSubstr("#")));
  EXPECT_THAT(text,
              Not(HasSubstr("0.00%")));  // ROI without spend is n/a, not 0%
}

TEST(FormatCampaignTableTest, OneRowPerCampaign) {
  auto a = SampleReport();
  auto b = SampleReport();
  b.set_display_name("Paid search");
  b.set_channel(campaign::v1::CHANNEL_PAID_SEARCH);
  b.set_roi_basis_points(-2500);
  std::string text = FormatCampaignTable({a, b});
  EXPECT_THAT(text, HasSubstr("Webinar: Migrations"));
  EXPECT_THAT(text, HasSubstr("PAID_SEARCH"));
  EXPECT_THAT(text, HasSubstr("-25.00%"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

routing::v1::Assignment Offer(std::string name, std::string lead,
                              std::string rep,
                              routing::v1::AssignmentState state, int attempt,
                              int64_t offer_s, int64_t window_s,
                              int64_t accept_s = -1) {
  routing::v1::Assignment a;
  a.set_name(name);
  a.set_lead(lead);
  a.set_rep(rep);
  a.set_state(state);
  a.set_attempt(attempt);
  a.mutable_offer_time()->set_seconds(offer_s);
  a.mutable_accept_due_time()->set_seconds(offer_s + window_s);
  if (accept_s >= 0) a.mutable_accept_time()->set_seconds(accept_s);
  return a;
}

TEST(SummarizeSlaTest, CountsOutcomesAndRecycledLeads) {
  using namespace routing::v1;
  std::vector<Assignment> offers = {
      Offer("assignments/1", "leads/a", "reps/x", ASSIGNMENT_STATE_ACCEPTED, 1,
            100, 2, 101),
      Offer("assignments/2", "leads/b", "reps/x", ASSIGNMENT_STATE_BREACHED, 1,
            100, 2),
      Offer("assignments/3", "leads/b", "reps/y", ASSIGNMENT_STATE_CONVERTED, 2,
            102, 2, 103),
      Offer("assignments/4", "leads/c", "reps/y", ASSIGNMENT_STATE_REJECTED, 1,
            100, 2),
      Offer("assignments/5", "leads/d", "reps/x", ASSIGNMENT_STATE_BREACHED, 1,
            100, 2),
      Offer("assignments/6", "leads/d", "reps/y", ASSIGNMENT_STATE_BREACHED, 2,
            102, 2),
      Offer("assignments/7", "leads/e", "reps/x", ASSIGNMENT_STATE_PENDING, 1,
            104, 2),
      Offer("assignments/8", "leads/f", "reps/y", ASSIGNMENT_STATE_ACCEPTED, 1,
            100, 2, 105),
  };
  offers[3].set_reject_reason(REJECT_REASON_NOT_A_FIT);
  SlaSummary s = SummarizeSla(offers);
  EXPECT_EQ(s.offers, 8);
  EXPECT_EQ(s.leads, 6);
  EXPECT_EQ(s.accepted_in_time, 2);
  EXPECT_EQ(s.accepted_late, 1);
  EXPECT_EQ(s.converted, 1);
  EXPECT_EQ(s.breached, 3);
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.reoffers, 2);
  EXPECT_EQ(s.recycled_leads, 2);  // c (rejected) and d (breached twice)
  EXPECT_EQ(s.reject_reasons.at("NOT_A_FIT"), 1);
  EXPECT_EQ(s.accept_window, absl::Seconds(2));
  ASSERT_EQ(s.time_to_accept.size(), 3u);
  EXPECT_EQ(s.time_to_accept.front(), absl::Seconds(1));
  EXPECT_EQ(s.time_to_accept.back(), absl::Seconds(5));
  EXPECT_EQ(s.reps.at("reps/x").offers, 4);
  EXPECT_EQ(s.reps.at("reps/x").breached, 2);
  EXPECT_EQ(s.reps.at("reps/y").accepted, 2);
  EXPECT_EQ(s.reps.at("reps/y").rejected, 1);
}

TEST(SummarizeSlaTest, NoOffers) {
  SlaSummary s = SummarizeSla({});
  EXPECT_EQ(s.offers, 0);
  std::string text = FormatSlaSummary(s, {});
  EXPECT_THAT(text, HasSubstr("0 offers for 0 leads"));
  EXPECT_THAT(text, HasSubstr("n/a"));
  EXPECT_THAT(text, Not(HasSubstr("speed to lead")));
}

TEST(FormatSlaSummaryTest, ShowsCountsSharesAndRepNames) {
  using namespace routing::v1;
  std::vector<Assignment> offers = {
      Offer("assignments/1", "leads/a", "reps/x", ASSIGNMENT_STATE_ACCEPTED, 1,
            100, 2, 101),
      Offer("assignments/2", "leads/b", "reps/x", ASSIGNMENT_STATE_BREACHED, 1,
            100, 2),
      Offer("assignments/3", "leads/b", "reps/y", ASSIGNMENT_STATE_ACCEPTED, 2,
            102, 2, 102),
      Offer("assignments/4", "leads/c", "reps/y", ASSIGNMENT_STATE_REJECTED, 1,
            100, 2),
  };
  offers[3].set_reject_reason(REJECT_REASON_NO_BUDGET);
  std::string text =
      FormatSlaSummary(SummarizeSla(offers), {{"reps/x", "Ava Thompson"}});
  EXPECT_THAT(text, HasSubstr("4 offers for 3 leads, accept window 2.00s"));
  EXPECT_THAT(text, HasSubstr("50.00%"));  // accepted in time: 2 of 4
  EXPECT_THAT(text, HasSubstr("25.00%"));  // breached, rejected
  EXPECT_THAT(text, HasSubstr("NO_BUDGET 1"));
  EXPECT_THAT(text, HasSubstr("33.33%"));  // recycled: 1 of 3 leads
  EXPECT_THAT(text, HasSubstr("Ava Thompson"));
  EXPECT_THAT(text, HasSubstr("reps/y"));
  EXPECT_THAT(text, HasSubstr("median 0.00s"));
  EXPECT_THAT(text, Not(HasSubstr("accepted late")));
}

TEST(FormatDurationShortTest, Units) {
  EXPECT_EQ(FormatDurationShort(absl::Milliseconds(420)), "0.42s");
  EXPECT_EQ(FormatDurationShort(absl::Seconds(65)), "1m05s");
  EXPECT_EQ(FormatDurationShort(absl::Hours(2)), "2h00m");
}

}  // namespace
}  // namespace handoff::ctl
