#include "services/campaign/scoring.h"

namespace handoff::campaign {

using v1::EngagementType;
using v1::LeadStage;

int EngagementPoints(EngagementType type) {
  switch (type) {
    case v1::ENGAGEMENT_TYPE_EMAIL_OPEN:
      return 1;
    case v1::ENGAGEMENT_TYPE_EMAIL_CLICK:
      return 3;
    case v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD:
      return 10;
    case v1::ENGAGEMENT_TYPE_WEBINAR_REGISTERED:
      return 5;
    case v1::ENGAGEMENT_TYPE_WEBINAR_ATTENDED:
      return 15;
    case v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW:
      return 10;
    case v1::ENGAGEMENT_TYPE_FORM_SUBMIT:
      return 5;
    case v1::ENGAGEMENT_TYPE_EVENT_VISIT:
      return 10;
    case v1::ENGAGEMENT_TYPE_DEMO_REQUEST:
      return 30;
    default:
      return 0;
  }
}

int LeadScore(int engagement_score, int fit_score) {
  return engagement_score + fit_score / 4;
}

int MqlThreshold(const v1::Campaign& campaign, int default_threshold) {
  return campaign.mql_threshold() > 0 ? campaign.mql_threshold()
                                      : default_threshold;
}

std::optional<std::string_view> MqlReason(LeadStage stage, EngagementType type,
                                          int score, int threshold) {
  const bool demo = type == v1::ENGAGEMENT_TYPE_DEMO_REQUEST;
  switch (stage) {
    case v1::LEAD_STAGE_LEAD:
      if (demo) return kMqlReasonDemo;
      if (score >= threshold) return kMqlReasonScore;
      return std::nullopt;
    case v1::LEAD_STAGE_RECYCLED:
      if (demo) return kMqlReasonDemo;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace handoff::campaign
