#include "common/clock.h"

#include <algorithm>

namespace handoff {

bool SystemClock::AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                             absl::Time deadline) const {
  return mu.AwaitWithDeadline(cond, deadline);
}

FakeClock::FakeClock()
    : now_(absl::FromCivil(absl::CivilMinute(2026, 1, 5, 9, 0),
                           absl::UTCTimeZone())) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool FakeClock::AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                           absl::Time deadline) const {
  if (Now() >= deadline) return cond.Eval();
  // Fake time only moves when a test advances it; re-check shortly in real
  // time so the caller's loop sees the new fake time.
  return mu.AwaitWithTimeout(cond, absl::Milliseconds(5));
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

}  // namespace handoff
