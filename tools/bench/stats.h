#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Statistics and the report table of handoff-loadgen, free of gRPC so the
// unit test needs no server.
namespace handoff::bench {

// Nearest-rank percentile of ascending `sorted`: the smallest sample with at
// least q of all samples at or below it (q in [0, 1]); 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, double q);

struct LatencySummary {
  int64_t count = 0;
  int64_t p50_ns = 0;
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
  double mean_ns = 0;
};

// Sorts `samples_ns` (hence by value) and summarizes them.
LatencySummary Summarize(std::vector<int64_t> samples_ns);

// rps / baseline_rps; nullopt when the baseline has no throughput.
std::optional<double> Ratio(double rps, double baseline_rps);

// "UNAVAILABLE" etc. for a canonical status code number.
std::string_view StatusCodeName(int code);

enum class Kind { kBaseline, kRead, kWrite, kInfo };

struct ScenarioResult {
  std::string name;
  Kind kind = Kind::kInfo;
  // Ratio to the baseline this scenario is held to; 0 when none.
  double target_ratio = 0;
  // Successful calls started inside the measured window, and its length.
  int64_t ok = 0;
  double window_seconds = 0;
  // Failed calls by canonical code number.
  std::map<int, int64_t> errors;
  LatencySummary latency;
  // Over the scenario (warmup included): share of the host's CPU time that
  // was busy (not idle or iowait), and cores the load generator itself used;
  // negative when unknown.
  double host_busy = -1;
  double client_cores = -1;
  // Microseconds of CPU per counted call of each watched process, then of
  // the load generator: cores over the whole scenario divided by the
  // window's throughput.
  std::vector<std::pair<std::string, double>> cpu_us_per_call;
  // Throughput of the echo baseline measured right before this scenario;
  // 0 to compare with the table's named baseline instead.
  double baseline_rps = 0;
  // Free text shown under the table, e.g. the fixture size.
  std::string note;

  double Throughput() const {
    return window_seconds > 0 ? static_cast<double>(ok) / window_seconds : 0;
  }
};

// "12 UNAVAILABLE, 3 DEADLINE_EXCEEDED" (most frequent first); "0" when none.
std::string FormatErrors(const std::map<int, int64_t>& errors);

// Plain-text (GitHub Markdown compatible) table: one row per scenario with
// RPC/s, the echo RPC/s it is compared with (its own baseline_rps, else that
// of the scenario named `baseline`) and the ratio, the target and whether it
// was met, p50/p99/max in ms, errors, and CPU use; notes and CPU per call
// follow.
std::string FormatTable(const std::vector<ScenarioResult>& results,
                        std::string_view baseline);

}  // namespace handoff::bench
