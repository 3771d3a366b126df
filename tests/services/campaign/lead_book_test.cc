#include "services/campaign/lead_book.h"

#include <set>
#include <string>
#include <vector>

#include "campaign_fixture.h"
#include "common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::campaign {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class LeadBookTest : public CampaignFixture {
 protected:
  void SetUp() override {
    CampaignFixture::SetUp();
    campaign_ = NewCampaign().name();
  }

  std::vector<v1::Lead> ListAll(const std::string& filter, int page_size = 0) {
    std::vector<v1::Lead> all;
    v1::ListLeadsRequest request;
    request.set_filter(filter);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<v1::ListLeadsResponse> page = leads_->ListLeads(request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Lead& lead : page->leads()) all.push_back(lead);
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
    return all;
  }

  // Engages until the lead is an MQL; returns the lead.
  v1::Lead MakeMql(const std::string& email) {
    v1::Lead lead = CaptureNew(campaign_, email);
    absl::StatusOr<v1::RecordEngagementResponse> demo =
        Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
    EXPECT_TRUE(demo.ok() && demo->became_mql());
    return demo.ok() ? demo->lead() : lead;
  }

  std::string Rendered() { return metrics_.Render(); }

  std::string campaign_;
};

TEST_F(LeadBookTest, CaptureCreatesLeadWithFitAndFirstTouch) {
  v1::CaptureLeadRequest request = Capture(campaign_, "  Ann.Lee@Example.com ");
  request.set_source("landing-page/pricing");
  absl::StatusOr<v1::CaptureLeadResponse> response =
      leads_->CaptureLead(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->created());
  const v1::Lead& lead = response->lead();
  EXPECT_THAT(lead.name(), StartsWith("leads/"));
  EXPECT_EQ(lead.email(), "Ann.Lee@Example.com");
  EXPECT_EQ(lead.normalized_email(), "ann.lee@example.com");
  EXPECT_EQ(lead.campaign(), campaign_);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_LEAD);
  EXPECT_EQ(lead.profile().country(), "DE");
  ASSERT_EQ(lead.touches_size(), 1);
  EXPECT_EQ(lead.touches(0).campaign(), campaign_);
  EXPECT_EQ(lead.touches(0).source(), "landing-page/pricing");
  EXPECT_EQ(lead.fit_score(), 80);
  EXPECT_EQ(lead.persona(), "personas/cto");
  EXPECT_FALSE(lead.fit_pending());
  EXPECT_EQ(lead.score(), 20);
  ASSERT_EQ(lead.history_size(), 1);
  EXPECT_EQ(lead.history(0).stage(), v1::LEAD_STAGE_LEAD);
  EXPECT_EQ(persona_.last_profile.industry(), "software");
  EXPECT_EQ(Get(lead.name()).SerializeAsString(), lead.SerializeAsString());
  EXPECT_THAT(Rendered(), HasSubstr("handoff_leads_captured_total 1"));
}

TEST_F(LeadBookTest, SecondCaptureOfSamePersonAddsTouch) {
  v1::Lead first = CaptureNew(campaign_, "ann@example.com");
  const std::string other = NewCampaign().name();
  v1::CaptureLeadRequest again = Capture(other, " ANN@example.COM");
  again.set_first_name("Annette");  // known already: not overwritten
  again.set_company("Acme");        // unknown so far: filled in
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<v1::CaptureLeadResponse> response = leads_->CaptureLead(again);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->created());
  const v1::Lead& lead = response->lead();
  EXPECT_EQ(lead.name(), first.name());
  EXPECT_EQ(lead.campaign(), campaign_);  // first touch keeps the lead
  ASSERT_EQ(lead.touches_size(), 2);
  EXPECT_EQ(lead.touches(1).campaign(), other);
  EXPECT_EQ(lead.first_name(), "Ann");
  EXPECT_EQ(lead.company(), "Acme");
  EXPECT_NE(lead.etag(), first.etag());
  EXPECT_EQ(ListAll("").size(), 1u);
  EXPECT_THAT(Rendered(), HasSubstr("handoff_lead_touches_total 1"));
}

