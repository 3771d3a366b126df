// The campaign module served in-process over gRPC, with fake persona and
// routing services on loopback.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/server/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"
#include "handoff/persona/v1/persona.grpc.pb.h"
#include "handoff/routing/v1/routing.grpc.pb.h"
#include "services/campaign/campaign_server.h"

namespace handoff::campaign {
namespace {

using ::testing::StartsWith;

class FakeRouting final
    : public routing::v1::LeadRoutingService::CallbackService {
 public:
  grpc::ServerUnaryReactor* RouteLead(
      grpc::CallbackServerContext* ctx,
      const routing::v1::RouteLeadRequest* request,
      routing::v1::RouteLeadResponse* response) override {
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (down_) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "routing down");
      } else {
        received_.push_back(*request);
        response->set_queued(true);
      }
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }

  // RouteLead requests received for `lead`.
  std::vector<routing::v1::RouteLeadRequest> ReceivedFor(
      const std::string& lead) {
    absl::MutexLock lock(&mu_);
    std::vector<routing::v1::RouteLeadRequest> out;
    for (const auto& r : received_) {
      if (r.lead() == lead) out.push_back(r);
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<routing::v1::RouteLeadRequest> received_ ABSL_GUARDED_BY(mu_);
};

class FakePersona final : public persona::v1::PersonaService::CallbackService {
 public:
  grpc::ServerUnaryReactor* MatchPersona(
      grpc::CallbackServerContext* ctx,
      const persona::v1::MatchPersonaRequest* request,
      persona::v1::MatchPersonaResponse* response) override {
    if (request->profile().industry() == "software") {
      persona::v1::PersonaMatch* match = response->add_matches();
      match->set_persona("personas/p1");
      match->set_score(64);
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

ServerOptions LoopbackServer() {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.shutdown_grace = absl::ZeroDuration();
  options.drain_timeout = absl::Seconds(2);
  return options;
}

// One set of servers for the whole binary: starting them per test is slow.
struct Servers {
  Servers() {
    absl::StatusOr<std::unique_ptr<GrpcServer>> fakes =
        GrpcServer::Start(LoopbackServer(), {&routing, &persona}, fake_metrics);
    EXPECT_TRUE(fakes.ok()) << fakes.status();
    fakes_server = *std::move(fakes);
    const std::string fakes_address =
        "127.0.0.1:" + std::to_string(fakes_server->port());

    CampaignServerOptions options;
    options.db_path = ":memory:";
    options.persona_address = fakes_address;
    options.routing_address = fakes_address;
    options.client.max_attempts = 1;
    absl::StatusOr<std::unique_ptr<CampaignServer>> created =
        CampaignServer::Create(options, clock, metrics);
    EXPECT_TRUE(created.ok()) << created.status();
    module = *std::move(created);
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start(LoopbackServer(), module->GrpcServices(), metrics);
    EXPECT_TRUE(server.ok()) << server.status();
    campaign_server = *std::move(server);
    stub = v1::CampaignService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(campaign_server->port()),
        grpc::InsecureChannelCredentials()));
  }
  ~Servers() {
    campaign_server->Shutdown();
    module->StopBackground();
    fakes_server->Shutdown();
  }

  FakeClock clock;
  Metrics fake_metrics{"fakes"};
  Metrics metrics{"campaign"};
  FakeRouting routing;
  FakePersona persona;
  std::unique_ptr<GrpcServer> fakes_server;
  std::unique_ptr<CampaignServer> module;
  std::unique_ptr<GrpcServer> campaign_server;
  std::unique_ptr<v1::CampaignService::Stub> stub;
};

class CampaignGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { servers_ = new Servers(); }
  static void TearDownTestSuite() {
    delete servers_;
    servers_ = nullptr;
  }

  v1::CampaignService::Stub& stub() { return *servers_->stub; }
  Outbox& outbox() { return servers_->module->outbox(); }

  std::string CreateCampaign() {
    grpc::ClientContext ctx;
    v1::CreateCampaignRequest request;
    request.mutable_campaign()->set_display_name("Launch");
    request.mutable_campaign()->set_channel(v1::CHANNEL_EVENT);
    v1::Campaign campaign;
    grpc::Status status = stub().CreateCampaign(&ctx, request, &campaign);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return campaign.name();
  }

  // A captured lead turned MQL by a demo request.
  v1::Lead MakeMql(const std::string& email) {
    v1::CaptureLeadRequest capture;
    capture.set_campaign(CreateCampaign());
    capture.set_email(email);
    capture.mutable_profile()->set_industry("software");
    v1::CaptureLeadResponse captured;
    grpc::ClientContext capture_ctx;
    grpc::Status status = stub().CaptureLead(&capture_ctx, capture, &captured);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::RecordEngagementRequest demo;
    demo.set_lead(captured.lead().name());
    demo.set_type(v1::ENGAGEMENT_TYPE_DEMO_REQUEST);
    v1::RecordEngagementResponse engaged;
    grpc::ClientContext demo_ctx;
    status = stub().RecordEngagement(&demo_ctx, demo, &engaged);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(engaged.became_mql());
    return engaged.lead();
  }

  // The idempotency key of the pending RouteLead message for `lead`.
  std::string PendingKeyFor(const std::string& lead) {
    absl::StatusOr<std::vector<OutboxMessage>> pending = outbox().Pending();
    EXPECT_TRUE(pending.ok());
    std::string key;
    for (const OutboxMessage& m : *pending) {
      routing::v1::RouteLeadRequest request;
      if (m.method == "RouteLead" && request.ParseFromString(m.payload) &&
          request.lead() == lead) {
        EXPECT_TRUE(key.empty()) << "two RouteLead messages for " << lead;
        key = m.idempotency_key;
      }
    }
    return key;
  }

  static Servers* servers_;
};

Servers* CampaignGrpcTest::servers_ = nullptr;

TEST_F(CampaignGrpcTest, InvalidEmailIsInvalidArgumentOverTheWire) {
  v1::CaptureLeadRequest request;
  request.set_campaign(CreateCampaign());
  request.set_email("nobody-at-example.com");
  v1::CaptureLeadResponse response;
  grpc::ClientContext ctx;
  grpc::Status status = stub().CaptureLead(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), StartsWith("email: "));
}

TEST_F(CampaignGrpcTest, UnknownLeadIsNotFound) {
  v1::GetLeadRequest request;
  request.set_name("leads/doesnotexist");
  v1::Lead lead;
  grpc::ClientContext ctx;
  grpc::Status status = stub().GetLead(&ctx, request, &lead);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CampaignGrpcTest, WrongStageIsFailedPrecondition) {
  v1::CaptureLeadRequest capture;
  capture.set_campaign(CreateCampaign());
  capture.set_email("early@example.com");
  v1::CaptureLeadResponse captured;
  grpc::ClientContext capture_ctx;
  ASSERT_TRUE(stub().CaptureLead(&capture_ctx, capture, &captured).ok());
  v1::UpdateLeadStageRequest accept;
  accept.set_lead(captured.lead().name());
  accept.set_event(v1::LEAD_EVENT_ACCEPTED);
  v1::Lead lead;
  grpc::ClientContext ctx;
  grpc::Status status = stub().UpdateLeadStage(&ctx, accept, &lead);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CampaignGrpcTest, PersonaFitComesFromPersonaService) {
  v1::Lead lead = MakeMql("fit@example.com");
  EXPECT_EQ(lead.fit_score(), 64);
  EXPECT_EQ(lead.persona(), "personas/p1");
  EXPECT_FALSE(lead.fit_pending());
  EXPECT_EQ(lead.score(), 30 + 16);
}

TEST_F(CampaignGrpcTest, MqlIsDeliveredToRoutingWithIdempotencyKey) {
  const v1::Lead lead = MakeMql("mql@example.com");
  const std::string key = PendingKeyFor(lead.name());
  ASSERT_FALSE(key.empty());
  absl::StatusOr<int> delivered = outbox().DeliverPending(true);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_GE(*delivered, 1);
  std::vector<routing::v1::RouteLeadRequest> received =
      servers_->routing.ReceivedFor(lead.name());
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_id(), key);
  EXPECT_EQ(received[0].lead_summary().mql_reason(), "DEMO_REQUEST");
  EXPECT_EQ(received[0].lead_summary().persona(), "personas/p1");
  EXPECT_EQ(received[0].lead_summary().campaign(), lead.campaign());
  // Campaign reads nothing of the answer but its status.
  EXPECT_EQ(received[0].view(), routing::v1::ASSIGNMENT_VIEW_BASIC);
  EXPECT_TRUE(PendingKeyFor(lead.name()).empty());
}

