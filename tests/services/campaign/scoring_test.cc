#include "services/campaign/scoring.h"

#include "gtest/gtest.h"

namespace handoff::campaign {
namespace {

TEST(ScoringTest, PointsPerEngagementType) {
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_EMAIL_OPEN), 1);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_EMAIL_CLICK), 3);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD), 10);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_WEBINAR_REGISTERED), 5);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_WEBINAR_ATTENDED), 15);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW), 10);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_FORM_SUBMIT), 5);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_EVENT_VISIT), 10);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_DEMO_REQUEST), 30);
  EXPECT_EQ(EngagementPoints(v1::ENGAGEMENT_TYPE_UNSPECIFIED), 0);
}

TEST(ScoringTest, ScoreIsEngagementPlusQuarterOfFit) {
  EXPECT_EQ(LeadScore(10, 99), 34);
  EXPECT_EQ(LeadScore(0, 100), 25);
  EXPECT_EQ(LeadScore(7, 3), 7);
}

TEST(ScoringTest, CampaignThresholdOverridesDefault) {
  v1::Campaign campaign;
  EXPECT_EQ(MqlThreshold(campaign, 50), 50);
  campaign.set_mql_threshold(20);
  EXPECT_EQ(MqlThreshold(campaign, 50), 20);
}

TEST(ScoringTest, LeadQualifiesAtThreshold) {
  EXPECT_FALSE(MqlReason(v1::LEAD_STAGE_LEAD,
                         v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD, 49, 50));
  EXPECT_EQ(MqlReason(v1::LEAD_STAGE_LEAD, v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD,
                      50, 50),
            kMqlReasonScore);
  EXPECT_EQ(
      MqlReason(v1::LEAD_STAGE_LEAD, v1::ENGAGEMENT_TYPE_EMAIL_OPEN, 90, 50),
      kMqlReasonScore);
}

TEST(ScoringTest, DemoRequestQualifiesOnItsOwn) {
  EXPECT_EQ(
      MqlReason(v1::LEAD_STAGE_LEAD, v1::ENGAGEMENT_TYPE_DEMO_REQUEST, 30, 50),
      kMqlReasonDemo);
  // Even when the score alone would also qualify, the demo is the reason.
  EXPECT_EQ(
      MqlReason(v1::LEAD_STAGE_LEAD, v1::ENGAGEMENT_TYPE_DEMO_REQUEST, 80, 50),
      kMqlReasonDemo);
}

TEST(ScoringTest, RecycledRequalifiesOnlyByDemoRequest) {
  EXPECT_FALSE(MqlReason(v1::LEAD_STAGE_RECYCLED,
                         v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW, 500, 50));
  EXPECT_EQ(MqlReason(v1::LEAD_STAGE_RECYCLED, v1::ENGAGEMENT_TYPE_DEMO_REQUEST,
                      31, 50),
            kMqlReasonDemo);
}

TEST(ScoringTest, LaterStagesNeverRequalify) {
  for (v1::LeadStage stage :
       {v1::LEAD_STAGE_MQL, v1::LEAD_STAGE_SAL, v1::LEAD_STAGE_SQL,
        v1::LEAD_STAGE_CUSTOMER, v1::LEAD_STAGE_DISQUALIFIED}) {
    EXPECT_FALSE(MqlReason(stage, v1::ENGAGEMENT_TYPE_DEMO_REQUEST, 500, 50))
        << v1::LeadStage_Name(stage);
    EXPECT_FALSE(MqlReason(stage, v1::ENGAGEMENT_TYPE_EMAIL_OPEN, 500, 50))
        << v1::LeadStage_Name(stage);
  }
}

}  // namespace
}  // namespace handoff::campaign