TEST_F(LeadBookTest, CaptureIsIdempotentByRequestId) {
  v1::CaptureLeadRequest request = Capture(campaign_, "bo@example.com");
  request.set_request_id("form-123");
  absl::StatusOr<v1::CaptureLeadResponse> first = leads_->CaptureLead(request);
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::CaptureLeadResponse> retry = leads_->CaptureLead(request);
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_TRUE(retry->created());
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Get(first->lead().name()).touches_size(), 1);
}

TEST_F(LeadBookTest, ReplayedCaptureOfAFitPendingLeadDoesNotAskPersona) {
  persona_.error = absl::UnavailableError("persona down");
  v1::CaptureLeadRequest request = Capture(campaign_, "cy@example.com");
  request.set_request_id("form-456");
  absl::StatusOr<v1::CaptureLeadResponse> first = leads_->CaptureLead(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->lead().fit_pending());
  const int calls = persona_.calls;

  persona_.error = absl::OkStatus();
  absl::StatusOr<v1::CaptureLeadResponse> replay = leads_->CaptureLead(request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(persona_.calls, calls);
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());
}

TEST_F(LeadBookTest, CaptureRejectsBadInputAndChangesNothing) {
  struct Case {
    v1::CaptureLeadRequest request;
    absl::StatusCode code;
    std::string prefix;
  };
  std::vector<Case> cases;
  cases.push_back({Capture(campaign_, "not-an-email"),
                   absl::StatusCode::kInvalidArgument, "email: "});
  cases.push_back(
      {Capture(campaign_, ""), absl::StatusCode::kInvalidArgument, "email: "});
  cases.push_back({Capture("campaign/x", "a@example.com"),
                   absl::StatusCode::kInvalidArgument, "campaign: "});
  cases.push_back({Capture("campaigns/nope", "a@example.com"),
                   absl::StatusCode::kNotFound, "campaigns/nope"});
  v1::CaptureLeadRequest bad_country = Capture(campaign_, "a@example.com");
  bad_country.mutable_profile()->set_country("DEU");
  cases.push_back(
      {bad_country, absl::StatusCode::kInvalidArgument, "profile.country: "});
  v1::CaptureLeadRequest bad_size = Capture(campaign_, "a@example.com");
  bad_size.mutable_profile()->set_employee_count(-3);
  cases.push_back({bad_size, absl::StatusCode::kInvalidArgument,
                   "profile.employee_count: "});
  v1::CaptureLeadRequest bad_seniority = Capture(campaign_, "a@example.com");
  bad_seniority.mutable_profile()->set_seniority(persona::v1::Seniority(99));
  cases.push_back({bad_seniority, absl::StatusCode::kInvalidArgument,
                   "profile.seniority: "});
  v1::CaptureLeadRequest long_name = Capture(campaign_, "a@example.com");
  long_name.set_last_name(std::string(201, 'x'));
  cases.push_back(
      {long_name, absl::StatusCode::kInvalidArgument, "last_name: "});
  for (const Case& c : cases) {
    absl::StatusOr<v1::CaptureLeadResponse> response =
        leads_->CaptureLead(c.request);
    ASSERT_FALSE(response.ok()) << c.prefix;
    EXPECT_EQ(response.status().code(), c.code) << c.prefix;
    EXPECT_THAT(Msg(response.status()), StartsWith(c.prefix));
  }
  EXPECT_TRUE(ListAll("").empty());
  EXPECT_EQ(persona_.calls, 0);
}

