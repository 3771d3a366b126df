// The closed-loop driver with fake calls: no server, no sleeps.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tools/bench/driver.h"

namespace handoff::bench {
namespace {

ClosedLoopOptions Count(int64_t count, int concurrency, int channels = 1) {
  ClosedLoopOptions options;
  options.count = count;
  options.concurrency = concurrency;
  options.channels = channels;
  options.warmup = absl::ZeroDuration();
  return options;
}

// The end-to-end scenario reports each service's CPU from /proc: the reading
// agrees with getrusage for this process and grows with work done.
TEST(ProcessCpuTest, ReadsProcStatLikeGetrusage) {
  const double before = ProcessCpuSeconds(getpid());
  ASSERT_GE(before, 0);
  volatile uint64_t spin = 0;
  const double self_start = SelfCpuSeconds();
  while (SelfCpuSeconds() - self_start < 0.1) spin = spin + 1;
  const double after = ProcessCpuSeconds(getpid());
  const double self = SelfCpuSeconds();
  // /proc counts clock ticks (10 ms here); getrusage is finer.
  EXPECT_GE(after - before, 0.05);
  EXPECT_NEAR(after, self, 0.05);
  // No process has pid 0 in /proc.
  EXPECT_LT(ProcessCpuSeconds(0), 0);
}

TEST(ClosedLoopTest, InlineCompletionsDoNotGrowTheStack) {
  // Each completion starts the next call inside it; 100,000 nested calls
  // per slot would overflow the stack without the trampoline.
  RunStats stats = RunClosedLoop(
      Count(400000, 4),
      [](int64_t, int, CallDone done) { done(grpc::Status::OK); });
  EXPECT_TRUE(stats.drained);
  EXPECT_EQ(stats.ok, 400000);
  EXPECT_TRUE(stats.errors.empty());
  EXPECT_EQ(stats.latencies_ns.size(), 400000u);
}

TEST(ClosedLoopTest, CountsErrorsByCode) {
  RunStats stats =
      RunClosedLoop(Count(1000, 8), [](int64_t seq, int, CallDone done) {
        if (seq % 4 == 0) {
          done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
        } else if (seq % 10 == 1) {
          done(grpc::Status(grpc::StatusCode::ABORTED, "stale"));
        } else {
          done(grpc::Status::OK);
        }
      });
  // seq % 4 == 0: 250; seq % 10 == 1 (never a multiple of 4): 100.
  EXPECT_EQ(stats.errors, (std::map<int, int64_t>{{14, 250}, {10, 100}}));
  EXPECT_EQ(stats.ok, 650);
  // Failed calls have latencies too.
  EXPECT_EQ(stats.latencies_ns.size(), 1000u);
}

// Completes calls on another thread, as gRPC does.
class FakeServer {
 public:
  FakeServer() : worker_([this] { Serve(); }) {}
  ~FakeServer() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    worker_.join();
  }
  void Submit(CallDone done) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(done));
  }

 private:
  void Serve() {
    while (true) {
      CallDone done;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stop_ || !queue_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (queue_.empty()) return;
        done = std::move(queue_.front());
        queue_.pop_front();
      }
      done(grpc::Status::OK);
    }
  }

  absl::Mutex mu_;
  std::deque<CallDone> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

TEST(ClosedLoopTest, KeepsConcurrencyInFlightAndEachSeqOnce) {
  FakeServer server;
  absl::Mutex mu;
  std::set<int64_t> seen;
  std::map<int, int> per_channel;
  std::atomic<int> in_flight{0}, most_in_flight{0};
  RunStats stats = RunClosedLoop(
      Count(20000, 8, 3), [&](int64_t seq, int channel, CallDone done) {
        const int now = ++in_flight;
        int most = most_in_flight.load();
        while (now > most && !most_in_flight.compare_exchange_weak(most, now)) {
        }
        {
          absl::MutexLock lock(&mu);
          EXPECT_TRUE(seen.insert(seq).second) << seq;
          ++per_channel[channel];
        }
        server.Submit([&in_flight, done](const grpc::Status& s) {
          --in_flight;
          done(s);
        });
      });
  EXPECT_TRUE(stats.drained);
  EXPECT_EQ(stats.ok, 20000);
  EXPECT_EQ(seen.size(), 20000u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 19999);
  EXPECT_LE(most_in_flight.load(), 8);
  // Slots 0..7 over 3 channels: channels 0 and 1 get 3 slots, channel 2 two.
  ASSERT_EQ(per_channel.size(), 3u);
  EXPECT_GT(per_channel[2], 0);
}

TEST(ClosedLoopTest, DurationModeReportsItsWindow) {
  ClosedLoopOptions options;
  options.concurrency = 2;
  options.warmup = absl::ZeroDuration();
  options.duration = absl::Milliseconds(20);
  // This process, and pid 0, which /proc does not have.
  options.watched_pids = {static_cast<int>(getpid()), 0};
  RunStats stats = RunClosedLoop(
      options, [](int64_t, int, CallDone done) { done(grpc::Status::OK); });
  EXPECT_TRUE(stats.drained);
  EXPECT_DOUBLE_EQ(stats.window_seconds, 0.02);
  EXPECT_GT(stats.ok, 0);
  EXPECT_EQ(static_cast<int64_t>(stats.latencies_ns.size()), stats.ok);
  // CPU use comes from /proc and getrusage: a share and a core count.
  EXPECT_GE(stats.host_busy, 0);
  EXPECT_LE(stats.host_busy, 1);
  EXPECT_GE(stats.client_cores, 0);
  ASSERT_EQ(stats.watched_cores.size(), 2u);
  EXPECT_GE(stats.watched_cores[0], 0);
  EXPECT_LT(stats.watched_cores[1], 0);
}

}  // namespace
}  // namespace handoff::bench
