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
#include "services/routing/assignment_watch.h"
#include "services/routing/deadline_scheduler.h"
#include "services/routing/grpc_service.h"
#include "services/routing/rep_directory.h"
#include "services/routing/router.h"
#include "services/routing/routing_store.h"
#include "services/routing/sla_report.h"

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
// campaign, the gRPC adapter, the SLA timers and warnings
// (DeadlineScheduler), the assignment watch hub, SLA reports and the queue
// thread.
class RoutingServer : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<RoutingServer>> Create(
      const RoutingServerOptions& options, const Clock& clock,
      Metrics& metrics);
  ~RoutingServer() override;

  std::vector<grpc::Service*> GrpcServices() override;
  // Starts the outbox dispatcher, the SLA timers (which first reload every
  // pending deadline, so those that passed while down fire now) and the
  // queue thread.
  void StartBackground() override;
  void StopBackground() override;
  // Ends WatchAssignments streams (UNAVAILABLE; clients resume elsewhere
  // from their cursor) so they do not hold the drain open.
  void BeforeShutdown() override;

  Outbox& outbox() { return *outbox_; }
  Router& router() { return *router_; }
  RepDirectory& reps() { return *reps_; }
  DeadlineScheduler& timers() { return *timers_; }
  WatchHub& watch_hub() { return *watch_hub_; }

 private:
  RoutingServer(const RoutingServerOptions& options, const Clock& clock);
  absl::Status Init(Metrics& metrics);
  absl::Status DeliverLeadStage(const OutboxMessage& message);
  // The SLA timers' handler.
  absl::Status OnTimersDue(const std::vector<DueTimer>& due);
  void DrainQueue();
  // Drains the queue and refreshes its gauges every second, and at once
  // when woken (breaches free capacity).
  void QueueLoop();
  void WakeQueueLoop();
  bool QueueLoopShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return stop_ || wake_;
  }

  const RoutingServerOptions options_;
  const Clock& clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RoutingStore> store_;
  std::unique_ptr<CampaignClient> campaign_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<DeadlineScheduler> timers_;
  std::unique_ptr<DeadlineScheduler> warnings_;
  std::unique_ptr<DeadlineScheduler> first_touches_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<WatchHub> watch_hub_;
  std::unique_ptr<RepDirectory> reps_;
  std::unique_ptr<SlaReporter> sla_reports_;
  std::unique_ptr<RoutingGrpcService> grpc_service_;

  absl::Mutex queue_mu_;
  bool stop_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool wake_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool running_ = false;
  std::thread queue_thread_;
};

}  // namespace handoff::routing
