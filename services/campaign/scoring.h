#pragma once

#include <optional>
#include <string_view>

#include "handoff/campaign/v1/campaign.pb.h"

// Engagement scoring and the MQL rule. Pure functions: no storage, no clock.
namespace handoff::campaign {

inline constexpr std::string_view kMqlReasonScore = "SCORE_THRESHOLD";
inline constexpr std::string_view kMqlReasonDemo = "DEMO_REQUEST";

// Points one engagement of `type` adds to the engagement score.
int EngagementPoints(v1::EngagementType type);

// lead.score: behaviour counts fully, persona fit (0-100) adds up to 25.
int LeadScore(int engagement_score, int fit_score);

// The campaign's own threshold when set (> 0), else the service default.
int MqlThreshold(const v1::Campaign& campaign, int default_threshold);

// Why an engagement of `type` makes a lead in `stage` with `score` (already
// including this engagement) an MQL; nullopt when it does not.
//
// - LEAD qualifies by a demo request or by reaching the threshold.
// - RECYCLED qualifies again only by a demo request: sales already looked at
//   this lead and sent it back, so accumulated score alone (which only grows)
//   would bounce it straight back to sales on its next email open.
// - MQL, SAL, SQL, CUSTOMER and DISQUALIFIED never re-qualify; their
//   engagements only add score.
//
// Qualification is judged when the lead engages, never at capture: fit alone
// (at most 25 points) does not make an MQL.
std::optional<std::string_view> MqlReason(v1::LeadStage stage,
                                          v1::EngagementType type, int score,
                                          int threshold);

}  // namespace handoff::campaign
