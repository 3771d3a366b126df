#include "tools/handoffctl/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(EnumTest, ShortNamesDropTheTypePrefix) {
  EXPECT_EQ(EnumShortName(campaign::v1::LeadStage_descriptor(),
                          campaign::v1::LEAD_STAGE_MQL),
            "MQL");
  EXPECT_EQ(EnumShortName(routing::v1::RejectReason_descriptor(),
                          routing::v1::REJECT_REASON_NOT_A_FIT),
            "NOT_A_FIT");
  EXPECT_EQ(EnumShortName(campaign::v1::LeadStage_descriptor(), 99), "99");
}

TEST(EnumTest, ParseAcceptsShortFullAndLowerCase) {
  const auto* type = campaign::v1::Channel_descriptor();
  EXPECT_EQ(*ParseEnumOption("--channel", "WEBINAR", type),
            campaign::v1::CHANNEL_WEBINAR);
  EXPECT_EQ(*ParseEnumOption("--channel", "paid_search", type),
            campaign::v1::CHANNEL_PAID_SEARCH);
  EXPECT_EQ(*ParseEnumOption("--channel", "CHANNEL_EVENT", type),
            campaign::v1::CHANNEL_EVENT);
}

TEST(EnumTest, ParseRejectsUnknownAndUnspecifiedNamingTheOption) {
  const auto* type = campaign::v1::Channel_descriptor();
  for (const char* bad : {"TV", "UNSPECIFIED", "CHANNEL_UNSPECIFIED", ""}) {
    auto v = ParseEnumOption("--channel", bad, type);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr("--channel"));
    EXPECT_THAT(std::string(v.status().message()), HasSubstr("WEBINAR"));
  }
}

TEST(ParseTimeOptionTest, DatesRfc3339AndRelative) {
  absl::Time now = absl::FromUnixSeconds(1767603600);  // 2026-01-05T09:00:00Z
  EXPECT_EQ(*ParseTimeOption("--end", "2026-03-31", now),
            absl::FromCivil(absl::CivilDay(2026, 3, 31), absl::UTCTimeZone()));
  EXPECT_EQ(*ParseTimeOption("--end", "2026-01-05T10:30:00+01:00", now),
            absl::FromUnixSeconds(1767605400));
  EXPECT_EQ(*ParseTimeOption("--end", "+30d", now), now + absl::Hours(24 * 30));
  EXPECT_EQ(*ParseTimeOption("--end", "-12h", now), now - absl::Hours(12));
  EXPECT_EQ(*ParseTimeOption("--end", "+90m", now), now + absl::Minutes(90));
  for (const char* bad : {"tomorrow", "+d", "+3w", "2026-13-01", ""}) {
    auto t = ParseTimeOption("--end", bad, now);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("--end"));
  }
}

TEST(QualifyNameTest, IdsGetTheCollection) {
  EXPECT_EQ(QualifyName("leads", "abc"), "leads/abc");
  EXPECT_EQ(QualifyName("leads", "leads/abc"), "leads/abc");
}

TEST(RenderMessageTest, SetFieldsOnlyReadably) {
  campaign::v1::Lead lead;
  lead.set_name("leads/1");
  lead.set_email("anna@x.example");
  lead.set_stage(campaign::v1::LEAD_STAGE_SAL);
  lead.set_score(57);
  lead.mutable_won_amount()->set_currency_code("USD");
  lead.mutable_won_amount()->set_minor_units(1250000);
  lead.mutable_mql_time()->set_seconds(1767603600);
  lead.mutable_profile()->set_country("DE");
  auto* h = lead.add_history();
  h->set_stage(campaign::v1::LEAD_STAGE_MQL);
  h->set_reason("DEMO_REQUEST");
  lead.add_history()->set_stage(campaign::v1::LEAD_STAGE_SAL);
  std::string text = RenderMessage(lead);
  EXPECT_THAT(text, HasSubstr("name: leads/1\n"));
  EXPECT_THAT(text, HasSubstr("stage: SAL\n"));
  EXPECT_THAT(text, HasSubstr("score: 57\n"));
  EXPECT_THAT(text, HasSubstr("won_amount: $12,500.00\n"));
  EXPECT_THAT(text, HasSubstr("mql_time: 2026-01-05T09:00:00Z\n"));
  EXPECT_THAT(text, HasSubstr("profile:\n  country: DE\n"));
  EXPECT_THAT(text, HasSubstr("history:\n  - stage: MQL\n    reason: "
                              "DEMO_REQUEST\n  - stage: SAL\n"));
  EXPECT_THAT(text, Not(HasSubstr("fit_score")));  // unset fields stay out
}

TEST(RenderJsonTest, ProtoJsonMapping) {
  campaign::v1::Lead lead;
  lead.set_name("leads/1");
  lead.set_stage(campaign::v1::LEAD_STAGE_MQL);
  lead.set_engagement_score(30);
  std::string json = RenderJson(lead);
  EXPECT_THAT(json, HasSubstr("\"name\": \"leads/1\""));
  EXPECT_THAT(json, HasSubstr("\"stage\": \"LEAD_STAGE_MQL\""));
  EXPECT_THAT(json, HasSubstr("\"engagementScore\": 30"));
}

TEST(TableTest, AlignsColumns) {
  Table t({"NAME", "N"});
  t.AlignRight(1);
  t.AddRow({"a", "1"});
  t.AddRow({"longer", "100"});
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Render(), "NAME      N\na         1\nlonger  100\n");
  EXPECT_EQ(t.Render(/*with_header=*/false), "a         1\nlonger  100\n");
}

}  // namespace
}  // namespace handoff::ctl
