#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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
#include "services/routing/engine/routing_snapshot.h"
#include "services/routing/routing_store.h"
#include "services/routing/sla_policies.h"

namespace handoff::routing {

// A counter family of SLA breaches, labelled {team, policy}.
struct BreachMetric {
  const char* name;
  const char* help;
};

struct RouterOptions {
  // The default SLA policy (rules naming none, and before any rule set):
  // accept window in wall time and offers per round.
  absl::Duration accept_window = absl::Minutes(30);
  int max_attempts = 3;
  // For tests and benchmarks: the engine's index switch.
  bool use_engine_indexes = true;
};

// Routes leads to reps and runs the SLA ladder: RouteLead, Get/List/Accept/
// RejectAssignment, RecordConversion, the rule set (ApplyRuleSet,
// GetRuleSet, SimulateRouting, GetPoolFairness), the breach and warning of
// offers whose timers fired, and the per-rule queues.
//
// Decisions come from an in-memory engine::RoutingSnapshot (rule set, reps
// and their loads, strategy state) kept in step with the store: every write
// that routes or changes a rep's load holds engine_mu_ from the decision to
// the commit, so the engine never runs ahead of or behind a committed
// transaction (a failed one rebuilds it from the store). Feedback to
// campaign goes through the outbox, and every step lands in the assignment
// event log, in the same transaction as the state change.
//
// `timers` holds the accept deadline of every pending offer, `warnings` the
// SLA warnings not yet fired; both reload from the store at start.
class Router {
 public:
  // `timers` hold accept deadlines, `warnings` SLA warnings and
  // `first_touches` first-touch deadlines.
  Router(RoutingStore& store, Outbox& outbox, const Clock& clock,
         Metrics& metrics, RouterOptions options, DeadlineScheduler& timers,
         DeadlineScheduler& warnings, DeadlineScheduler& first_touches);

  // Builds the engine from the store: the latest rule set (or the default:
  // every rep, round robin, default policy), every rep with its load, the
  // persisted strategy state. Call once before serving.
  absl::Status Load();
  // Called after each commit that appended assignment events.
  void SetEventListener(std::function<void()> listener);

  absl::StatusOr<v1::RouteLeadResponse> RouteLead(
      const v1::RouteLeadRequest& request);
  using RouteLeadDone =
      std::function<void(absl::StatusOr<v1::RouteLeadResponse>)>;
  // RouteLead for a caller that must not block, such as a gRPC callback
  // thread: when another thread holds the engine, that thread routes this
  // lead too before letting go, so the caller never waits for the engine.
  // `done` gets the reply once what the call wrote or read is durable, on
  // whichever thread that is; `request` must stay valid until then.
  void RouteLeadThen(const v1::RouteLeadRequest& request, RouteLeadDone done);
  absl::StatusOr<v1::Assignment> GetAssignment(
      const v1::GetAssignmentRequest& request);
  absl::StatusOr<v1::ListAssignmentsResponse> ListAssignments(
      const v1::ListAssignmentsRequest& request);
  absl::StatusOr<v1::Assignment> AcceptAssignment(
      const v1::AcceptAssignmentRequest& request);
  absl::StatusOr<v1::Assignment> RejectAssignment(
      const v1::RejectAssignmentRequest& request);
  absl::StatusOr<v1::Assignment> RecordFirstTouch(
      const v1::RecordFirstTouchRequest& request);
  absl::StatusOr<v1::Assignment> RecordConversion(
      const v1::RecordConversionRequest& request);

  absl::StatusOr<v1::RuleSet> ApplyRuleSet(
      const v1::ApplyRuleSetRequest& request);
  absl::StatusOr<v1::RuleSet> GetRuleSet(const v1::GetRuleSetRequest& request);
  absl::StatusOr<v1::PoolFairness> GetPoolFairness(
      const v1::GetPoolFairnessRequest& request);
  absl::StatusOr<v1::SimulateRoutingResponse> SimulateRouting(
      const v1::SimulateRoutingRequest& request);

  // Runs `write` (a rep's transaction, returning the rep's name) with
  // routing paused, then has the engine pick up the rep's new state from the
  // store (or forget it when deleted) and offers queued leads it may now
  // take. Returns `write`'s status.
  absl::Status WriteRep(absl::FunctionRef<absl::StatusOr<std::string>()> write);

