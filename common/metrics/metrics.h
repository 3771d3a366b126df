#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
}

namespace handoff {

// One per process (or per in-process test server): the Prometheus registry,
// handoff_build_info, and the /metrics HTTP exposer.
class Metrics {
 public:
  explicit Metrics(std::string service);
  ~Metrics();

  const std::string& service() const { return service_; }
  prometheus::Registry& registry() { return *registry_; }

  // Serves /metrics on 0.0.0.0:`port` (0 picks a free port) and returns the
  // bound port; FAILED_PRECONDITION with the port when it is taken.
  absl::StatusOr<int> StartExposer(int port);

  // Series helpers: create once at start-up and keep the reference.
  prometheus::Counter& Counter(
      const std::string& name, const std::string& help,
      const std::map<std::string, std::string>& labels = {});
  prometheus::Gauge& Gauge(
      const std::string& name, const std::string& help,
      const std::map<std::string, std::string>& labels = {});
  prometheus::Histogram& Histogram(
      const std::string& name, const std::string& help,
      const std::vector<double>& buckets,
      const std::map<std::string, std::string>& labels = {});

  // Text exposition of everything registered, as /metrics serves it.
  std::string Render() const;

  // Latency buckets from 100 us to 10 s.
  static const std::vector<double>& LatencyBuckets();

 private:
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace handoff
