#include "services/routing/routing_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "common/clients/clients.h"
#include "common/proto_time.h"
#include "common/server/server.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"

namespace handoff::routing {
namespace {

using testing::HasSubstr;

// Records the UpdateLeadStage calls routing's outbox makes.
class FakeCampaign final
    : public campaign::v1::CampaignService::CallbackService {
 public:
  grpc::ServerUnaryReactor* UpdateLeadStage(
      grpc::CallbackServerContext* ctx,
      const campaign::v1::UpdateLeadStageRequest* request,
      campaign::v1::Lead* response) override {
    {
      absl::MutexLock lock(&mu_);
      received_.push_back(*request);
    }
    response->set_name(request->lead());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  std::vector<campaign::v1::UpdateLeadStageRequest> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  absl::Mutex mu_;
  std::vector<campaign::v1::UpdateLeadStageRequest> received_;
};

// The routing module on an in-process gRPC server, feeding a fake campaign.
class RoutingServerTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    server_options.shutdown_grace = absl::ZeroDuration();
    absl::StatusOr<std::unique_ptr<GrpcServer>> campaign_server =
        GrpcServer::Start(server_options, {&campaign_}, campaign_metrics_);
    ASSERT_TRUE(campaign_server.ok()) << campaign_server.status();
    campaign_server_ = *std::move(campaign_server);

    RoutingServerOptions options;
    options.db_path = ":memory:";
    options.campaign_address =
        "127.0.0.1:" + std::to_string(campaign_server_->port());
    options.accept_window = absl::Seconds(2);
    options.max_attempts = 2;
    absl::StatusOr<std::unique_ptr<RoutingServer>> module =
        RoutingServer::Create(options, clock_, metrics_);
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = *std::move(module);

    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start(server_options, module_->GrpcServices(), metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<RoutingClient>(
        "127.0.0.1:" + std::to_string(server_->port()), ClientOptions{});
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    module_.reset();
    campaign_server_.reset();
  }

  std::string CreateRep(const std::string& display_name) {
    v1::CreateRepRequest request;
    request.mutable_rep()->set_display_name(display_name);
    request.mutable_rep()->set_team("emea");
    request.mutable_rep()->set_capacity(2);
    absl::StatusOr<v1::Rep> rep =
        client_->Call(&v1::LeadRoutingService::Stub::CreateRep, request);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep.ok() ? rep->name() : "";
  }

  absl::StatusOr<v1::RouteLeadResponse> Route(const std::string& lead) {
    v1::RouteLeadRequest request;
    request.set_lead(lead);
    request.set_request_id("route-" + lead);
    return client_->Call(&v1::LeadRoutingService::Stub::RouteLead, request);
  }

  FakeClock clock_;
  Metrics metrics_{"routing"};
  Metrics campaign_metrics_{"campaign"};
  FakeCampaign campaign_;
  std::unique_ptr<GrpcServer> campaign_server_;
  std::unique_ptr<RoutingServer> module_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<RoutingClient> client_;
};

TEST_F(RoutingServerTest, CreateRejectsBadOptions) {
  RoutingServerOptions options;
  options.accept_window = absl::ZeroDuration();
  Metrics metrics("routing");
  EXPECT_EQ(RoutingServer::Create(options, clock_, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.accept_window = absl::Minutes(1);
  options.max_attempts = 0;
  EXPECT_EQ(RoutingServer::Create(options, clock_, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingServerTest, CanonicalCodesCrossTheWire) {
  v1::CreateRepRequest bad;
  bad.mutable_rep()->set_team("emea");
  bad.mutable_rep()->set_capacity(1);
  absl::Status invalid =
      client_->Call(&v1::LeadRoutingService::Stub::CreateRep, bad).status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.message()), HasSubstr("rep.display_name"));

  const std::string a = CreateRep("A");
  const std::string b = CreateRep("B");
  absl::StatusOr<v1::RouteLeadResponse> routed = Route("leads/l1");
  ASSERT_TRUE(routed.ok()) << routed.status();
  // Both reps were created at the same fake instant, so either may be first.
  const std::string offered = routed->assignment().rep();
  ASSERT_TRUE(offered == a || offered == b) << offered;
  const std::string other = offered == a ? b : a;

  v1::AcceptAssignmentRequest accept;
  accept.set_name(routed->assignment().name());
  accept.set_rep(other);
  absl::Status wrong_rep =
      client_->Call(&v1::LeadRoutingService::Stub::AcceptAssignment, accept)
          .status();
  EXPECT_EQ(wrong_rep.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong_rep.message()),
              HasSubstr("offered to " + offered));

  v1::GetAssignmentRequest get;
  get.set_name("assignments/missing");
  EXPECT_EQ(client_->Call(&v1::LeadRoutingService::Stub::GetAssignment, get)
                .status()
                .code(),
            absl::StatusCode::kNotFound);

  EXPECT_THAT(metrics_.Render(), HasSubstr("grpc_code=\"FailedPrecondition\""));
}

TEST_F(RoutingServerTest, OutboxDeliversFeedbackToCampaignWithItsKey) {
  const std::string a = CreateRep("A");
  absl::StatusOr<v1::RouteLeadResponse> routed = Route("leads/l1");
  ASSERT_TRUE(routed.ok()) << routed.status();
  v1::AcceptAssignmentRequest accept;
  accept.set_name(routed->assignment().name());
  accept.set_rep(a);
  ASSERT_TRUE(
      client_->Call(&v1::LeadRoutingService::Stub::AcceptAssignment, accept)
          .ok());

  absl::StatusOr<std::vector<OutboxMessage>> pending =
      module_->outbox().Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const std::string key = (*pending)[0].idempotency_key;

  EXPECT_EQ(*module_->outbox().DeliverPending(true), 1);
  std::vector<campaign::v1::UpdateLeadStageRequest> received =
      campaign_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_id(), key);
  EXPECT_EQ(received[0].lead(), "leads/l1");
  EXPECT_EQ(received[0].event(), campaign::v1::LEAD_EVENT_ACCEPTED);
  EXPECT_EQ(received[0].rep(), a);
  EXPECT_TRUE(module_->outbox().Pending()->empty());
}

TEST_F(RoutingServerTest, TimerThreadBreachesDueOffersAndRecycles) {
  CreateRep("A");
  CreateRep("B");
  module_->StartBackground();
  absl::StatusOr<v1::RouteLeadResponse> routed = Route("leads/l1");
  ASSERT_TRUE(routed.ok()) << routed.status();

  // Two windows pass: A and B both lapse, max_attempts is 2, the lead goes
  // back to campaign through the running outbox.
  clock_.Advance(absl::Seconds(2));
  v1::ListAssignmentsRequest list;
  list.set_filter("lead=leads/l1 AND state=BREACHED");
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  auto breached = [&] {
    absl::StatusOr<v1::ListAssignmentsResponse> r =
        module_->router().ListAssignments(list);
    return r.ok() ? r->assignments_size() : -1;
  };
  while (breached() < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_EQ(breached(), 1);
  clock_.Advance(absl::Seconds(2));
  while ((breached() < 2 || campaign_.received().empty()) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  module_->StopBackground();
  EXPECT_EQ(breached(), 2);
  std::vector<campaign::v1::UpdateLeadStageRequest> received =
      campaign_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].event(), campaign::v1::LEAD_EVENT_RECYCLED);
  EXPECT_EQ(received[0].reason(), "SLA_EXHAUSTED");
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("handoff_routing_sla_timers_pending 0"));
}

}  // namespace
}  // namespace handoff::routing

