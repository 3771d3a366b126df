#include "services/routing/deadline_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace handoff::routing {

DeadlineScheduler::DeadlineScheduler(Options options, Loader loader,
                                     Handler handler, const Clock& clock,
                                     Metrics* metrics)
    : options_(options),
      loader_(std::move(loader)),
      handler_(std::move(handler)),
      clock_(clock) {
  if (metrics != nullptr) {
    pending_gauge_ =
        &metrics->Gauge("handoff_routing_sla_timers_pending",
                        "Pending offers with a running SLA timer.");
    lateness_ = &metrics->Histogram(
        "handoff_routing_timer_lateness_seconds",
        "Delay between an SLA deadline and its timer firing.",
        LatenessBuckets());
  }
}

DeadlineScheduler::~DeadlineScheduler() { Stop(); }

const std::vector<double>& DeadlineScheduler::LatenessBuckets() {
  // Sub-millisecond at the low end (the target is p99 <= 10 ms); the high
  // end catches deadlines that passed while the process was down.
  static const auto* const kBuckets = new std::vector<double>{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   1,     10,     60,    600};
  return *kBuckets;
}

void DeadlineScheduler::Start() {
  absl::MutexLock lock(&mu_);
  if (running_) return;
  running_ = true;
  stop_ = false;
  loaded_ = false;
  thread_ = std::thread([this] { Run(); });
}

void DeadlineScheduler::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    stop_ = true;
    thread = std::move(thread_);
  }
  thread.join();
}

void DeadlineScheduler::Add(std::string_view id, absl::Time due) {
  absl::MutexLock lock(&mu_);
  index_.Add(id, due);
  UpdateGauge();
  if (due < planned_wake_) wake_ = true;
}

bool DeadlineScheduler::Cancel(std::string_view id) {
  absl::MutexLock lock(&mu_);
  if (in_flight_) cancelled_in_flight_.emplace(id);
  const bool pending = index_.Cancel(id);
  UpdateGauge();
  return pending;
}

bool DeadlineScheduler::AwaitLoaded(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&loaded_), timeout);
}

size_t DeadlineScheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

std::optional<absl::Time> DeadlineScheduler::Earliest() const {
  absl::MutexLock lock(&mu_);
  return index_.Earliest();
}

DeadlineScheduler::Stats DeadlineScheduler::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void DeadlineScheduler::Run() {
  if (!Load()) return;
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const absl::Time now = clock_.Now();
    const std::optional<absl::Time> earliest = index_.Earliest();
    if (now >= paused_until_ && earliest.has_value() && *earliest <= now) {
      Fire(index_.PopDue(now, options_.max_batch));
      continue;
    }
    planned_wake_ =
        std::max(earliest.value_or(absl::InfiniteFuture()), paused_until_);
    wake_ = false;
    clock_.AwaitUntil(mu_,
                      absl::Condition(this, &DeadlineScheduler::ShouldWake),
                      planned_wake_);
    // Awake: the next pass looks at the index anyway.
    planned_wake_ = absl::InfinitePast();
  }
}

bool DeadlineScheduler::Load() {
  absl::Duration backoff = absl::ZeroDuration();
  while (true) {
    int64_t fed = 0;
    const absl::Time attempt_start = clock_.Now();
    const absl::Status status =
        loader_([this, &fed](std::string_view id, absl::Time due) {
          absl::MutexLock lock(&mu_);
          if (stop_) return false;
          index_.Add(id, due);
          ++fed;
          return true;
        });
    absl::MutexLock lock(&mu_);
    if (stop_) return false;
    UpdateGauge();
    if (status.ok()) {
      stats_.loaded += fed;
      loaded_ = true;
      return true;
    }
    ++stats_.load_failures;
    backoff = NextBackoff(backoff);
    Log(LogLevel::kError, "routing.timer_reload_failed",
        {{"error", status.ToString()},
         {"loaded_so_far", absl::StrCat(fed)},
         {"retry_in", absl::FormatDuration(backoff)}});
    PauseUntil(attempt_start + backoff);
    if (stop_) return false;
  }
}

void DeadlineScheduler::Fire(std::vector<DueTimer> batch) {
  UpdateGauge();
  in_flight_ = true;
  mu_.Unlock();
  const absl::Time fired_at = clock_.Now();
  const absl::Status status = handler_(batch);
  if (status.ok() && lateness_ != nullptr) {
    for (const DueTimer& timer : batch) {
      lateness_->Observe(absl::ToDoubleSeconds(fired_at - timer.due));
    }
  }
  mu_.Lock();
  in_flight_ = false;
  if (status.ok()) {
    stats_.fired += static_cast<int64_t>(batch.size());
    fire_backoff_ = absl::ZeroDuration();
  } else {
    // Put the batch back at its own due times (so lateness stays honest) and
    // hold all firing for the backoff: the usual cause, a store outage,
    // would fail the other timers too.
    ++stats_.failed_batches;
    for (const DueTimer& timer : batch) {
      if (cancelled_in_flight_.contains(timer.id)) continue;
      // Re-added meanwhile: the new due time stands.
      if (index_.DueOf(timer.id).has_value()) continue;
      index_.Add(timer.id, timer.due);
    }
    UpdateGauge();
    // Counted from the attempt's start: a handler that failed slowly (a
    // lock timeout) has waited part of the backoff already.
    fire_backoff_ = NextBackoff(fire_backoff_);
    paused_until_ = fired_at + fire_backoff_;
    Log(LogLevel::kWarning, "routing.timer_batch_failed",
        {{"error", status.ToString()},
         {"timers", absl::StrCat(batch.size())},
         {"retry_in", absl::FormatDuration(fire_backoff_)}});
  }
  cancelled_in_flight_.clear();
}

void DeadlineScheduler::PauseUntil(absl::Time until) {
  while (!stop_ && clock_.Now() < until) {
    clock_.AwaitUntil(mu_, absl::Condition(&stop_), until);
  }
}

absl::Duration DeadlineScheduler::NextBackoff(absl::Duration current) const {
  if (current <= absl::ZeroDuration()) return options_.initial_backoff;
  return std::min(current * 2, options_.max_backoff);
}

void DeadlineScheduler::UpdateGauge() {
  if (pending_gauge_ != nullptr) {
    pending_gauge_->Set(static_cast<double>(index_.size()));
  }
}

}  // namespace handoff::routing
