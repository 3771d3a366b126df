#include "services/routing/router.h"

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
#include "services/routing/round_robin.h"

namespace handoff::routing {
namespace {

using campaign::v1::UpdateLeadStageRequest;

// Foundation routing has one rule, one pool and one SLA policy; issue 3
// replaces these with the rule set.
constexpr char kRule[] = "default";
constexpr char kPool[] = "default";
constexpr char kStrategy[] = "round_robin";
constexpr char kPolicy[] = "default";
constexpr char kSlaExhausted[] = "SLA_EXHAUSTED";

constexpr size_t kMaxExplainedCandidates = 50;
constexpr int kDeadlineBatch = 64;
constexpr int kDrainBatch = 64;
constexpr size_t kMaxTeamLabels = 32;
constexpr size_t kMaxNote = 2000;

constexpr char kAssignmentsHelp[] =
    "Routing decisions: leads offered to a rep or queued.";
constexpr char kBreachesHelp[] = "Offers not accepted before their due time.";
constexpr char kRejectionsHelp[] = "Offers rejected by the rep, by reason.";

std::string_view IdOf(std::string_view name) {
  return name.substr(name.find('/') + 1);
}

std::string StateName(v1::AssignmentState state) {
  return ShortEnumName(state, v1::AssignmentState_descriptor(),
                       "ASSIGNMENT_STATE_");
}

std::string RejectReasonName(int reason) {
  return ShortEnumName(reason, v1::RejectReason_descriptor(), "REJECT_REASON_");
}

// Stamps a state change of `a`.
void Touch(v1::Assignment& a, absl::Time now) {
  *a.mutable_update_time() = ToProtoTime(now);
  a.set_etag(NewEtag());
}

UpdateLeadStageRequest LeadStage(const v1::Assignment& a,
                                 campaign::v1::LeadEvent event,
                                 absl::Time when) {
  UpdateLeadStageRequest message;
  message.set_lead(a.lead());
  message.set_event(event);
  *message.mutable_event_time() = ToProtoTime(when);
  return message;
}

absl::Status EnqueueLeadStage(Outbox& outbox, Transaction& tx,
                              const UpdateLeadStageRequest& message) {
  return outbox.Enqueue(tx, "campaign", "UpdateLeadStage", message);
}

absl::Status ValidateLeadSummary(const v1::LeadSummary& summary) {
  if (!summary.campaign().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(
        "lead_summary.campaign", summary.campaign(), "campaigns");
    if (!id.ok()) return id.status();
  }
  if (!summary.persona().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(
        "lead_summary.persona", summary.persona(), "personas");
    if (!id.ok()) return id.status();
  }
  if (summary.score() < 0) {
    return InvalidField("lead_summary.score", "must not be negative");
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
               DeadlineScheduler& timers)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      metrics_(metrics),
      options_(options),
      timers_(timers),
      offered_(metrics.Counter(
          "handoff_routing_assignments_total", kAssignmentsHelp,
          {{"rule", kRule}, {"strategy", kStrategy}, {"outcome", "offered"}})),
      queued_(metrics.Counter(
          "handoff_routing_assignments_total", kAssignmentsHelp,
          {{"rule", kRule}, {"strategy", kStrategy}, {"outcome", "queued"}})),
      recycled_sla_(
          metrics.Counter("handoff_routing_recycled_total",
                          "Leads routing gave back to marketing, by reason.",
                          {{"reason", kSlaExhausted}})),
      queue_depth_(metrics.Gauge("handoff_routing_queue_depth",
                                 "Leads waiting for an eligible rep.",
                                 {{"rule", kRule}})),
      queue_oldest_age_(
          metrics.Gauge("handoff_routing_queue_oldest_age_seconds",
                        "How long the oldest queued lead has waited.")),
      time_to_accept_(metrics.Histogram(
          "handoff_routing_time_to_accept_seconds",
          "Time from offer to accept (wall time).", TimeToAcceptBuckets())) {
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

void Router::CancelTimerAfterCommit(Transaction& tx, std::string_view id) {
  tx.AfterCommit([this, id = std::string(id)] { timers_.Cancel(id); });
}

prometheus::Counter& Router::BreachCounter(const std::string& team) {
  absl::MutexLock lock(&breach_mu_);
  std::string label = team;
  if (!breaches_by_team_.contains(team) &&
      breaches_by_team_.size() >= kMaxTeamLabels) {
    label = "other";
  }
  auto [it, inserted] = breaches_by_team_.try_emplace(label, nullptr);
  if (inserted) {
    it->second =
        &metrics_.Counter("handoff_routing_sla_breaches_total", kBreachesHelp,
                          {{"team", label}, {"policy", kPolicy}});
  }
  return *it->second;
}

absl::StatusOr<v1::RouteLeadResponse> Router::RouteLead(
    const v1::RouteLeadRequest& request) {
  absl::StatusOr<std::string> lead_id =
      ParseResourceName("lead", request.lead(), "leads");
  if (!lead_id.ok()) return lead_id.status();
  if (absl::Status s = ValidateLeadSummary(request.lead_summary()); !s.ok()) {
    return s;
  }
  return IdempotentWrite<v1::RouteLeadResponse>(
      store_.db(), "RouteLead", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::RouteLeadResponse> {
        v1::RouteLeadResponse response;
        absl::StatusOr<std::optional<QueuedLead>> queued =
            store_.FindQueued(tx, *lead_id);
        if (!queued.ok()) return queued.status();
        if (queued->has_value()) {
          absl::StatusOr<int> position = store_.QueuePosition(tx, *lead_id);
          if (!position.ok()) return position.status();
          response.set_queued(true);
          response.set_queue_position(*position);
          return response;
        }

        LeadRound lead;
        lead.lead_id = *lead_id;
        lead.summary = request.lead_summary();
        absl::StatusOr<std::optional<StoredAssignment>> latest =
            store_.LatestAssignmentForLead(tx, *lead_id);
        if (!latest.ok()) return latest.status();
        if (latest->has_value()) {
          const v1::Assignment& last = (*latest)->assignment;
          if (last.state() == v1::ASSIGNMENT_STATE_PENDING ||
              last.state() == v1::ASSIGNMENT_STATE_ACCEPTED) {
            *response.mutable_assignment() = last;
            return response;
          }
          // The round ended. Only a new request (marketing re-qualified the
          // lead) starts another; an anonymous repeat just reports the end.
          if (request.request_id().empty()) {
            *response.mutable_assignment() = last;
            response.set_recycled(last.state() !=
                                  v1::ASSIGNMENT_STATE_CONVERTED);
            return response;
          }
          lead.round = (*latest)->round + 1;
        }
        return OfferOrQueue(tx, lead, clock_.Now());
      });
}

absl::StatusOr<v1::RouteLeadResponse> Router::OfferOrQueue(
    Transaction& tx, const LeadRound& lead, absl::Time now) {
  v1::RouteLeadResponse response;
  absl::StatusOr<OfferResult> offer = Offer(tx, lead, now);
  if (!offer.ok()) return offer.status();
  if (offer->assignment.has_value()) {
    *response.mutable_assignment() = *std::move(offer->assignment);
    return response;
  }
  if (absl::Status s = Queue(tx, lead, now); !s.ok()) return s;
  absl::StatusOr<int> position = store_.QueuePosition(tx, lead.lead_id);
  if (!position.ok()) return position.status();
  response.set_queued(true);
  response.set_queue_position(*position);
  return response;
}

absl::StatusOr<Router::OfferResult> Router::Offer(Transaction& tx,
                                                  const LeadRound& lead,
                                                  absl::Time now) {
  absl::StatusOr<std::vector<RepWithLoad>> reps = store_.RoutingCandidates(tx);
  if (!reps.ok()) return reps.status();
  absl::StatusOr<std::set<std::string>> lapsed =
      store_.BreachedRepsInRound(tx, lead.lead_id, lead.round);
  if (!lapsed.ok()) return lapsed.status();

  OfferResult result;
  std::vector<std::string> eligible_ids;
  std::vector<const RepWithLoad*> eligible;
  std::vector<std::string> lines;
  for (const RepWithLoad& candidate : *reps) {
    const v1::Rep& rep = candidate.rep;
    const bool available = rep.status() == v1::REP_STATUS_AVAILABLE;
    const bool has_room = candidate.open < rep.capacity();
    if (available && has_room) ++result.reps_with_room;
    std::string excluded;
    if (lapsed->contains(candidate.id)) {
      excluded = "already let this lead lapse";
    } else if (!available) {
      excluded = "away";
    } else if (!has_room) {
      excluded =
          absl::StrCat("at capacity ", candidate.open, "/", rep.capacity());
    }
    if (excluded.empty()) {
      eligible_ids.push_back(candidate.id);
      eligible.push_back(&candidate);
    }
    if (lines.size() < kMaxExplainedCandidates) {
      lines.push_back(
          excluded.empty()
              ? absl::StrCat("- ", rep.name(), ": eligible, open ",
                             candidate.open, "/", rep.capacity())
              : absl::StrCat("- ", rep.name(), ": excluded, ", excluded));
    }
  }

  absl::StatusOr<std::string> pointer = store_.LoadStrategyState(tx, kPool);
  if (!pointer.ok()) return pointer.status();
  std::optional<RoundRobinPick> pick = PickRoundRobin(eligible_ids, *pointer);
  if (!pick.has_value()) return result;
  if (absl::Status s =
          store_.SaveStrategyState(tx, kPool, kStrategy, pick->pointer_after);
      !s.ok()) {
    return s;
  }
  const RepWithLoad& chosen = *eligible[pick->index];

  std::string explanation =
      absl::StrCat("rule ", kRule, ", strategy ", kStrategy, " over pool ",
                   kPool, " (reps ordered by id), attempt ", lead.attempt, "\n",
                   "considered ", reps->size(), " reps, ", eligible_ids.size(),
                   " eligible:\n", absl::StrJoin(lines, "\n"), "\n");
  if (reps->size() > lines.size()) {
    absl::StrAppend(&explanation, "(", reps->size() - lines.size(),
                    " more not listed)\n");
  }
  absl::StrAppend(&explanation, pick->explanation);

  const std::string id = NewId(now);
  const absl::Time due = now + options_.accept_window;
  v1::Assignment a;
  a.set_name(ResourceName("assignments", id));
  a.set_lead(ResourceName("leads", lead.lead_id));
  a.set_rep(chosen.rep.name());
  a.set_team(chosen.rep.team());
  a.set_state(v1::ASSIGNMENT_STATE_PENDING);
  a.set_attempt(lead.attempt);
  *a.mutable_offer_time() = ToProtoTime(now);
  *a.mutable_accept_due_time() = ToProtoTime(due);
  a.set_previous_assignment(lead.previous_assignment);
  a.set_explanation(std::move(explanation));
  *a.mutable_lead_summary() = lead.summary;
  Touch(a, now);
  if (absl::Status s = store_.InsertAssignment(tx, id, {a, lead.round});
      !s.ok()) {
    return s;
  }
  tx.AfterCommit([this, id, due] {
    offered_.Increment();
    timers_.Add(id, due);
  });
  result.assignment = std::move(a);
  return result;
}

absl::Status Router::Queue(Transaction& tx, const LeadRound& lead,
                           absl::Time now) {
  QueuedLead entry;
  entry.lead_id = lead.lead_id;
  entry.request.set_lead(ResourceName("leads", lead.lead_id));
  *entry.request.mutable_lead_summary() = lead.summary;
  entry.enqueue_time = now;
  entry.round = lead.round;
  entry.attempt = lead.attempt;
  entry.previous_assignment = lead.previous_assignment;
  if (absl::Status s = store_.Enqueue(tx, entry); !s.ok()) return s;
  tx.AfterCommit([this] { queued_.Increment(); });
  return absl::OkStatus();
}

absl::StatusOr<bool> Router::Breach(Transaction& tx,
                                    const StoredAssignment& stored,
                                    absl::Time now) {
  v1::Assignment a = stored.assignment;
  a.set_state(v1::ASSIGNMENT_STATE_BREACHED);
  *a.mutable_close_time() = ToProtoTime(now);
  Touch(a, now);
  absl::StatusOr<bool> applied = store_.UpdateAssignmentIf(
      tx, IdOf(a.name()), a, v1::ASSIGNMENT_STATE_PENDING);
  if (!applied.ok() || !*applied) return applied;
  CancelTimerAfterCommit(tx, IdOf(a.name()));
  tx.AfterCommit([this, team = a.team()] { BreachCounter(team).Increment(); });

  if (a.attempt() < options_.max_attempts) {
    LeadRound next{.lead_id = std::string(IdOf(a.lead())),
                   .summary = a.lead_summary(),
                   .round = stored.round,
                   .attempt = a.attempt() + 1,
                   .previous_assignment = a.name()};
    absl::StatusOr<OfferResult> offer = Offer(tx, next, now);
    if (!offer.ok()) return offer.status();
    if (!offer->assignment.has_value()) {
      if (absl::Status s = Queue(tx, next, now); !s.ok()) return s;
    }
    return true;
  }

  UpdateLeadStageRequest recycled =
      LeadStage(a, campaign::v1::LEAD_EVENT_RECYCLED, now);
  recycled.set_reason(kSlaExhausted);
  recycled.set_note(
      absl::StrCat("not accepted in time after ", a.attempt(), " offers"));
  if (absl::Status s = EnqueueLeadStage(outbox_, tx, recycled); !s.ok()) {
    return s;
  }
  tx.AfterCommit([this] { recycled_sla_.Increment(); });
  return true;
}

absl::StatusOr<int> Router::BreachDue(
    absl::Span<const std::string> assignment_ids) {
  int total = 0;
  for (size_t start = 0; start < assignment_ids.size();
       start += kDeadlineBatch) {
    const absl::Span<const std::string> batch =
        assignment_ids.subspan(start, kDeadlineBatch);
    absl::StatusOr<int> breached = BreachDueTogether(batch);
    if (breached.ok()) {
      total += *breached;
      continue;
    }
    if (!IsPermanent(breached.status())) return breached.status();
    // One offer spoils the batch: one at a time, so the others still fire
    // and only the bad one is skipped (a retry would fail forever).
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
  absl::Status status = store_.db().Write([&](Transaction& tx) {
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
      if (stored.assignment.state() != v1::ASSIGNMENT_STATE_PENDING) continue;
      const absl::Time due = FromProtoTime(stored.assignment.accept_due_time());
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

absl::StatusOr<int> Router::DrainQueue() {
  int total = 0;
  int64_t after_seq = 0;
  while (true) {
    int fetched = 0;
    int offered = 0;
    bool nobody_has_room = false;
    absl::Status status = store_.db().Write([&](Transaction& tx) {
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
        absl::StatusOr<OfferResult> offer = Offer(tx, lead, now);
        if (!offer.ok()) return offer.status();
        if (offer->assignment.has_value()) {
          if (absl::Status s = store_.Dequeue(tx, entry.lead_id); !s.ok()) {
            return s;
          }
          ++offered;
          continue;
        }
        // Only the reps who let this lead lapse have room: later leads
        // may still go to them.
        if (offer->reps_with_room == 0) {
          nobody_has_room = true;
          break;
        }
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    total += offered;
    if (nobody_has_room || fetched < kDrainBatch) return total;
  }
}

absl::Status Router::RefreshGauges() {
  QueueStats stats;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<QueueStats> queue = store_.GetQueueStats(tx);
    if (!queue.ok()) return queue.status();
    stats = *queue;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  queue_depth_.Set(static_cast<double>(stats.depth));
  queue_oldest_age_.Set(
      stats.oldest_enqueue_time.has_value()
          ? absl::ToDoubleSeconds(clock_.Now() - *stats.oldest_enqueue_time)
          : 0.0);
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
  return found->assignment;
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
    *response.add_assignments() = std::move(row.assignment);
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
  absl::Status status = store_.db().Write([&](Transaction& tx) -> absl::Status {
    const absl::Time now = clock_.Now();
    absl::StatusOr<StoredAssignment> offer =
        LoadPendingOffer(tx, name, id, rep);
    if (!offer.ok()) return offer.status();
    if (now >= FromProtoTime(offer->assignment.accept_due_time())) {
      lapsed = true;
      return Breach(tx, *offer, now).status();
    }
    answered = offer->assignment;
    UpdateLeadStageRequest feedback = answer(answered, now, tx);
    Touch(answered, now);
    absl::StatusOr<bool> applied = store_.UpdateAssignmentIf(
        tx, id, answered, v1::ASSIGNMENT_STATE_PENDING);
    if (!applied.ok()) return applied.status();
    if (!*applied) return WrongState(name, "is no longer PENDING");
    CancelTimerAfterCommit(tx, id);
    return EnqueueLeadStage(outbox_, tx, feedback);
  });
  if (!status.ok()) return status;
  if (lapsed) {
    return WrongState(name,
                      "accept_due_time has passed; the offer was breached and "
                      "the lead moved on");
  }
  return answered;
}

absl::StatusOr<v1::Assignment> Router::AcceptAssignment(
    const v1::AcceptAssignmentRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "assignments");
  if (!id.ok()) return id.status();
  if (request.rep().empty()) return InvalidField("rep", "required");
  absl::StatusOr<std::string> rep_id =
      ParseResourceName("rep", request.rep(), "reps");
  if (!rep_id.ok()) return rep_id.status();

  return AnswerOffer(
      request.name(), *id, request.rep(),
      [&](v1::Assignment& accepted, absl::Time now, Transaction& tx) {
        accepted.set_state(v1::ASSIGNMENT_STATE_ACCEPTED);
        *accepted.mutable_accept_time() = ToProtoTime(now);
        const double seconds =
            absl::ToDoubleSeconds(now - FromProtoTime(accepted.offer_time()));
        tx.AfterCommit([this, seconds] { time_to_accept_.Observe(seconds); });
        UpdateLeadStageRequest message =
            LeadStage(accepted, campaign::v1::LEAD_EVENT_ACCEPTED, now);
        message.set_rep(accepted.rep());
        return message;
      });
}

absl::StatusOr<v1::Assignment> Router::RejectAssignment(
    const v1::RejectAssignmentRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "assignments");
  if (!id.ok()) return id.status();
  if (request.rep().empty()) return InvalidField("rep", "required");
  absl::StatusOr<std::string> rep_id =
      ParseResourceName("rep", request.rep(), "reps");
  if (!rep_id.ok()) return rep_id.status();
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
      [&](v1::Assignment& rejected, absl::Time now, Transaction& tx) {
        rejected.set_state(v1::ASSIGNMENT_STATE_REJECTED);
        rejected.set_reject_reason(request.reason());
        rejected.set_reject_note(request.note());
        *rejected.mutable_close_time() = ToProtoTime(now);
        prometheus::Counter* counter = rejections_.at(request.reason());
        tx.AfterCommit([counter] { counter->Increment(); });
        // The round ends here; campaign recycles or disqualifies the lead.
        UpdateLeadStageRequest message =
            LeadStage(rejected, campaign::v1::LEAD_EVENT_REJECTED, now);
        message.set_reason(RejectReasonName(request.reason()));
        message.set_note(request.note());
        return message;
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

  absl::StatusOr<v1::Assignment> converted = IdempotentWrite<v1::Assignment>(
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
          return WrongState(request.lead(),
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
        // No timer runs for an accepted offer; this only makes sure none
        // outlives the round.
        CancelTimerAfterCommit(tx, IdOf(a.name()));
        return a;
      });
  if (converted.ok()) DrainAfterCapacityFreed();
  return converted;
}

void Router::DrainAfterCapacityFreed() {
  absl::StatusOr<int> offered = DrainQueue();
  if (!offered.ok()) {
    Log(LogLevel::kWarning, "routing.drain_failed",
        {{"error", offered.status().ToString()}});
  }
}

}  // namespace handoff::routing
