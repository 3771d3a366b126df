#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/listing.h"
#include "common/storage/database.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::routing {

// An assignment row: the proto plus the routing round it belongs to. A round
// starts when a lead is routed and ends when it is rejected, recycled or
// converted; a later RouteLead (the lead was re-qualified) starts the next.
struct StoredAssignment {
  v1::Assignment assignment;
  int round = 1;
};

// A rep with its open (pending or accepted) assignments counted.
struct RepWithLoad {
  std::string id;
  v1::Rep rep;
  int open = 0;
};

// A lead waiting for an eligible rep. `attempt` is the attempt number the
// next offer will carry; exclusions come from the round's breached offers.
struct QueuedLead {
  std::string lead_id;
  // lead and lead_summary; request_id cleared.
  v1::RouteLeadRequest request;
  absl::Time enqueue_time;
  int round = 1;
  int attempt = 1;
  // assignments/{id} that breached before the lead was queued, if any.
  std::string previous_assignment;
  // The rule whose queue holds the lead.
  std::string rule;
};

struct RepFilter {
  std::string team;
  v1::RepStatus status = v1::REP_STATUS_UNSPECIFIED;
};

struct AssignmentFilter {
  std::string rep_id;
  std::string lead_id;
  v1::AssignmentState state = v1::ASSIGNMENT_STATE_UNSPECIFIED;
};

// An SLA timer as stored: the offer's assignment id and accept_due_time.
struct PendingDeadline {
  std::string id;
  absl::Time due = absl::InfinitePast();
};

// SLA timers besides the accept deadline: the warning while an offer is
// pending, the first touch once it is accepted.
enum class SlaTimer { kWarning, kFirstTouch };

// When the first touch of `a` is due, while the accepted assignment waits for
// a first touch that has not come and has not been found late; none
// otherwise. Both the timer's column and its firing go by this.
std::optional<absl::Time> PendingFirstTouchDue(const v1::Assignment& a);

struct EventFilter {
  // reps/{rep}; empty means any.
  std::string rep;
  std::string team;
};

// AssignmentEvent.cursor is the event's sequence number.
std::string EventCursor(int64_t seq);
// INVALID_ARGUMENT naming after_cursor for anything EventCursor did not make.
absl::StatusOr<int64_t> ParseEventCursor(std::string_view cursor);

struct QueueStats {
  int64_t depth = 0;
  std::optional<absl::Time> oldest_enqueue_time;
};

// The routing schema's steps (RoutingStore::Open applies them); public so a
// test can stop at an earlier version.
const std::vector<std::string>& RoutingMigrations();

// All SQL of the routing service. Methods take the caller's transaction so a
// domain operation (state change, strategy pointer, outbox message) commits
// as one unit.
class RoutingStore {
 public:
  // Applies the routing schema migrations.
  static absl::StatusOr<std::unique_ptr<RoutingStore>> Open(Database& db);

  Database& db() { return db_; }

  // Reps.
  absl::Status InsertRep(Transaction& tx, std::string_view id,
                         const v1::Rep& rep);
  absl::Status UpdateRep(Transaction& tx, std::string_view id,
                         const v1::Rep& rep);
  absl::StatusOr<std::optional<RepWithLoad>> FindRep(Transaction& tx,
                                                     std::string_view id);
  // Up to page.limit + 1 reps after page.after_key, by id.
  absl::StatusOr<std::vector<RepWithLoad>> ListReps(Transaction& tx,
                                                    const RepFilter& filter,
                                                    const PageRequest& page);
  // Every rep, ordered by id, with its load: the routing candidates.
  absl::StatusOr<std::vector<RepWithLoad>> RoutingCandidates(Transaction& tx);

  // Assignments.
  absl::Status InsertAssignment(Transaction& tx, std::string_view id,
                                const v1::Assignment& assignment, int round);
  // Writes `assignment` only if the row is still in `expected` state;
  // returns whether it did, so racing state changes apply once.
  absl::StatusOr<bool> UpdateAssignmentIf(Transaction& tx, std::string_view id,
                                          const v1::Assignment& assignment,
                                          v1::AssignmentState expected);
  absl::StatusOr<std::optional<StoredAssignment>> FindAssignment(
      Transaction& tx, std::string_view id);
  // The lead's most recent offer (highest round, then attempt).
  absl::StatusOr<std::optional<StoredAssignment>> LatestAssignmentForLead(
      Transaction& tx, std::string_view lead_id);
  // Rep ids that let this lead lapse or rejected it in `round`.
  absl::StatusOr<std::set<std::string>> PassedRepsInRound(
      Transaction& tx, std::string_view lead_id, int round);
  // Up to `limit` deadlines of pending offers after `after` in (due, id)
  // order, due at or before `until`: a keyset page, read from an index
  // alone.
  absl::StatusOr<std::vector<PendingDeadline>> PendingDeadlines(
      Transaction& tx, const PendingDeadline& after, absl::Time until,
      int limit);
  // Feeds the deadline of every pending offer to `add` (the SLA timers'
  // reload), stopping early when it returns false. Pages are separate read
  // transactions, so writers wait for one page at most, and `add` runs
  // inside them: an offer closed after its page was read is closed by a
  // commit that follows the add, so its Cancel does too.
  absl::Status LoadPendingDeadlines(
      absl::FunctionRef<bool(std::string_view id, absl::Time due)> add);
  // The same for SLA warnings or first-touch timers not yet fired.
  absl::Status LoadPendingTimers(
      SlaTimer timer,
      absl::FunctionRef<bool(std::string_view id, absl::Time due)> add);
  absl::StatusOr<std::vector<StoredAssignment>> ListAssignments(
      Transaction& tx, const AssignmentFilter& filter, const PageRequest& page);