TEST_F(LeadBookTest, CompletedCampaignTakesNoLeads) {
  v1::UpdateCampaignRequest update;
  update.mutable_campaign()->set_name(campaign_);
  update.mutable_campaign()->set_state(v1::CAMPAIGN_STATE_COMPLETED);
  update.mutable_update_mask()->add_paths("state");
  ASSERT_TRUE(campaigns_->UpdateCampaign(update).ok());
  absl::StatusOr<v1::CaptureLeadResponse> response =
      leads_->CaptureLead(Capture(campaign_, "late@example.com"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(response.status()), HasSubstr(campaign_));
  EXPECT_TRUE(ListAll("").empty());
}

TEST_F(LeadBookTest, PersonaDownKeepsLeadAndRetriesOnEngagement) {
  persona_.error = absl::UnavailableError("persona down");
  v1::Lead lead = CaptureNew(campaign_, "cy@example.com");
  EXPECT_TRUE(lead.fit_pending());
  EXPECT_EQ(lead.fit_score(), 0);
  EXPECT_EQ(lead.score(), 0);
  EXPECT_EQ(persona_.calls, 1);

  // Still down: the engagement counts, the fit stays pending.
  absl::StatusOr<v1::RecordEngagementResponse> open =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_EMAIL_OPEN);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_TRUE(open->lead().fit_pending());
  EXPECT_EQ(open->lead().score(), 1);
  EXPECT_EQ(persona_.calls, 2);

  persona_.error = absl::OkStatus();
  persona_.score = 60;
  absl::StatusOr<v1::RecordEngagementResponse> click =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_EMAIL_CLICK);
  ASSERT_TRUE(click.ok()) << click.status();
  EXPECT_FALSE(click->lead().fit_pending());
  EXPECT_EQ(click->lead().fit_score(), 60);
  EXPECT_EQ(click->lead().persona(), "personas/cto");
  EXPECT_EQ(click->lead().score(), 4 + 15);
  EXPECT_EQ(persona_.last_profile.country(), "DE");

  // Known fit: persona is not asked again.
  ASSERT_TRUE(Engage(lead.name(), v1::ENGAGEMENT_TYPE_EMAIL_OPEN).ok());
  EXPECT_EQ(persona_.calls, 3);
  EXPECT_THAT(Rendered(), HasSubstr("handoff_persona_match_failures_total 2"));
}

TEST_F(LeadBookTest, ReplayedEngagementOnAFitPendingLeadDoesNotAskPersona) {
  persona_.error = absl::UnavailableError("persona down");
  v1::Lead lead = CaptureNew(campaign_, "replay@example.com");
  ASSERT_TRUE(lead.fit_pending());
  absl::StatusOr<v1::RecordEngagementResponse> first =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_EMAIL_OPEN, "engage-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->lead().fit_pending());
  const int calls = persona_.calls;

  // The stored answer comes back before the lead is looked at.
  persona_.error = absl::OkStatus();
  absl::StatusOr<v1::RecordEngagementResponse> replay =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_EMAIL_OPEN, "engage-1");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(persona_.calls, calls);
  EXPECT_EQ(replay->lead().score(), 1);
  EXPECT_TRUE(replay->lead().fit_pending());
}

TEST_F(LeadBookTest, DedupedCaptureWithNewProfileAsksPersonaAgain) {
  v1::CaptureLeadRequest sparse;
  sparse.set_campaign(campaign_);
  sparse.set_email("dee@example.com");
  persona_.score = 10;
  ASSERT_TRUE(leads_->CaptureLead(sparse).ok());
  persona_.score = 92;
  absl::StatusOr<v1::CaptureLeadResponse> richer =
      leads_->CaptureLead(Capture(campaign_, "dee@example.com"));
  ASSERT_TRUE(richer.ok());
  EXPECT_EQ(richer->lead().profile().industry(), "software");
  EXPECT_EQ(richer->lead().fit_score(), 92);
  EXPECT_EQ(richer->lead().score(), 23);
  // Same profile once more: no new question.
  ASSERT_TRUE(leads_->CaptureLead(Capture(campaign_, "dee@example.com")).ok());
  EXPECT_EQ(persona_.calls, 2);
}

