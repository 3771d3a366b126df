#include "services/campaign/campaign_book.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "campaign_fixture.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace handoff::campaign {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CampaignBookTest : public CampaignFixture {
 protected:
  v1::Campaign Valid() {
    v1::Campaign campaign;
    campaign.set_display_name("Q3 paid search");
    campaign.set_channel(v1::CHANNEL_PAID_SEARCH);
    campaign.add_target_personas("personas/cto");
    *campaign.mutable_budget() = MakeMoney("USD", 500000);
    *campaign.mutable_spend() = MakeMoney("USD", 1000);
    *campaign.mutable_start_time() = ToProtoTime(absl::FromUnixSeconds(1000));
    *campaign.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(2000));
    campaign.set_mql_threshold(40);
    return campaign;
  }

  absl::StatusOr<v1::Campaign> Create(const v1::Campaign& campaign,
                                      const std::string& request_id = "") {
    clock_.Advance(absl::Milliseconds(1));
    v1::CreateCampaignRequest request;
    *request.mutable_campaign() = campaign;
    request.set_request_id(request_id);
    return campaigns_->CreateCampaign(request);
  }

  std::vector<v1::Campaign> ListAll(const std::string& filter,
                                    int page_size = 0) {
    std::vector<v1::Campaign> all;
    v1::ListCampaignsRequest request;
    request.set_filter(filter);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<v1::ListCampaignsResponse> page =
          campaigns_->ListCampaigns(request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Campaign& c : page->campaigns()) all.push_back(c);
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
    return all;
  }
};

TEST_F(CampaignBookTest, CreateFillsOutputFieldsAndDefaultsToActive) {
  absl::StatusOr<v1::Campaign> created = Create(Valid());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_THAT(created->name(), StartsWith("campaigns/"));
  EXPECT_EQ(created->state(), v1::CAMPAIGN_STATE_ACTIVE);
  EXPECT_FALSE(created->etag().empty());
  EXPECT_EQ(FromProtoTime(created->create_time()), clock_.Now());

  v1::GetCampaignRequest get;
  get.set_name(created->name());
  absl::StatusOr<v1::Campaign> fetched = campaigns_->GetCampaign(get);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->SerializeAsString(), created->SerializeAsString());
}

TEST_F(CampaignBookTest, CreateIsIdempotentByRequestId) {
  absl::StatusOr<v1::Campaign> first = Create(Valid(), "req-1");
  absl::StatusOr<v1::Campaign> again = Create(Valid(), "req-1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->name(), again->name());
  EXPECT_EQ(ListAll("").size(), 1u);
}

TEST_F(CampaignBookTest, InvalidCampaignsNameTheFieldAndCreateNothing) {
  std::vector<std::pair<std::function<void(v1::Campaign&)>, std::string>>
      cases = {
          {[](auto& c) { c.set_display_name("  "); }, "campaign.display_name"},
          {[](auto& c) { c.set_display_name(std::string(201, 'x')); },
           "campaign.display_name"},
          {[](auto& c) { c.set_channel(v1::CHANNEL_UNSPECIFIED); },
           "campaign.channel"},
          {[](auto& c) { c.set_channel(v1::Channel(77)); }, "campaign.channel"},
          {[](auto& c) { c.set_state(v1::CampaignState(9)); },
           "campaign.state"},
          {[](auto& c) { c.add_target_personas("cto"); },
           "campaign.target_personas"},
          {[](auto& c) { c.add_target_personas("personas/cto"); },
           "campaign.target_personas"},
          {[](auto& c) { c.mutable_budget()->set_currency_code("us"); },
           "campaign.budget.currency_code"},
          {[](auto& c) { c.mutable_budget()->set_minor_units(-1); },
           "campaign.budget.minor_units"},
          {[](auto& c) { c.mutable_spend()->set_minor_units(-5); },
           "campaign.spend.minor_units"},
          {[](auto& c) { c.mutable_spend()->set_currency_code("EUR"); },
           "campaign.spend.currency_code"},
          {[](auto& c) {
             *c.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(1000));
           },
           "campaign.end_time"},
          {[](auto& c) { c.mutable_start_time()->set_nanos(-1); },
           "campaign.start_time"},
          {[](auto& c) { c.set_mql_threshold(-1); }, "campaign.mql_threshold"},
      };
  for (const auto& [mutate, field] : cases) {
    v1::Campaign campaign = Valid();
    mutate(campaign);
    absl::StatusOr<v1::Campaign> created = Create(campaign, "req-" + field);
    ASSERT_FALSE(created.ok()) << field;
    EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument)
        << field;
    EXPECT_THAT(Msg(created.status()), StartsWith(field + ": ")) << field;
  }
  EXPECT_TRUE(ListAll("").empty());
}

