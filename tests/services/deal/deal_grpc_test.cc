#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/server/server.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"
#include "handoff/deal/v1/deal.grpc.pb.h"
#include "handoff/routing/v1/routing.grpc.pb.h"
#include "services/deal/deal_server.h"
#include "tests/services/deal/test_util.h"

namespace handoff::deal {
namespace {

using ::handoff::deal::testing::NewDealRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Routing that knows one accepted lead and records conversions.
class FakeRouting final
    : public routing::v1::LeadRoutingService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ListAssignments(
      grpc::CallbackServerContext* ctx,
      const routing::v1::ListAssignmentsRequest* request,
      routing::v1::ListAssignmentsResponse* response) override {
    absl::MutexLock lock(&mu_);
    filters_.push_back(request->filter());
    if (request->filter() == "lead=leads/accepted AND state=ACCEPTED") {
      routing::v1::Assignment* assignment = response->add_assignments();
      assignment->set_name("assignments/a1");
      assignment->set_lead("leads/accepted");
      assignment->set_rep("reps/ann");
      assignment->set_state(routing::v1::ASSIGNMENT_STATE_ACCEPTED);
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* RecordConversion(
      grpc::CallbackServerContext* ctx,
      const routing::v1::RecordConversionRequest* request,
      routing::v1::Assignment* /*response*/) override {
    absl::MutexLock lock(&mu_);
    conversions_.push_back(*request);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  std::vector<std::string> filters() {
    absl::MutexLock lock(&mu_);
    return filters_;
  }
  std::vector<routing::v1::RecordConversionRequest> conversions() {
    absl::MutexLock lock(&mu_);
    return conversions_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> filters_ ABSL_GUARDED_BY(mu_);
  std::vector<routing::v1::RecordConversionRequest> conversions_
      ABSL_GUARDED_BY(mu_);
};

class FakeCampaign final
    : public campaign::v1::CampaignService::CallbackService {
 public:
  grpc::ServerUnaryReactor* UpdateLeadStage(
      grpc::CallbackServerContext* ctx,
      const campaign::v1::UpdateLeadStageRequest* request,
      campaign::v1::Lead* /*response*/) override {
    absl::MutexLock lock(&mu_);
    updates_.push_back(*request);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  std::vector<campaign::v1::UpdateLeadStageRequest> updates() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }

 private:
  absl::Mutex mu_;
  std::vector<campaign::v1::UpdateLeadStageRequest> updates_
      ABSL_GUARDED_BY(mu_);
};

// A loopback port nothing listens on.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

ServerOptions TestServerOptions() {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.shutdown_grace = absl::ZeroDuration();
  options.drain_timeout = absl::Seconds(1);
  return options;
}

// A deal module served in-process, with its neighbours at the given
// addresses.
struct ServedDeal {
  ServedDeal(const std::string& campaign_address,
             const std::string& routing_address)
      : metrics("deal") {
    DealServerOptions options;
    options.db_path = ":memory:";
    options.campaign_address = campaign_address;
    options.routing_address = routing_address;
    options.client.timeout = absl::Seconds(2);
    options.client.max_attempts = 2;
    absl::StatusOr<std::unique_ptr<DealServer>> created =
        DealServer::Create(options, clock, metrics);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return;
    module = *std::move(created);
    absl::StatusOr<std::unique_ptr<GrpcServer>> started =
        GrpcServer::Start(TestServerOptions(), module->GrpcServices(), metrics);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return;
    server = *std::move(started);
    stub = v1::DealService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                            grpc::InsecureChannelCredentials()));
  }
  ~ServedDeal() {
    if (server != nullptr) server->Shutdown();
  }

  FakeClock clock;
  Metrics metrics;
  std::unique_ptr<DealServer> module;
  std::unique_ptr<GrpcServer> server;
  std::unique_ptr<v1::DealService::Stub> stub;
};

class DealGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<GrpcServer>> started = GrpcServer::Start(
        TestServerOptions(), {&routing_, &campaign_}, neighbour_metrics_);
    ASSERT_TRUE(started.ok()) << started.status();
    neighbours_ = *std::move(started);
    neighbours_address_ = absl::StrCat("127.0.0.1:", neighbours_->port());
  }
  void TearDown() override {
    if (neighbours_ != nullptr) neighbours_->Shutdown();
  }

