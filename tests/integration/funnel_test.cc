// Drives the whole funnel over real gRPC against the four services started
// in-process on loopback, with one fake clock for SLA time.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/clients/clients.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/proto_time.h"
#include "common/server/server.h"
#include "services/campaign/campaign_server.h"
#include "services/deal/deal_server.h"
#include "services/persona/persona_server.h"
#include "services/routing/routing_server.h"

namespace handoff {
namespace {

namespace cpb = campaign::v1;
namespace dpb = deal::v1;
namespace ppb = persona::v1;
namespace rpb = routing::v1;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Polls `done` (real time, bounded) for work other threads finish
// asynchronously, e.g. an outbox delivery.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

cpb::Campaign MakeCampaign() {
  cpb::Campaign c;
  c.set_display_name("Spring webinar");
  c.set_channel(cpb::CHANNEL_WEBINAR);
  c.mutable_budget()->set_currency_code("USD");
  c.mutable_budget()->set_minor_units(1'000'000);
  c.mutable_spend()->set_currency_code("USD");
  c.mutable_spend()->set_minor_units(400'000);
  return c;
}

class FunnelTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        testing::TempDir(), "/funnel_", getpid(), "_",
        testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    for (auto* port :
         {&persona_port_, &campaign_port_, &routing_port_, &deal_port_}) {
      *port = FreePort();
    }
    client_options_.timeout = absl::Milliseconds(500);
    client_options_.max_reconnect_backoff = absl::Milliseconds(200);

    auto persona = persona::PersonaServer::Create(
        {.db_path = dir_ + "/persona.db", .db_sync_full = false}, clock_,
        persona_metrics_);
    ASSERT_TRUE(persona.ok()) << persona.status();
    persona_ = *std::move(persona);
    persona_server_ = Serve(*persona_, persona_port_, persona_metrics_);

    campaign::CampaignServerOptions campaign_options;
    campaign_options.db_path = dir_ + "/campaign.db";
    campaign_options.db_sync_full = false;
    campaign_options.persona_address = Address(persona_port_);
    campaign_options.routing_address = Address(routing_port_);
    campaign_options.client = client_options_;
    campaign_options.default_mql_threshold = 40;
    auto campaign = campaign::CampaignServer::Create(campaign_options, clock_,
                                                     campaign_metrics_);
    ASSERT_TRUE(campaign.ok()) << campaign.status();
    campaign_ = *std::move(campaign);
    campaign_server_ = Serve(*campaign_, campaign_port_, campaign_metrics_);

    StartRouting();

    deal::DealServerOptions deal_options;
    deal_options.db_path = dir_ + "/deal.db";
    deal_options.db_sync_full = false;
    deal_options.campaign_address = Address(campaign_port_);
    deal_options.routing_address = Address(routing_port_);
    deal_options.client = client_options_;
    auto deal = deal::DealServer::Create(deal_options, clock_, deal_metrics_);
    ASSERT_TRUE(deal.ok()) << deal.status();
    deal_ = *std::move(deal);
    deal_server_ = Serve(*deal_, deal_port_, deal_metrics_);

    personas_ = std::make_unique<PersonaClient>(Address(persona_port_),
                                                client_options_);
    campaigns_ = std::make_unique<CampaignClient>(Address(campaign_port_),
                                                  client_options_);
    routing_ = std::make_unique<RoutingClient>(Address(routing_port_),
                                               client_options_);
    deals_ = std::make_unique<DealClient>(Address(deal_port_), client_options_);
  }

  void TearDown() override {
    for (auto* server : {&deal_server_, &routing_server_, &campaign_server_,
                         &persona_server_}) {
      if (*server) (*server)->Shutdown();
    }
    for (ServiceModule* module : std::initializer_list<ServiceModule*>{
             deal_.get(), routing_module_.get(), campaign_.get(),
             persona_.get()}) {
      if (module) module->StopBackground();
    }
    std::filesystem::remove_all(dir_);
  }

  static std::string Address(int port) {
    return absl::StrCat("127.0.0.1:", port);
  }

  std::unique_ptr<GrpcServer> Serve(ServiceModule& module, int port,
                                    Metrics& metrics) {
    ServerOptions options;
    options.address = Address(port);
    options.shutdown_grace = absl::ZeroDuration();
    options.drain_timeout = absl::Seconds(2);
    auto server = GrpcServer::Start(options, module.GrpcServices(), metrics);
    EXPECT_TRUE(server.ok()) << server.status();
    module.StartBackground();
    return server.ok() ? *std::move(server) : nullptr;
  }

  void StartRouting() {
    routing::RoutingServerOptions options;
    options.db_path = dir_ + "/routing.db";
    options.db_sync_full = false;
    options.campaign_address = Address(campaign_port_);
    options.client = client_options_;
    options.accept_window = absl::Minutes(10);
    options.max_attempts = 3;
    routing_metrics_ = std::make_unique<Metrics>("routing");
    auto routing =
        routing::RoutingServer::Create(options, clock_, *routing_metrics_);
    ASSERT_TRUE(routing.ok()) << routing.status();
    routing_module_ = *std::move(routing);
    routing_server_ = Serve(*routing_module_, routing_port_, *routing_metrics_);
  }

