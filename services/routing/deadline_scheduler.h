#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "services/routing/deadline_index.h"

namespace handoff::routing {

// Fires the SLA timers of one process from an in-memory DeadlineIndex.
//
// The store stays the source of truth: on Start the scheduler reloads every
// pending deadline through `loader`, then calls `handler` with batches of the
// timers that came due, earliest first. Deadlines that passed while the
// process was down are due at once, so they fire right after the reload.
//
// Delivery is at least once. A batch whose handler fails is put back (at
// its own due times) and firing pauses for a backoff, counted from the
// failed call's start and doubling up to max_backoff. A Cancel that races a
// reload may be undone by it. The handler must therefore make its state
// change conditional (breach only a still-pending assignment), which turns a
// second firing into a no-op. A timer is never dropped. The handler returns
// an error only for failures worth retrying (the store is down); a timer it
// can never act on it must log and swallow, or the batch is retried forever.
//
// Add and Cancel are thread-safe and cheap (no I/O); call them after the
// transaction that creates or closes the offer commits.
class DeadlineScheduler {
 public:
  // Returns false once the scheduler is stopping; the loader should return
  // then (any status).
  using Sink = absl::FunctionRef<bool(std::string_view id, absl::Time due)>;
  // Feeds every pending (id, due) pair of the store to the sink. A failed
  // load is retried after a backoff; what it fed already stays (an Add of a
  // pending id at the same time is a no-op).
  using Loader = std::function<absl::Status(Sink add)>;
  // Acts on timers that came due. Runs on the scheduler's thread, without
  // its lock, so it may call Add and Cancel.
  using Handler = std::function<absl::Status(const std::vector<DueTimer>&)>;

  struct Options {
    // Most timers per handler call, so a backlog after a long outage is
    // worked off in transactions of bounded size.
    size_t max_batch = 500;
    // After a failed handler call or reload, counted from its start.
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(10);
  };

  // With `metrics`, exports handoff_routing_sla_timers_pending and
  // handoff_routing_timer_lateness_seconds (due time to handler call).
  DeadlineScheduler(Options options, Loader loader, Handler handler,
                    const Clock& clock, Metrics* metrics = nullptr);
  // Stops.
  ~DeadlineScheduler();
  DeadlineScheduler(const DeadlineScheduler&) = delete;
  DeadlineScheduler& operator=(const DeadlineScheduler&) = delete;

  // Starts the thread: reload, then fire. Add and Cancel may be called
  // before, during and after the reload.
  void Start();
  // Returns once the thread has exited: promptly, unless a handler or
  // loader call is in progress (a loader is told through its sink).
  void Stop();

  // Schedules `id` at `due`, or moves it there if already pending.
  void Add(std::string_view id, absl::Time due);
  // Returns whether `id` was pending.
  bool Cancel(std::string_view id);

  // Waits (in real time, at most `timeout`) until the reload has completed;
  // returns whether it has.
  bool AwaitLoaded(absl::Duration timeout) const;

  size_t pending() const;
  std::optional<absl::Time> Earliest() const;

  struct Stats {
    int64_t loaded = 0;
    int64_t load_failures = 0;
    // Timers whose handler call succeeded.
    int64_t fired = 0;
    int64_t failed_batches = 0;
  };
  Stats stats() const;

  static const std::vector<double>& LatenessBuckets();

 private:
  void Run();
  // Returns false when stopped before the load completed.
  bool Load();
  // Hands `batch` to the handler (without the lock); on failure puts it
  // back and pauses firing.
  void Fire(std::vector<DueTimer> batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until the clock reaches `until` or Stop.
  void PauseUntil(absl::Time until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration NextBackoff(absl::Duration current) const;
  void UpdateGauge() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || wake_;
  }

  const Options options_;
  const Loader loader_;
  const Handler handler_;
  const Clock& clock_;
  prometheus::Gauge* pending_gauge_ = nullptr;
  prometheus::Histogram* lateness_ = nullptr;

  mutable absl::Mutex mu_;
  DeadlineIndex index_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  // When the sleeping thread will wake by itself; an Add due earlier wakes
  // it sooner.
  absl::Time planned_wake_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // No firing before this (backoff after a failed batch).
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration fire_backoff_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  // While a batch is in the handler: ids cancelled meanwhile, which a retry
  // must not bring back.
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<std::string> cancelled_in_flight_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace handoff::routing
