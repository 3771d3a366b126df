#include "services/routing/deadline_scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics/metrics.h"
#include "common/storage/database.h"

namespace handoff::routing {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

// Long enough never to matter on a healthy machine; waits end as soon as
// the awaited event happens.
constexpr absl::Duration kEventTimeout = absl::Seconds(30);

std::string Id(int n) { return absl::StrFormat("%020x", n); }

// Plays the router: records every batch, can fail calls and can hold a call
// until released.
class Recorder {
 public:
  explicit Recorder(const Clock& clock) : clock_(clock) {}

  DeadlineScheduler::Handler Handler() {
    return [this](const std::vector<DueTimer>& batch) { return Handle(batch); };
  }

  void FailNextCalls(int n) {
    absl::MutexLock lock(&mu_);
    failures_left_ = n;
  }
  void HoldCalls() {
    absl::MutexLock lock(&mu_);
    hold_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    hold_ = false;
  }

  bool AwaitCalls(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return calls_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kEventTimeout);
  }
  bool AwaitFired(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return fired_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kEventTimeout);
  }

  std::vector<std::vector<DueTimer>> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Successful firings, in order.
  std::vector<DueTimer> fired() const {
    absl::MutexLock lock(&mu_);
    return fired_;
  }
  bool saw_early_firing() const {
    absl::MutexLock lock(&mu_);
    return early_;
  }

  // Called inside a successful call, without the recorder's lock.
  std::function<void(const DueTimer&)> on_fired;

 private:
  absl::Status Handle(const std::vector<DueTimer>& batch) {
    std::vector<DueTimer> succeeded;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(batch);
      for (const DueTimer& t : batch) {
        if (clock_.Now() < t.due) early_ = true;
      }
      mu_.Await(absl::Condition(
          +[](bool* hold) { return !*hold; }, &hold_));
      if (failures_left_ > 0) {
        --failures_left_;
        return absl::UnavailableError("store is down");
      }
      succeeded = batch;
    }
    for (const DueTimer& t : succeeded) {
      if (on_fired) on_fired(t);
    }
    absl::MutexLock lock(&mu_);
    fired_.insert(fired_.end(), succeeded.begin(), succeeded.end());
    return absl::OkStatus();
  }

  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<DueTimer>> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<DueTimer> fired_ ABSL_GUARDED_BY(mu_);
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  bool early_ ABSL_GUARDED_BY(mu_) = false;
};

// A clock that never polls: a waiter wakes only when its condition holds,
// so a test passes only if the scheduler is woken rather than stumbling on
// the change at its next poll. Records each wait's deadline.
class WaitRecordingClock final : public Clock {
 public:
  explicit WaitRecordingClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }
  bool AwaitUntil(absl::Mutex& mu, const absl::Condition& cond,
                  absl::Time deadline) const override {
    {
      absl::MutexLock lock(&record_mu_);
      waits_.push_back(deadline);
    }
    if (now_ >= deadline) return cond.Eval();
    mu.Await(cond);
    return true;
  }

  // Waits until some wait was planned with `deadline`.
  bool AwaitWaitUntil(absl::Time deadline) const {
    absl::MutexLock lock(&record_mu_);
    awaited_ = deadline;
    return record_mu_.AwaitWithTimeout(
        absl::Condition(this, &WaitRecordingClock::SawAwaited), kEventTimeout);
  }

 private:
  bool SawAwaited() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(record_mu_) {
    return std::find(waits_.begin(), waits_.end(), awaited_) != waits_.end();
  }

  const absl::Time now_;
  mutable absl::Mutex record_mu_;
  mutable std::vector<absl::Time> waits_ ABSL_GUARDED_BY(record_mu_);
  mutable absl::Time awaited_ ABSL_GUARDED_BY(record_mu_);
};

using Rows = std::vector<std::pair<std::string, absl::Time>>;

DeadlineScheduler::Loader LoaderOf(Rows rows) {
  return [rows = std::move(rows)](DeadlineScheduler::Sink add) {
    for (const auto& [id, due] : rows) {
      if (!add(id, due)) break;
    }
    return absl::OkStatus();
  };
}

DeadlineScheduler::Options SmallBackoff() {
  DeadlineScheduler::Options options;
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(8);
  return options;
}