TEST_F(LeadBookTest, DefaultThresholdMakesMqlAndEnqueuesOneRouteLead) {
  persona_.score = 0;
  v1::Lead lead = CaptureNew(campaign_, "eve@example.com");
  for (int i = 1; i <= 4; ++i) {
    absl::StatusOr<v1::RecordEngagementResponse> r =
        Engage(lead.name(), v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->points_added(), 10);
    EXPECT_FALSE(r->became_mql());
    EXPECT_EQ(r->lead().stage(), v1::LEAD_STAGE_LEAD);
  }
  EXPECT_EQ(PendingCount(), 0u);
  absl::StatusOr<v1::RecordEngagementResponse> fifth =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD);
  ASSERT_TRUE(fifth.ok());
  EXPECT_TRUE(fifth->became_mql());
  EXPECT_EQ(fifth->lead().score(), 50);
  EXPECT_EQ(fifth->lead().stage(), v1::LEAD_STAGE_MQL);
  EXPECT_TRUE(fifth->lead().has_mql_time());
  EXPECT_EQ(fifth->lead().history().rbegin()->reason(), "SCORE_THRESHOLD");
  EXPECT_EQ(fifth->lead().engagement_count(), 5);

  absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const OutboxMessage& message = pending->front();
  EXPECT_EQ(message.destination, "routing");
  EXPECT_EQ(message.method, "RouteLead");
  routing::v1::RouteLeadRequest route;
  ASSERT_TRUE(route.ParseFromString(message.payload));
  EXPECT_EQ(route.request_id(), "");
  EXPECT_EQ(route.lead(), lead.name());
  EXPECT_EQ(route.lead_summary().score(), 50);
  EXPECT_EQ(route.lead_summary().campaign(), campaign_);
  EXPECT_EQ(route.lead_summary().mql_reason(), "SCORE_THRESHOLD");
  EXPECT_EQ(route.lead_summary().campaign_channel(), "WEBINAR");
  EXPECT_EQ(route.lead_summary().profile().industry(), "software");

  // Further engagements of an MQL only add score.
  absl::StatusOr<v1::RecordEngagementResponse> more =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(more->became_mql());
  EXPECT_EQ(more->lead().score(), 80);
  EXPECT_EQ(PendingCount(), 1u);
  EXPECT_THAT(Rendered(),
              HasSubstr("handoff_mqls_total{reason=\"SCORE_THRESHOLD\"} 1"));
  EXPECT_THAT(
      Rendered(),
      HasSubstr("handoff_engagements_total{type=\"CONTENT_DOWNLOAD\"} 5"));
}

// Routing rules match on the channel of the lead's own (first-touch) campaign,
// not the one that drove the qualifying engagement.
TEST_F(LeadBookTest, RouteLeadCarriesChannelOfLeadsCampaign) {
  v1::CreateCampaignRequest create;
  create.mutable_campaign()->set_display_name("Search ads");
  create.mutable_campaign()->set_channel(v1::CHANNEL_PAID_SEARCH);
  absl::StatusOr<v1::Campaign> search = campaigns_->CreateCampaign(create);
  ASSERT_TRUE(search.ok()) << search.status();
  v1::Lead lead = CaptureNew(search->name(), "abe@example.com");
  v1::RecordEngagementRequest demo;
  demo.set_lead(lead.name());
  demo.set_type(v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
  demo.set_campaign(campaign_);  // the webinar
  absl::StatusOr<v1::RecordEngagementResponse> engaged =
      leads_->RecordEngagement(demo);
  ASSERT_TRUE(engaged.ok()) << engaged.status();
  ASSERT_TRUE(engaged->became_mql());

  absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_->Pending();
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 1u);
  routing::v1::RouteLeadRequest route;
  ASSERT_TRUE(route.ParseFromString(pending->front().payload));
  EXPECT_EQ(route.lead_summary().campaign(), search->name());
  EXPECT_EQ(route.lead_summary().campaign_channel(), "PAID_SEARCH");
}

TEST_F(LeadBookTest, CampaignThresholdOverridesDefault) {
  persona_.score = 0;
  const std::string eager = NewCampaign(/*mql_threshold=*/20).name();
  v1::Lead lead = CaptureNew(eager, "fay@example.com");
  ASSERT_FALSE(
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW)->became_mql());
  absl::StatusOr<v1::RecordEngagementResponse> second =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_PRICING_PAGE_VIEW);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->became_mql());
  EXPECT_EQ(PendingCount(), 1u);
}

