#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/deadline_scheduler.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

struct RouterOptions {
  // How long a rep has to accept an offer (wall time for now).
  absl::Duration accept_window = absl::Minutes(30);
  // Offers of one lead per routing round before it goes back to marketing.
  int max_attempts = 3;
};

// Routes leads to reps and runs the accept SLA: RouteLead, Get/List/Accept/
// RejectAssignment, RecordConversion, the breach of offers whose SLA timer
// fired, and the queue pass. Feedback to campaign goes through the outbox
// (destination "campaign", method "UpdateLeadStage") in the same transaction
// as the state change.
//
// `timers` holds the deadline of every pending offer: each new offer is
// added and each closed one (accepted, rejected, breached, converted)
// cancelled once its transaction commits. The store stays the truth; the
// module reloads `timers` from it at start.
class Router {
 public:
  Router(RoutingStore& store, Outbox& outbox, const Clock& clock,
         Metrics& metrics, RouterOptions options, DeadlineScheduler& timers);

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

  // The SLA timers' handler: breaches each of these offers (assignment ids)
  // that is still PENDING and due, and moves its lead on (next rep, queue,
  // or recycled). The state change is conditional, so a second firing of a
  // deadline, or one racing an accept, changes nothing. An offer not due
  // yet is put back on the timers; an unknown id, or an offer that cannot
  // be read, is logged and skipped. Fails only when the store does (worth
  // retrying); offers breached before the failure stay breached. Returns
  // how many this call breached.
  absl::StatusOr<int> BreachDue(absl::Span<const std::string> assignment_ids);
  // Breaches every pending offer due by now, found in the store rather than
  // the timers (BreachDue over them). Safe to run concurrently and
  // repeatedly. Returns how many breached.
  absl::StatusOr<int> ProcessDueDeadlines();
  // Offers queued leads, oldest first, while eligible reps exist. Returns
  // how many were offered.
  absl::StatusOr<int> DrainQueue();
  // Recomputes the queue gauges from the store (the timer gauges are the
  // scheduler's).
  absl::Status RefreshGauges();

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
  // BreachDue over `ids` in one transaction.
  absl::StatusOr<int> BreachDueTogether(absl::Span<const std::string> ids);
  // Stops the offer's SLA timer once `tx` commits.
  void CancelTimerAfterCommit(Transaction& tx, std::string_view id);
  // The offer `id` (named `name`) if it is `rep`'s and still pending:
  // NOT_FOUND or FAILED_PRECONDITION otherwise.
  absl::StatusOr<StoredAssignment> LoadPendingOffer(Transaction& tx,
                                                    std::string_view name,
                                                    std::string_view id,
                                                    std::string_view rep);
  // A rep's answer (accept or reject) to offer `id`, named `name`: the
  // offer must be `rep`'s and PENDING. A late answer commits the breach and
  // fails, as if the timer had fired first. Otherwise `answer` sets the new
  // state on the assignment inside the transaction and returns the feedback
  // for campaign; the offer's timer stops and the feedback is enqueued.
  using OfferAnswer = absl::FunctionRef<campaign::v1::UpdateLeadStageRequest(
      v1::Assignment& assignment, absl::Time now, Transaction& tx)>;
  absl::StatusOr<v1::Assignment> AnswerOffer(std::string_view name,
                                             std::string_view id,
                                             std::string_view rep,
                                             OfferAnswer answer);
  void DrainAfterCapacityFreed();
  prometheus::Counter& BreachCounter(const std::string& team);

  RoutingStore& store_;
  Outbox& outbox_;
  const Clock& clock_;
  Metrics& metrics_;
  const RouterOptions options_;
  DeadlineScheduler& timers_;

  prometheus::Counter& offered_;
  prometheus::Counter& queued_;
  prometheus::Counter& recycled_sla_;
  std::map<int, prometheus::Counter*> rejections_;  // by RejectReason
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& queue_oldest_age_;
  prometheus::Histogram& time_to_accept_;
  absl::Mutex breach_mu_;
  // Team label values are rep teams (few); capped so a mistake cannot
  // explode the series count.
  std::map<std::string, prometheus::Counter*> breaches_by_team_
      ABSL_GUARDED_BY(breach_mu_);
};

}  // namespace handoff::routing