  void StopRouting() {
    routing_server_->Shutdown();
    routing_server_.reset();
    routing_module_->StopBackground();
    routing_module_.reset();
  }

  std::string CreateRep(const std::string& display_name) {
    rpb::CreateRepRequest request;
    request.mutable_rep()->set_display_name(display_name);
    request.mutable_rep()->set_team("emea");
    request.mutable_rep()->set_capacity(10);
    auto rep =
        routing_->Call(&rpb::LeadRoutingService::Stub::CreateRep, request);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep->name();
  }

  // Captures a lead in `campaign` and makes it an MQL by a demo request.
  std::string CaptureMql(const std::string& campaign,
                         const std::string& email) {
    cpb::CaptureLeadRequest capture;
    capture.set_campaign(campaign);
    capture.set_email(email);
    capture.mutable_profile()->set_industry("software");
    capture.mutable_profile()->set_country("DE");
    auto captured =
        campaigns_->Call(&cpb::CampaignService::Stub::CaptureLead, capture);
    EXPECT_TRUE(captured.ok()) << captured.status();
    cpb::RecordEngagementRequest engage;
    engage.set_lead(captured->lead().name());
    engage.set_type(cpb::ENGAGEMENT_TYPE_DEMO_REQUEST);
    auto engaged =
        campaigns_->Call(&cpb::CampaignService::Stub::RecordEngagement, engage);
    EXPECT_TRUE(engaged.ok()) << engaged.status();
    EXPECT_TRUE(engaged->became_mql());
    return captured->lead().name();
  }

  std::vector<rpb::Assignment> Assignments(const std::string& filter) {
    rpb::ListAssignmentsRequest request;
    request.set_filter(filter);
    auto response = routing_->Call(
        &rpb::LeadRoutingService::Stub::ListAssignments, request);
    if (!response.ok()) return {};
    return {response->assignments().begin(), response->assignments().end()};
  }

  cpb::Lead GetLead(const std::string& name) {
    cpb::GetLeadRequest request;
    request.set_name(name);
    auto lead = campaigns_->Call(&cpb::CampaignService::Stub::GetLead, request);
    return lead.ok() ? *lead : cpb::Lead();
  }