  // The SLA timers' handler: breaches each of these offers (assignment ids)
  // that is still PENDING and due, and moves its lead on per its policy
  // (next rep, queue, escalation to a manager, or recycled). The state
  // change is conditional, so a second firing of a deadline, or one racing
  // an accept, changes nothing. An offer not due yet is put back on the
  // timers; an unknown id, or an offer that cannot be read, is logged and
  // skipped. Fails only when the store does (worth retrying). Returns how
  // many this call breached.
  absl::StatusOr<int> BreachDue(absl::Span<const std::string> assignment_ids);
  // Breaches every pending offer due by now, found in the store rather than
  // the timers. Returns how many breached.
  absl::StatusOr<int> ProcessDueDeadlines();
  // The warning timers' handler: records the warning (a WARNED step and
  // event) on each offer still pending, once.
  absl::StatusOr<int> WarnDue(absl::Span<const std::string> assignment_ids);
  // The first-touch timers' handler: marks each accepted assignment still
  // without a first touch as late (a FIRST_TOUCH_BREACHED step and event,
  // counted), once. The lead stays with the rep.
  absl::StatusOr<int> FirstTouchDue(
      absl::Span<const std::string> assignment_ids);
  // Offers queued leads, oldest first, to reps that can take them now, and
  // escalates (or recycles) leads queued past their policy's
  // queue_age_limit. Returns how many were offered.
  absl::StatusOr<int> DrainQueue();
  // Recomputes the queue gauges from the store.
  absl::Status RefreshGauges();

 private:
  // One lead in one routing round, about to be offered.
  struct LeadRound {
    std::string lead_id;
    v1::LeadSummary summary;
    int round = 1;
    int attempt = 1;
    std::string previous_assignment;
    // Marketing just delivered the lead: its first event says so.
    bool round_start = false;
  };
  // What routing one lead did.
  struct Routed {
    // Unset when the lead queued (or the decision was not to offer).
    std::optional<v1::Assignment> assignment;
    engine::Decision decision;
  };
  // Engine and policies: replaced together by ApplyRuleSet. The policies
  // are shared so a call that only reads them need not hold engine_mu_.
  struct Engine {
    std::optional<engine::RoutingSnapshot> snapshot;
    std::shared_ptr<const SlaPolicies> policies;
  };

  // A RouteLeadThen call waiting for the engine.
  struct PendingRoute {
    const v1::RouteLeadRequest* request;
    std::string lead_id;
    RouteLeadDone done;
  };
  class SharedEngine;

