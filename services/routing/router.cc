#include "services/routing/router.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "common/strings.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "services/routing/deadline_index.h"
#include "services/routing/engine/explanation_text.h"
#include "services/routing/engine/sla_choice.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing {
namespace {

using campaign::v1::UpdateLeadStageRequest;

// Before the first ApplyRuleSet: every rep, round robin, default policy.
constexpr char kDefaultRule[] = "rules/default";
constexpr char kSlaExhausted[] = "SLA_EXHAUSTED";
constexpr char kQueueAgeLimit[] = "QUEUE_AGE_LIMIT";
constexpr char kEscalation[] = "escalation";

constexpr int kDeadlineBatch = 64;
constexpr int kDrainBatch = 64;
constexpr size_t kMaxLabelSeries = 256;
constexpr size_t kMaxNote = 2000;
constexpr int kMaxSimulatedLeads = 10000;

constexpr char kAssignmentsHelp[] =
    "Routing decisions: leads offered to a rep or queued, by rule.";
constexpr BreachMetric kAcceptBreaches{
    "handoff_routing_sla_breaches_total",
    "Offers not accepted before their due time."};
constexpr BreachMetric kFirstTouchBreaches{
    "handoff_routing_first_touch_breaches_total",
    "Accepted leads not touched before their first-touch due time."};
constexpr char kRejectionsHelp[] = "Offers rejected by the rep, by reason.";

std::string_view IdOf(std::string_view name) {
  return name.substr(name.find('/') + 1);
}

// Sets an assignment's explanation aside for a scope: it is most of an
// offer's bytes, and copies for the event log leave it out.
class ExplanationAside {
 public:
  explicit ExplanationAside(v1::Assignment& a)
      : a_(a), detail_(a.release_explanation_detail()) {
    text_.swap(*a.mutable_explanation());
  }
  ~ExplanationAside() {
    a_.set_allocated_explanation_detail(detail_.release());
    text_.swap(*a_.mutable_explanation());
  }
  ExplanationAside(const ExplanationAside&) = delete;
  ExplanationAside& operator=(const ExplanationAside&) = delete;

 private:
  v1::Assignment& a_;
  std::unique_ptr<v1::RoutingExplanation> detail_;
  std::string text_;
};

// Requests by a rep on one assignment (accept, reject, touch): the
// assignment's id once both names are well formed.
absl::StatusOr<std::string> ParseAssignmentAndRep(std::string_view name,
                                                  std::string_view rep) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", name, "assignments");
  if (!id.ok()) return id.status();
  if (rep.empty()) return InvalidField("rep", "required");
  if (absl::StatusOr<std::string> rep_id =
          ParseResourceName("rep", rep, "reps");
      !rep_id.ok()) {
    return rep_id.status();
  }
  return id;
}

// Offers are stored without the text of their explanation (it is rendered
// from the detail); an assignment leaving the router gets it back.
v1::Assignment& WithExplanationText(v1::Assignment& a) {
  if (a.explanation().empty() && a.has_explanation_detail()) {
    a.set_explanation(engine::ExplanationText(a.explanation_detail()));
  }
  return a;
}

std::string StateName(v1::AssignmentState state) {
  return ShortEnumName(state, v1::AssignmentState_descriptor(),
                       "ASSIGNMENT_STATE_");
}

std::string RejectReasonName(int reason) {
  return ShortEnumName(reason, v1::RejectReason_descriptor(), "REJECT_REASON_");
}

std::string StrategyName(v1::RoutingStrategy strategy) {
  switch (strategy) {
    case v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN:
      return "weighted_round_robin";
    case v1::ROUTING_STRATEGY_LEAST_LOADED:
      return "least_loaded";
    default:
      return "round_robin";
  }
}

v1::RuleSet DefaultRuleSet() {
  v1::RuleSet rule_set;
  v1::RoutingRule& fallback = *rule_set.mutable_fallback();
  fallback.set_name(kDefaultRule);
  fallback.set_display_name("every rep, round robin");
  fallback.set_all_reps(true);
  fallback.set_strategy(v1::ROUTING_STRATEGY_ROUND_ROBIN);
  return rule_set;
}

// Stamps a state change of `a`.
void Touch(v1::Assignment& a, absl::Time now) {
  *a.mutable_update_time() = ToProtoTime(now);
  a.set_etag(NewEtag());
}

void AddStep(v1::Assignment& a, v1::SlaStepType type, absl::Time when,
             std::string detail) {
  v1::SlaStep& step = *a.add_sla_steps();
  step.set_type(type);
  *step.mutable_time() = ToProtoTime(when);
  step.set_detail(std::move(detail));
}

UpdateLeadStageRequest LeadStage(std::string_view lead,
                                 campaign::v1::LeadEvent event,
                                 absl::Time when) {
  UpdateLeadStageRequest message;
  message.set_lead(std::string(lead));
  message.set_event(event);
  *message.mutable_event_time() = ToProtoTime(when);
  return message;
}

absl::Status EnqueueLeadStage(Outbox& outbox, Transaction& tx,
                              const UpdateLeadStageRequest& message) {
  // Stages of one lead stay in order; different leads go at once.
  return outbox.Enqueue(tx, "campaign", "UpdateLeadStage", message,
                        message.lead());
}

absl::Status ValidateLeadSummary(const v1::LeadSummary& summary,
                                 std::string_view field) {
  if (!summary.campaign().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(
        absl::StrCat(Sv(field), ".campaign"), summary.campaign(), "campaigns");
    if (!id.ok()) return id.status();
  }
  if (!summary.persona().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(
        absl::StrCat(Sv(field), ".persona"), summary.persona(), "personas");
    if (!id.ok()) return id.status();
  }
  if (summary.score() < 0) {
    return InvalidField(absl::StrCat(Sv(field), ".score"),
                        "must not be negative");
  }
  return absl::OkStatus();
}

// Failures that retrying the same offer cannot fix (a corrupt row, a broken
// invariant); anything else (the store busy or down) is worth retrying.
bool IsPermanent(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

const std::vector<double>& TimeToAcceptBuckets() {
  static const auto* buckets =
      new std::vector<double>{1,   5,    15,   30,   60,    120,   300,  600,
                              900, 1800, 3600, 7200, 14400, 28800, 86400};
  return *buckets;
}

}  // namespace

Router::Router(RoutingStore& store, Outbox& outbox, const Clock& clock,
               Metrics& metrics, RouterOptions options,
               DeadlineScheduler& timers, DeadlineScheduler& warnings,
               DeadlineScheduler& first_touches)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      metrics_(metrics),
      options_(options),
      timers_(timers),
      warnings_(warnings),
      first_touches_(first_touches),
      queue_oldest_age_(
          metrics.Gauge("handoff_routing_queue_oldest_age_seconds",
                        "How long the oldest queued lead has waited.")),
      time_to_accept_(metrics.Histogram(
          "handoff_routing_time_to_accept_seconds",
          "Time from offer to accept, in the SLA policy's business time.",
          TimeToAcceptBuckets())) {
  const google::protobuf::EnumDescriptor* reasons =
      v1::RejectReason_descriptor();
  for (int i = 0; i < reasons->value_count(); ++i) {
    const int reason = reasons->value(i)->number();
    if (reason == v1::REJECT_REASON_UNSPECIFIED) continue;
    rejections_[reason] =
        &metrics.Counter("handoff_routing_rejections_total", kRejectionsHelp,
                         {{"reason", RejectReasonName(reason)}});
  }
}

void Router::SetEventListener(std::function<void()> listener) {
  event_listener_ = std::move(listener);
}

prometheus::Counter& Router::AssignmentCounter(const std::string& rule,
                                               const std::string& strategy,
                                               const std::string& outcome) {
  absl::MutexLock lock(&labels_mu_);
  std::string key = absl::StrCat("a|", rule, "|", strategy, "|", outcome);
  std::string rule_label = rule;
  if (!counters_.contains(key) && counters_.size() >= kMaxLabelSeries) {
    rule_label = "other";
    key = absl::StrCat("a|other|", strategy, "|", outcome);
  }
  auto [it, inserted] = counters_.try_emplace(key, nullptr);
  if (inserted) {
    it->second = &metrics_.Counter(
        "handoff_routing_assignments_total", kAssignmentsHelp,
        {{"rule", rule_label}, {"strategy", strategy}, {"outcome", outcome}});
  }
  return *it->second;
}

prometheus::Counter& Router::BreachCounter(const BreachMetric& metric,
                                           const std::string& team,
                                           const std::string& policy) {
  absl::MutexLock lock(&labels_mu_);
  std::string key = absl::StrCat(metric.name, "|", team, "|", policy);
  std::string team_label = team;
  std::string policy_label = policy;
  if (!counters_.contains(key) && counters_.size() >= kMaxLabelSeries) {
    team_label = policy_label = "other";
    key = absl::StrCat(metric.name, "|other|other");
  }
  auto [it, inserted] = counters_.try_emplace(key, nullptr);
  if (inserted) {
    it->second =
        &metrics_.Counter(metric.name, metric.help,
                          {{"team", team_label}, {"policy", policy_label}});
  }
  return *it->second;
}