TEST_F(CampaignGrpcTest, RoutingOutageKeepsMqlUntilRoutingIsBack) {
  servers_->routing.SetDown(true);
  const v1::Lead lead = MakeMql("outage@example.com");
  absl::StatusOr<int> during = outbox().DeliverPending(true);
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(*during, 0);
  EXPECT_TRUE(servers_->routing.ReceivedFor(lead.name()).empty());
  const std::string key = PendingKeyFor(lead.name());
  EXPECT_FALSE(key.empty());

  servers_->routing.SetDown(false);
  absl::StatusOr<int> after = outbox().DeliverPending(true);
  ASSERT_TRUE(after.ok());
  EXPECT_GE(*after, 1);
  std::vector<routing::v1::RouteLeadRequest> received =
      servers_->routing.ReceivedFor(lead.name());
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_id(), key);
}

TEST_F(CampaignGrpcTest, BackgroundDispatcherDeliversMqls) {
  servers_->module->StartBackground();
  const v1::Lead lead = MakeMql("background@example.com");
  // Waits for the dispatcher thread to act, bounded; not for time to pass.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (servers_->routing.ReceivedFor(lead.name()).empty() &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  servers_->module->StopBackground();
  EXPECT_EQ(servers_->routing.ReceivedFor(lead.name()).size(), 1u);
}

}  // namespace
}  // namespace handoff::campaign