  FakeClock clock_;
  std::string dir_;
  int persona_port_ = 0, campaign_port_ = 0, routing_port_ = 0, deal_port_ = 0;
  ClientOptions client_options_;
  Metrics persona_metrics_{"persona"}, campaign_metrics_{"campaign"},
      deal_metrics_{"deal"};
  std::unique_ptr<Metrics> routing_metrics_;
  std::unique_ptr<persona::PersonaServer> persona_;
  std::unique_ptr<campaign::CampaignServer> campaign_;
  std::unique_ptr<routing::RoutingServer> routing_module_;
  std::unique_ptr<deal::DealServer> deal_;
  std::unique_ptr<GrpcServer> persona_server_, campaign_server_,
      routing_server_, deal_server_;
  std::unique_ptr<PersonaClient> personas_;
  std::unique_ptr<CampaignClient> campaigns_;
  std::unique_ptr<RoutingClient> routing_;
  std::unique_ptr<DealClient> deals_;
};

TEST_F(FunnelTest, LeadTravelsFromCaptureThroughBreachToWonRevenue) {
  ppb::CreatePersonaRequest persona_request;
  persona_request.mutable_persona()->set_display_name("Platform lead");
  persona_request.mutable_persona()->mutable_criteria()->add_industries(
      "software");
  persona_request.mutable_persona()->mutable_criteria()->add_countries("DE");
  auto persona = personas_->Call(&ppb::PersonaService::Stub::CreatePersona,
                                 persona_request);
  ASSERT_TRUE(persona.ok()) << persona.status();

  cpb::CreateCampaignRequest campaign_request;
  *campaign_request.mutable_campaign() = MakeCampaign();
  campaign_request.mutable_campaign()->add_target_personas(persona->name());
  auto campaign = campaigns_->Call(&cpb::CampaignService::Stub::CreateCampaign,
                                   campaign_request);
  ASSERT_TRUE(campaign.ok()) << campaign.status();

  const std::string slow_rep = CreateRep("Slow");
  const std::string fast_rep = CreateRep("Fast");
  const std::string lead = CaptureMql(campaign->name(), "ada@example.com");
  EXPECT_EQ(GetLead(lead).persona(), persona->name());
  EXPECT_EQ(GetLead(lead).fit_score(), 100);

  // The MQL reaches routing through campaign's outbox and is offered.
  std::vector<rpb::Assignment> offers;
  ASSERT_TRUE(Eventually([&] {
    offers = Assignments(absl::StrCat("lead=", lead, " AND state=PENDING"));
    return offers.size() == 1;
  }));
  const rpb::Assignment first = offers[0];
  EXPECT_EQ(FromProtoTime(first.accept_due_time()) -
                FromProtoTime(first.offer_time()),
            absl::Minutes(10));

  // Nobody accepts in time: the SLA timer breaches it and offers the lead
  // to the other rep, never back to the one who let it lapse.
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(Eventually([&] {
    offers = Assignments(absl::StrCat("lead=", lead, " AND state=PENDING"));
    return offers.size() == 1 && offers[0].name() != first.name();
  }));
  const rpb::Assignment second = offers[0];
  EXPECT_NE(second.rep(), first.rep());
  EXPECT_EQ(second.attempt(), 2);
  EXPECT_EQ(second.previous_assignment(), first.name());
  EXPECT_EQ(
      Assignments(absl::StrCat("lead=", lead, " AND state=BREACHED")).size(),
      1u);

  rpb::AcceptAssignmentRequest accept;
  accept.set_name(second.name());
  accept.set_rep(first.rep());
  EXPECT_EQ(
      routing_->Call(&rpb::LeadRoutingService::Stub::AcceptAssignment, accept)
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
  accept.set_rep(second.rep());
  ASSERT_TRUE(
      routing_->Call(&rpb::LeadRoutingService::Stub::AcceptAssignment, accept)
          .ok());
  ASSERT_TRUE(
      Eventually([&] { return GetLead(lead).stage() == cpb::LEAD_STAGE_SAL; }));
  EXPECT_EQ(GetLead(lead).rep(), second.rep());

  dpb::CreateDealRequest create;
  create.set_request_id("deal-1");
  create.mutable_deal()->set_lead(lead);
  create.mutable_deal()->mutable_amount()->set_currency_code("USD");
  create.mutable_deal()->mutable_amount()->set_minor_units(2'000'000);
  *create.mutable_deal()->mutable_expected_close_time() =
      ToProtoTime(clock_.Now() + absl::Hours(24) * 30);
  auto deal = deals_->Call(&dpb::DealService::Stub::CreateDeal, create);
  ASSERT_TRUE(deal.ok()) << deal.status();
  EXPECT_EQ(deal->owner(), second.rep());
  ASSERT_TRUE(
      Eventually([&] { return GetLead(lead).stage() == cpb::LEAD_STAGE_SQL; }));
  ASSERT_TRUE(Eventually([&] {
    return Assignments(absl::StrCat("lead=", lead, " AND state=CONVERTED"))
               .size() == 1;
  }));

  dpb::CloseDealRequest close;
  close.set_name(deal->name());
  close.set_outcome(dpb::DEAL_OUTCOME_WON);
  ASSERT_TRUE(deals_->Call(&dpb::DealService::Stub::CloseDeal, close).ok());
  EXPECT_EQ(
      deals_->Call(&dpb::DealService::Stub::CloseDeal, close).status().code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Eventually(
      [&] { return GetLead(lead).stage() == cpb::LEAD_STAGE_CUSTOMER; }));

  cpb::GetCampaignReportRequest report_request;
  report_request.set_campaign(campaign->name());
  auto report = campaigns_->Call(&cpb::CampaignService::Stub::GetCampaignReport,
                                 report_request);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->leads(), 1);
  EXPECT_EQ(report->mqls(), 1);
  EXPECT_EQ(report->accepted(), 1);
  EXPECT_EQ(report->deals(), 1);
  EXPECT_EQ(report->won(), 1);
  EXPECT_EQ(report->attributed_revenue().minor_units(), 2'000'000);
  EXPECT_EQ(report->cost_per_mql().minor_units(), 400'000);
  EXPECT_EQ(report->roi_basis_points(),
            (int64_t{2'000'000} - 400'000) * 10'000 / 400'000);
}

TEST_F(FunnelTest, MqlsProducedWhileRoutingIsDownAreRoutedOnceItIsBack) {
  cpb::CreateCampaignRequest campaign_request;
  *campaign_request.mutable_campaign() = MakeCampaign();
  auto campaign = campaigns_->Call(&cpb::CampaignService::Stub::CreateCampaign,
                                   campaign_request);
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  CreateRep("Only");

  StopRouting();
  std::vector<std::string> leads;
  for (int i = 0; i < 3; ++i) {
    leads.push_back(
        CaptureMql(campaign->name(), absl::StrCat("lead", i, "@example.com")));
  }
  // Campaign tried, failed and keeps every handoff.
  ASSERT_TRUE(Eventually([&] {
    auto pending = campaign_->outbox().Pending();
    return pending.ok() && pending->size() == 3 &&
           pending->front().attempts > 0;
  }));

  StartRouting();
  for (const std::string& lead : leads) {
    EXPECT_TRUE(Eventually([&] {
      // Retry backoff runs on the fake clock, which stands still here; Wake
      // makes backed-off messages due now, as an operator's kick would.
      campaign_->outbox().Wake();
      return Assignments(absl::StrCat("lead=", lead, " AND state=PENDING"))
                 .size() == 1;
    })) << lead;
  }
  EXPECT_TRUE(campaign_->outbox().Pending()->empty());
  EXPECT_EQ(*campaign_->outbox().DeadCount(), 0);
}

}  // namespace
}  // namespace handoff
