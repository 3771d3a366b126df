#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tools/bench/stats.h"

namespace handoff::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<int64_t> OneTo(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

TEST(PercentileTest, NearestRankOnHundredSamples) {
  const std::vector<int64_t> v = OneTo(100);
  EXPECT_EQ(Percentile(v, 0.50), 50);
  // 0.99 * 100 is not exactly 99 in binary; the rank must still be 99.
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile(v, 1.0), 100);
  EXPECT_EQ(Percentile(v, 0.0), 1);
  EXPECT_EQ(Percentile(v, 0.001), 1);
}

TEST(PercentileTest, SmallAndOddSizes) {
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.5), 7);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
  // Three samples: the median is the second; p99 is the largest.
  EXPECT_EQ(Percentile({1, 2, 3}, 0.5), 2);
  EXPECT_EQ(Percentile({1, 2, 3}, 0.99), 3);
  // 1000 samples: p99 is the 990th.
  EXPECT_EQ(Percentile(OneTo(1000), 0.99), 990);
  EXPECT_EQ(Percentile(OneTo(1000), 0.999), 999);
}

TEST(PercentileTest, OutOfRangeQuantilesClamp) {
  EXPECT_EQ(Percentile(OneTo(10), -1), 1);
  EXPECT_EQ(Percentile(OneTo(10), 2), 10);
}

