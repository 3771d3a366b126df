#include "common/metrics/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/metrics/grpc_metrics.h"

namespace handoff {
namespace {

TEST(MetricsTest, BuildInfoIsOne) {
  Metrics metrics("campaign");
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("# TYPE handoff_build_info gauge"), std::string::npos);
  EXPECT_NE(text.find("handoff_build_info{service=\"campaign\",version=\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, SeriesHelpersReturnTheSameSeriesForSameLabels) {
  Metrics metrics("routing");
  prometheus::Counter& a =
      metrics.Counter("handoff_x_total", "X.", {{"kind", "a"}});
  prometheus::Counter& again =
      metrics.Counter("handoff_x_total", "X.", {{"kind", "a"}});
  EXPECT_EQ(&a, &again);
  a.Increment(3);
  metrics.Gauge("handoff_backlog", "Backlog.").Set(7);
  metrics.Histogram("handoff_wait_seconds", "Wait.", Metrics::LatencyBuckets())
      .Observe(0.0002);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("handoff_x_total{kind=\"a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("handoff_backlog 7\n"), std::string::npos);
  EXPECT_NE(text.find("handoff_wait_seconds_bucket{le=\"0.0001\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("handoff_wait_seconds_bucket{le=\"0.00025\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, LatencyBucketsSpanSubMillisecondToTenSeconds) {
  const std::vector<double>& buckets = Metrics::LatencyBuckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_DOUBLE_EQ(buckets.front(), 0.0001);
  EXPECT_DOUBLE_EQ(buckets.back(), 10);
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end()));
  EXPECT_GE(std::count_if(buckets.begin(), buckets.end(),
                          [](double b) { return b < 0.001; }),
            3);
}

TEST(MetricsTest, CodeNamesMatchGo) {
  EXPECT_STREQ(GrpcCodeName(0), "OK");
  EXPECT_STREQ(GrpcCodeName(1), "Canceled");
  EXPECT_STREQ(GrpcCodeName(3), "InvalidArgument");
  EXPECT_STREQ(GrpcCodeName(4), "DeadlineExceeded");
  EXPECT_STREQ(GrpcCodeName(9), "FailedPrecondition");
  EXPECT_STREQ(GrpcCodeName(14), "Unavailable");
  EXPECT_STREQ(GrpcCodeName(16), "Unauthenticated");
  EXPECT_STREQ(GrpcCodeName(99), "Unknown");
}

}  // namespace
}  // namespace handoff
