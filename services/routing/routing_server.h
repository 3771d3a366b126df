#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clients/clients.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/server/service_main.h"
#include "common/storage/database.h"
#include "services/routing/grpc_service.h"
#include "services/routing/rep_directory.h"
#include "services/routing/router.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

struct RoutingServerOptions {
  // SQLite file, or ":memory:" for tests.
  std::string db_path = ":memory:";
  bool db_sync_full = true;
  // Where feedback (UpdateLeadStage) goes; while empty it waits in the
  // outbox.
  std::string campaign_address;
  ClientOptions client;
  OutboxOptions outbox;
  absl::Duration accept_window = absl::Minutes(30);
  int max_attempts = 3;
};

// The lead-routing service: store, rep directory, router, outbox to
// campaign, the gRPC adapter and the SLA timer thread.
class RoutingServer : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<RoutingServer>> Create(
      const RoutingServerOptions& options, const Clock& clock,
      Metrics& metrics);
  ~RoutingServer() override;

  std::vector<grpc::Service*> GrpcServices() override;
  // Starts the outbox dispatcher and the SLA timer thread.
  void StartBackground() override;
  void StopBackground() override;

  Outbox& outbox() { return *outbox_; }
  Router& router() { return *router_; }
  RepDirectory& reps() { return *reps_; }

 private:
  RoutingServer(const RoutingServerOptions& options, const Clock& clock);
  absl::Status Init(Metrics& metrics);
  absl::Status DeliverLeadStage(const OutboxMessage& message);
  void DrainQueue();
  // Fires due deadlines, drains the queue, then sleeps until the earliest
  // pending deadline (at most a second, so gauges stay fresh).
  void TimerLoop();
  // Returns false when the deadline pass failed.
  bool RunTimerPass();
  void OnNewDeadline(absl::Time due);
  bool TimerShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(timer_mu_) {
    return stop_ || wake_;
  }

  const RoutingServerOptions options_;
  const Clock& clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RoutingStore> store_;
  std::unique_ptr<CampaignClient> campaign_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RepDirectory> reps_;
  std::unique_ptr<RoutingGrpcService> grpc_service_;

  absl::Mutex timer_mu_;
  bool stop_ ABSL_GUARDED_BY(timer_mu_) = false;
  bool wake_ ABSL_GUARDED_BY(timer_mu_) = false;
  // When the sleeping timer will wake by itself; a new offer due earlier
  // wakes it now.
  absl::Time planned_wake_ ABSL_GUARDED_BY(timer_mu_) = absl::InfiniteFuture();
  bool running_ = false;
  std::thread timer_;
};

}  // namespace handoff::routing