TEST(DeadlineSchedulerTest, FiresEachTimerExactlyOnceAndNeverEarly) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  Recorder recorder(clock);
  std::mt19937 rng(7);
  Rows rows;
  std::map<std::string, absl::Time> due_of;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = NewId(start + absl::Microseconds(i));
    const absl::Time due = start + absl::Milliseconds(rng() % 3600000);
    due_of[id] = due;
    // Half come from the reload, half are added while running.
    if (i % 2 == 0) rows.emplace_back(id, due);
  }
  DeadlineScheduler::Options options = SmallBackoff();
  options.max_batch = 50;
  DeadlineScheduler scheduler(options, LoaderOf(rows), recorder.Handler(),
                              clock);
  scheduler.Start();
  ASSERT_TRUE(scheduler.AwaitLoaded(kEventTimeout));
  int i = 0;
  for (const auto& [id, due] : due_of) {
    if (i++ % 2 == 1) scheduler.Add(id, due);
  }
  EXPECT_EQ(scheduler.pending(), 2000u);

  for (int minute = 1; minute <= 61; ++minute) {
    clock.Set(start + absl::Minutes(minute));
    size_t due_now = 0;
    for (const auto& [id, due] : due_of) due_now += due <= clock.Now();
    ASSERT_TRUE(recorder.AwaitFired(due_now)) << "minute " << minute;
  }
  scheduler.Stop();

  std::map<std::string, int> times_fired;
  for (const DueTimer& t : recorder.fired()) {
    ++times_fired[t.id];
    EXPECT_EQ(t.due, due_of[t.id]);
  }
  EXPECT_EQ(times_fired.size(), due_of.size());
  for (const auto& [id, n] : times_fired) EXPECT_EQ(n, 1) << id;
  for (const auto& batch : recorder.calls()) EXPECT_LE(batch.size(), 50u);
  EXPECT_FALSE(recorder.saw_early_firing());
  EXPECT_EQ(scheduler.pending(), 0u);
  EXPECT_EQ(scheduler.stats().fired, 2000);
  EXPECT_EQ(scheduler.stats().loaded, 1000);
}