  FakeRouting routing_;
  FakeCampaign campaign_;
  Metrics neighbour_metrics_{"neighbours"};
  std::unique_ptr<GrpcServer> neighbours_;
  std::string neighbours_address_;
};

TEST_F(DealGrpcTest, CreateOverTheWireAndDeliverConversion) {
  ServedDeal deal(neighbours_address_, neighbours_address_);
  ASSERT_NE(deal.stub, nullptr);

  grpc::ClientContext ctx;
  v1::Deal created;
  grpc::Status status = deal.stub->CreateDeal(
      &ctx, NewDealRequest("leads/accepted", deal.clock.Now(), "req-1"),
      &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.owner(), "reps/ann");
  EXPECT_EQ(created.stage(), v1::DEAL_STAGE_QUALIFICATION);
  EXPECT_THAT(routing_.filters(),
              ElementsAre("lead=leads/accepted AND state=ACCEPTED"));

  absl::StatusOr<int> delivered =
      deal.module->outbox().DeliverPending(/*ignore_backoff=*/true);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 2);

  std::vector<campaign::v1::UpdateLeadStageRequest> updates =
      campaign_.updates();
  ASSERT_THAT(updates, SizeIs(1));
  EXPECT_EQ(updates[0].lead(), "leads/accepted");
  EXPECT_EQ(updates[0].event(), campaign::v1::LEAD_EVENT_CONVERTED);
  EXPECT_EQ(updates[0].deal(), created.name());
  EXPECT_FALSE(updates[0].request_id().empty());

  std::vector<routing::v1::RecordConversionRequest> conversions =
      routing_.conversions();
  ASSERT_THAT(conversions, SizeIs(1));
  EXPECT_EQ(conversions[0].lead(), "leads/accepted");
  EXPECT_EQ(conversions[0].deal(), created.name());
  EXPECT_FALSE(conversions[0].request_id().empty());
  EXPECT_NE(conversions[0].request_id(), updates[0].request_id());

  absl::StatusOr<std::vector<OutboxMessage>> pending =
      deal.module->outbox().Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(*pending, SizeIs(0));
}

TEST_F(DealGrpcTest, CanonicalCodesOverTheWire) {
  ServedDeal deal(neighbours_address_, neighbours_address_);
  ASSERT_NE(deal.stub, nullptr);

  {
    v1::CreateDealRequest request =
        NewDealRequest("leads/accepted", deal.clock.Now());
    request.mutable_deal()->mutable_amount()->set_minor_units(-1);
    grpc::ClientContext ctx;
    v1::Deal response;
    grpc::Status status = deal.stub->CreateDeal(&ctx, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(),
              "deal.amount.minor_units: must not be negative");
  }
  {
    grpc::ClientContext ctx;
    v1::Deal response;
    grpc::Status status = deal.stub->CreateDeal(
        &ctx, NewDealRequest("leads/other", deal.clock.Now()), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("leads/other"));
  }
  {
    v1::GetDealRequest request;
    request.set_name("deals/missing");
    grpc::ClientContext ctx;
    v1::Deal response;
    grpc::Status status = deal.stub->GetDeal(&ctx, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(DealGrpcTest, CreateIsUnavailableWhileRoutingIsDown) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  ServedDeal deal(neighbours_address_, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(deal.stub, nullptr);

  grpc::ClientContext ctx;
  v1::Deal response;
  grpc::Status status = deal.stub->CreateDeal(
      &ctx, NewDealRequest("leads/accepted", deal.clock.Now(), "req-1"),
      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);

  grpc::ClientContext list_ctx;
  v1::ListDealsResponse listed;
  ASSERT_TRUE(
      deal.stub->ListDeals(&list_ctx, v1::ListDealsRequest(), &listed).ok());
  EXPECT_EQ(listed.deals_size(), 0);
  absl::StatusOr<std::vector<OutboxMessage>> pending =
      deal.module->outbox().Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(*pending, SizeIs(0));
}

}  // namespace
}  // namespace handoff::deal
