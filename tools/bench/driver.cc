#include "tools/bench/driver.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace handoff::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct CpuSample {
  // Host jiffies from /proc/stat; zero when unreadable.
  uint64_t busy = 0;
  uint64_t total = 0;
  double self_seconds = 0;
  std::vector<double> watched_seconds;
  SteadyClock::time_point when = SteadyClock::now();
};

CpuSample SampleCpu(const std::vector<int>& watched_pids) {
  CpuSample sample;
  sample.watched_seconds = ProcessesCpuSeconds(watched_pids);
  std::ifstream in("/proc/stat");
  std::string label;
  in >> label;
  // user nice system idle iowait irq softirq steal (guest is inside user).
  uint64_t fields[8] = {};
  for (uint64_t& f : fields) in >> f;
  if (in && label == "cpu") {
    for (uint64_t f : fields) sample.total += f;
    sample.busy = sample.total - fields[3] - fields[4];
  }
  sample.self_seconds = std::max(0.0, SelfCpuSeconds());
  return sample;
}

void AddCpu(const CpuSample& before, const CpuSample& after, RunStats& stats) {
  if (after.total > before.total) {
    stats.host_busy = static_cast<double>(after.busy - before.busy) /
                      static_cast<double>(after.total - before.total);
  }
  const double wall =
      std::chrono::duration<double>(after.when - before.when).count();
  if (wall <= 0) return;
  stats.client_cores = (after.self_seconds - before.self_seconds) / wall;
  for (double used :
       CpuSecondsUsed(before.watched_seconds, after.watched_seconds)) {
    stats.watched_cores.push_back(used < 0 ? -1 : used / wall);
  }
}

}  // namespace

double SelfCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The name (field 2) may hold spaces and parentheses: fields are counted
  // from the last ')'. utime and stime are fields 14 and 15.
  const size_t name_end = line.rfind(')');
  if (name_end == std::string::npos) return -1;
  std::istringstream fields(line.substr(name_end + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  if (!fields) return -1;
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::vector<double> ProcessesCpuSeconds(const std::vector<int>& pids) {
  std::vector<double> seconds;
  seconds.reserve(pids.size());
  for (int pid : pids) seconds.push_back(ProcessCpuSeconds(pid));
  return seconds;
}

std::vector<double> CpuSecondsUsed(const std::vector<double>& before,
                                   const std::vector<double>& after) {
  std::vector<double> used;
  for (size_t i = 0; i < before.size() && i < after.size(); ++i) {
    used.push_back(before[i] < 0 || after[i] < 0 ? -1 : after[i] - before[i]);
  }
  return used;
}

namespace {

class ClosedLoop : public std::enable_shared_from_this<ClosedLoop> {
 public:
  ClosedLoop(const ClosedLoopOptions& options, IssueFn issue)
      : options_(options),
        issue_(std::move(issue)),
        slots_(static_cast<size_t>(std::max(1, options.concurrency))) {}

  RunStats Run() {
    const CpuSample cpu_before = SampleCpu(options_.watched_pids);
    begin_ = SteadyClock::now();
    measure_from_ = options_.count > 0
                        ? begin_
                        : begin_ + absl::ToChronoNanoseconds(options_.warmup);
    end_ = measure_from_ + absl::ToChronoNanoseconds(options_.duration);
    {
      absl::MutexLock lock(&mu_);
      active_ = static_cast<int>(slots_.size());
    }
    for (size_t slot = 0; slot < slots_.size(); ++slot) {
      Launch(static_cast<int>(slot));
    }
    RunStats stats;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time give_up = absl::Now() + options_.warmup +
                                 options_.duration + options_.drain_timeout;
      auto idle = [this]()
                      ABSL_SHARED_LOCKS_REQUIRED(mu_) { return active_ == 0; };
      stats.drained = mu_.AwaitWithDeadline(absl::Condition(&idle), give_up);
      // Calls still running write their slots: report nothing rather than
      // race them.
      if (!stats.drained) return stats;
      AddCpu(cpu_before, SampleCpu(options_.watched_pids), stats);
      SteadyClock::time_point window_end = end_;
      if (options_.count > 0) {
        window_end = begin_;
        for (const Slot& s : slots_) window_end = std::max(window_end, s.last);
      }
      stats.window_seconds =
          std::chrono::duration<double>(window_end - measure_from_).count();
      for (Slot& s : slots_) {
        stats.ok += s.ok;
        for (size_t code = 0; code < s.codes.size(); ++code) {
          if (s.codes[code] > 0)
            stats.errors[static_cast<int>(code)] += s.codes[code];
        }
        stats.latencies_ns.insert(stats.latencies_ns.end(), s.latencies.begin(),
                                  s.latencies.end());
      }
    }
    return stats;
  }

 private:
  struct Slot {
    // Only the slot's one call in flight touches these; gRPC orders its
    // completion before the next call the completion starts.
    std::vector<int64_t> latencies;
    std::array<int64_t, 17> codes{};
    int64_t ok = 0;
    SteadyClock::time_point last{};
  };

  // A completion that runs inline (the call failed before it left) would
  // otherwise start the next call inside itself and grow the stack without
  // bound: the outermost Launch on a thread runs the nested ones in a loop.
  void Launch(int slot) {
    thread_local std::vector<std::pair<std::shared_ptr<ClosedLoop>, int>>*
        pending = nullptr;
    if (pending != nullptr) {
      pending->emplace_back(shared_from_this(), slot);
      return;
    }
    std::vector<std::pair<std::shared_ptr<ClosedLoop>, int>> queue;
    queue.emplace_back(shared_from_this(), slot);
    pending = &queue;
    while (!queue.empty()) {
      auto [loop, s] = std::move(queue.back());
      queue.pop_back();
      loop->LaunchNow(s);
    }
    pending = nullptr;
  }

  void LaunchNow(int slot) {
    const SteadyClock::time_point start = SteadyClock::now();
    int64_t seq = -1;
    if (options_.count > 0) {
      seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
      if (seq >= options_.count) seq = -1;
    } else if (start < end_) {
      seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    }
    if (seq < 0) {
      absl::MutexLock lock(&mu_);
      --active_;
      return;
    }
    issue_(
        seq, slot % std::max(1, options_.channels),
        [self = shared_from_this(), slot, start](const grpc::Status& status) {
          self->Record(slot, start, status);
          self->Launch(slot);
        });
  }

  void Record(int slot, SteadyClock::time_point start,
              const grpc::Status& status) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (start < measure_from_) return;
    Slot& s = slots_[static_cast<size_t>(slot)];
    s.last = now;
    s.latencies.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - start)
            .count());
    if (status.ok()) {
      ++s.ok;
    } else {
      const size_t code = static_cast<size_t>(status.error_code());
      ++s.codes[code < s.codes.size() ? code : 2];  // UNKNOWN
    }
  }

  const ClosedLoopOptions options_;
  const IssueFn issue_;
  std::vector<Slot> slots_;
  SteadyClock::time_point begin_, measure_from_, end_;
  std::atomic<int64_t> next_seq_{0};
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

RunStats RunClosedLoop(const ClosedLoopOptions& options, const IssueFn& issue) {
  return std::make_shared<ClosedLoop>(options, issue)->Run();
}

std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target,
                                                int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("handoff.bench.channel_index", index);
  args.SetMaxReceiveMessageSize(4 << 20);
  args.SetMaxSendMessageSize(4 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace handoff::bench
