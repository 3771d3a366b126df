#include "common/metrics/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#ifndef HANDOFF_VERSION
#define HANDOFF_VERSION "dev"
#endif

namespace handoff {

Metrics::Metrics(std::string service)
    : service_(std::move(service)),
      registry_(std::make_shared<prometheus::Registry>()) {
  Gauge("handoff_build_info", "Build of the running binary; the value is 1.",
        {{"service", service_}, {"version", HANDOFF_VERSION}})
      .Set(1);
}

// Stops the exposer before the registry it points at goes away.
Metrics::~Metrics() { exposer_.reset(); }

absl::StatusOr<int> Metrics::StartExposer(int port) {
  if (exposer_ != nullptr) {
    return absl::FailedPreconditionError("metrics exposer already started");
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_port: ", port, " is not a port number"));
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb binds port 0 to a free port; GetListeningPorts reports it.
    exposer = std::make_unique<prometheus::Exposer>(
        absl::StrCat("0.0.0.0:", port), /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve metrics on 0.0.0.0:", port, ": ", e.what()));
  }
  exposer->RegisterCollectable(registry_);
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve metrics on 0.0.0.0:", port));
  }
  exposer_ = std::move(exposer);
  return ports.front();
}

prometheus::Counter& Metrics::Counter(
    const std::string& name, const std::string& help,
    const std::map<std::string, std::string>& labels) {
  return prometheus::BuildCounter()
      .Name(name)
      .Help(help)
      .Register(*registry_)
      .Add(labels);
}

prometheus::Gauge& Metrics::Gauge(
    const std::string& name, const std::string& help,
    const std::map<std::string, std::string>& labels) {
  return prometheus::BuildGauge()
      .Name(name)
      .Help(help)
      .Register(*registry_)
      .Add(labels);
}

prometheus::Histogram& Metrics::Histogram(
    const std::string& name, const std::string& help,
    const std::vector<double>& buckets,
    const std::map<std::string, std::string>& labels) {
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(help)
      .Register(*registry_)
      .Add(labels, buckets);
}

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

const std::vector<double>& Metrics::LatencyBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *kBuckets;
}

}  // namespace handoff
