#pragma once

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace handoff {

// Time source. Everything time-based takes a Clock so tests can drive time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // With `mu` held, waits until `cond` holds or Now() >= deadline. May return
  // early; callers loop and re-check. Returns whether `cond` holds.
  virtual bool AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                          absl::Time deadline) const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  bool AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                  absl::Time deadline) const override;
};

// Manually driven time for tests. Waiters re-check every few real
// milliseconds, so background loops notice Advance() promptly.
class FakeClock final : public Clock {
 public:
  // Monday 2026-01-05 09:00 UTC.
  FakeClock();
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override;
  bool AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                  absl::Time deadline) const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handoff
