#include "common/listing.h"

#include <gtest/gtest.h>

#include "common/enums.h"
#include "common/ids.h"
#include "handoff/campaign/v1/campaign.pb.h"

namespace handoff {
namespace {

TEST(ParsePageTest, DefaultsCapsAndRejects) {
  EXPECT_EQ(ParsePage(0, "")->limit, 50);
  EXPECT_EQ(ParsePage(5000, "")->limit, 1000);
  EXPECT_EQ(ParsePage(-1, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePage(10, "garbage!").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePage(10, MakePageToken("0123abc"))->after_key, "0123abc");
}

TEST(ParseFilterTest, AndJoinedTermsWithQuotes) {
  auto terms = ParseFilter(R"(stage=MQL and campaign = "campaigns/x y")",
                           {"stage", "campaign"});
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_EQ(terms->at("stage"), "MQL");
  EXPECT_EQ(terms->at("campaign"), "campaigns/x y");
  EXPECT_TRUE(ParseFilter("", {"stage"})->empty());
}

TEST(ParseFilterTest, RejectsUnknownRepeatedAndMalformed) {
  for (const char* bad :
       {"color=red", "stage=MQL AND stage=SAL", "stage",
        "stage=MQL OR stage=SAL", "stage=MQL AND", "stage=\"x"}) {
    auto terms = ParseFilter(bad, {"stage"});
    EXPECT_EQ(terms.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(terms.status().message().find("filter"), std::string::npos);
  }
}

TEST(EnumsTest, ParsesShortAndFullNames) {
  const auto* type = campaign::v1::LeadStage_descriptor();
  EXPECT_EQ(*ParseEnumName("filter", "mql", type, "LEAD_STAGE_"),
            campaign::v1::LEAD_STAGE_MQL);
  EXPECT_EQ(*ParseEnumName("filter", "LEAD_STAGE_SAL", type, "LEAD_STAGE_"),
            campaign::v1::LEAD_STAGE_SAL);
  EXPECT_FALSE(
      ParseEnumName("filter", "UNSPECIFIED", type, "LEAD_STAGE_").ok());
  EXPECT_FALSE(ParseEnumName("filter", "nope", type, "LEAD_STAGE_").ok());
  EXPECT_EQ(ShortEnumName(campaign::v1::LEAD_STAGE_MQL, type, "LEAD_STAGE_"),
            "MQL");
  EXPECT_TRUE(CheckEnum("stage", 2, type).ok());
  EXPECT_EQ(CheckEnum("stage", 0, type).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEnum("stage", 0, type, true).ok());
  EXPECT_EQ(CheckEnum("stage", 99, type).message(), "stage: unknown value 99");
}

TEST(IdsTest, IdsSortByCreationAndNamesParse) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  const std::string a = NewId(t);
  const std::string b = NewId(t + absl::Microseconds(1));
  EXPECT_LT(a, b);
  EXPECT_NE(NewId(t), NewId(t));
  EXPECT_EQ(*ParseResourceName("lead", ResourceName("leads", a), "leads"), a);
  EXPECT_EQ(ParseResourceName("lead", "", "leads").status().message(),
            "lead: required");
  for (const char* bad : {"deals/x", "leads/", "leads/a/b", "leads/a b"}) {
    EXPECT_EQ(ParseResourceName("lead", bad, "leads").status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace handoff