  // Routing queue, oldest first.
  absl::Status Enqueue(Transaction& tx, const QueuedLead& entry);
  absl::Status Dequeue(Transaction& tx, std::string_view lead_id);
  absl::StatusOr<std::optional<QueuedLead>> FindQueued(
      Transaction& tx, std::string_view lead_id);
  // 1-based position of a queued lead.
  absl::StatusOr<int> QueuePosition(Transaction& tx, std::string_view lead_id);
  // Up to `limit` entries queued after position `after_seq`, oldest first;
  // each entry's seq is returned alongside for resuming.
  absl::StatusOr<std::vector<std::pair<int64_t, QueuedLead>>> QueuedAfter(
      Transaction& tx, int64_t after_seq, int limit);
  absl::StatusOr<QueueStats> GetQueueStats(Transaction& tx);

  absl::StatusOr<std::map<std::string, QueueStats>> QueueStatsByRule(
      Transaction& tx);

  absl::Status DeleteRep(Transaction& tx, std::string_view id);
  // Offers made to the rep at or after `since` (the daily cap).
  absl::StatusOr<int> OffersSince(Transaction& tx, std::string_view rep_id,
                                  absl::Time since);

  // Warnings or first-touch timers not yet fired, as PendingDeadlines does
  // for deadlines.
  absl::StatusOr<std::vector<PendingDeadline>> PendingTimers(
      Transaction& tx, SlaTimer timer, const PendingDeadline& after,
      absl::Time until, int limit);
  // Writes the assignment and clears its `timer` if it is still in the
  // assignment's state with that timer due; returns whether it did (a timer
  // fires once).
  absl::StatusOr<bool> MarkTimerFired(Transaction& tx, SlaTimer timer,
                                      std::string_view id,
                                      const v1::Assignment& assignment);

  // The rule set with the highest version; none before the first apply.
  absl::StatusOr<std::optional<v1::RuleSet>> LoadRuleSet(Transaction& tx);
  // ALREADY_EXISTS when the version is taken.
  absl::Status InsertRuleSet(Transaction& tx, const v1::RuleSet& rule_set,
                             absl::Time apply_time);
  // Strategy state per pool.
  absl::StatusOr<std::vector<v1::PoolStrategyState>> LoadPoolStates(
      Transaction& tx);
  // Static: it runs at a group commit, which may come after the store is
  // gone.
  static absl::Status SavePoolState(Transaction& tx,
                                    const v1::PoolStrategyState& state);

  // Appends to the assignment event log and sets event.cursor.
  absl::Status AppendEvent(Transaction& tx, v1::AssignmentEvent& event);
  // The cursor a watch with no after_cursor starts after.
  absl::StatusOr<int64_t> LastEventSeq(Transaction& tx);
  // Up to `limit` events after `after_seq` matching `filter`, in order.
  absl::StatusOr<std::vector<v1::AssignmentEvent>> EventsAfter(
      Transaction& tx, int64_t after_seq, const EventFilter& filter, int limit);
  // Up to `limit` events with event_time in [start, end) after `after_seq`,
  // by seq: a keyset page for reports.
  absl::StatusOr<std::vector<v1::AssignmentEvent>> EventsBetween(
      Transaction& tx, absl::Time start, absl::Time end, int64_t after_seq,
      int limit);

 private:
  explicit RoutingStore(Database& db) : db_(db) {}
  absl::Status LoadPaged(
      absl::FunctionRef<absl::StatusOr<std::vector<PendingDeadline>>(
          Transaction&, const PendingDeadline&, int)>
          page_after,
      absl::FunctionRef<bool(std::string_view id, absl::Time due)> add);
  Database& db_;
};

}  // namespace handoff::routing