namespace handoff::routing {
namespace {

// The issue-3 RPCs over the wire: a versioned rule set, the event stream of
// the router's real events, and the SLA report over them.
// RunService calls BeforeShutdown before draining the server: an open
// watch stream must end then, or the drain would wait for it.
TEST_F(RoutingServerTest, BeforeShutdownEndsOpenWatchStreamsWithUnavailable) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                          grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::LeadRoutingService::Stub> stub =
      v1::LeadRoutingService::NewStub(channel);
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
  v1::WatchAssignmentsRequest watch;
  std::unique_ptr<grpc::ClientReader<v1::AssignmentEvent>> reader =
      stub->WatchAssignments(&watch_ctx, watch);
  reader->WaitForInitialMetadata();
  module_->BeforeShutdown();
  v1::AssignmentEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RoutingServerTest, RuleSetWatchAndSlaReportOverGrpc) {
  const std::string a = CreateRep("A");
  using Stub = v1::LeadRoutingService::Stub;

  v1::ApplyRuleSetRequest apply;
  v1::RoutingRule& fallback = *apply.mutable_rule_set()->mutable_fallback();
  fallback.set_name("rules/everyone");
  fallback.set_team("emea");
  fallback.set_strategy(v1::ROUTING_STRATEGY_LEAST_LOADED);
  apply.set_expected_version(0);
  absl::StatusOr<v1::RuleSet> applied =
      client_->Call(&Stub::ApplyRuleSet, apply);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->version(), 1);
  absl::Status stale = client_->Call(&Stub::ApplyRuleSet, apply).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);

  // Watch the rep's events from now on.
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                          grpc::InsecureChannelCredentials());
  std::unique_ptr<Stub> stub = v1::LeadRoutingService::NewStub(channel);
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
  v1::WatchAssignmentsRequest watch;
  watch.set_rep(a);
  std::unique_ptr<grpc::ClientReader<v1::AssignmentEvent>> reader =
      stub->WatchAssignments(&watch_ctx, watch);
  reader->WaitForInitialMetadata();

  absl::StatusOr<v1::RouteLeadResponse> routed = Route("leads/l1");
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->assignment().rule(), "rules/everyone");
  EXPECT_EQ(routed->assignment().rule_set_version(), 1);
  clock_.Advance(absl::Seconds(1));
  v1::AcceptAssignmentRequest accept;
  accept.set_name(routed->assignment().name());
  accept.set_rep(a);
  ASSERT_TRUE(client_->Call(&Stub::AcceptAssignment, accept).ok());

  v1::AssignmentEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), v1::ASSIGNMENT_EVENT_TYPE_OFFERED);
  EXPECT_EQ(event.rep(), a);
  const std::string first_cursor = event.cursor();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED);
  watch_ctx.TryCancel();
  reader->Finish().IgnoreError();

  // Resuming after the first event gives the second, once.
  grpc::ClientContext resume_ctx;
  resume_ctx.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
  watch.set_after_cursor(first_cursor);
  reader = stub->WatchAssignments(&resume_ctx, watch);
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED);
  resume_ctx.TryCancel();
  reader->Finish().IgnoreError();

  v1::GetSlaReportRequest report;
  *report.mutable_start_time() = ToProtoTime(clock_.Now() - absl::Hours(1));
  *report.mutable_end_time() = ToProtoTime(clock_.Now() + absl::Hours(1));
  report.set_group_by(v1::SLA_REPORT_GROUPING_REP);
  report.set_mql_target_per_period(2);
  absl::StatusOr<v1::SlaReport> sla =
      client_->Call(&Stub::GetSlaReport, report);
  ASSERT_TRUE(sla.ok()) << sla.status();
  ASSERT_EQ(sla->rows_size(), 1);
  EXPECT_EQ(sla->rows(0).group(), a);
  EXPECT_EQ(sla->rows(0).offers(), 1);
  EXPECT_EQ(sla->rows(0).accepted_within_sla(), 1);
  EXPECT_EQ(FromProtoDuration(sla->rows(0).median_time_to_accept()),
            absl::Seconds(1));
  ASSERT_EQ(sla->mql_delivery_size(), 1);
  EXPECT_EQ(sla->mql_delivery(0).mqls_delivered(), 1);
  EXPECT_DOUBLE_EQ(sla->mql_delivery(0).attainment(), 0.5);

  v1::GetPoolFairnessRequest fairness;
  fairness.set_pool("teams/emea");
  absl::StatusOr<v1::PoolFairness> pool =
      client_->Call(&Stub::GetPoolFairness, fairness);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->assignments(), 1);
}

}  // namespace
}  // namespace handoff::routing

