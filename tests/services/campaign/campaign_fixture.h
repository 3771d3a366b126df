#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/storage/database.h"
#include "gtest/gtest.h"
#include "services/campaign/campaign_book.h"
#include "services/campaign/campaign_store.h"
#include "services/campaign/lead_book.h"
#include "services/campaign/money.h"
#include "services/campaign/persona_fit.h"

namespace handoff::campaign {

// Status messages are absl::string_view, which gMock's string matchers do
// not take on this toolchain.
inline std::string Msg(const absl::Status& s) {
  return std::string(s.message());
}

// Answers like the persona service, or fails like an unreachable one.
class FakePersonaFit final : public PersonaFit {
 public:
  absl::StatusOr<persona::v1::MatchPersonaResponse> Match(
      const persona::v1::LeadProfile& profile) override {
    ++calls;
    last_profile = profile;
    if (!error.ok()) return error;
    persona::v1::MatchPersonaResponse response;
    if (score > 0) {
      persona::v1::PersonaMatch* match = response.add_matches();
      match->set_persona(persona);
      match->set_score(score);
    }
    return response;
  }

  absl::Status error;
  int score = 80;
  std::string persona = "personas/cto";
  int calls = 0;
  persona::v1::LeadProfile last_profile;
};

// The domain classes over an in-memory database, a fake clock and a fake
// persona service; the outbox is not started, so tests see its messages.
class CampaignFixture : public ::testing::Test {
 protected:
  static constexpr int kDefaultThreshold = 50;

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open({":memory:"});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(CampaignStore::Migrate(*db_).ok());
    outbox_ = std::make_unique<Outbox>(*db_, clock_, OutboxOptions{}, nullptr);
    campaigns_ = std::make_unique<CampaignBook>(*db_, store_, clock_);
    leads_ = std::make_unique<LeadBook>(*db_, store_, *outbox_, persona_,
                                        clock_, metrics_, kDefaultThreshold);
  }

  v1::Campaign NewCampaign(int mql_threshold = 0,
                           const std::string& currency = "USD") {
    v1::CreateCampaignRequest request;
    v1::Campaign& campaign = *request.mutable_campaign();
    campaign.set_display_name("Spring webinar");
    campaign.set_channel(v1::CHANNEL_WEBINAR);
    campaign.set_mql_threshold(mql_threshold);
    *campaign.mutable_budget() = MakeMoney(currency, 1000000);
    *campaign.mutable_spend() = MakeMoney(currency, 200000);
    clock_.Advance(absl::Milliseconds(1));
    absl::StatusOr<v1::Campaign> created = campaigns_->CreateCampaign(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Campaign());
  }

  v1::CaptureLeadRequest Capture(const std::string& campaign,
                                 const std::string& email) {
    v1::CaptureLeadRequest request;
    request.set_campaign(campaign);
    request.set_email(email);
    request.set_first_name("Ann");
    request.mutable_profile()->set_industry("software");
    request.mutable_profile()->set_employee_count(300);
    request.mutable_profile()->set_country("de");
    return request;
  }

  v1::Lead CaptureNew(const std::string& campaign, const std::string& email) {
    clock_.Advance(absl::Milliseconds(1));
    absl::StatusOr<v1::CaptureLeadResponse> response =
        leads_->CaptureLead(Capture(campaign, email));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->lead() : v1::Lead();
  }

  absl::StatusOr<v1::RecordEngagementResponse> Engage(
      const std::string& lead, v1::EngagementType type,
      const std::string& request_id = "") {
    v1::RecordEngagementRequest request;
    request.set_lead(lead);
    request.set_type(type);
    request.set_request_id(request_id);
    return leads_->RecordEngagement(request);
  }

  absl::StatusOr<v1::Lead> Feedback(const std::string& lead,
                                    v1::LeadEvent event,
                                    const std::string& reason = "",
                                    const std::string& deal = "",
                                    const std::string& request_id = "") {
    v1::UpdateLeadStageRequest request;
    request.set_lead(lead);
    request.set_event(event);
    request.set_reason(reason);
    request.set_deal(deal);
    request.set_request_id(request_id);
    if (event == v1::LEAD_EVENT_ACCEPTED) request.set_rep("reps/r1");
    return leads_->UpdateLeadStage(request);
  }

  absl::StatusOr<v1::Lead> Won(const std::string& lead, int64_t amount,
                               const std::string& currency = "USD") {
    v1::UpdateLeadStageRequest request;
    request.set_lead(lead);
    request.set_event(v1::LEAD_EVENT_WON);
    request.set_deal("deals/d1");
    *request.mutable_amount() = MakeMoney(currency, amount);
    return leads_->UpdateLeadStage(request);
  }

  v1::Lead Get(const std::string& name) {
    v1::GetLeadRequest request;
    request.set_name(name);
    absl::StatusOr<v1::Lead> lead = leads_->GetLead(request);
    EXPECT_TRUE(lead.ok()) << lead.status();
    return lead.value_or(v1::Lead());
  }

  size_t PendingCount() {
    absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_->Pending();
    EXPECT_TRUE(pending.ok()) << pending.status();
    return pending.ok() ? pending->size() : 0;
  }

  FakeClock clock_;
  Metrics metrics_{"campaign"};
  CampaignStore store_;
  FakePersonaFit persona_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<CampaignBook> campaigns_;
  std::unique_ptr<LeadBook> leads_;
};

}  // namespace handoff::campaign
