#include "services/deal/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace handoff::deal {
namespace {

using ::testing::HasSubstr;

TEST(PipelineTest, ClassifiesStages) {
  for (v1::DealStage stage :
       {v1::DEAL_STAGE_QUALIFICATION, v1::DEAL_STAGE_DISCOVERY,
        v1::DEAL_STAGE_PROPOSAL, v1::DEAL_STAGE_NEGOTIATION}) {
    EXPECT_TRUE(IsOpenStage(stage)) << stage;
    EXPECT_FALSE(IsClosedStage(stage)) << stage;
  }
  for (v1::DealStage stage :
       {v1::DEAL_STAGE_CLOSED_WON, v1::DEAL_STAGE_CLOSED_LOST}) {
    EXPECT_FALSE(IsOpenStage(stage)) << stage;
    EXPECT_TRUE(IsClosedStage(stage)) << stage;
  }
  EXPECT_FALSE(IsOpenStage(v1::DEAL_STAGE_UNSPECIFIED));
  EXPECT_FALSE(IsClosedStage(v1::DEAL_STAGE_UNSPECIFIED));
  EXPECT_EQ(StageName(v1::DEAL_STAGE_PROPOSAL), "PROPOSAL");
}

TEST(PipelineTest, RequestedStageMustBeADefinedOpenStage) {
  EXPECT_TRUE(CheckRequestedStage(v1::DEAL_STAGE_DISCOVERY).ok());
  EXPECT_TRUE(CheckRequestedStage(v1::DEAL_STAGE_NEGOTIATION).ok());

  absl::Status missing = CheckRequestedStage(v1::DEAL_STAGE_UNSPECIFIED);
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("stage"));

  absl::Status unknown = CheckRequestedStage(42);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("stage"));

  for (int closed : {v1::DEAL_STAGE_CLOSED_WON, v1::DEAL_STAGE_CLOSED_LOST}) {
    absl::Status status = CheckRequestedStage(closed);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("stage: "));
    EXPECT_THAT(std::string(status.message()), HasSubstr("CloseDeal"));
  }
}

TEST(PipelineTest, OpenDealsMoveOnlyForward) {
  EXPECT_TRUE(CheckStageMove("deals/x", v1::DEAL_STAGE_QUALIFICATION,
                             v1::DEAL_STAGE_DISCOVERY)
                  .ok());
  // Skipping stages is fine; the order is what matters.
  EXPECT_TRUE(CheckStageMove("deals/x", v1::DEAL_STAGE_QUALIFICATION,
                             v1::DEAL_STAGE_NEGOTIATION)
                  .ok());

  absl::Status back = CheckStageMove("deals/x", v1::DEAL_STAGE_PROPOSAL,
                                     v1::DEAL_STAGE_DISCOVERY);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.message(),
            "stage: cannot move deals/x from PROPOSAL back to DISCOVERY");

  absl::Status same = CheckStageMove("deals/x", v1::DEAL_STAGE_PROPOSAL,
                                     v1::DEAL_STAGE_PROPOSAL);
  EXPECT_EQ(same.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(same.message()), HasSubstr("already in PROPOSAL"));
}

TEST(PipelineTest, ClosedDealsDoNotMove) {
  for (v1::DealStage closed :
       {v1::DEAL_STAGE_CLOSED_WON, v1::DEAL_STAGE_CLOSED_LOST}) {
    absl::Status status =
        CheckStageMove("deals/x", closed, v1::DEAL_STAGE_NEGOTIATION);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(status.message()), HasSubstr("deals/x"));
    EXPECT_THAT(std::string(status.message()), HasSubstr("closed"));

    absl::Status again = CheckCanClose("deals/x", closed);
    EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(again.message()), HasSubstr("already closed"));
  }
  EXPECT_TRUE(CheckCanClose("deals/x", v1::DEAL_STAGE_QUALIFICATION).ok());
  EXPECT_TRUE(CheckCanClose("deals/x", v1::DEAL_STAGE_NEGOTIATION).ok());
}

TEST(PipelineTest, OutcomeSelectsClosedStage) {
  EXPECT_EQ(ClosedStageFor(v1::DEAL_OUTCOME_WON), v1::DEAL_STAGE_CLOSED_WON);
  EXPECT_EQ(ClosedStageFor(v1::DEAL_OUTCOME_LOST), v1::DEAL_STAGE_CLOSED_LOST);
}

}  // namespace
}  // namespace handoff::deal
