#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

struct WatchHubOptions {
  // Open WatchAssignments streams at once; more are RESOURCE_EXHAUSTED.
  int max_streams = 1000;
  // A stream re-reads the event log this often even without a Notify, so a
  // commit path that forgot to notify delays its events but loses none.
  absl::Duration recheck_interval = absl::Seconds(1);
};

// Wakes the WatchAssignments streams when events were committed. The router
// calls Notify after each commit that appended events; streams re-read the
// log from their last sent event, so a Notify carries no data and any number
// of them coalesce.
class WatchHub {
 public:
  class Subscription;

  explicit WatchHub(const Clock& clock, WatchHubOptions options = {});
  // Stops and waits until every subscription is released; the gRPC server
  // must be shut down first (its streams hold subscriptions until they end).
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Cheap and non-blocking: bumps a counter under a short lock.
  void Notify();
  // Ends every open stream with UNAVAILABLE, which clients treat as
  // retryable: they reconnect (to this or another instance) with the cursor
  // of the last event seen and miss nothing. OK would read as "the watch is
  // complete", which it never is. New streams are refused. Idempotent.
  // A stream stuck writing to a client that stopped reading ends when the
  // server's shutdown cancels the call. Call before GrpcServer::Shutdown.
  void Stop();
  int active_streams() const;

  // A slot for one stream: RESOURCE_EXHAUSTED at max_streams, UNAVAILABLE
  // after Stop.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe();

  enum class Wake {
    // Events may have been committed (a Notify, or the recheck interval
    // passed): read the log.
    kCheck,
    kCancelled,
    kStopped,
  };

  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // Blocks until a Notify that came after the previous Wait returned (or
    // after Subscribe), Cancel, Stop, or the recheck interval. Reading the
    // log after Wait returns therefore sees every commit notified before it
    // returned: no wakeup is lost between a read and the next Wait.
    Wake Wait();
    // Wait without blocking: kCheck unless cancelled or stopped.
    Wake Poll();
    // Wakes Wait for good; callable from any thread, does not block.
    void Cancel();

   private:
    friend class WatchHub;
    Subscription(WatchHub& hub, uint64_t seen) : hub_(hub), seen_(seen) {}
    bool Ready() const ABSL_SHARED_LOCKS_REQUIRED(hub_.mu_);

    WatchHub& hub_;
    uint64_t seen_ ABSL_GUARDED_BY(hub_.mu_);
    bool cancelled_ ABSL_GUARDED_BY(hub_.mu_) = false;
  };

 private:
  const Clock& clock_;
  const WatchHubOptions options_;
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
};

// The WatchAssignments handler: the service's override returns this.
// Invalid requests finish at once with INVALID_ARGUMENT naming the field.
// Otherwise a worker thread per stream reads the event log in seq order
// from the last event sent and writes one event at a time, so an event is
// never skipped or repeated; a client resumes with after_cursor of the last
// event it received. Without after_cursor the stream starts after the last
// event committed when it starts; the server sends initial metadata once
// that start is fixed, so a client that waits for it sees every event
// committed afterwards. The stream ends with UNAVAILABLE on WatchHub::Stop
// and with the storage error if reading fails.
grpc::ServerWriteReactor<v1::AssignmentEvent>* StartAssignmentWatch(
    grpc::CallbackServerContext* ctx,
    const v1::WatchAssignmentsRequest* request, RoutingStore& store,
    WatchHub& hub);

}  // namespace handoff::routing
