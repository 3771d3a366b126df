#include "services/routing/routing_server.h"

#include <utility>

#include "common/errors.h"
#include "common/logging.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"

namespace handoff::routing {
namespace {

// A safety net: rep changes, rejections and breaches drain the queue as
// they happen.
constexpr absl::Duration kQueuePassInterval = absl::Seconds(1);

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

  timers_ = std::make_unique<DeadlineScheduler>(
      DeadlineScheduler::Options{},
      [this](DeadlineScheduler::Sink add) {
        return store_->LoadPendingDeadlines(add);
      },
      [this](const std::vector<DueTimer>& due) { return OnTimersDue(due); },
      clock_, &metrics);
  warnings_ = NewSideTimerScheduler(SlaTimer::kWarning, &Router::WarnDue,
                                    store_, router_, clock_);
  first_touches_ = NewSideTimerScheduler(
      SlaTimer::kFirstTouch, &Router::FirstTouchDue, store_, router_, clock_);
  router_ = std::make_unique<Router>(
      *store_, *outbox_, clock_, metrics,
      RouterOptions{.accept_window = options_.accept_window,
                    .max_attempts = options_.max_attempts},
      *timers_, *warnings_, *first_touches_);
  if (absl::Status s = router_->Load(); !s.ok()) return s;
  watch_hub_ = std::make_unique<WatchHub>(clock_);
  router_->SetEventListener([this] { watch_hub_->Notify(); });
  reps_ = std::make_unique<RepDirectory>(*store_, clock_, *router_);
  sla_reports_ = std::make_unique<SlaReporter>(*store_);
  grpc_service_ = std::make_unique<RoutingGrpcService>(
      *reps_, *router_, *sla_reports_, *store_, *watch_hub_);
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

absl::Status RoutingServer::OnTimersDue(const std::vector<DueTimer>& due) {
  absl::StatusOr<int> breached = router_->BreachDue(TimerIds(due));
  // The scheduler logs the failure and fires the batch again later.
  if (!breached.ok()) return breached.status();
  // The reps who let these lapse have room for a queued lead now.
  if (*breached > 0) WakeQueueLoop();
  return absl::OkStatus();
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
    absl::MutexLock lock(&queue_mu_);
    stop_ = false;
  }
  outbox_->Start();
  timers_->Start();
  warnings_->Start();
  first_touches_->Start();
  queue_thread_ = std::thread([this] { QueueLoop(); });
}

void RoutingServer::BeforeShutdown() { watch_hub_->Stop(); }

void RoutingServer::StopBackground() {
  if (!running_) return;
  running_ = false;
  {
    absl::MutexLock lock(&queue_mu_);
    stop_ = true;
  }
  queue_thread_.join();
  watch_hub_->Stop();
  first_touches_->Stop();
  warnings_->Stop();
  timers_->Stop();
  outbox_->Stop();
}

void RoutingServer::WakeQueueLoop() {
  absl::MutexLock lock(&queue_mu_);
  wake_ = true;
}

void RoutingServer::QueueLoop() {
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      if (stop_) return;
      wake_ = false;
    }
    DrainQueue();
    if (absl::Status s = router_->RefreshGauges(); !s.ok()) {
      LogError("routing.gauges_failed", s);
    }
    absl::MutexLock lock(&queue_mu_);
    const absl::Time next_pass = clock_.Now() + kQueuePassInterval;
    while (!stop_ && !wake_ && clock_.Now() < next_pass) {
      clock_.AwaitUntil(
          queue_mu_, absl::Condition(this, &RoutingServer::QueueLoopShouldWake),
          next_pass);
    }
  }
}

}  // namespace handoff::routing