namespace handoff::routing {
namespace {

// First touch over the wire, with the server's own timer threads: a missed
// first touch is found by the timer, counted and recorded; the touch that
// comes later is recorded as late; only the accepting rep may touch.
TEST_F(RoutingServerTest, FirstTouchTimerAndRecordFirstTouchOverGrpc) {
  const std::string a = CreateRep("A");
  using Stub = v1::LeadRoutingService::Stub;
  v1::ApplyRuleSetRequest apply;
  v1::SlaPolicy& policy = *apply.mutable_rule_set()->add_sla_policies();
  policy.set_name("touch");
  *policy.mutable_accept_within() = ToProtoDuration(absl::Minutes(10));
  *policy.mutable_first_touch_within() = ToProtoDuration(absl::Seconds(2));
  v1::RoutingRule& fallback = *apply.mutable_rule_set()->mutable_fallback();
  fallback.set_name("rules/everyone");
  fallback.set_team("emea");
  fallback.set_sla_policy("touch");
  ASSERT_TRUE(client_->Call(&Stub::ApplyRuleSet, apply).ok());
  module_->StartBackground();

  absl::StatusOr<v1::RouteLeadResponse> routed = Route("leads/l1");
  ASSERT_TRUE(routed.ok()) << routed.status();
  const std::string name = routed->assignment().name();
  v1::RecordFirstTouchRequest touch;
  touch.set_name(name);
  touch.set_rep(a);
  EXPECT_EQ(client_->Call(&Stub::RecordFirstTouch, touch).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "a pending offer cannot be touched";
  v1::AcceptAssignmentRequest accept;
  accept.set_name(name);
  accept.set_rep(a);
  absl::StatusOr<v1::Assignment> accepted =
      client_->Call(&Stub::AcceptAssignment, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(FromProtoTime(accepted->first_touch_due_time()),
            clock_.Now() + absl::Seconds(2));

  clock_.Advance(absl::Seconds(2));
  v1::GetAssignmentRequest get;
  get.set_name(name);
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  auto breached = [&] {
    absl::StatusOr<v1::Assignment> now =
        client_->Call(&Stub::GetAssignment, get);
    return now.ok() && now->first_touch_breached();
  };
  while (!breached() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_TRUE(breached());
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr("handoff_routing_first_touch_breaches_total{policy=\"touch\","
                "team=\"emea\"} 1"));

  v1::RecordFirstTouchRequest stranger = touch;
  stranger.set_rep(CreateRep("B"));
  absl::Status refused =
      client_->Call(&Stub::RecordFirstTouch, stranger).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr(a));

  absl::StatusOr<v1::Assignment> touched =
      client_->Call(&Stub::RecordFirstTouch, touch);
  ASSERT_TRUE(touched.ok()) << touched.status();
  module_->StopBackground();
  EXPECT_EQ(touched->state(), v1::ASSIGNMENT_STATE_ACCEPTED);
  EXPECT_EQ(touched->rep(), a) << "a late touch keeps the lead with the rep";
  EXPECT_EQ(FromProtoTime(touched->first_touch_time()), clock_.Now());
  ASSERT_GE(touched->sla_steps_size(), 2);
  EXPECT_EQ(touched->sla_steps(touched->sla_steps_size() - 2).type(),
            v1::SLA_STEP_TYPE_FIRST_TOUCH_BREACHED);
  const v1::SlaStep& last = touched->sla_steps(touched->sla_steps_size() - 1);
  EXPECT_EQ(last.type(), v1::SLA_STEP_TYPE_FIRST_TOUCHED);
  EXPECT_THAT(last.detail(), HasSubstr("after the first-touch due time"));
}

}  // namespace
}  // namespace handoff::routing