prometheus::Counter& Router::RecycledCounter(const std::string& reason) {
  absl::MutexLock lock(&labels_mu_);
  auto [it, inserted] = counters_.try_emplace("r|" + reason, nullptr);
  if (inserted) {
    it->second =
        &metrics_.Counter("handoff_routing_recycled_total",
                          "Leads routing gave back to marketing, by reason.",
                          {{"reason", reason}});
  }
  return *it->second;
}

// ---------------------------------------------------------------------------
// The engine.

absl::StatusOr<engine::RepLoad> Router::LoadOfRep(Transaction& tx,
                                                  const v1::Rep& rep, int open,
                                                  absl::Time now) {
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!rep.time_zone().empty()) {
    absl::StatusOr<absl::TimeZone> loaded =
        engine::LoadZone("rep.time_zone", rep.time_zone());
    if (loaded.ok()) zone = *loaded;
  }
  const absl::CivilDay day(absl::ToCivilSecond(now, zone));
  const std::string_view id = IdOf(rep.name());
  absl::StatusOr<int> offers =
      store_.OffersSince(tx, id, absl::FromCivil(day, zone));
  if (!offers.ok()) return offers.status();
  return engine::RepLoad{.open = open, .offers_today = *offers, .day = day};
}

absl::StatusOr<std::vector<engine::RepInput>> Router::LoadReps(Transaction& tx,
                                                               absl::Time now) {
  absl::StatusOr<std::vector<RepWithLoad>> reps = store_.RoutingCandidates(tx);
  if (!reps.ok()) return reps.status();
  std::vector<engine::RepInput> out;
  out.reserve(reps->size());
  for (RepWithLoad& rep : *reps) {
    absl::StatusOr<engine::RepLoad> load =
        LoadOfRep(tx, rep.rep, rep.open, now);
    if (!load.ok()) return load.status();
    rep.rep.clear_open_assignments();
    out.push_back({std::move(rep.rep), *load});
  }
  return out;
}

absl::StatusOr<Router::Engine> Router::BuildEngine(
    Transaction& tx, const v1::RuleSet& rule_set) {
  absl::StatusOr<SlaPolicies> policies =
      SlaPolicies::Compile(rule_set, {.accept_window = options_.accept_window,
                                      .max_attempts = options_.max_attempts});
  if (!policies.ok()) return policies.status();
  absl::StatusOr<std::vector<engine::RepInput>> reps =
      LoadReps(tx, clock_.Now());
  if (!reps.ok()) return reps.status();
  engine::EngineOptions engine_options;
  engine_options.use_indexes = options_.use_engine_indexes;
  absl::StatusOr<engine::RoutingSnapshot> snapshot =
      engine::RoutingSnapshot::Build(rule_set, *std::move(reps),
                                     std::move(engine_options));
  if (!snapshot.ok()) return snapshot.status();
  // Picks earlier in the open batch have not written their pools yet.
  if (absl::Status s = tx.FlushWritesAtCommit(); !s.ok()) return s;
  absl::StatusOr<std::vector<v1::PoolStrategyState>> states =
      store_.LoadPoolStates(tx);
  if (!states.ok()) return states.status();
  for (const v1::PoolStrategyState& state : *states) {
    // A pool the rule set no longer targets keeps its row for when it comes
    // back.
    absl::Status s = snapshot->RestoreState(state);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  Engine out;
  out.snapshot = *std::move(snapshot);
  out.policies = std::make_shared<const SlaPolicies>(*std::move(policies));
  return out;
}

absl::Status Router::Load() {
  absl::MutexLock lock(&engine_mu_);
  return ReloadEngine();
}

absl::Status Router::ReloadEngine() {
  return store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::RuleSet>> stored = store_.LoadRuleSet(tx);
    if (!stored.ok()) return stored.status();
    absl::StatusOr<Engine> built =
        BuildEngine(tx, stored->has_value() ? **stored : DefaultRuleSet());
    if (!built.ok()) return built.status();
    engine_ = *std::move(built);
    return absl::OkStatus();
  });
}

// A shared hold on engine_mu_ that, like every release of it, routes the
// RouteLeadThen calls that arrived meanwhile.
class Router::SharedEngine {
 public:
  explicit SharedEngine(Router& router)
      ABSL_SHARED_LOCK_FUNCTION(router.engine_mu_)
      : router_(router) {
    router_.engine_mu_.ReaderLock();
  }
  ~SharedEngine() ABSL_UNLOCK_FUNCTION() {
    router_.engine_mu_.ReaderUnlock();
    router_.DrainPendingRoutes();
  }
  SharedEngine(const SharedEngine&) = delete;
  SharedEngine& operator=(const SharedEngine&) = delete;

 private:
  Router& router_;
};

absl::Status Router::WithEngine(absl::FunctionRef<absl::Status()> write) {
  absl::Status status;
  {
    absl::MutexLock lock(&engine_mu_);
    status = EngineWrite(write);
  }
  DrainPendingRoutes();
  return status;
}

absl::Status Router::EngineWrite(absl::FunctionRef<absl::Status()> write) {
  engine_dirty_ = false;
  absl::Status status = write();
  if (!status.ok() && engine_dirty_) {
    // The engine ran ahead of a transaction that did not commit.
    if (absl::Status rebuilt = ReloadEngine(); !rebuilt.ok()) {
      Log(LogLevel::kError, "routing.engine_rebuild_failed",
          {{"error", rebuilt.ToString()}});
    }
  }
  engine_dirty_ = false;
  return status;
}

void Router::DrainPendingRoutes() {
  while (true) {
    {
      absl::MutexLock lock(&pending_routes_mu_);
      if (pending_routes_.empty()) return;
    }
    // Its holder drains once it lets go.
    if (!engine_mu_.TryLock()) return;
    RoutePendingLocked();
    engine_mu_.Unlock();
  }
}

void Router::RoutePendingLocked() {
  while (true) {
    std::vector<PendingRoute> routes;
    {
      absl::MutexLock lock(&pending_routes_mu_);
      routes.swap(pending_routes_);
    }
    if (routes.empty()) return;
    for (PendingRoute& route : routes) {
      DeferredDurability durability;
      std::unique_ptr<v1::RoutingExplanation> detail;
      absl::StatusOr<v1::RouteLeadResponse> reply =
          RouteLeadLocked(*route.request, route.lead_id, detail);
      if (reply.ok()) {
        reply = RouteLeadReply(*route.request, *std::move(reply),
                               std::move(detail));
      }
      durability.Then(
          [done = std::move(route.done), reply = std::move(reply)]() mutable {
            done(std::move(reply));
          });
    }
  }
}

void Router::ReleaseRep(const std::string& rep) {
  absl::StatusOr<engine::RepLoad> load = engine_.snapshot->LoadOf(rep);
  if (!load.ok()) return;  // Deleted since.
  load->open = std::max(0, load->open - 1);
  engine_dirty_ = true;
  engine_.snapshot->SetLoad(rep, *load).IgnoreError();
}

void Router::CancelTimersAfterCommit(Transaction& tx, std::string_view id) {
  tx.AfterCommit([this, id = std::string(id)] {
    timers_.Cancel(id);
    warnings_.Cancel(id);
  });
}

namespace {

v1::AssignmentEvent NewEvent(v1::AssignmentEventType type,
                             v1::Assignment* assignment, std::string_view lead,
                             std::string_view rule, std::string detail,
                             absl::Time now) {
  v1::AssignmentEvent event;
  event.set_type(type);
  *event.mutable_event_time() = ToProtoTime(now);
  event.set_lead(std::string(lead));
  event.set_rule(std::string(rule));
  event.set_detail(std::move(detail));
  if (assignment != nullptr) {
    event.set_rep(assignment->rep());
    event.set_team(assignment->team());
    event.set_sla_policy(assignment->sla_policy());
    // The log keeps the decision; the explanation is on the assignment.
    ExplanationAside aside(*assignment);
    *event.mutable_assignment() = *assignment;
  }
  return event;
}

}  // namespace

absl::Status Router::AppendEvent(Transaction& tx, v1::AssignmentEventType type,
                                 v1::Assignment* assignment,
                                 std::string_view lead, std::string_view rule,
                                 std::string detail, absl::Time now) {
  v1::AssignmentEvent event =
      NewEvent(type, assignment, lead, rule, std::move(detail), now);
  return RecordEvent(tx, event);
}