TEST_F(LeadBookTest, FitCountsTowardsThreshold) {
  persona_.score = 100;  // +25
  v1::Lead lead = CaptureNew(campaign_, "gus@example.com");
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_LEAD);  // fit alone never qualifies
  ASSERT_FALSE(
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_WEBINAR_ATTENDED)->became_mql());
  EXPECT_TRUE(
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_CONTENT_DOWNLOAD)->became_mql());
}

TEST_F(LeadBookTest, DemoRequestAloneMakesMql) {
  persona_.score = 0;
  v1::Lead lead = CaptureNew(campaign_, "hal@example.com");
  absl::StatusOr<v1::RecordEngagementResponse> demo =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
  ASSERT_TRUE(demo.ok());
  EXPECT_TRUE(demo->became_mql());
  EXPECT_EQ(demo->lead().score(), 30);
  EXPECT_EQ(demo->lead().history().rbegin()->reason(), "DEMO_REQUEST");
  absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_->Pending();
  ASSERT_EQ(pending->size(), 1u);
  routing::v1::RouteLeadRequest route;
  ASSERT_TRUE(route.ParseFromString(pending->front().payload));
  EXPECT_EQ(route.lead_summary().mql_reason(), "DEMO_REQUEST");
  EXPECT_THAT(Rendered(),
              HasSubstr("handoff_mqls_total{reason=\"DEMO_REQUEST\"} 1"));
}

TEST_F(LeadBookTest, RecycledLeadRequalifiesOnlyByDemoRequest) {
  v1::Lead lead = MakeMql("ida@example.com");
  absl::StatusOr<v1::Lead> rejected =
      Feedback(lead.name(), v1::LEAD_EVENT_REJECTED, "NOT_A_FIT");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->stage(), v1::LEAD_STAGE_RECYCLED);

  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<v1::RecordEngagementResponse> r =
        Engage(lead.name(), v1::ENGAGEMENT_TYPE_WEBINAR_ATTENDED);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->became_mql());
    EXPECT_EQ(r->lead().stage(), v1::LEAD_STAGE_RECYCLED);
  }
  EXPECT_EQ(PendingCount(), 1u);
  absl::StatusOr<v1::RecordEngagementResponse> demo =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
  ASSERT_TRUE(demo.ok());
  EXPECT_TRUE(demo->became_mql());
  EXPECT_EQ(demo->lead().stage(), v1::LEAD_STAGE_MQL);
  EXPECT_EQ(PendingCount(), 2u);
}

TEST_F(LeadBookTest, EngagementIsIdempotentByRequestId) {
  persona_.score = 0;
  v1::Lead lead = CaptureNew(campaign_, "jo@example.com");
  absl::StatusOr<v1::RecordEngagementResponse> first =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST, "evt-1");
  absl::StatusOr<v1::RecordEngagementResponse> retry =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST, "evt-1");
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Get(lead.name()).engagement_score(), 30);
  EXPECT_EQ(PendingCount(), 1u);
}

TEST_F(LeadBookTest, EngagementValidation) {
  v1::Lead lead = CaptureNew(campaign_, "kim@example.com");
  absl::StatusOr<v1::RecordEngagementResponse> unknown =
      Engage("leads/nope", v1::ENGAGEMENT_TYPE_EMAIL_OPEN);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(unknown.status()), HasSubstr("leads/nope"));
  absl::StatusOr<v1::RecordEngagementResponse> no_type =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_UNSPECIFIED);
  EXPECT_EQ(no_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(no_type.status()), StartsWith("type: "));

  v1::RecordEngagementRequest request;
  request.set_lead(lead.name());
  request.set_type(v1::ENGAGEMENT_TYPE_EMAIL_OPEN);
  request.set_campaign("campaigns/nope");
  EXPECT_EQ(leads_->RecordEngagement(request).status().code(),
            absl::StatusCode::kNotFound);
  request.set_campaign("nope");
  EXPECT_EQ(leads_->RecordEngagement(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(lead.name()).engagement_count(), 0);
}