  // Holds engine_mu_ around `write` (see EngineWrite).
  absl::Status WithEngine(absl::FunctionRef<absl::Status()> write)
      ABSL_LOCKS_EXCLUDED(engine_mu_);
  // Runs `write`; rebuilds the engine from the store if the write failed
  // after changing it.
  absl::Status EngineWrite(absl::FunctionRef<absl::Status()> write)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  // RouteLead's transaction for the validated `lead_id`; the explanation's
  // detail is left in `detail` (see RouteLeadReply).
  absl::StatusOr<v1::RouteLeadResponse> RouteLeadLocked(
      const v1::RouteLeadRequest& request, const std::string& lead_id,
      std::unique_ptr<v1::RoutingExplanation>& detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  // The reply in the view the request asks for.
  absl::StatusOr<v1::RouteLeadResponse> RouteLeadReply(
      const v1::RouteLeadRequest& request, v1::RouteLeadResponse routed,
      std::unique_ptr<v1::RoutingExplanation> detail);
  // Routes the waiting RouteLeadThen calls unless another thread holds
  // engine_mu_; every release of engine_mu_ is followed by this, so none
  // is left waiting.
  void DrainPendingRoutes() ABSL_LOCKS_EXCLUDED(engine_mu_);
  void RoutePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  // The rule set over every rep in the store, with the persisted strategy
  // state.
  absl::StatusOr<Engine> BuildEngine(Transaction& tx,
                                     const v1::RuleSet& rule_set);
  // engine_ from the store: the latest rule set (or the default).
  absl::Status ReloadEngine() ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::StatusOr<std::vector<engine::RepInput>> LoadReps(Transaction& tx,
                                                         absl::Time now);
  // The rep's load given its `open` assignments (counted by the caller's
  // query); offers since local midnight are read from the store.
  absl::StatusOr<engine::RepLoad> LoadOfRep(Transaction& tx, const v1::Rep& rep,
                                            int open, absl::Time now);

  // Decides and, when a rep is eligible, offers (engine_mu_ held, in tx).
  absl::StatusOr<Routed> Offer(Transaction& tx, const LeadRound& lead,
                               absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  // Offers the lead directly to `manager` (an SLA escalation).
  absl::StatusOr<v1::Assignment> OfferToManager(
      Transaction& tx, const LeadRound& lead, const std::string& manager,
      const std::string& rule, const std::string& policy, bool priority,
      std::string reason, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::Status InsertOffer(Transaction& tx, v1::Assignment& a, int round,
                           const std::string& strategy, bool round_start,
                           absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::Status Queue(Transaction& tx, const LeadRound& lead,
                     const engine::Decision& decision, absl::Time now);
  // Offers the lead or queues it; the response RouteLead gives.
  absl::StatusOr<v1::RouteLeadResponse> RouteInTx(
      Transaction& tx, const v1::RouteLeadRequest& request,
      const std::string& lead_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::StatusOr<v1::RouteLeadResponse> OfferOrQueue(Transaction& tx,
                                                     const LeadRound& lead,
                                                     absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  // After `closed` left the rep's hands (breach, reroutable rejection):
  // the next offer of the round, a queue entry, an escalation, or the end
  // of the round, per the policy. Records the step on `closed`.
  absl::Status MoveOn(Transaction& tx, v1::Assignment& closed, int round,
                      absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::Status Recycle(Transaction& tx, v1::Assignment* last,
                       const std::string& lead_id, const std::string& rule,
                       const std::string& reason, std::string note,
                       absl::Time now);
  absl::StatusOr<bool> Breach(Transaction& tx, const StoredAssignment& stored,
                              absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  absl::StatusOr<int> BreachDueTogether(absl::Span<const std::string> ids);
  // One less open assignment for the rep in the engine.
  void ReleaseRep(const std::string& rep)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine_mu_);
  void CancelTimersAfterCommit(Transaction& tx, std::string_view id);
  absl::Status AppendEvent(Transaction& tx, v1::AssignmentEventType type,
                           v1::Assignment* assignment, std::string_view lead,
                           std::string_view rule, std::string detail,
                           absl::Time now);
  absl::Status RecordEvent(Transaction& tx, v1::AssignmentEvent& event);
  absl::StatusOr<StoredAssignment> LoadPendingOffer(Transaction& tx,
                                                    std::string_view name,
                                                    std::string_view id,
                                                    std::string_view rep);
  using OfferAnswer = absl::FunctionRef<absl::Status(
      StoredAssignment& offer, absl::Time now, Transaction& tx)>;
  absl::StatusOr<v1::Assignment> AnswerOffer(std::string_view name,
                                             std::string_view id,
                                             std::string_view rep,
                                             OfferAnswer answer);
  // Writes the rep's answer `a` over its still-PENDING row (named `name`)
  // and logs it as `type`.
  absl::Status SaveAnswer(Transaction& tx, std::string_view name,
                          std::string_view id, v1::Assignment& a,
                          v1::AssignmentEventType type, std::string detail,
                          absl::Time now);
  void DrainAfterCapacityFreed();
  prometheus::Counter& AssignmentCounter(const std::string& rule,
                                         const std::string& strategy,
                                         const std::string& outcome);
  // Fires warning or first-touch timers: an assignment whose `due_of` is
  // set and not yet reached goes back on `timers`; a due one is recorded
  // (`record`), stored once (the state change is conditional) and logged as
  // `event`. Returns how many fired.
  absl::StatusOr<int> FireSideTimers(
      absl::Span<const std::string> assignment_ids, SlaTimer timer,
      DeadlineScheduler& timers, v1::AssignmentEventType event,
      absl::FunctionRef<std::optional<absl::Time>(const v1::Assignment&)>
          due_of,
      absl::FunctionRef<void(v1::Assignment&, Transaction&, absl::Time now)>
          record);
  prometheus::Counter& BreachCounter(const BreachMetric& metric,
                                     const std::string& team,
                                     const std::string& policy);
  prometheus::Counter& RecycledCounter(const std::string& reason);

  RoutingStore& store_;
  Outbox& outbox_;
  const Clock& clock_;
  Metrics& metrics_;
  const RouterOptions options_;
  DeadlineScheduler& timers_;
  DeadlineScheduler& warnings_;
  DeadlineScheduler& first_touches_;
  std::function<void()> event_listener_;

  absl::Mutex engine_mu_ ABSL_ACQUIRED_BEFORE(labels_mu_);
  Engine engine_ ABSL_GUARDED_BY(engine_mu_);
  // Set when the engine changed inside a write that may still fail.
  bool engine_dirty_ ABSL_GUARDED_BY(engine_mu_) = false;
  absl::Mutex pending_routes_mu_;
  std::vector<PendingRoute> pending_routes_ ABSL_GUARDED_BY(pending_routes_mu_);

  std::map<int, prometheus::Counter*> rejections_;  // by RejectReason
  prometheus::Gauge& queue_oldest_age_;
  prometheus::Histogram& time_to_accept_;
  absl::Mutex labels_mu_;
  // Label values are rule names, strategies, teams and policies (few);
  // capped so a mistake cannot explode the series count.
  std::map<std::string, prometheus::Counter*> counters_
      ABSL_GUARDED_BY(labels_mu_);
  std::map<std::string, prometheus::Gauge*> queue_depth_
      ABSL_GUARDED_BY(labels_mu_);
};

// Fires a router's side timers (warnings or first touches).
using SideTimerHandler =
    absl::StatusOr<int> (Router::*)(absl::Span<const std::string>);

// The scheduler of one kind of side timer: reloads the pending ones from
// `store` and fires the due ones through `router`'s `fire`. Both are read at
// each use: a Router is built after its schedulers.
std::unique_ptr<DeadlineScheduler> NewSideTimerScheduler(
    SlaTimer timer, SideTimerHandler fire,
    const std::unique_ptr<RoutingStore>& store,
    const std::unique_ptr<Router>& router, const Clock& clock);

}  // namespace handoff::routing
