#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
#include "common/metrics/metrics.h"
#include "common/proto_time.h"
#include "handoff/deal/v1/deal.pb.h"

namespace handoff::deal::testing {

// A valid CreateDealRequest for `lead`: USD 5,000.00, closing in 30 days.
inline v1::CreateDealRequest NewDealRequest(
    const std::string& lead, absl::Time now,
    const std::string& request_id = "") {
  v1::CreateDealRequest request;
  request.set_request_id(request_id);
  v1::Deal* deal = request.mutable_deal();
  deal->set_lead(lead);
  deal->set_display_name("Acme renewal");
  deal->mutable_amount()->set_currency_code("USD");
  deal->mutable_amount()->set_minor_units(500000);
  *deal->mutable_expected_close_time() =
      ToProtoTime(now + absl::Hours(24 * 30));
  return request;
}

// Value of the counter series `name` carrying `labels` (among others), or -1
// when there is no such series.
inline double CounterValue(
    Metrics& metrics, const std::string& name,
    const std::map<std::string, std::string>& labels = {}) {
  for (const prometheus::MetricFamily& family : metrics.registry().Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched == labels.size()) return metric.counter.value;
    }
  }
  return -1;
}

}  // namespace handoff::deal::testing