TEST_F(LeadBookTest, FeedbackWalksTheFunnelAndReportShowsRevenue) {
  v1::Lead lead = MakeMql("lou@example.com");
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::Lead> accepted =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->stage(), v1::LEAD_STAGE_SAL);
  EXPECT_EQ(accepted->rep(), "reps/r1");
  EXPECT_EQ(FromProtoTime(accepted->accept_time()), clock_.Now());

  absl::StatusOr<v1::Lead> converted =
      Feedback(lead.name(), v1::LEAD_EVENT_CONVERTED, "", "deals/d1");
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->stage(), v1::LEAD_STAGE_SQL);
  EXPECT_EQ(converted->deal(), "deals/d1");

  absl::StatusOr<v1::Lead> won = Won(lead.name(), 600000);
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_EQ(won->stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(won->won_amount().minor_units(), 600000);
  // LEAD, MQL, SAL, SQL, CUSTOMER.
  ASSERT_EQ(won->history_size(), 5);
  EXPECT_EQ(won->history(4).event(), v1::LEAD_EVENT_WON);

  // A second lead is lost, a third stays a lead.
  v1::Lead lost = MakeMql("max@example.com");
  ASSERT_TRUE(
      Feedback(lost.name(), v1::LEAD_EVENT_CONVERTED, "", "deals/d2").ok());
  ASSERT_TRUE(
      Feedback(lost.name(), v1::LEAD_EVENT_LOST, "NO_BUDGET", "deals/d2").ok());
  CaptureNew(campaign_, "ned@example.com");

  v1::GetCampaignReportRequest request;
  request.set_campaign(campaign_);
  absl::StatusOr<v1::CampaignReport> report =
      campaigns_->GetCampaignReport(request);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leads(), 3);
  EXPECT_EQ(report->mqls(), 2);
  EXPECT_EQ(report->accepted(), 1);
  EXPECT_EQ(report->deals(), 2);
  EXPECT_EQ(report->won(), 1);
  EXPECT_EQ(report->lost(), 1);
  EXPECT_EQ(report->recycled(), 1);
  EXPECT_EQ(report->spend().minor_units(), 200000);
  EXPECT_EQ(report->attributed_revenue().minor_units(), 600000);
  EXPECT_EQ(report->cost_per_lead().minor_units(), 66666);
  EXPECT_EQ(report->cost_per_mql().minor_units(), 100000);
  EXPECT_EQ(report->roi_basis_points(), 20000);
  EXPECT_THAT(
      Rendered(),
      HasSubstr("handoff_lead_stage_changes_total{stage=\"CUSTOMER\"} 1"));

  request.set_campaign("campaigns/nope");
  EXPECT_EQ(campaigns_->GetCampaignReport(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LeadBookTest, RepeatsAndLateEventsAreNoOps) {
  v1::Lead lead = MakeMql("oli@example.com");
  absl::StatusOr<v1::Lead> accepted =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  ASSERT_TRUE(accepted.ok());
  absl::StatusOr<v1::Lead> repeat =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_EQ(repeat->SerializeAsString(), accepted->SerializeAsString());

  // A rejection after the lead was accepted would move it backwards.
  absl::StatusOr<v1::Lead> late =
      Feedback(lead.name(), v1::LEAD_EVENT_REJECTED, "NOT_A_FIT");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->stage(), v1::LEAD_STAGE_SAL);
  EXPECT_EQ(late->etag(), accepted->etag());
}

TEST_F(LeadBookTest, ConversionBeforeAcceptanceStillCountsAcceptance) {
  v1::Lead lead = MakeMql("pam@example.com");
  ASSERT_TRUE(
      Feedback(lead.name(), v1::LEAD_EVENT_CONVERTED, "", "deals/d1").ok());
  absl::StatusOr<v1::Lead> accepted =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->stage(), v1::LEAD_STAGE_SQL);
  EXPECT_TRUE(accepted->has_accept_time());
  EXPECT_EQ(accepted->rep(), "reps/r1");
}