TEST_F(CampaignBookTest, GetUnknownOrMalformedName) {
  v1::GetCampaignRequest get;
  get.set_name("campaigns/nope");
  absl::StatusOr<v1::Campaign> missing = campaigns_->GetCampaign(get);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(missing.status()), HasSubstr("campaigns/nope"));
  get.set_name("leads/x");
  EXPECT_EQ(campaigns_->GetCampaign(get).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CampaignBookTest, UpdateHonoursMaskAndEtag) {
  v1::Campaign created = *Create(Valid());
  clock_.Advance(absl::Seconds(5));
  v1::UpdateCampaignRequest update;
  update.mutable_campaign()->set_name(created.name());
  update.mutable_campaign()->set_etag(created.etag());
  update.mutable_campaign()->set_display_name("Renamed");
  update.mutable_campaign()->set_mql_threshold(99);  // not in the mask
  *update.mutable_campaign()->mutable_spend() = MakeMoney("USD", 4000);
  update.mutable_update_mask()->add_paths("display_name");
  update.mutable_update_mask()->add_paths("spend");
  absl::StatusOr<v1::Campaign> updated = campaigns_->UpdateCampaign(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "Renamed");
  EXPECT_EQ(updated->spend().minor_units(), 4000);
  EXPECT_EQ(updated->mql_threshold(), 40);
  EXPECT_EQ(updated->channel(), v1::CHANNEL_PAID_SEARCH);
  EXPECT_NE(updated->etag(), created.etag());
  EXPECT_EQ(FromProtoTime(updated->update_time()), clock_.Now());

  // The old etag is stale now.
  absl::StatusOr<v1::Campaign> stale = campaigns_->UpdateCampaign(update);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
}

TEST_F(CampaignBookTest, UpdateRejectsUnknownPathsAndInvalidResults) {
  v1::Campaign created = *Create(Valid());
  v1::UpdateCampaignRequest update;
  update.mutable_campaign()->set_name(created.name());
  update.mutable_update_mask()->add_paths("channel");
  absl::StatusOr<v1::Campaign> bad_path = campaigns_->UpdateCampaign(update);
  EXPECT_EQ(bad_path.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(bad_path.status()), StartsWith("update_mask: "));

  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("spend");
  *update.mutable_campaign()->mutable_spend() = MakeMoney("EUR", 1);
  absl::StatusOr<v1::Campaign> bad_value = campaigns_->UpdateCampaign(update);
  EXPECT_EQ(bad_value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(bad_value.status()),
              StartsWith("campaign.spend.currency_code: "));

  v1::GetCampaignRequest get;
  get.set_name(created.name());
  EXPECT_EQ(campaigns_->GetCampaign(get)->SerializeAsString(),
            created.SerializeAsString());

  update.mutable_campaign()->set_name("campaigns/nope");
  EXPECT_EQ(campaigns_->UpdateCampaign(update).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CampaignBookTest, EmptyMaskReplacesEveryUpdatableField) {
  v1::Campaign created = *Create(Valid());
  v1::UpdateCampaignRequest update;
  *update.mutable_campaign() = Valid();
  update.mutable_campaign()->set_name(created.name());
  update.mutable_campaign()->set_state(v1::CAMPAIGN_STATE_PAUSED);
  update.mutable_campaign()->clear_target_personas();
  absl::StatusOr<v1::Campaign> updated = campaigns_->UpdateCampaign(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->state(), v1::CAMPAIGN_STATE_PAUSED);
  EXPECT_EQ(updated->target_personas_size(), 0);
  EXPECT_EQ(updated->create_time().seconds(), created.create_time().seconds());
}

TEST_F(CampaignBookTest, ListFiltersAndPages) {
  std::vector<std::string> webinars;
  for (int i = 0; i < 5; ++i) {
    v1::Campaign campaign = Valid();
    campaign.set_channel(i % 2 == 0 ? v1::CHANNEL_WEBINAR : v1::CHANNEL_EMAIL);
    campaign.set_state(i == 4 ? v1::CAMPAIGN_STATE_PAUSED
                              : v1::CAMPAIGN_STATE_ACTIVE);
    v1::Campaign created = *Create(campaign);
    if (i % 2 == 0) webinars.push_back(created.name());
  }
  std::vector<v1::Campaign> all = ListAll("", 2);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].name(), all[i].name());
  }
  std::vector<std::string> names;
  for (const v1::Campaign& c : ListAll("channel=WEBINAR", 1)) {
    names.push_back(c.name());
  }
  EXPECT_EQ(names, webinars);
  EXPECT_EQ(ListAll("state=PAUSED").size(), 1u);
  EXPECT_EQ(ListAll("state=CAMPAIGN_STATE_ACTIVE AND channel=webinar").size(),
            2u);

  v1::ListCampaignsRequest bad;
  bad.set_filter("state=SLEEPING");
  EXPECT_EQ(campaigns_->ListCampaigns(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.set_filter("owner=me");
  EXPECT_EQ(campaigns_->ListCampaigns(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.set_filter("");
  bad.set_page_token("garbage");
  EXPECT_EQ(campaigns_->ListCampaigns(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace handoff::campaign