absl::Status Router::RecordEvent(Transaction& tx, v1::AssignmentEvent& event) {
  if (absl::Status s = store_.AppendEvent(tx, event); !s.ok()) return s;
  if (event_listener_) tx.AfterCommit(event_listener_);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Routing.

namespace {

// The lead RouteLead names, once the request is valid.
absl::StatusOr<std::string> RouteLeadTarget(
    const v1::RouteLeadRequest& request) {
  absl::StatusOr<std::string> lead_id =
      ParseResourceName("lead", request.lead(), "leads");
  if (!lead_id.ok()) return lead_id.status();
  if (absl::Status s =
          ValidateLeadSummary(request.lead_summary(), "lead_summary");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckEnum("view", request.view(), v1::AssignmentView_descriptor(),
                    /*allow_unspecified=*/true);
      !s.ok()) {
    return s;
  }
  return lead_id;
}

}  // namespace

absl::StatusOr<v1::RouteLeadResponse> Router::RouteLead(
    const v1::RouteLeadRequest& request) {
  absl::StatusOr<std::string> lead_id = RouteLeadTarget(request);
  if (!lead_id.ok()) return lead_id.status();
  std::unique_ptr<v1::RoutingExplanation> detail;
  absl::StatusOr<v1::RouteLeadResponse> routed;
  {
    absl::MutexLock lock(&engine_mu_);
    routed = RouteLeadLocked(request, *lead_id, detail);
  }
  DrainPendingRoutes();
  if (!routed.ok()) return routed.status();
  return RouteLeadReply(request, *std::move(routed), std::move(detail));
}

void Router::RouteLeadThen(const v1::RouteLeadRequest& request,
                           RouteLeadDone done) {
  absl::StatusOr<std::string> lead_id = RouteLeadTarget(request);
  if (!lead_id.ok()) {
    done(lead_id.status());
    return;
  }
  {
    absl::MutexLock lock(&pending_routes_mu_);
    pending_routes_.push_back(PendingRoute{.request = &request,
                                           .lead_id = *std::move(lead_id),
                                           .done = std::move(done)});
  }
  DrainPendingRoutes();
}

absl::StatusOr<v1::RouteLeadResponse> Router::RouteLeadLocked(
    const v1::RouteLeadRequest& request, const std::string& lead_id,
    std::unique_ptr<v1::RoutingExplanation>& detail) {
  // The idempotency record is kept without the explanation, which the
  // assignment row already has: it is most of the response's bytes.
  absl::StatusOr<v1::RouteLeadResponse> result;
  absl::Status status = EngineWrite([&]() -> absl::Status {
    result = IdempotentWrite<v1::RouteLeadResponse>(
        store_.db(), "RouteLead", request.request_id(),
        [&](Transaction& tx) -> absl::StatusOr<v1::RouteLeadResponse> {
          absl::StatusOr<v1::RouteLeadResponse> routed =
              RouteInTx(tx, request, lead_id);
          if (routed.ok() && routed->has_assignment()) {
            detail.reset(
                routed->mutable_assignment()->release_explanation_detail());
          }
          return routed;
        });
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<v1::RouteLeadResponse> Router::RouteLeadReply(
    const v1::RouteLeadRequest& request, v1::RouteLeadResponse result,
    std::unique_ptr<v1::RoutingExplanation> detail) {
  if (!result.has_assignment()) return result;
  v1::Assignment& assignment = *result.mutable_assignment();
  if (request.view() == v1::ASSIGNMENT_VIEW_BASIC) {
    assignment.clear_explanation_detail();
    assignment.clear_explanation();
    return result;
  }
  if (detail != nullptr) {
    assignment.set_allocated_explanation_detail(detail.release());
  } else if (!assignment.has_explanation_detail()) {
    // A replay: the stored response left the explanation to the row.
    absl::Status read = store_.db().Read([&](Transaction& tx) -> absl::Status {
      absl::StatusOr<std::optional<StoredAssignment>> stored =
          store_.FindAssignment(tx, IdOf(assignment.name()));
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) return NotFound(assignment.name());
      v1::Assignment& row = (*stored)->assignment;
      assignment.set_allocated_explanation_detail(
          row.release_explanation_detail());
      assignment.set_explanation(std::move(*row.mutable_explanation()));
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
  }
  WithExplanationText(assignment);
  return result;
}

absl::StatusOr<v1::RouteLeadResponse> Router::RouteInTx(
    Transaction& tx, const v1::RouteLeadRequest& request,
    const std::string& lead_id) {
  v1::RouteLeadResponse response;
  absl::StatusOr<std::optional<QueuedLead>> queued =
      store_.FindQueued(tx, lead_id);
  if (!queued.ok()) return queued.status();
  if (queued->has_value()) {
    absl::StatusOr<int> position = store_.QueuePosition(tx, lead_id);
    if (!position.ok()) return position.status();
    response.set_queued(true);
    response.set_queue_position(*position);
    return response;
  }

  LeadRound lead;
  lead.lead_id = lead_id;
  lead.summary = request.lead_summary();
  absl::StatusOr<std::optional<StoredAssignment>> latest =
      store_.LatestAssignmentForLead(tx, lead_id);
  if (!latest.ok()) return latest.status();
  if (latest->has_value()) {
    const v1::Assignment& last = (*latest)->assignment;
    if (last.state() == v1::ASSIGNMENT_STATE_PENDING ||
        last.state() == v1::ASSIGNMENT_STATE_ACCEPTED) {
      *response.mutable_assignment() = last;
      return response;
    }
    // The round ended. Only a new request (marketing re-qualified
    // the lead) starts another; an anonymous repeat reports the end.
    if (request.request_id().empty()) {
      *response.mutable_assignment() = last;
      response.set_recycled(last.state() != v1::ASSIGNMENT_STATE_CONVERTED);
      return response;
    }
    lead.round = (*latest)->round + 1;
  }
  lead.round_start = true;
  return OfferOrQueue(tx, lead, clock_.Now());
}

absl::StatusOr<v1::RouteLeadResponse> Router::OfferOrQueue(
    Transaction& tx, const LeadRound& lead, absl::Time now) {
  v1::RouteLeadResponse response;
  absl::StatusOr<Routed> routed = Offer(tx, lead, now);
  if (!routed.ok()) return routed.status();
  if (routed->assignment.has_value()) {
    *response.mutable_assignment() = *std::move(routed->assignment);
    return response;
  }
  if (absl::Status s = Queue(tx, lead, routed->decision, now); !s.ok()) {
    return s;
  }
  absl::StatusOr<int> position = store_.QueuePosition(tx, lead.lead_id);
  if (!position.ok()) return position.status();
  response.set_queued(true);
  response.set_queue_position(*position);
  return response;
}

absl::StatusOr<Router::Routed> Router::Offer(Transaction& tx,
                                             const LeadRound& lead,
                                             absl::Time now) {
  std::vector<std::string> passed_names;
  // A round that has just started has no offer yet that a rep let pass.
  if (!lead.round_start) {
    absl::StatusOr<std::set<std::string>> passed =
        store_.PassedRepsInRound(tx, lead.lead_id, lead.round);
    if (!passed.ok()) return passed.status();
    passed_names.reserve(passed->size());
    for (const std::string& id : *passed) {
      passed_names.push_back(ResourceName("reps", id));
    }
  }

  engine::RoutingSnapshot& snapshot = *engine_.snapshot;
  Routed routed;
  routed.decision = snapshot.Decide(lead.summary, now, passed_names);
  const engine::Decision& d = routed.decision;
  if (!d.offered()) return routed;

  const CompiledPolicy& policy = engine_.policies->Get(d.sla_policy);
  v1::Assignment a;
  a.set_name(ResourceName("assignments", NewId(now)));
  a.set_lead(ResourceName("leads", lead.lead_id));
  a.set_rep(d.rep);
  a.set_team(d.team);
  a.set_state(v1::ASSIGNMENT_STATE_PENDING);
  a.set_attempt(lead.attempt);
  *a.mutable_offer_time() = ToProtoTime(now);
  *a.mutable_accept_due_time() = ToProtoTime(policy.AcceptDue(now, d.priority));
  if (std::optional<absl::Time> warn = policy.WarningAt(now, d.priority)) {
    *a.mutable_warning_time() = ToProtoTime(*warn);
  }
  a.set_previous_assignment(lead.previous_assignment);
  // The text is rendered from the detail when the assignment is read.
  *a.mutable_explanation_detail() = d.explanation();
  *a.mutable_lead_summary() = lead.summary;
  a.set_rule_set_version(snapshot.version());
  a.set_rule(d.rule);
  a.set_sla_policy(SlaPolicies::NameOf(d.sla_policy));
  a.set_priority(d.priority);
  AddStep(a, v1::SLA_STEP_TYPE_OFFERED, now,
          absl::StrCat("to ", d.rep, " under ", d.rule));
  Touch(a, now);

  engine_dirty_ = true;
  if (absl::Status s = snapshot.Commit(d, now); !s.ok()) return s;
  absl::StatusOr<engine::PoolStateCopy> state = snapshot.CopyState(d.pool);
  if (!state.ok()) return state.status();
  // A pick changes the figures of every eligible member; the pool's row is
  // written once per group commit, as the batch's last pick left it.
  tx.WriteAtCommit(absl::StrCat("pool_states/", d.pool),
                   [state = *std::move(state)](Transaction& at) {
                     return RoutingStore::SavePoolState(at, state.ToProto());
                   });
  if (absl::Status s = InsertOffer(tx, a, lead.round, StrategyName(d.strategy),
                                   lead.round_start, now);
      !s.ok()) {
    return s;
  }
  routed.assignment = std::move(a);
  return routed;
}

absl::Status Router::InsertOffer(Transaction& tx, v1::Assignment& a, int round,
                                 const std::string& strategy, bool round_start,
                                 absl::Time now) {
  const std::string id(IdOf(a.name()));
  if (absl::Status s = store_.InsertAssignment(tx, id, a, round); !s.ok()) {
    return s;
  }
  const v1::AssignmentEventType type =
      a.escalated()      ? v1::ASSIGNMENT_EVENT_TYPE_ESCALATED
      : a.attempt() == 1 ? v1::ASSIGNMENT_EVENT_TYPE_OFFERED
                         : v1::ASSIGNMENT_EVENT_TYPE_REASSIGNED;
  v1::AssignmentEvent event = NewEvent(type, &a, a.lead(), a.rule(), "", now);
  event.set_round_start(round_start);
  if (absl::Status s = RecordEvent(tx, event); !s.ok()) return s;
  const absl::Time due = FromProtoTime(a.accept_due_time());
  std::optional<absl::Time> warn;
  if (a.has_warning_time()) warn = FromProtoTime(a.warning_time());
  prometheus::Counter& offered =
      AssignmentCounter(a.rule(), strategy, "offered");
  tx.AfterCommit([this, id, due, warn, &offered] {
    offered.Increment();
    timers_.Add(id, due);
    if (warn.has_value()) warnings_.Add(id, *warn);
  });
  return absl::OkStatus();
}

absl::StatusOr<v1::Assignment> Router::OfferToManager(
    Transaction& tx, const LeadRound& lead, const std::string& manager,
    const std::string& rule, const std::string& policy_name, bool priority,
    std::string reason, absl::Time now) {
  engine::RoutingSnapshot& snapshot = *engine_.snapshot;
  const v1::Rep* rep = snapshot.FindRepProto(manager);
  if (rep == nullptr) return NotFound(manager);
  const CompiledPolicy& policy = engine_.policies->Get(policy_name);

  v1::Assignment a;
  a.set_name(ResourceName("assignments", NewId(now)));
  a.set_lead(ResourceName("leads", lead.lead_id));
  a.set_rep(manager);
  a.set_team(rep->team());
  a.set_state(v1::ASSIGNMENT_STATE_PENDING);
  a.set_attempt(lead.attempt);
  a.set_escalated(true);
  *a.mutable_offer_time() = ToProtoTime(now);
  *a.mutable_accept_due_time() = ToProtoTime(policy.AcceptDue(now, priority));
  if (std::optional<absl::Time> warn = policy.WarningAt(now, priority)) {
    *a.mutable_warning_time() = ToProtoTime(*warn);
  }
  a.set_previous_assignment(lead.previous_assignment);
  v1::RoutingExplanation& why = *a.mutable_explanation_detail();
  why.set_rule_set_version(snapshot.version());
  why.set_matched_rule(rule);
  why.set_picked_rep(manager);
  why.set_pick_reason(absl::StrCat("escalated to the manager: ", reason));
  why.set_sla_policy(policy_name);
  why.set_priority(priority);
  a.set_explanation(
      absl::StrCat("escalated to manager ", manager, ": ", reason, "\n"));
  *a.mutable_lead_summary() = lead.summary;
  a.set_rule_set_version(snapshot.version());
  a.set_rule(rule);
  a.set_sla_policy(policy_name);
  a.set_priority(priority);
  AddStep(a, v1::SLA_STEP_TYPE_ESCALATED, now, std::move(reason));
  Touch(a, now);

  // A manager takes escalations whatever their capacity; the load still
  // counts for their own leads.
  if (absl::StatusOr<engine::RepLoad> load = snapshot.LoadOf(manager);
      load.ok()) {
    absl::StatusOr<absl::CivilDay> today = snapshot.LocalDay(manager, now);
    if (today.ok() && *today != load->day) {
      load->day = *today;
      load->offers_today = 0;
    }
    ++load->open;
    ++load->offers_today;
    engine_dirty_ = true;
    snapshot.SetLoad(manager, *load).IgnoreError();
  }
  if (absl::Status s =
          InsertOffer(tx, a, lead.round, kEscalation, lead.round_start, now);
      !s.ok()) {
    return s;
  }
  return a;
}

absl::Status Router::Queue(Transaction& tx, const LeadRound& lead,
                           const engine::Decision& decision, absl::Time now) {
  QueuedLead entry;
  entry.lead_id = lead.lead_id;
  entry.request.set_lead(ResourceName("leads", lead.lead_id));
  *entry.request.mutable_lead_summary() = lead.summary;
  entry.enqueue_time = now;
  entry.round = lead.round;
  entry.attempt = lead.attempt;
  entry.previous_assignment = lead.previous_assignment;
  entry.rule = decision.rule;
  if (absl::Status s = store_.Enqueue(tx, entry); !s.ok()) return s;
  v1::AssignmentEvent event =
      NewEvent(v1::ASSIGNMENT_EVENT_TYPE_QUEUED, nullptr, entry.request.lead(),
               decision.rule, "", now);
  event.set_team(decision.team);
  event.set_round_start(lead.round_start);
  if (absl::Status s = RecordEvent(tx, event); !s.ok()) return s;
  prometheus::Counter& queued = AssignmentCounter(
      decision.rule, StrategyName(decision.strategy), "queued");
  tx.AfterCommit([&queued] { queued.Increment(); });
  return absl::OkStatus();
}

absl::Status Router::Recycle(Transaction& tx, v1::Assignment* last,
                             const std::string& lead_id,
                             const std::string& rule, const std::string& reason,
                             std::string note, absl::Time now) {
  const std::string lead = ResourceName("leads", lead_id);
  UpdateLeadStageRequest recycled =
      LeadStage(lead, campaign::v1::LEAD_EVENT_RECYCLED, now);
  recycled.set_reason(reason);
  recycled.set_note(note);
  if (absl::Status s = EnqueueLeadStage(outbox_, tx, recycled); !s.ok()) {
    return s;
  }
  if (absl::Status s = AppendEvent(tx, v1::ASSIGNMENT_EVENT_TYPE_RECYCLED, last,
                                   lead, rule, reason, now);
      !s.ok()) {
    return s;
  }
  prometheus::Counter& counter = RecycledCounter(reason);
  tx.AfterCommit([&counter] { counter.Increment(); });
  return absl::OkStatus();
}

absl::Status Router::MoveOn(Transaction& tx, v1::Assignment& closed, int round,
                            absl::Time now) {
  const CompiledPolicy& policy = engine_.policies->Get(closed.sla_policy());
  LeadRound next{.lead_id = std::string(IdOf(closed.lead())),
                 .summary = closed.lead_summary(),
                 .round = round,
                 .attempt = closed.attempt() + 1,
                 .previous_assignment = closed.name()};
  if (closed.attempt() < policy.max_attempts && !closed.escalated()) {
    absl::StatusOr<Routed> routed = Offer(tx, next, now);
    if (!routed.ok()) return routed.status();
    if (routed->assignment.has_value()) {
      AddStep(closed, v1::SLA_STEP_TYPE_REASSIGNED, now,
              absl::StrCat("to ", routed->assignment->rep(), " as ",
                           routed->assignment->name()));
      return absl::OkStatus();
    }
    AddStep(
        closed, v1::SLA_STEP_TYPE_QUEUED, now,
        absl::StrCat("nobody eligible; queued for ", routed->decision.rule));
    return Queue(tx, next, routed->decision, now);
  }

  // Attempts ran out.
  if (policy.proto.on_exhausted() == v1::EXHAUSTED_ACTION_ESCALATE_TO_MANAGER &&
      !closed.escalated()) {
    const v1::Rep* rep = engine_.snapshot->FindRepProto(closed.rep());
    const std::string manager = rep != nullptr ? rep->manager() : "";
    if (!manager.empty() && manager != closed.rep() &&
        engine_.snapshot->FindRepProto(manager) != nullptr) {
      absl::StatusOr<v1::Assignment> escalated = OfferToManager(
          tx, next, manager, closed.rule(), closed.sla_policy(),
          closed.priority(),
          absl::StrCat("not accepted after ", closed.attempt(), " offers"),
          now);
      if (!escalated.ok()) return escalated.status();
      AddStep(closed, v1::SLA_STEP_TYPE_ESCALATED, now,
              absl::StrCat("to manager ", manager, " as ", escalated->name()));
      return absl::OkStatus();
    }
  }
  AddStep(closed, v1::SLA_STEP_TYPE_RECYCLED, now, kSlaExhausted);
  return Recycle(
      tx, &closed, next.lead_id, closed.rule(), kSlaExhausted,
      absl::StrCat("not accepted in time after ", closed.attempt(), " offers"),
      now);
}

absl::StatusOr<bool> Router::Breach(Transaction& tx,
                                    const StoredAssignment& stored,
                                    absl::Time now) {
  v1::Assignment a = stored.assignment;
  const std::string id(IdOf(a.name()));
  a.set_state(v1::ASSIGNMENT_STATE_BREACHED);
  *a.mutable_close_time() = ToProtoTime(now);
  AddStep(a, v1::SLA_STEP_TYPE_BREACHED, now,
          absl::StrCat("not accepted by ",
                       absl::FormatTime(FromProtoTime(a.accept_due_time()))));
  Touch(a, now);
  absl::StatusOr<bool> applied =
      store_.UpdateAssignmentIf(tx, id, a, v1::ASSIGNMENT_STATE_PENDING);
  if (!applied.ok() || !*applied) return applied;
  CancelTimersAfterCommit(tx, id);
  prometheus::Counter& breaches =
      BreachCounter(kAcceptBreaches, a.team(), a.sla_policy());
  tx.AfterCommit([&breaches] { breaches.Increment(); });
  if (absl::Status s = AppendEvent(tx, v1::ASSIGNMENT_EVENT_TYPE_BREACHED, &a,
                                   a.lead(), a.rule(), "", now);
      !s.ok()) {
    return s;
  }
  ReleaseRep(a.rep());
  if (absl::Status s = MoveOn(tx, a, stored.round, now); !s.ok()) return s;
  absl::StatusOr<bool> saved =
      store_.UpdateAssignmentIf(tx, id, a, v1::ASSIGNMENT_STATE_BREACHED);
  if (!saved.ok()) return saved.status();
  return true;
}

absl::StatusOr<int> Router::BreachDue(
    absl::Span<const std::string> assignment_ids) {
  int total = 0;
  for (size_t start = 0; start < assignment_ids.size();
       start += kDeadlineBatch) {
    const absl::Span<const std::string> batch =
        assignment_ids.subspan(start, kDeadlineBatch);
    absl::StatusOr<int> together = BreachDueTogether(batch);
    if (together.ok()) {
      total += *together;
      continue;
    }
    if (!IsPermanent(together.status())) return together.status();
    // One bad offer must not hold back the rest: retry one by one.
    for (size_t i = 0; i < batch.size(); ++i) {
      absl::StatusOr<int> one = BreachDueTogether(batch.subspan(i, 1));
      if (one.ok()) {
        total += *one;
      } else if (IsPermanent(one.status())) {
        Log(LogLevel::kError, "routing.breach_skipped",
            {{"assignment", batch[i]}, {"error", one.status().ToString()}});
      } else {
        return one.status();
      }
    }
  }
  return total;
}

absl::StatusOr<int> Router::BreachDueTogether(
    absl::Span<const std::string> ids) {
  int breached = 0;
  absl::Status status = WithEngine([&] {
    return store_.db().Write([&](Transaction& tx) {
      breached = 0;
      const absl::Time now = clock_.Now();
      for (const std::string& id : ids) {
        absl::StatusOr<std::optional<StoredAssignment>> found =
            store_.FindAssignment(tx, id);
        if (!found.ok()) return found.status();
        if (!found->has_value()) {
          Log(LogLevel::kWarning, "routing.breach_unknown_offer",
              {{"assignment", id}});
          continue;
        }
        const StoredAssignment& stored = **found;
        // Accepted, rejected or breached already: the timer was stale.
        if (stored.assignment.state() != v1::ASSIGNMENT_STATE_PENDING) {
          continue;
        }
        const absl::Time due =
            FromProtoTime(stored.assignment.accept_due_time());
        if (now < due) {
          // Never early (the store keeps whole microseconds).
          tx.AfterCommit([this, id, due] { timers_.Add(id, due); });
          continue;
        }
        absl::StatusOr<bool> applied = Breach(tx, stored, now);
        if (!applied.ok()) return applied.status();
        if (*applied) ++breached;
      }
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  return breached;
}

absl::StatusOr<int> Router::ProcessDueDeadlines() {
  int total = 0;
  PendingDeadline after;
  while (true) {
    std::vector<PendingDeadline> due;
    absl::Status status = store_.db().Read([&](Transaction& tx) {
      absl::StatusOr<std::vector<PendingDeadline>> page =
          store_.PendingDeadlines(tx, after, clock_.Now(), kDeadlineBatch);
      if (!page.ok()) return page.status();
      due = *std::move(page);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (due.empty()) return total;
    after = due.back();
    std::vector<std::string> ids;
    ids.reserve(due.size());
    for (PendingDeadline& deadline : due) ids.push_back(std::move(deadline.id));
    absl::StatusOr<int> breached = BreachDue(ids);
    if (!breached.ok()) return breached.status();
    total += *breached;
  }
}

absl::StatusOr<int> Router::FireSideTimers(
    absl::Span<const std::string> assignment_ids, SlaTimer timer,
    DeadlineScheduler& timers, v1::AssignmentEventType event,
    absl::FunctionRef<std::optional<absl::Time>(const v1::Assignment&)> due_of,
    absl::FunctionRef<void(v1::Assignment&, Transaction&, absl::Time now)>
        record) {
  int fired = 0;
  absl::Status status = store_.db().Write([&](Transaction& tx) -> absl::Status {
    fired = 0;
    const absl::Time now = clock_.Now();
    for (const std::string& id : assignment_ids) {
      absl::StatusOr<std::optional<StoredAssignment>> found =
          store_.FindAssignment(tx, id);
      if (!found.ok()) return found.status();
      if (!found->has_value()) continue;
      v1::Assignment& a = (*found)->assignment;
      const std::optional<absl::Time> due = due_of(a);
      if (!due.has_value()) continue;
      if (now < *due) {
        tx.AfterCommit([&timers, id, due] { timers.Add(id, *due); });
        continue;
      }
      record(a, tx, now);
      absl::StatusOr<bool> applied = store_.MarkTimerFired(tx, timer, id, a);
      if (!applied.ok()) return applied.status();
      if (!*applied) continue;
      if (absl::Status s =
              AppendEvent(tx, event, &a, a.lead(), a.rule(), "", now);
          !s.ok()) {
        return s;
      }
      ++fired;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return fired;
}

absl::StatusOr<int> Router::WarnDue(
    absl::Span<const std::string> assignment_ids) {
  return FireSideTimers(
      assignment_ids, SlaTimer::kWarning, warnings_,
      v1::ASSIGNMENT_EVENT_TYPE_WARNED,
      [](const v1::Assignment& a) -> std::optional<absl::Time> {
        if (a.state() != v1::ASSIGNMENT_STATE_PENDING ||
            !a.has_warning_time()) {
          return std::nullopt;
        }
        return FromProtoTime(a.warning_time());
      },
      [](v1::Assignment& a, Transaction&, absl::Time now) {
        AddStep(
            a, v1::SLA_STEP_TYPE_WARNED, now,
            absl::StrCat("accept due ",
                         absl::FormatTime(FromProtoTime(a.accept_due_time()))));
      });
}

absl::StatusOr<int> Router::FirstTouchDue(
    absl::Span<const std::string> assignment_ids) {
  return FireSideTimers(
      assignment_ids, SlaTimer::kFirstTouch, first_touches_,
      v1::ASSIGNMENT_EVENT_TYPE_FIRST_TOUCH_BREACHED, PendingFirstTouchDue,
      [this](v1::Assignment& a, Transaction& tx, absl::Time now) {
        a.set_first_touch_breached(true);
        AddStep(a, v1::SLA_STEP_TYPE_FIRST_TOUCH_BREACHED, now,
                absl::StrCat(
                    "no first touch by ",
                    absl::FormatTime(FromProtoTime(a.first_touch_due_time()))));
        Touch(a, now);
        prometheus::Counter& counter =
            BreachCounter(kFirstTouchBreaches, a.team(), a.sla_policy());
        tx.AfterCommit([&counter] { counter.Increment(); });
      });
}

absl::StatusOr<int> Router::DrainQueue() {
  int total = 0;
  int64_t after_seq = 0;
  // Per rule, once its pool has nobody with room: the decision's pool and
  // policy (later leads of that rule only have their age checked).
  struct FullRule {
    std::string pool;
    std::string policy;
  };
  std::map<std::string, FullRule> full;
  while (true) {
    int fetched = 0;
    int offered = 0;
    absl::Status status = WithEngine([&] {
      return store_.db().Write([&](Transaction& tx) -> absl::Status {
        fetched = 0;
        offered = 0;
        const absl::Time now = clock_.Now();
        absl::StatusOr<std::vector<std::pair<int64_t, QueuedLead>>> entries =
            store_.QueuedAfter(tx, after_seq, kDrainBatch);
        if (!entries.ok()) return entries.status();
        fetched = static_cast<int>(entries->size());
        for (const auto& [seq, entry] : *entries) {
          after_seq = seq;
          LeadRound lead{.lead_id = entry.lead_id,
                         .summary = entry.request.lead_summary(),
                         .round = entry.round,
                         .attempt = entry.attempt,
                         .previous_assignment = entry.previous_assignment};
          std::string rule = entry.rule;
          std::string pool;
          std::string policy_name;
          if (auto it = full.find(entry.rule); it != full.end()) {
            pool = it->second.pool;
            policy_name = it->second.policy;
          } else {
            absl::StatusOr<Routed> routed = Offer(tx, lead, now);
            if (!routed.ok()) return routed.status();
            if (routed->assignment.has_value()) {
              if (absl::Status s = store_.Dequeue(tx, entry.lead_id); !s.ok()) {
                return s;
              }
              ++offered;
              continue;
            }
            rule = routed->decision.rule;
            pool = routed->decision.pool;
            policy_name = routed->decision.sla_policy;
            absl::StatusOr<int32_t> room =
                engine_.snapshot->AvailableWithRoom(pool);
            if (room.ok() && *room == 0) {
              full[entry.rule] = {pool, policy_name};
            }
          }
          const CompiledPolicy& policy = engine_.policies->Get(policy_name);
          if (!policy.proto.has_queue_age_limit()) continue;
          const absl::Duration limit =
              FromProtoDuration(policy.proto.queue_age_limit());
          if (limit <= absl::ZeroDuration() ||
              now - entry.enqueue_time < limit) {
            continue;
          }
          const std::string reason =
              absl::StrCat("queued longer than ", absl::FormatDuration(limit));
          std::string manager;
          if (policy.proto.on_exhausted() ==
              v1::EXHAUSTED_ACTION_ESCALATE_TO_MANAGER) {
            absl::StatusOr<std::string> found =
                engine_.snapshot->PoolManager(pool);
            if (found.ok()) manager = *found;
          }
          if (!manager.empty() &&
              engine_.snapshot->FindRepProto(manager) != nullptr) {
            absl::StatusOr<v1::Assignment> escalated = OfferToManager(
                tx, lead, manager, rule, SlaPolicies::NameOf(policy_name),
                engine::IsPriorityLead(policy.proto, lead.summary), reason,
                now);
            if (!escalated.ok()) return escalated.status();
            ++offered;
          } else if (absl::Status s = Recycle(tx, nullptr, entry.lead_id, rule,
                                              kQueueAgeLimit, reason, now);
                     !s.ok()) {
            return s;
          }
          if (absl::Status s = store_.Dequeue(tx, entry.lead_id); !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      });
    });
    if (!status.ok()) return status;
    total += offered;
    if (fetched < kDrainBatch) return total;
  }
}

absl::Status Router::RefreshGauges() {
  std::map<std::string, QueueStats> by_rule;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::map<std::string, QueueStats>> stats =
        store_.QueueStatsByRule(tx);
    if (!stats.ok()) return stats.status();
    by_rule = *std::move(stats);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  std::optional<absl::Time> oldest;
  absl::MutexLock lock(&labels_mu_);
  // Rules seen before and now empty read 0.
  for (auto& [rule, gauge] : queue_depth_) gauge->Set(0);
  for (const auto& [rule, stats] : by_rule) {
    auto [it, inserted] = queue_depth_.try_emplace(rule, nullptr);
    if (inserted) {
      if (queue_depth_.size() > kMaxLabelSeries) {
        queue_depth_.erase(it);
        continue;
      }
      it->second = &metrics_.Gauge(
          "handoff_routing_queue_depth", "Leads waiting for an eligible rep.",
          {{"rule", rule.empty() ? kDefaultRule : rule}});
    }
    it->second->Set(static_cast<double>(stats.depth));
    if (stats.oldest_enqueue_time.has_value() &&
        (!oldest.has_value() || *stats.oldest_enqueue_time < *oldest)) {
      oldest = stats.oldest_enqueue_time;
    }
  }
  queue_oldest_age_.Set(
      oldest.has_value() ? absl::ToDoubleSeconds(clock_.Now() - *oldest) : 0.0);
  return absl::OkStatus();
}

absl::StatusOr<v1::Assignment> Router::GetAssignment(
    const v1::GetAssignmentRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "assignments");
  if (!id.ok()) return id.status();
  std::optional<StoredAssignment> found;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<StoredAssignment>> a =
        store_.FindAssignment(tx, *id);
    if (!a.ok()) return a.status();
    found = *std::move(a);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!found.has_value()) return NotFound(request.name());
  return std::move(WithExplanationText(found->assignment));
}

absl::StatusOr<v1::ListAssignmentsResponse> Router::ListAssignments(
    const v1::ListAssignmentsRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> terms =
      ParseFilter(request.filter(), {"rep", "lead", "state"});
  if (!terms.ok()) return terms.status();
  AssignmentFilter filter;
  if (auto it = terms->find("rep"); it != terms->end()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("filter", it->second, "reps");
    if (!id.ok()) return id.status();
    filter.rep_id = *id;
  }
  if (auto it = terms->find("lead"); it != terms->end()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("filter", it->second, "leads");
    if (!id.ok()) return id.status();
    filter.lead_id = *id;
  }
  if (auto it = terms->find("state"); it != terms->end()) {
    absl::StatusOr<int> state =
        ParseEnumName("filter", it->second, v1::AssignmentState_descriptor(),
                      "ASSIGNMENT_STATE_");
    if (!state.ok()) return state.status();
    filter.state = static_cast<v1::AssignmentState>(*state);
  }

  std::vector<StoredAssignment> rows;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<StoredAssignment>> found =
        store_.ListAssignments(tx, filter, *page);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  v1::ListAssignmentsResponse response;
  const bool more = static_cast<int>(rows.size()) > page->limit;
  if (more) rows.resize(page->limit);
  for (StoredAssignment& row : rows) {
    *response.add_assignments() =
        std::move(WithExplanationText(row.assignment));
  }
  if (more && !rows.empty()) {
    response.set_next_page_token(MakePageToken(
        IdOf(response.assignments(response.assignments_size() - 1).name())));
  }
  return response;
}

absl::StatusOr<StoredAssignment> Router::LoadPendingOffer(
    Transaction& tx, std::string_view name, std::string_view id,
    std::string_view rep) {
  absl::StatusOr<std::optional<StoredAssignment>> found =
      store_.FindAssignment(tx, id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NotFound(name);
  const v1::Assignment& a = (*found)->assignment;
  if (a.rep() != rep) {
    return WrongState(name,
                      absl::StrCat("offered to ", a.rep(), ", not ", Sv(rep)));
  }
  if (a.state() != v1::ASSIGNMENT_STATE_PENDING) {
    return WrongState(
        name, absl::StrCat("is ", StateName(a.state()), ", not PENDING"));
  }
  return **std::move(found);
}

absl::StatusOr<v1::Assignment> Router::AnswerOffer(std::string_view name,
                                                   std::string_view id,
                                                   std::string_view rep,
                                                   OfferAnswer answer) {
  v1::Assignment answered;
  bool lapsed = false;
  absl::Status status = WithEngine([&] {
    return store_.db().Write([&](Transaction& tx) -> absl::Status {
      const absl::Time now = clock_.Now();
      absl::StatusOr<StoredAssignment> offer =
          LoadPendingOffer(tx, name, id, rep);
      if (!offer.ok()) return offer.status();
      if (now >= FromProtoTime(offer->assignment.accept_due_time())) {
        lapsed = true;
        return Breach(tx, *offer, now).status();
      }
      if (absl::Status s = answer(*offer, now, tx); !s.ok()) return s;
      CancelTimersAfterCommit(tx, id);
      answered = std::move(offer->assignment);
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  if (lapsed) {
    return WrongState(name,
                      "accept_due_time has passed; the offer was breached and "
                      "the lead moved on");
  }
  return std::move(WithExplanationText(answered));
}

absl::Status Router::SaveAnswer(Transaction& tx, std::string_view name,
                                std::string_view id, v1::Assignment& a,
                                v1::AssignmentEventType type,
                                std::string detail, absl::Time now) {
  Touch(a, now);
  absl::StatusOr<bool> applied =
      store_.UpdateAssignmentIf(tx, id, a, v1::ASSIGNMENT_STATE_PENDING);
  if (!applied.ok()) return applied.status();
  if (!*applied) return WrongState(name, "is no longer PENDING");
  return AppendEvent(tx, type, &a, a.lead(), a.rule(), std::move(detail), now);
}

absl::StatusOr<v1::Assignment> Router::AcceptAssignment(
    const v1::AcceptAssignmentRequest& request) {
  absl::StatusOr<std::string> id =
      ParseAssignmentAndRep(request.name(), request.rep());
  if (!id.ok()) return id.status();

  return AnswerOffer(
      request.name(), *id, request.rep(),
      [&](StoredAssignment& offer, absl::Time now,
          Transaction& tx) -> absl::Status {
        v1::Assignment& a = offer.assignment;
        const CompiledPolicy& policy = engine_.policies->Get(a.sla_policy());
        a.set_state(v1::ASSIGNMENT_STATE_ACCEPTED);
        *a.mutable_accept_time() = ToProtoTime(now);
        const absl::Duration business = policy.calendar.BusinessTimeBetween(
            FromProtoTime(a.offer_time()), now);
        *a.mutable_time_to_accept() = ToProtoDuration(business);
        if (policy.proto.has_first_touch_within()) {
          *a.mutable_first_touch_due_time() =
              ToProtoTime(policy.calendar.AddBusinessTime(
                  now, FromProtoDuration(policy.proto.first_touch_within())));
        }
        a.clear_warning_time();
        AddStep(a, v1::SLA_STEP_TYPE_ACCEPTED, now,
                absl::StrCat("after ", absl::FormatDuration(business),
                             " of business time"));
        if (absl::Status s =
                SaveAnswer(tx, request.name(), *id, a,
                           v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED, "", now);
            !s.ok()) {
          return s;
        }
        const double seconds = absl::ToDoubleSeconds(business);
        tx.AfterCommit([this, seconds] { time_to_accept_.Observe(seconds); });
        if (a.has_first_touch_due_time()) {
          tx.AfterCommit(
              [this, id = *id, due = FromProtoTime(a.first_touch_due_time())] {
                first_touches_.Add(id, due);
              });
        }
        UpdateLeadStageRequest message =
            LeadStage(a.lead(), campaign::v1::LEAD_EVENT_ACCEPTED, now);
        message.set_rep(a.rep());
        return EnqueueLeadStage(outbox_, tx, message);
      });
}

absl::StatusOr<v1::Assignment> Router::RecordFirstTouch(
    const v1::RecordFirstTouchRequest& request) {
  absl::StatusOr<std::string> id =
      ParseAssignmentAndRep(request.name(), request.rep());
  if (!id.ok()) return id.status();

  // A touch changes no rep's load: it needs the calendar, not the engine.
  std::shared_ptr<const SlaPolicies> policies;
  {
    SharedEngine lock(*this);
    policies = engine_.policies;
  }
  v1::Assignment touched;
  absl::Status status = store_.db().Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<StoredAssignment>> found =
        store_.FindAssignment(tx, *id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return NotFound(request.name());
    v1::Assignment& a = (*found)->assignment;
    if (a.rep() != request.rep()) {
      return WrongState(request.name(), absl::StrCat("accepted by ", a.rep(),
                                                     ", not ", request.rep()));
    }
    if (a.state() != v1::ASSIGNMENT_STATE_ACCEPTED &&
        a.state() != v1::ASSIGNMENT_STATE_CONVERTED) {
      return WrongState(request.name(),
                        absl::StrCat("is ", StateName(a.state()),
                                     ", not ACCEPTED or CONVERTED"));
    }
    if (a.has_first_touch_time()) {
      touched = std::move(a);  // Only the first touch counts.
      return absl::OkStatus();
    }
    const absl::Time now = clock_.Now();
    const CompiledPolicy& policy = policies->Get(a.sla_policy());
    const absl::Duration business = policy.calendar.BusinessTimeBetween(
        FromProtoTime(a.accept_time()), now);
    *a.mutable_first_touch_time() = ToProtoTime(now);
    *a.mutable_time_to_first_touch() = ToProtoDuration(business);
    const bool late = a.first_touch_breached() ||
                      (a.has_first_touch_due_time() &&
                       now > FromProtoTime(a.first_touch_due_time()));
    AddStep(a, v1::SLA_STEP_TYPE_FIRST_TOUCHED, now,
            absl::StrCat("after ", absl::FormatDuration(business),
                         " of business time",
                         late ? ", after the first-touch due time" : ""));
    Touch(a, now);
    absl::StatusOr<bool> applied =
        store_.UpdateAssignmentIf(tx, *id, a, a.state());
    if (!applied.ok()) return applied.status();
    if (!*applied) return WrongState(request.name(), "changed meanwhile");
    if (absl::Status s =
            AppendEvent(tx, v1::ASSIGNMENT_EVENT_TYPE_FIRST_TOUCHED, &a,
                        a.lead(), a.rule(), "", now);
        !s.ok()) {
      return s;
    }
    tx.AfterCommit([this, id = *id] { first_touches_.Cancel(id); });
    touched = std::move(a);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return std::move(WithExplanationText(touched));
}

absl::StatusOr<v1::Assignment> Router::RejectAssignment(
    const v1::RejectAssignmentRequest& request) {
  absl::StatusOr<std::string> id =
      ParseAssignmentAndRep(request.name(), request.rep());
  if (!id.ok()) return id.status();
  if (request.reason() == v1::REJECT_REASON_UNSPECIFIED) {
    return InvalidField("reason", "required");
  }
  if (absl::Status s =
          CheckEnum("reason", request.reason(), v1::RejectReason_descriptor());
      !s.ok()) {
    return s;
  }
  if (request.reason() == v1::REJECT_REASON_OTHER && request.note().empty()) {
    return InvalidField("note", "required when reason is OTHER");
  }
  if (request.note().size() > kMaxNote) {
    return InvalidField("note",
                        absl::StrCat("at most ", kMaxNote, " characters"));
  }

  absl::StatusOr<v1::Assignment> result = AnswerOffer(
      request.name(), *id, request.rep(),
      [&](StoredAssignment& offer, absl::Time now,
          Transaction& tx) -> absl::Status {
        v1::Assignment& a = offer.assignment;
        const CompiledPolicy& policy = engine_.policies->Get(a.sla_policy());
        const std::string reason = RejectReasonName(request.reason());
        a.set_state(v1::ASSIGNMENT_STATE_REJECTED);
        a.set_reject_reason(request.reason());
        a.set_reject_note(request.note());
        *a.mutable_close_time() = ToProtoTime(now);
        a.clear_warning_time();
        AddStep(a, v1::SLA_STEP_TYPE_REJECTED, now, reason);
        if (absl::Status s =
                SaveAnswer(tx, request.name(), *id, a,
                           v1::ASSIGNMENT_EVENT_TYPE_REJECTED, reason, now);
            !s.ok()) {
          return s;
        }
        prometheus::Counter* counter = rejections_.at(request.reason());
        tx.AfterCommit([counter] { counter->Increment(); });
        ReleaseRep(a.rep());

        const bool reroute =
            policy.proto.on_reject() == v1::REJECT_ACTION_REROUTE &&
            a.attempt() < policy.max_attempts && !a.escalated();
        UpdateLeadStageRequest message =
            LeadStage(a.lead(),
                      reroute ? campaign::v1::LEAD_EVENT_REJECTED_REROUTED
                              : campaign::v1::LEAD_EVENT_REJECTED,
                      now);
        message.set_reason(reason);
        message.set_note(request.note());
        message.set_rep(a.rep());
        if (absl::Status s = EnqueueLeadStage(outbox_, tx, message); !s.ok()) {
          return s;
        }
        // Otherwise the round ends here; campaign recycles or disqualifies.
        if (!reroute) return absl::OkStatus();
        if (absl::Status s = MoveOn(tx, a, offer.round, now); !s.ok()) {
          return s;
        }
        absl::StatusOr<bool> saved = store_.UpdateAssignmentIf(
            tx, *id, a, v1::ASSIGNMENT_STATE_REJECTED);
        return saved.status();
      });
  if (result.ok()) DrainAfterCapacityFreed();
  return result;
}

absl::StatusOr<v1::Assignment> Router::RecordConversion(
    const v1::RecordConversionRequest& request) {
  absl::StatusOr<std::string> lead_id =
      ParseResourceName("lead", request.lead(), "leads");
  if (!lead_id.ok()) return lead_id.status();
  absl::StatusOr<std::string> deal_id =
      ParseResourceName("deal", request.deal(), "deals");
  if (!deal_id.ok()) return deal_id.status();

  absl::StatusOr<v1::Assignment> converted;
  absl::Status status = WithEngine([&]() -> absl::Status {
    converted = IdempotentWrite<v1::Assignment>(
        store_.db(), "RecordConversion", request.request_id(),
        [&](Transaction& tx) -> absl::StatusOr<v1::Assignment> {
          absl::StatusOr<std::optional<StoredAssignment>> latest =
              store_.LatestAssignmentForLead(tx, *lead_id);
          if (!latest.ok()) return latest.status();
          if (!latest->has_value()) {
            return WrongState(request.lead(), "has no accepted assignment");
          }
          v1::Assignment a = (*latest)->assignment;
          if (a.state() == v1::ASSIGNMENT_STATE_CONVERTED) {
            if (a.deal() == request.deal()) return a;
            return WrongState(
                request.lead(),
                absl::StrCat("already converted with ", a.deal()));
          }
          if (a.state() != v1::ASSIGNMENT_STATE_ACCEPTED) {
            return WrongState(
                request.lead(),
                absl::StrCat("has no accepted assignment (", a.name(), " is ",
                             StateName(a.state()), ")"));
          }
          const absl::Time now = clock_.Now();
          a.set_state(v1::ASSIGNMENT_STATE_CONVERTED);
          a.set_deal(request.deal());
          *a.mutable_close_time() = ToProtoTime(now);
          Touch(a, now);
          absl::StatusOr<bool> applied = store_.UpdateAssignmentIf(
              tx, IdOf(a.name()), a, v1::ASSIGNMENT_STATE_ACCEPTED);
          if (!applied.ok()) return applied.status();
          if (!*applied) return WrongState(a.name(), "is no longer ACCEPTED");
          if (absl::Status s =
                  AppendEvent(tx, v1::ASSIGNMENT_EVENT_TYPE_CONVERTED, &a,
                              a.lead(), a.rule(), request.deal(), now);
              !s.ok()) {
            return s;
          }
          ReleaseRep(a.rep());
          // No timer runs for an accepted offer; this only makes sure none
          // outlives the round.
          CancelTimersAfterCommit(tx, IdOf(a.name()));
          return a;
        });
    return converted.status();
  });
  if (!status.ok()) return status;
  DrainAfterCapacityFreed();
  if (converted.ok()) WithExplanationText(*converted);
  return converted;
}

void Router::DrainAfterCapacityFreed() {
  absl::StatusOr<int> offered = DrainQueue();
  if (!offered.ok()) {
    Log(LogLevel::kWarning, "routing.drain_failed",
        {{"error", offered.status().ToString()}});
  }
}

absl::Status Router::WriteRep(
    absl::FunctionRef<absl::StatusOr<std::string>()> write) {
  absl::Status written;
  WithEngine([&]() -> absl::Status {
    absl::StatusOr<std::string> name = write();
    written = name.status();
    if (!written.ok()) return written;
    const std::string& rep_name = *name;
    // The rep is committed; the engine follows it.
    absl::Status synced =
        store_.db().Read([&](Transaction& tx) -> absl::Status {
          absl::StatusOr<std::optional<RepWithLoad>> found =
              store_.FindRep(tx, IdOf(rep_name));
          if (!found.ok()) return found.status();
          if (!found->has_value()) {
            absl::Status removed = engine_.snapshot->RemoveRep(rep_name);
            return absl::IsNotFound(removed) ? absl::OkStatus() : removed;
          }
          v1::Rep rep = (*found)->rep;
          rep.clear_open_assignments();
          absl::StatusOr<engine::RepLoad> load =
              LoadOfRep(tx, rep, (*found)->open, clock_.Now());
          if (!load.ok()) return load.status();
          return engine_.snapshot->UpsertRep(rep, *load);
        });
    if (!synced.ok()) {
      // Returning the failure rebuilds the engine from the store.
      Log(LogLevel::kError, "routing.engine_rep_sync_failed",
          {{"rep", rep_name}, {"error", synced.ToString()}});
      engine_dirty_ = true;
    }
    return synced;
  }).IgnoreError();
  if (written.ok()) DrainAfterCapacityFreed();
  return written;
}

// ---------------------------------------------------------------------------
// Rule set.

absl::StatusOr<v1::RuleSet> Router::ApplyRuleSet(
    const v1::ApplyRuleSetRequest& request) {
  if (!request.has_rule_set()) return InvalidField("rule_set", "required");
  if (request.expected_version() < 0) {
    return InvalidField("expected_version", "must not be negative");
  }
  v1::RuleSet next = request.rule_set();
  next.set_version(0);
  if (absl::Status s = engine::ValidateRuleSet(next); !s.ok()) return s;

  std::optional<Engine> built;
  absl::Status status = WithEngine([&]() -> absl::Status {
    absl::Status written =
        store_.db().Write([&](Transaction& tx) -> absl::Status {
          const int64_t current = engine_.snapshot->version();
          if (request.expected_version() != current) {
            return absl::AbortedError(
                absl::StrCat("expected_version: the rule set is at version ",
                             current, ", not ", request.expected_version(),
                             "; read it again and reapply"));
          }
          next.set_version(current + 1);
          absl::StatusOr<Engine> engine = BuildEngine(tx, next);
          if (!engine.ok()) return engine.status();
          built = *std::move(engine);
          if (request.validate_only()) return absl::OkStatus();
          return store_.InsertRuleSet(tx, next, clock_.Now());
        });
    if (!written.ok()) return written;
    if (!request.validate_only()) engine_ = *std::move(built);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!request.validate_only()) {
    Log(LogLevel::kInfo, "routing.rule_set_applied",
        {{"version", absl::StrCat(next.version())},
         {"rules", absl::StrCat(next.rules_size())}});
    DrainAfterCapacityFreed();
  }
  return next;
}

absl::StatusOr<v1::RuleSet> Router::GetRuleSet(const v1::GetRuleSetRequest&) {
  SharedEngine lock(*this);
  return engine_.snapshot->rule_set();
}

absl::StatusOr<v1::PoolFairness> Router::GetPoolFairness(
    const v1::GetPoolFairnessRequest& request) {
  if (request.pool().empty()) return InvalidField("pool", "required");
  SharedEngine lock(*this);
  absl::StatusOr<v1::PoolFairness> fairness =
      engine_.snapshot->Fairness(request.pool());
  if (absl::IsNotFound(fairness.status())) return NotFound(request.pool());
  return fairness;
}

absl::StatusOr<v1::SimulateRoutingResponse> Router::SimulateRouting(
    const v1::SimulateRoutingRequest& request) {
  if (request.leads().empty()) return InvalidField("leads", "required");
  if (request.leads_size() > kMaxSimulatedLeads) {
    return InvalidField("leads",
                        absl::StrCat("at most ", kMaxSimulatedLeads, " leads"));
  }
  for (int i = 0; i < request.leads_size(); ++i) {
    if (absl::Status s =
            ValidateLeadSummary(request.leads(i).lead_summary(),
                                absl::StrCat("leads[", i, "].lead_summary"));
        !s.ok()) {
      return s;
    }
  }
  // A private engine over the same reps and state: nothing it does is seen.
  std::optional<Engine> sim;
  if (request.has_draft_rule_set()) {
    v1::RuleSet draft = request.draft_rule_set();
    draft.set_version(0);
    if (absl::Status s = engine::ValidateRuleSet(draft, "draft_rule_set");
        !s.ok()) {
      return s;
    }
    absl::Status status =
        store_.db().Read([&](Transaction& tx) -> absl::Status {
          absl::StatusOr<Engine> built = BuildEngine(tx, draft);
          if (!built.ok()) return built.status();
          sim = *std::move(built);
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
  } else {
    // The live engine already holds every rep and strategy state.
    SharedEngine lock(*this);
    sim = Engine{.snapshot = engine_.snapshot->Clone(),
                 .policies = engine_.policies};
  }

  engine::RoutingSnapshot& snapshot = *sim->snapshot;
  std::map<std::string, int> open_before;
  for (const std::string& rep : snapshot.RepNames()) {
    absl::StatusOr<engine::RepLoad> load = snapshot.LoadOf(rep);
    if (load.ok()) open_before[rep] = load->open;
  }
  const absl::Time now = clock_.Now();
  v1::SimulateRoutingResponse response;
  response.set_rule_set_version(snapshot.version());
  std::map<std::string, int> offers;
  for (const v1::SimulatedLead& lead : request.leads()) {
    engine::Decision d = snapshot.Decide(lead.lead_summary(), now);
    v1::SimulatedAssignment& out = *response.add_assignments();
    out.set_lead(lead.lead());
    out.set_rule(d.rule);
    out.set_sla_policy(SlaPolicies::NameOf(d.sla_policy));
    out.set_priority(d.priority);
    *out.mutable_explanation() = d.explanation();
    out.set_explanation_text(engine::ExplanationText(d.explanation()));
    if (!d.offered()) {
      out.set_queued(true);
      response.set_queued(response.queued() + 1);
      continue;
    }
    out.set_rep(d.rep);
    out.set_team(d.team);
    *out.mutable_accept_due_time() = ToProtoTime(
        sim->policies->Get(d.sla_policy).AcceptDue(now, d.priority));
    ++offers[d.rep];
    if (absl::Status s = snapshot.Commit(d, now); !s.ok()) return s;
  }
  for (const auto& [rep, open] : open_before) {
    const int simulated = offers.contains(rep) ? offers[rep] : 0;
    if (open == 0 && simulated == 0) continue;
    const v1::Rep* proto = snapshot.FindRepProto(rep);
    v1::ProjectedLoad& load = *response.add_loads();
    load.set_rep(rep);
    load.set_team(proto != nullptr ? proto->team() : "");
    load.set_capacity(proto != nullptr ? proto->capacity() : 0);
    load.set_open_assignments(open);
    load.set_simulated_offers(simulated);
    load.set_projected_open(open + simulated);
  }
  return response;
}

std::unique_ptr<DeadlineScheduler> NewSideTimerScheduler(
    SlaTimer timer, SideTimerHandler fire,
    const std::unique_ptr<RoutingStore>& store,
    const std::unique_ptr<Router>& router, const Clock& clock) {
  // No metrics: the SLA timer gauges count accept deadlines.
  return std::make_unique<DeadlineScheduler>(
      DeadlineScheduler::Options{},
      [&store, timer](DeadlineScheduler::Sink add) {
        return store->LoadPendingTimers(timer, add);
      },
      [&router, fire](const std::vector<DueTimer>& due) {
        return (router.get()->*fire)(TimerIds(due)).status();
      },
      clock, nullptr);
}

}  // namespace handoff::routing