TEST_F(LeadBookTest, WrongStateIsFailedPreconditionAndChangesNothing) {
  v1::Lead lead = CaptureNew(campaign_, "quinn@example.com");
  absl::StatusOr<v1::Lead> accepted =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  EXPECT_EQ(accepted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(accepted.status()), HasSubstr(lead.name()));
  EXPECT_THAT(Msg(accepted.status()), HasSubstr("stage LEAD"));
  EXPECT_EQ(Get(lead.name()).etag(), lead.etag());

  absl::StatusOr<v1::Lead> unknown =
      Feedback("leads/nope", v1::LEAD_EVENT_ACCEPTED);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
}

// A win is a fact sales reports; refusing it for its currency would leave the
// lead short of CUSTOMER forever (the sender's outbox would park it).
TEST_F(LeadBookTest, WonInAnotherCurrencyIsStillRecorded) {
  v1::Lead lead = MakeMql("rae@example.com");
  ASSERT_TRUE(
      Feedback(lead.name(), v1::LEAD_EVENT_CONVERTED, "", "deals/d1").ok());
  absl::StatusOr<v1::Lead> won = Won(lead.name(), 100, "EUR");
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_EQ(won->stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(won->won_amount().currency_code(), "EUR");
}

TEST_F(LeadBookTest, RejectionDisqualifiesForDuplicates) {
  v1::Lead lead = MakeMql("sam@example.com");
  absl::StatusOr<v1::Lead> rejected =
      Feedback(lead.name(), v1::LEAD_EVENT_REJECTED, "DUPLICATE");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->stage(), v1::LEAD_STAGE_DISQUALIFIED);
  // Engagements of a disqualified lead add score and nothing else.
  absl::StatusOr<v1::RecordEngagementResponse> demo =
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
  ASSERT_TRUE(demo.ok());
  EXPECT_FALSE(demo->became_mql());
  EXPECT_EQ(demo->lead().stage(), v1::LEAD_STAGE_DISQUALIFIED);
}

TEST_F(LeadBookTest, StageUpdateIsIdempotentByRequestId) {
  v1::Lead lead = MakeMql("tia@example.com");
  absl::StatusOr<v1::Lead> first = Feedback(
      lead.name(), v1::LEAD_EVENT_RECYCLED, "SLA_EXHAUSTED", "", "outbox-1");
  ASSERT_TRUE(first.ok());
  // Re-qualified in between; the replayed message must not recycle it again.
  ASSERT_TRUE(
      Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST)->became_mql());
  absl::StatusOr<v1::Lead> replay = Feedback(
      lead.name(), v1::LEAD_EVENT_RECYCLED, "SLA_EXHAUSTED", "", "outbox-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Get(lead.name()).stage(), v1::LEAD_STAGE_MQL);
}

