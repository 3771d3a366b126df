#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/bench/v1/echo.grpc.pb.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"
#include "handoff/persona/v1/persona.grpc.pb.h"
#include "handoff/routing/v1/routing.grpc.pb.h"
#include "tools/bench/driver.h"
#include "tools/bench/stats.h"

namespace handoff::bench {

// A process whose CPU the scenarios report (a service, an echo server).
struct WatchedProcess {
  std::string name;
  int pid = 0;
};

struct BenchOptions {
  std::string persona_address;
  std::string campaign_address;
  std::string routing_address;
  ClosedLoopOptions load;
  int payload_bytes = 16;
  // Leads captured (GetLead, RecordEngagement) and leads routed
  // (GetAssignment) before the read and engagement scenarios.
  int fixture_size = 1000;
  // Reps created before routing; capacity large enough that RouteLead offers
  // instead of queueing.
  int reps = 20;
  int rep_capacity = 10000;
  // Makes emails, lead ids and request ids unique across runs.
  std::string run_id;
  // Their CPU per call (each scenario) and per MQL (MqlToOffer) is reported.
  std::vector<WatchedProcess> watched;
};

// The end-to-end "MQL to rep offer" measurement at one rate.
struct MqlToOfferResult {
  double rate = 0;
  double seconds = 0;
  int64_t scheduled = 0;
  // Not started because max_in_flight leads were still being captured or
  // engaged: the services did not keep up with the rate.
  int64_t skipped = 0;
  int64_t capture_errors = 0;
  int64_t engagement_errors = 0;
  int64_t mqls = 0;
  int64_t offered = 0;
  int64_t not_offered = 0;
  // assignment.offer_time - lead.mql_time (both service clocks, one host).
  LatencySummary mql_to_offer;
  // assignment.offer_time - the loadgen's wall clock when it sent the
  // demo-request RecordEngagement.
  LatencySummary sent_to_offer;
  // Milliseconds of CPU per MQL of each watched process, then of the load
  // generator ("loadgen"), from the first capture to the last engagement's
  // reply: work still queued then (outbox deliveries behind) is not counted.
  std::vector<std::pair<std::string, double>> cpu_ms_per_mql;
};

std::string FormatMqlToOffer(const MqlToOfferResult& result);

// Scenarios against running services. Fixtures (personas, a campaign, reps,
// leads, assignments) are created on first need.
class Bench {
 public:
  explicit Bench(BenchOptions options);

  // Waits until every channel to the services is connected.
  absl::Status Connect(absl::Duration timeout);

  // 16-byte (payload_bytes) echo against `address`.
  ScenarioResult Echo(const std::string& name, const std::string& address);

  absl::StatusOr<ScenarioResult> MatchPersona();
  absl::StatusOr<ScenarioResult> GetLead();
  absl::StatusOr<ScenarioResult> GetAssignment();
  absl::StatusOr<ScenarioResult> CaptureLead();
  absl::StatusOr<ScenarioResult> RecordEngagement();
  // `queued`: every rep is set AWAY first, so each lead goes to the queue;
  // they are set AVAILABLE again afterwards.
  // `view` only matters for offers: a queued lead has no assignment.
  absl::StatusOr<ScenarioResult> RouteLead(bool queued,
                                           routing::v1::AssignmentView view);

  // Captures a lead and records a demo request at `rate` per second for
  // `duration` (open loop), then asks routing for each lead's first offer.
  absl::StatusOr<MqlToOfferResult> MqlToOffer(double rate,
                                              absl::Duration duration,
                                              int max_in_flight);

 private:
  absl::Status EnsurePersonas();
  absl::Status EnsureCampaign();
  absl::Status EnsureReps();
  absl::Status EnsureLeads();
  absl::Status EnsureAssignments();
  absl::Status SetRepsStatus(routing::v1::RepStatus status);

  // Fixture builds: all calls, no warmup, moderate concurrency.
  ClosedLoopOptions FixtureLoad(int64_t count) const;
  std::string RequestId(std::string_view tag, int64_t seq) const;
  // CPU seconds of each watched process, then of this one; negative for one
  // that cannot be read.
  std::vector<double> WatchedCpuSeconds() const;
  // (name, figure * scale) for each figure that is known (not negative):
  // the watched processes' in order, then the load generator's.
  std::vector<std::pair<std::string, double>> PerProcess(
      const std::vector<double>& figures, double scale) const;
  // A capture of a new person `seq` into the bench campaign, tagged `tag`.
  void FillCapture(std::string_view tag, int64_t seq,
                   campaign::v1::CaptureLeadRequest& req) const;
  ScenarioResult Result(std::string name, Kind kind, double target,
                        RunStats stats, std::string note = "") const;

  BenchOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> persona_channels_,
      campaign_channels_, routing_channels_;
  std::vector<std::unique_ptr<persona::v1::PersonaService::Stub>> persona_;
  std::vector<std::unique_ptr<campaign::v1::CampaignService::Stub>> campaign_;
  std::vector<std::unique_ptr<routing::v1::LeadRoutingService::Stub>> routing_;

  std::vector<std::string> personas_;
  std::string campaign_name_;
  std::vector<std::string> reps_;
  std::vector<std::string> leads_;
  std::vector<std::string> assignments_;
};

}  // namespace handoff::bench