TEST(SummarizeTest, SortsUnorderedSamples) {
  std::vector<int64_t> samples;
  // 200 samples: 1..199 ms and one 1 s outlier, shuffled deterministically.
  for (int64_t i = 0; i < 199; ++i)
    samples.push_back(((i * 37) % 199 + 1) * 1'000'000);
  samples.push_back(1'000'000'000);
  const LatencySummary s = Summarize(samples);
  EXPECT_EQ(s.count, 200);
  EXPECT_EQ(s.p50_ns, 100'000'000);
  EXPECT_EQ(s.p99_ns, 198'000'000);
  EXPECT_EQ(s.max_ns, 1'000'000'000);
  EXPECT_DOUBLE_EQ(s.mean_ns, (199.0 * 200 / 2 * 1e6 + 1e9) / 200);
}

TEST(SummarizeTest, EmptyIsAllZero) {
  const LatencySummary s = Summarize({});
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.p50_ns, 0);
  EXPECT_EQ(s.p99_ns, 0);
  EXPECT_EQ(s.max_ns, 0);
}

TEST(RatioTest, DividesByBaseline) {
  ASSERT_TRUE(Ratio(12000, 40000).has_value());
  EXPECT_DOUBLE_EQ(*Ratio(12000, 40000), 0.3);
  EXPECT_DOUBLE_EQ(*Ratio(40000, 40000), 1.0);
  EXPECT_DOUBLE_EQ(*Ratio(0, 40000), 0.0);
}

TEST(RatioTest, NoBaselineNoRatio) {
  EXPECT_FALSE(Ratio(100, 0).has_value());
  EXPECT_FALSE(Ratio(100, -1).has_value());
}

TEST(ThroughputTest, OkCallsPerWindowSecond) {
  ScenarioResult r;
  r.ok = 5000;
  r.window_seconds = 2.5;
  EXPECT_DOUBLE_EQ(r.Throughput(), 2000);
  r.window_seconds = 0;
  EXPECT_DOUBLE_EQ(r.Throughput(), 0);
}

TEST(FormatErrorsTest, MostFrequentFirstWithCodeNames) {
  EXPECT_EQ(FormatErrors({}), "0");
  EXPECT_EQ(FormatErrors({{14, 0}}), "0");
  EXPECT_EQ(FormatErrors({{4, 3}, {14, 12}}),
            "12 UNAVAILABLE, 3 DEADLINE_EXCEEDED");
  EXPECT_EQ(StatusCodeName(10), "ABORTED");
  EXPECT_EQ(StatusCodeName(99), "INVALID_CODE");
}

ScenarioResult Scenario(std::string name, int64_t ok, double target,
                        int64_t p50_ns = 1'000'000) {
  ScenarioResult r;
  r.name = std::move(name);
  r.ok = ok;
  r.window_seconds = 1;
  r.target_ratio = target;
  r.latency.count = ok;
  r.latency.p50_ns = p50_ns;
  r.latency.p99_ns = 2 * p50_ns;
  r.latency.max_ns = 3 * p50_ns;
  return r;
}

TEST(FormatTableTest, RatiosAgainstTheNamedBaselineAndTargets) {
  const std::string table =
      FormatTable({Scenario("echo", 40000, 0), Scenario("GetLead", 30000, 0.7),
                   Scenario("CaptureLead", 400, 0.3, 5'000'000)},
                  "echo");
  EXPECT_THAT(table, HasSubstr("| echo "));
  // 30000 / 40000 and 400 / 40000.
  EXPECT_THAT(table, HasSubstr("0.750"));
  EXPECT_THAT(table, HasSubstr("0.010"));
  EXPECT_THAT(table, HasSubstr(">= 0.7"));
  EXPECT_THAT(table, HasSubstr("yes"));
  EXPECT_THAT(table, HasSubstr("NO"));
  // Latencies in milliseconds with two decimals.
  EXPECT_THAT(table, HasSubstr("5.00"));
  EXPECT_THAT(table, HasSubstr("10.00"));
  EXPECT_THAT(table, HasSubstr("1.000"));  // echo against itself
}

TEST(FormatTableTest, CpuColumnsWhenKnown) {
  ScenarioResult known = Scenario("echo", 40000, 0);
  known.host_busy = 0.973;
  known.client_cores = 0.8512;
  const std::string with_cpu = FormatTable({known}, "echo");
  EXPECT_THAT(with_cpu, HasSubstr("97%"));
  EXPECT_THAT(with_cpu, HasSubstr("0.85"));
  const std::string without = FormatTable({Scenario("echo", 40000, 0)}, "echo");
  EXPECT_THAT(without, Not(HasSubstr("%")));
}

TEST(FormatTableTest, CpuPerCallOfBusyProcessesUnderTheTable) {
  ScenarioResult route = Scenario("RouteLead", 3000, 0.3);
  route.cpu_us_per_call = {{"routing", 391.4}, {"deal", 0.2}, {"loadgen", 124}};
  const std::string table =
      FormatTable({Scenario("echo", 20000, 0), route}, "echo");
  EXPECT_THAT(table, HasSubstr("CPU per call in microseconds, by process:\n"
                               "- RouteLead: routing 391, loadgen 124\n"));
  EXPECT_THAT(table, Not(HasSubstr("deal")));
  EXPECT_THAT(table, Not(HasSubstr("- echo:")));
  const std::string without = FormatTable({Scenario("echo", 20000, 0)}, "echo");
  EXPECT_THAT(without, Not(HasSubstr("CPU per call")));
}

TEST(FormatTableTest, PairedBaselineWinsOverTheNamedOne) {
  ScenarioResult paired = Scenario("GetLead", 6000, 0.7);
  paired.baseline_rps = 10000;  // the echo right before it
  const std::string table =
      FormatTable({Scenario("echo", 20000, 0), paired}, "echo");
  EXPECT_THAT(table, HasSubstr("0.600"));  // 6000 / 10000, not / 20000
  EXPECT_THAT(table, Not(HasSubstr("0.300")));
  EXPECT_THAT(table, HasSubstr("10000"));
  EXPECT_THAT(table, Not(HasSubstr("| yes")));
  EXPECT_THAT(table, HasSubstr("| NO"));
}

TEST(FormatTableTest, MissingBaselineSaysSo) {
  const std::string table =
      FormatTable({Scenario("GetLead", 30000, 0.7)}, "echo");
  EXPECT_THAT(table, HasSubstr("n/a"));
  EXPECT_THAT(table, HasSubstr("no throughput for baseline"));
  EXPECT_THAT(table, Not(HasSubstr("yes")));
}

}  // namespace
}  // namespace handoff::bench