TEST_F(LeadBookTest, ReroutedRejectionIsRecordedAndLeadStaysMql) {
  v1::Lead lead = MakeMql("uma@example.com");
  const int history = lead.history_size();
  v1::UpdateLeadStageRequest request;
  request.set_request_id("outbox-7");
  request.set_lead(lead.name());
  request.set_event(v1::LEAD_EVENT_REJECTED_REROUTED);
  request.set_reason("NOT_A_FIT");
  request.set_note("wrong territory");
  request.set_rep("reps/r2");
  *request.mutable_event_time() = ToProtoTime(absl::FromUnixSeconds(1000));
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::Lead> first = leads_->UpdateLeadStage(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->stage(), v1::LEAD_STAGE_MQL);
  EXPECT_NE(first->etag(), lead.etag());
  ASSERT_EQ(first->history_size(), history + 1);
  const v1::StageChange& change = *first->history().rbegin();
  EXPECT_EQ(change.stage(), v1::LEAD_STAGE_MQL);
  EXPECT_EQ(change.event(), v1::LEAD_EVENT_REJECTED_REROUTED);
  EXPECT_EQ(change.reason(), "NOT_A_FIT");
  EXPECT_EQ(change.note(), "wrong territory");
  EXPECT_EQ(FromProtoTime(change.time()), absl::FromUnixSeconds(1000));
  EXPECT_EQ(Get(lead.name()).SerializeAsString(), first->SerializeAsString());
  // Routing already holds the lead: no second handoff, no stage move.
  EXPECT_EQ(PendingCount(), 1u);
  EXPECT_THAT(Rendered(),
              HasSubstr("handoff_lead_stage_changes_total{stage=\"MQL\"} 1"));

  // The sender's outbox replays the same message: recorded once.
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::Lead> replay = leads_->UpdateLeadStage(request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Get(lead.name()).history_size(), history + 1);

  // The next rep rejects too: a second rejection, a second entry.
  request.set_request_id("outbox-8");
  request.set_rep("reps/r3");
  absl::StatusOr<v1::Lead> second = leads_->UpdateLeadStage(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->stage(), v1::LEAD_STAGE_MQL);
  EXPECT_EQ(second->history_size(), history + 2);

  // Once a rep accepted, a stale rerouted rejection changes nothing.
  absl::StatusOr<v1::Lead> accepted =
      Feedback(lead.name(), v1::LEAD_EVENT_ACCEPTED);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  request.set_request_id("outbox-9");
  absl::StatusOr<v1::Lead> late = leads_->UpdateLeadStage(request);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->stage(), v1::LEAD_STAGE_SAL);
  EXPECT_EQ(late->SerializeAsString(), accepted->SerializeAsString());
}

TEST_F(LeadBookTest, ReroutedRejectionNeedsReasonAndAnMql) {
  v1::Lead lead = CaptureNew(campaign_, "vic@example.com");
  v1::UpdateLeadStageRequest request;
  request.set_lead(lead.name());
  request.set_event(v1::LEAD_EVENT_REJECTED_REROUTED);
  absl::StatusOr<v1::Lead> no_reason = leads_->UpdateLeadStage(request);
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(no_reason.status()), StartsWith("reason: "));
  EXPECT_THAT(Msg(no_reason.status()), HasSubstr("REJECTED_REROUTED"));

  // A lead that never was an MQL cannot have been offered to a rep.
  request.set_reason("NOT_A_FIT");
  absl::StatusOr<v1::Lead> early = leads_->UpdateLeadStage(request);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(early.status()), HasSubstr("stage LEAD"));
  EXPECT_EQ(Get(lead.name()).etag(), lead.etag());
}

TEST_F(LeadBookTest, ListLeadsFiltersAndPages) {
  const std::string other = NewCampaign().name();
  std::vector<std::string> in_other;
  for (int i = 0; i < 6; ++i) {
    const std::string email = "p" + std::to_string(i) + "@example.com";
    v1::Lead lead = CaptureNew(i < 4 ? campaign_ : other, email);
    if (i >= 4) in_other.push_back(lead.name());
    if (i % 2 == 0) {
      ASSERT_TRUE(Engage(lead.name(), v1::ENGAGEMENT_TYPE_DEMO_REQUEST).ok());
    }
  }
  std::vector<v1::Lead> all = ListAll("", 4);
  ASSERT_EQ(all.size(), 6u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].name(), all[i].name());
  }
  EXPECT_EQ(ListAll("stage=MQL", 1).size(), 3u);
  EXPECT_EQ(ListAll("stage=LEAD_STAGE_LEAD").size(), 3u);
  std::vector<std::string> names;
  for (const v1::Lead& lead : ListAll("campaign=" + other, 1)) {
    names.push_back(lead.name());
  }
  EXPECT_EQ(names, in_other);
  EXPECT_EQ(ListAll("stage=MQL AND campaign=\"" + other + "\"").size(), 1u);

  v1::ListLeadsRequest bad;
  bad.set_filter("stage=HOT");
  EXPECT_EQ(leads_->ListLeads(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.set_filter("campaign=webinar");
  EXPECT_EQ(leads_->ListLeads(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.set_filter("");
  bad.set_page_size(-1);
  EXPECT_EQ(leads_->ListLeads(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace handoff::campaign