TEST(DeadlineSchedulerTest, FiresDeadlinesThatPassedWhileDownRightAfterReload) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Recorder recorder(clock);
  DeadlineScheduler::Options options = SmallBackoff();
  options.max_batch = 2;
  DeadlineScheduler scheduler(options,
                              LoaderOf({{Id(1), now - absl::Hours(30)},
                                        {Id(9), now + absl::Minutes(5)},
                                        {Id(2), now - absl::Minutes(1)},
                                        {Id(4), now},
                                        {Id(3), now - absl::Seconds(1)},
                                        {Id(8), now + absl::Minutes(1)}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  // The clock does not move: the backlog fires on its own, in batches.
  ASSERT_TRUE(recorder.AwaitFired(4));
  std::vector<std::string> ids;
  for (const DueTimer& t : recorder.fired()) ids.push_back(t.id);
  EXPECT_THAT(ids, ElementsAre(Id(1), Id(2), Id(3), Id(4)));
  EXPECT_EQ(recorder.calls().size(), 2u);
  EXPECT_EQ(scheduler.pending(), 2u);
  EXPECT_EQ(scheduler.Earliest(), now + absl::Minutes(1));

  clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(recorder.AwaitFired(6));
  EXPECT_EQ(recorder.fired()[5].id, Id(9));
}

TEST(DeadlineSchedulerTest, RetriesAFailedBatchAfterABackoff) {
  FakeClock clock;
  const absl::Time due = clock.Now() - absl::Seconds(1);
  Recorder recorder(clock);
  recorder.FailNextCalls(2);
  DeadlineScheduler scheduler(SmallBackoff(), LoaderOf({{Id(1), due}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(recorder.AwaitCalls(1));
  // First retry after initial_backoff (1 s), the next after twice that.
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(recorder.AwaitCalls(2));
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(recorder.AwaitFired(1));
  scheduler.Stop();

  EXPECT_THAT(recorder.calls(), ElementsAre(ElementsAre(DueTimer{Id(1), due}),
                                            ElementsAre(DueTimer{Id(1), due}),
                                            ElementsAre(DueTimer{Id(1), due})));
  EXPECT_THAT(recorder.fired(), ElementsAre(DueTimer{Id(1), due}));
  EXPECT_EQ(scheduler.stats().failed_batches, 2);
  EXPECT_EQ(scheduler.stats().fired, 1);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(DeadlineSchedulerTest, ACancelDuringAFailingBatchIsNotUndone) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Recorder recorder(clock);
  recorder.FailNextCalls(1);
  recorder.HoldCalls();
  DeadlineScheduler scheduler(SmallBackoff(),
                              LoaderOf({{Id(1), now}, {Id(2), now}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(recorder.AwaitCalls(1));
  // The rep accepted offer 1 while its breach was being processed.
  EXPECT_FALSE(scheduler.Cancel(Id(1)));
  recorder.Release();

  // Past the backoff only offer 2 comes back (with a new one, to know when
  // the scheduler has fired again).
  clock.Advance(absl::Seconds(1));
  scheduler.Add(Id(3), clock.Now());
  ASSERT_TRUE(recorder.AwaitFired(2));
  EXPECT_THAT(recorder.fired(),
              ElementsAre(DueTimer{Id(2), now}, DueTimer{Id(3), clock.Now()}));
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(DeadlineSchedulerTest, TimersCancelledBeforeTheyComeDueNeverFire) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Recorder recorder(clock);
  DeadlineScheduler scheduler(SmallBackoff(),
                              LoaderOf({{Id(1), now + absl::Minutes(1)},
                                        {Id(2), now + absl::Minutes(2)}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(scheduler.AwaitLoaded(kEventTimeout));
  EXPECT_TRUE(scheduler.Cancel(Id(1)));
  scheduler.Add(Id(3), now + absl::Minutes(3));
  EXPECT_TRUE(scheduler.Cancel(Id(3)));
  clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(recorder.AwaitFired(1));
  scheduler.Stop();
  EXPECT_THAT(recorder.fired(),
              ElementsAre(DueTimer{Id(2), now + absl::Minutes(2)}));
}

TEST(DeadlineSchedulerTest, AnEarlierAddWakesTheSleepingThread) {
  const absl::Time now = absl::FromUnixSeconds(1767603600);
  WaitRecordingClock clock(now);
  Recorder recorder(clock);
  DeadlineScheduler scheduler(SmallBackoff(),
                              LoaderOf({{Id(1), now + absl::Hours(1)}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(clock.AwaitWaitUntil(now + absl::Hours(1)));
  // A later one does not change the plan; an earlier one does, at once.
  scheduler.Add(Id(2), now + absl::Hours(2));
  scheduler.Add(Id(3), now + absl::Minutes(5));
  ASSERT_TRUE(clock.AwaitWaitUntil(now + absl::Minutes(5)));
  // One already due fires without any clock movement.
  scheduler.Add(Id(4), now - absl::Seconds(1));
  ASSERT_TRUE(recorder.AwaitFired(1));
  EXPECT_THAT(recorder.fired(),
              ElementsAre(DueTimer{Id(4), now - absl::Seconds(1)}));
  scheduler.Stop();
  EXPECT_EQ(scheduler.pending(), 3u);
}

TEST(DeadlineSchedulerTest, StopIsPromptWhileSleeping) {
  const absl::Time now = absl::FromUnixSeconds(1767603600);
  WaitRecordingClock clock(now);
  Recorder recorder(clock);
  DeadlineScheduler scheduler(SmallBackoff(),
                              LoaderOf({{Id(1), now + absl::Hours(24)}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(clock.AwaitWaitUntil(now + absl::Hours(24)));
  // The clock never reaches the deadline: only the wake-up can end the wait.
  scheduler.Stop();
  EXPECT_THAT(recorder.calls(), IsEmpty());
  // Restartable; the timer is still there.
  EXPECT_EQ(scheduler.pending(), 1u);
}

TEST(DeadlineSchedulerTest, StopIsPromptDuringAFiringBackoff) {
  const absl::Time now = absl::FromUnixSeconds(1767603600);
  WaitRecordingClock clock(now);
  Recorder recorder(clock);
  recorder.FailNextCalls(1000);
  DeadlineScheduler::Options options;
  options.initial_backoff = absl::Hours(1);
  DeadlineScheduler scheduler(options, LoaderOf({{Id(1), now}}),
                              recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(clock.AwaitWaitUntil(now + absl::Hours(1)));
  scheduler.Stop();
  EXPECT_EQ(recorder.calls().size(), 1u);
  EXPECT_EQ(scheduler.pending(), 1u);  // Put back, not lost.
}

TEST(DeadlineSchedulerTest, StopIsPromptDuringALoad) {
  FakeClock clock;
  Recorder recorder(clock);
  absl::Notification loading;
  bool told_to_stop = false;
  DeadlineScheduler scheduler(
      SmallBackoff(),
      [&](DeadlineScheduler::Sink add) {
        // An endless table: only the sink saying stop ends it.
        for (int i = 0;; ++i) {
          if (i == 10) loading.Notify();
          if (!add(Id(i), clock.Now() + absl::Hours(1))) break;
        }
        told_to_stop = true;
        return absl::OkStatus();
      },
      recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(loading.WaitForNotificationWithTimeout(kEventTimeout));
  scheduler.Stop();
  EXPECT_TRUE(told_to_stop);
  EXPECT_FALSE(scheduler.AwaitLoaded(absl::ZeroDuration()));
}

TEST(DeadlineSchedulerTest, StopIsPromptDuringALoadBackoff) {
  const absl::Time now = absl::FromUnixSeconds(1767603600);
  WaitRecordingClock clock(now);
  Recorder recorder(clock);
  DeadlineScheduler::Options options;
  options.initial_backoff = absl::Hours(1);
  DeadlineScheduler scheduler(
      options,
      [](DeadlineScheduler::Sink) {
        return absl::UnavailableError("database is locked");
      },
      recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(clock.AwaitWaitUntil(now + absl::Hours(1)));
  scheduler.Stop();
  EXPECT_EQ(scheduler.stats().load_failures, 1);
}

TEST(DeadlineSchedulerTest, AFailedLoadIsRetriedAndKeepsWhatItRead) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Recorder recorder(clock);
  int attempts = 0;
  absl::Notification first_attempt;
  DeadlineScheduler scheduler(
      SmallBackoff(),
      [&](DeadlineScheduler::Sink add) {
        ++attempts;
        add(Id(1), now + absl::Minutes(1));
        if (attempts == 1) {
          first_attempt.Notify();
          return absl::UnavailableError("disk I/O error");
        }
        add(Id(2), now + absl::Minutes(2));
        return absl::OkStatus();
      },
      recorder.Handler(), clock);
  scheduler.Start();
  ASSERT_TRUE(first_attempt.WaitForNotificationWithTimeout(kEventTimeout));
  EXPECT_FALSE(scheduler.AwaitLoaded(absl::ZeroDuration()));
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(scheduler.AwaitLoaded(kEventTimeout));
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(scheduler.pending(), 2u);
  EXPECT_EQ(scheduler.stats().load_failures, 1);
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(recorder.AwaitFired(2));
  scheduler.Stop();
  EXPECT_EQ(recorder.fired().size(), 2u);  // Id(1) once, though read twice.
}

TEST(DeadlineSchedulerTest, TheHandlerMayScheduleTheNextTimer) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Recorder recorder(clock);
  DeadlineScheduler* scheduler_ptr = nullptr;
  // A breach offers the lead to the next rep, with a new deadline.
  recorder.on_fired = [&](const DueTimer& t) {
    if (t.id == Id(1)) scheduler_ptr->Add(Id(2), t.due + absl::Minutes(5));
  };
  DeadlineScheduler scheduler(SmallBackoff(), LoaderOf({{Id(1), now}}),
                              recorder.Handler(), clock);
  scheduler_ptr = &scheduler;
  scheduler.Start();
  ASSERT_TRUE(recorder.AwaitFired(1));
  clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(recorder.AwaitFired(2));
  scheduler.Stop();
  EXPECT_THAT(recorder.fired(),
              ElementsAre(DueTimer{Id(1), now},
                          DueTimer{Id(2), now + absl::Minutes(5)}));
}

TEST(DeadlineSchedulerTest, ExportsPendingGaugeAndLatenessHistogram) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  Metrics metrics("routing");
  Recorder recorder(clock);
  DeadlineScheduler scheduler(SmallBackoff(),
                              LoaderOf({{Id(1), now + absl::Seconds(10)}}),
                              recorder.Handler(), clock, &metrics);
  scheduler.Start();
  ASSERT_TRUE(scheduler.AwaitLoaded(kEventTimeout));
  scheduler.Add(Id(2), now + absl::Seconds(20));
  scheduler.Add(Id(3), now + absl::Seconds(30));
  scheduler.Cancel(Id(3));
  EXPECT_THAT(metrics.Render(),
              HasSubstr("\nhandoff_routing_sla_timers_pending 2\n"));

  clock.Set(now + absl::Seconds(20));
  ASSERT_TRUE(recorder.AwaitFired(2));
  scheduler.Stop();
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("\nhandoff_routing_sla_timers_pending 0\n"));
  EXPECT_THAT(text,
              HasSubstr("\nhandoff_routing_timer_lateness_seconds_count 2\n"));
  // Both fire in one pass at the new time: 10 s late and on time.
  EXPECT_THAT(text, HasSubstr("handoff_routing_timer_lateness_seconds_bucket{"
                              "le=\"5e-05\"} "));
}

// The reload as the router will do it: pending rows of a real table.
TEST(DeadlineSchedulerTest, ReloadsPendingRowsFromTheStoreAfterARestart) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  std::unique_ptr<Database> db = *Database::Open({":memory:"});
  ASSERT_TRUE(db->Migrate("timers_test",
                          {"CREATE TABLE assignments (id TEXT PRIMARY KEY,"
                           " state INTEGER NOT NULL,"
                           " accept_due_time INTEGER NOT NULL)"})
                  .ok());
  constexpr int kPending = 1;
  constexpr int kAccepted = 2;
  ASSERT_TRUE(db->Write([&](Transaction& tx) {
                  for (int i = 1; i <= 6; ++i) {
                    absl::Status s =
                        tx.Exec("INSERT INTO assignments VALUES (?, ?, ?)",
                                {Id(i), i == 3 ? kAccepted : kPending,
                                 absl::ToUnixMicros(now + absl::Minutes(i) -
                                                    absl::Minutes(4))})
                            .status();
                    if (!s.ok()) return s;
                  }
                  return absl::OkStatus();
                }).ok());
  auto loader = [&](DeadlineScheduler::Sink add) {
    return db->Read([&](Transaction& tx) {
      absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
          "SELECT id, accept_due_time FROM assignments WHERE state = ?",
          {kPending});
      if (!rows.ok()) return rows.status();
      for (const SqlRow& row : *rows) {
        if (!add(row.Bytes(0), absl::FromUnixMicros(row.Int(1)))) break;
      }
      return absl::OkStatus();
    });
  };
  // The conditional update: only a still-pending row breaches.
  absl::Mutex breached_mu;
  int64_t breached = 0;
  auto handler = [&](const std::vector<DueTimer>& batch) {
    int64_t changed = 0;
    absl::Status status = db->Write([&](Transaction& tx) {
      changed = 0;
      for (const DueTimer& t : batch) {
        absl::StatusOr<int64_t> n = tx.Exec(
            "UPDATE assignments SET state = 3 WHERE id = ? AND state = ?",
            {t.id, kPending});
        if (!n.ok()) return n.status();
        changed += *n;
      }
      return absl::OkStatus();
    });
    absl::MutexLock lock(&breached_mu);
    breached += changed;
    return status;
  };
  auto await_breached = [&](int64_t n) {
    absl::MutexLock lock(&breached_mu);
    auto enough = [&] { return breached >= n; };
    return breached_mu.AwaitWithTimeout(absl::Condition(&enough),
                                        kEventTimeout);
  };
  auto pending_rows = [&] {
    int64_t n = -1;
    EXPECT_TRUE(db->Read([&](Transaction& tx) {
                    absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
                        "SELECT COUNT(*) FROM assignments"
                        " WHERE state = ?",
                        {kPending});
                    if (!row.ok()) return row.status();
                    n = (*row)->Int(0);
                    return absl::OkStatus();
                  }).ok());
    return n;
  };

  {
    DeadlineScheduler first(SmallBackoff(), loader, handler, clock);
    first.Start();
    ASSERT_TRUE(first.AwaitLoaded(kEventTimeout));
    // Rows 1, 2 and 4 were due at start (3 is accepted); 5 and 6 are not.
    EXPECT_EQ(first.stats().loaded, 5);
    first.Stop();  // Perhaps before it fired all of them: as in a crash.
  }
  clock.Advance(absl::Minutes(1));  // Row 5 comes due while down.
  DeadlineScheduler second(SmallBackoff(), loader, handler, clock);
  second.Start();
  // The clock does not move: what is due fires on its own.
  ASSERT_TRUE(await_breached(4));
  second.Stop();
  EXPECT_EQ(pending_rows(), 1);  // Only row 6.
  // Whatever the first run fired before it stopped, the second did not
  // load again; it loaded row 6 besides.
  EXPECT_EQ(second.stats().loaded - second.stats().fired, 1);
}

}  // namespace
}  // namespace handoff::routing
