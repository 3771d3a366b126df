#include "services/routing/routing_server.h"

#include <algorithm>
#include <utility>

#include "common/errors.h"
#include "common/logging.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"

namespace handoff::routing {
namespace {

constexpr absl::Duration kMaxTimerSleep = absl::Seconds(1);

void LogError(std::string_view event, const absl::Status& status) {
  Log(LogLevel::kError, event, {{"error", status.ToString()}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingServer>> RoutingServer::Create(
    const RoutingServerOptions& options, const Clock& clock, Metrics& metrics) {
  if (options.accept_window <= absl::ZeroDuration()) {
    return InvalidField("accept_window", "must be positive");
  }
  if (options.max_attempts < 1) {
    return InvalidField("max_attempts", "must be at least 1");
  }
  std::unique_ptr<RoutingServer> server(new RoutingServer(options, clock));
  if (absl::Status s = server->Init(metrics); !s.ok()) return s;
  return server;
}

RoutingServer::RoutingServer(const RoutingServerOptions& options,
                             const Clock& clock)
    : options_(options), clock_(clock) {}

absl::Status RoutingServer::Init(Metrics& metrics) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(
      {.path = options_.db_path, .synchronous_full = options_.db_sync_full});
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  absl::StatusOr<std::unique_ptr<RoutingStore>> store =
      RoutingStore::Open(*db_);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);

  if (!options_.campaign_address.empty()) {
    campaign_ = std::make_unique<CampaignClient>(options_.campaign_address,
                                                 options_.client);
  }
  outbox_ = std::make_unique<Outbox>(*db_, clock_, options_.outbox,
                                     &metrics.registry());
  outbox_->RegisterHandler("campaign", "UpdateLeadStage",
                           [this](const OutboxMessage& message) {
                             return DeliverLeadStage(message);
                           });

  router_ = std::make_unique<Router>(
      *store_, *outbox_, clock_, metrics,
      RouterOptions{.accept_window = options_.accept_window,
                    .max_attempts = options_.max_attempts});
  router_->SetDeadlineListener([this](absl::Time due) { OnNewDeadline(due); });
  reps_ =
      std::make_unique<RepDirectory>(*store_, clock_, [this] { DrainQueue(); });
  grpc_service_ = std::make_unique<RoutingGrpcService>(*reps_, *router_);
  return router_->RefreshGauges();
}

RoutingServer::~RoutingServer() { StopBackground(); }

std::vector<grpc::Service*> RoutingServer::GrpcServices() {
  return {grpc_service_.get()};
}

absl::Status RoutingServer::DeliverLeadStage(const OutboxMessage& message) {
  campaign::v1::UpdateLeadStageRequest request;
  if (!request.ParseFromString(message.payload)) {
    return absl::DataLossError("UpdateLeadStage payload does not parse");
  }
  request.set_request_id(message.idempotency_key);
  if (campaign_ == nullptr) {
    return absl::UnavailableError("campaign_address is not set");
  }
  return campaign_
      ->Call(&campaign::v1::CampaignService::Stub::UpdateLeadStage, request)
      .status();
}

void RoutingServer::DrainQueue() {
  if (absl::StatusOr<int> offered = router_->DrainQueue(); !offered.ok()) {
    LogError("routing.drain_failed", offered.status());
  }
}

void RoutingServer::StartBackground() {
  if (running_) return;
  running_ = true;
  {
    absl::MutexLock lock(&timer_mu_);
    stop_ = false;
  }
  outbox_->Start();
  timer_ = std::thread([this] { TimerLoop(); });
}

void RoutingServer::StopBackground() {
  if (!running_) return;
  running_ = false;
  {
    absl::MutexLock lock(&timer_mu_);
    stop_ = true;
  }
  timer_.join();
  outbox_->Stop();
}

void RoutingServer::OnNewDeadline(absl::Time due) {
  absl::MutexLock lock(&timer_mu_);
  if (due < planned_wake_) wake_ = true;
}

bool RoutingServer::RunTimerPass() {
  bool ok = true;
  if (absl::StatusOr<int> breached = router_->ProcessDueDeadlines();
      !breached.ok()) {
    LogError("routing.deadlines_failed", breached.status());
    ok = false;
  }
  DrainQueue();
  if (absl::Status s = router_->RefreshGauges(); !s.ok()) {
    LogError("routing.gauges_failed", s);
  }
  return ok;
}

void RoutingServer::TimerLoop() {
  while (true) {
    {
      absl::MutexLock lock(&timer_mu_);
      if (stop_) return;
      wake_ = false;
      // Until the next wait is planned, any new deadline forces another pass.
      planned_wake_ = absl::InfiniteFuture();
    }
    // After a failed pass, retry in a second rather than spin on a deadline
    // that is already due.
    const bool passed = RunTimerPass();
    absl::Time wake_at = clock_.Now() + kMaxTimerSleep;
    if (passed) {
      absl::StatusOr<std::optional<absl::Time>> earliest =
          router_->EarliestDeadline();
      if (!earliest.ok()) {
        LogError("routing.deadlines_failed", earliest.status());
      } else if (earliest->has_value()) {
        wake_at = std::min(wake_at, **earliest);
      }
    }
    absl::MutexLock lock(&timer_mu_);
    planned_wake_ = wake_at;
    clock_.AwaitUntil(timer_mu_,
                      absl::Condition(this, &RoutingServer::TimerShouldWake),
                      wake_at);
  }
}

}  // namespace handoff::routing
