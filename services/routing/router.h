#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

struct RouterOptions {
  // How long a rep has to accept an offer (wall time for now).
  absl::Duration accept_window = absl::Minutes(30);
  // Offers of one lead per routing round before it goes back to marketing.
  int max_attempts = 3;
};

// Routes leads to reps and runs the accept SLA: RouteLead, Get/List/Accept/
// RejectAssignment, RecordConversion, and the deadline and queue passes the
// module's timer thread drives. Feedback to campaign goes through the outbox
// (destination "campaign", method "UpdateLeadStage") in the same transaction
// as the state change.
class Router {
 public:
  Router(RoutingStore& store, Outbox& outbox, const Clock& clock,
         Metrics& metrics, RouterOptions options);

  absl::StatusOr<v1::RouteLeadResponse> RouteLead(
      const v1::RouteLeadRequest& request);
  absl::StatusOr<v1::Assignment> GetAssignment(
      const v1::GetAssignmentRequest& request);
  absl::StatusOr<v1::ListAssignmentsResponse> ListAssignments(
      const v1::ListAssignmentsRequest& request);
  absl::StatusOr<v1::Assignment> AcceptAssignment(
      const v1::AcceptAssignmentRequest& request);
  absl::StatusOr<v1::Assignment> RejectAssignment(
      const v1::RejectAssignmentRequest& request);
  absl::StatusOr<v1::Assignment> RecordConversion(
      const v1::RecordConversionRequest& request);

  // Breaches every pending offer whose accept_due_time has come and moves
  // its lead on (next rep, queue, or recycled). Safe to run concurrently and
  // repeatedly: each deadline fires once. Returns how many breached.
  absl::StatusOr<int> ProcessDueDeadlines();
  // Offers queued leads, oldest first, while eligible reps exist. Returns
  // how many were offered.
  absl::StatusOr<int> DrainQueue();
  // The earliest accept_due_time of a pending offer, if any.
  absl::StatusOr<std::optional<absl::Time>> EarliestDeadline();
  // Recomputes the queue and timer gauges from the store.
  absl::Status RefreshGauges();

  // Called (after commit) with the due time of every new offer, so a timer
  // waiting for a later deadline can wake up.
  void SetDeadlineListener(std::function<void(absl::Time)> listener);

 private:
  // One lead in one routing round, about to be offered.
  struct LeadRound {
    std::string lead_id;
    v1::LeadSummary summary;
    int round = 1;
    int attempt = 1;
    std::string previous_assignment;
  };
  struct OfferResult {
    // Unset when nobody is eligible.
    std::optional<v1::Assignment> assignment;
    // Reps available and under capacity, ignoring who let this lead lapse:
    // zero means no other queued lead can be offered either.
    int reps_with_room = 0;
  };

  absl::StatusOr<OfferResult> Offer(Transaction& tx, const LeadRound& lead,
                                    absl::Time now);
  absl::Status Queue(Transaction& tx, const LeadRound& lead, absl::Time now);
  // Offers the lead or queues it; returns the response RouteLead gives.
  absl::StatusOr<v1::RouteLeadResponse> OfferOrQueue(Transaction& tx,
                                                     const LeadRound& lead,
                                                     absl::Time now);
  // Marks a pending offer BREACHED (if still pending) and moves the lead on.
  // Returns whether this call applied the breach.
  absl::StatusOr<bool> Breach(Transaction& tx, const StoredAssignment& stored,
                              absl::Time now);
  // The offer `id` (named `name`) if it is `rep`'s and still pending:
  // NOT_FOUND or FAILED_PRECONDITION otherwise.
  absl::StatusOr<StoredAssignment> LoadPendingOffer(Transaction& tx,
                                                    std::string_view name,
                                                    std::string_view id,
                                                    std::string_view rep);
  void NotifyDeadline(absl::Time due);
  void DrainAfterCapacityFreed();
  prometheus::Counter& BreachCounter(const std::string& team);

  RoutingStore& store_;
  Outbox& outbox_;
  const Clock& clock_;
  Metrics& metrics_;
  const RouterOptions options_;

  absl::Mutex listener_mu_;
  std::function<void(absl::Time)> deadline_listener_
      ABSL_GUARDED_BY(listener_mu_);

  prometheus::Counter& offered_;
  prometheus::Counter& queued_;
  prometheus::Counter& recycled_sla_;
  std::map<int, prometheus::Counter*> rejections_;  // by RejectReason
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& queue_oldest_age_;
  prometheus::Gauge& timers_pending_;
  prometheus::Histogram& timer_lateness_;
  prometheus::Histogram& time_to_accept_;
  absl::Mutex breach_mu_;
  // Team label values are rep teams (few); capped so a mistake cannot
  // explode the series count.
  std::map<std::string, prometheus::Counter*> breaches_by_team_
      ABSL_GUARDED_BY(breach_mu_);
};

}  // namespace handoff::routing
