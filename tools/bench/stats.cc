#include "tools/bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace handoff::bench {

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double n = static_cast<double>(sorted.size());
  // The epsilon keeps q * n from rounding up past an exact rank (0.99 * 100).
  const int64_t rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * n - 1e-9)));
  return sorted[std::min<size_t>(static_cast<size_t>(rank - 1),
                                 sorted.size() - 1)];
}

LatencySummary Summarize(std::vector<int64_t> samples_ns) {
  LatencySummary summary;
  if (samples_ns.empty()) return summary;
  std::sort(samples_ns.begin(), samples_ns.end());
  summary.count = static_cast<int64_t>(samples_ns.size());
  summary.p50_ns = Percentile(samples_ns, 0.50);
  summary.p99_ns = Percentile(samples_ns, 0.99);
  summary.max_ns = samples_ns.back();
  summary.mean_ns = std::accumulate(samples_ns.begin(), samples_ns.end(), 0.0) /
                    static_cast<double>(samples_ns.size());
  return summary;
}

std::optional<double> Ratio(double rps, double baseline_rps) {
  if (!(baseline_rps > 0)) return std::nullopt;
  return rps / baseline_rps;
}

std::string_view StatusCodeName(int code) {
  static constexpr std::string_view kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) {
    return "INVALID_CODE";
  }
  return kNames[code];
}

std::string FormatErrors(const std::map<int, int64_t>& errors) {
  std::vector<std::pair<int, int64_t>> sorted(errors.begin(), errors.end());
  std::erase_if(sorted, [](const auto& e) { return e.second == 0; });
  if (sorted.empty()) return "0";
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  return absl::StrJoin(sorted, ", ", [](std::string* out, const auto& e) {
    absl::StrAppend(out, e.second, " ", Sv(StatusCodeName(e.first)));
  });
}

namespace {

std::string Millis(int64_t ns, int64_t count) {
  if (count == 0) return "-";
  return absl::StrFormat("%.2f", static_cast<double>(ns) / 1e6);
}

std::string Row(const std::vector<std::string>& cells) {
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
}

}  // namespace

std::string FormatTable(const std::vector<ScenarioResult>& results,
                        std::string_view baseline) {
  double baseline_rps = 0;
  for (const ScenarioResult& r : results) {
    if (r.name == baseline) baseline_rps = r.Throughput();
  }
  const std::vector<std::string> header = {
      "scenario", "calls",     "RPC/s",        "echo RPC/s", "x echo",
      "target",   "met",       "p50 ms",       "p99 ms",     "max ms",
      "errors",   "host busy", "loadgen cores"};
  std::vector<std::vector<std::string>> rows;
  for (const ScenarioResult& r : results) {
    const double echo_rps = r.baseline_rps > 0 ? r.baseline_rps : baseline_rps;
    const std::optional<double> ratio = Ratio(r.Throughput(), echo_rps);
    std::string met = "";
    if (r.target_ratio > 0) {
      met = !ratio.has_value() ? "?" : *ratio >= r.target_ratio ? "yes" : "NO";
    }
    rows.push_back({
        r.name,
        absl::StrCat(r.ok),
        absl::StrFormat("%.0f", r.Throughput()),
        echo_rps > 0 ? absl::StrFormat("%.0f", echo_rps) : "-",
        ratio.has_value() ? absl::StrFormat("%.3f", *ratio) : "n/a",
        r.target_ratio > 0 ? absl::StrFormat(">= %.1f", r.target_ratio) : "",
        met,
        Millis(r.latency.p50_ns, r.latency.count),
        Millis(r.latency.p99_ns, r.latency.count),
        Millis(r.latency.max_ns, r.latency.count),
        FormatErrors(r.errors),
        r.host_busy >= 0 ? absl::StrFormat("%.0f%%", 100 * r.host_busy) : "-",
        r.client_cores >= 0 ? absl::StrFormat("%.2f", r.client_cores) : "-",
    });
  }
  // Pad columns so the table also reads well as plain text.
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  // Text left, numbers right.
  auto is_text = [](size_t c) { return c == 0 || c == 5 || c == 6 || c == 10; };
  auto pad = [&](const std::vector<std::string>& row) {
    std::vector<std::string> out;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string fill(width[c] - row[c].size(), ' ');
      out.push_back(is_text(c) ? row[c] + fill : fill + row[c]);
    }
    return out;
  };
  std::string table = Row(pad(header));
  std::vector<std::string> rule;
  for (size_t c = 0; c < header.size(); ++c) {
    rule.push_back(is_text(c) ? std::string(width[c], '-')
                              : std::string(width[c] - 1, '-') + ":");
  }
  absl::StrAppend(&table, Row(rule));
  for (const auto& row : rows) absl::StrAppend(&table, Row(pad(row)));
  for (const ScenarioResult& r : results) {
    if (!r.note.empty()) absl::StrAppend(&table, "\n- ", r.name, ": ", r.note);
  }
  bool cpu_header = false;
  for (const ScenarioResult& r : results) {
    std::string line;
    for (const auto& [process, us] : r.cpu_us_per_call) {
      // Idle processes (deal, the other echo server) would be noise.
      if (us < 0.5) continue;
      absl::StrAppendFormat(&line, "%s %s %.0f", line.empty() ? "" : ",",
                            process, us);
    }
    if (line.empty()) continue;
    if (!cpu_header) {
      absl::StrAppend(&table, "\n\nCPU per call in microseconds, by process:");
      cpu_header = true;
    }
    absl::StrAppend(&table, "\n- ", r.name, ":", line);
  }
  const bool all_paired =
      std::all_of(results.begin(), results.end(),
                  [](const ScenarioResult& r) { return r.baseline_rps > 0; });
  if (baseline_rps == 0 && !all_paired) {
    absl::StrAppend(&table, "\n- no throughput for baseline \"",
                    std::string(baseline), "\": ratios are n/a");
  }
  absl::StrAppend(&table, "\n");
  return table;
}

}  // namespace handoff::bench
