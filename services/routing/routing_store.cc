#include "services/routing/routing_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "common/strings.h"

namespace handoff::routing {
namespace {

constexpr int kPending = v1::ASSIGNMENT_STATE_PENDING;
constexpr int kAccepted = v1::ASSIGNMENT_STATE_ACCEPTED;
constexpr int kBreached = v1::ASSIGNMENT_STATE_BREACHED;

}  // namespace

std::optional<absl::Time> PendingFirstTouchDue(const v1::Assignment& a) {
  if (a.state() != v1::ASSIGNMENT_STATE_ACCEPTED ||
      !a.has_first_touch_due_time() || a.has_first_touch_time() ||
      a.first_touch_breached()) {
    return std::nullopt;
  }
  return FromProtoTime(a.first_touch_due_time());
}

// Step i is schema version i + 1: append, never edit a released step.
const std::vector<std::string>& RoutingMigrations() {
  static const auto* steps = new std::vector<std::string>{
      "CREATE TABLE reps (id TEXT PRIMARY KEY, body BLOB NOT NULL,"
      " team TEXT NOT NULL, status INTEGER NOT NULL)",
      "CREATE INDEX reps_by_team ON reps (team, id)",
      "CREATE INDEX reps_by_status ON reps (status, id)",
      "CREATE TABLE assignments (id TEXT PRIMARY KEY, body BLOB NOT NULL,"
      " lead TEXT NOT NULL, rep TEXT NOT NULL, state INTEGER NOT NULL,"
      " accept_due_time INTEGER NOT NULL, round INTEGER NOT NULL,"
      " attempt INTEGER NOT NULL)",
      "CREATE INDEX assignments_by_lead ON assignments (lead, round, attempt)",
      "CREATE INDEX assignments_by_rep_state ON assignments (rep, state, id)",
      // The durable SLA timers: pending offers by due time.
      "CREATE INDEX assignments_by_state_due ON assignments"
      " (state, accept_due_time)",
      "CREATE TABLE routing_queue (lead TEXT PRIMARY KEY, body BLOB NOT NULL,"
      " enqueue_time INTEGER NOT NULL, seq INTEGER NOT NULL,"
      " round INTEGER NOT NULL, attempt INTEGER NOT NULL,"
      " previous_assignment TEXT NOT NULL)",
      "CREATE UNIQUE INDEX routing_queue_by_seq ON routing_queue (seq)",
      "CREATE TABLE strategy_state (pool TEXT PRIMARY KEY,"
      " strategy TEXT NOT NULL, state TEXT NOT NULL)",
      // The timers' reload reads (due, id) of pending offers from this index
      // alone, without a lookup of each wide row: about 4x faster for a
      // million of them (tools/bench/timer_bench).
      "CREATE INDEX assignments_by_state_due_id ON assignments"
      " (state, accept_due_time, id)",
      // Its prefix; the index above serves every query it did.
      "DROP INDEX assignments_by_state_due",
      // Daily caps counted a rep's offers since local midnight here until
      // the DROP INDEX step at the end; since then the column is neither
      // written (0 in newer rows) nor read. Dropping it would rewrite the
      // table.
      "ALTER TABLE assignments ADD COLUMN offer_time INTEGER NOT NULL"
      " DEFAULT 0",
      "CREATE INDEX assignments_by_rep_offer ON assignments (rep, offer_time)",
      // SLA warnings still to fire; 0 once fired or without a warning.
      "ALTER TABLE assignments ADD COLUMN warning_time INTEGER NOT NULL"
      " DEFAULT 0",
      "CREATE INDEX assignments_by_warning ON assignments (warning_time, id)"
      " WHERE warning_time > 0",
      "ALTER TABLE routing_queue ADD COLUMN rule TEXT NOT NULL DEFAULT ''",
      "CREATE TABLE rule_sets (version INTEGER PRIMARY KEY,"
      " body BLOB NOT NULL, apply_time INTEGER NOT NULL)",
      "CREATE TABLE pool_states (pool TEXT PRIMARY KEY, body BLOB NOT NULL)",
      // The assignment event log: WatchAssignments and GetSlaReport read it.
      // One writer at a time, so seq order is commit order.
      "CREATE TABLE assignment_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " event_time INTEGER NOT NULL, rep TEXT NOT NULL, team TEXT NOT NULL,"
      " type INTEGER NOT NULL, body BLOB NOT NULL)",
      "CREATE INDEX assignment_events_by_rep ON assignment_events (rep, seq)",
      "CREATE INDEX assignment_events_by_team ON assignment_events (team, seq)",
      "CREATE INDEX assignment_events_by_time ON assignment_events"
      " (event_time, seq)",
      // First-touch timers still to fire: the due time while the accepted
      // assignment waits for its first touch, 0 otherwise.
      "ALTER TABLE assignments ADD COLUMN first_touch_due INTEGER NOT NULL"
      " DEFAULT 0",
      "CREATE INDEX assignments_by_first_touch_due ON assignments"
      " (first_touch_due, id) WHERE first_touch_due > 0",
      // The queue's length, kept by triggers: a newly queued lead's position
      // without counting the whole queue.
      "CREATE TABLE routing_queue_size (id INTEGER PRIMARY KEY CHECK (id = 1),"
      " entries INTEGER NOT NULL)",
      "INSERT INTO routing_queue_size (id, entries)"
      " SELECT 1, COUNT(*) FROM routing_queue",
      "CREATE TRIGGER routing_queue_size_up AFTER INSERT ON routing_queue"
      " BEGIN UPDATE routing_queue_size SET entries = entries + 1"
      " WHERE id = 1; END",
      "CREATE TRIGGER routing_queue_size_down AFTER DELETE ON routing_queue"
      " BEGIN UPDATE routing_queue_size SET entries = entries - 1"
      " WHERE id = 1; END",
      // Never written: pool_states took its place before any release.
      "DROP TABLE strategy_state",
      // Daily caps count a rep's offers through assignments_by_rep_state:
      // an id begins with its offer time (see OffersSince), and one index
      // fewer is one page fewer written per offer.
      "DROP INDEX assignments_by_rep_offer",
  };
  return *steps;
}

namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// The first_touch_due column: 0 when no first-touch timer is pending.
int64_t FirstTouchDue(const v1::Assignment& a) {
  const std::optional<absl::Time> due = PendingFirstTouchDue(a);
  return due.has_value() ? Micros(*due) : 0;
}

// The column an SLA timer's due time is kept in (0 when none is pending),
// each with a partial index on (column, id).
const char* TimerColumn(SlaTimer timer) {
  switch (timer) {
    case SlaTimer::kWarning:
      return "warning_time";
    case SlaTimer::kFirstTouch:
      return "first_touch_due";
  }
  return "warning_time";
}

// "leads/x" -> "x"; names written by the router are always well formed.
std::string_view IdOf(std::string_view name) {
  return name.substr(name.find('/') + 1);
}

absl::StatusOr<RepWithLoad> RepFromRow(const SqlRow& row) {
  RepWithLoad out;
  out.id = row.Bytes(0);
  if (absl::Status s = ParseStoredProto(row.Bytes(1), &out.rep); !s.ok()) {
    return s;
  }
  out.open = static_cast<int>(row.Int(2));
  out.rep.set_open_assignments(out.open);
  return out;
}

absl::StatusOr<std::vector<RepWithLoad>> RepsFromRows(
    const std::vector<SqlRow>& rows) {
  std::vector<RepWithLoad> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    absl::StatusOr<RepWithLoad> rep = RepFromRow(row);
    if (!rep.ok()) return rep.status();
    out.push_back(*std::move(rep));
  }
  return out;
}

// Columns: body, round.
absl::StatusOr<StoredAssignment> AssignmentFromRow(const SqlRow& row) {
  StoredAssignment out;
  if (absl::Status s = ParseStoredProto(row.Bytes(0), &out.assignment);
      !s.ok()) {
    return s;
  }
  out.round = static_cast<int>(row.Int(1));
  return out;
}

absl::StatusOr<std::vector<StoredAssignment>> AssignmentsFromRows(
    const std::vector<SqlRow>& rows) {
  std::vector<StoredAssignment> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    absl::StatusOr<StoredAssignment> a = AssignmentFromRow(row);
    if (!a.ok()) return a.status();
    out.push_back(*std::move(a));
  }
  return out;
}

absl::StatusOr<std::optional<StoredAssignment>> OptionalAssignment(
    absl::StatusOr<std::optional<SqlRow>> row) {
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  absl::StatusOr<StoredAssignment> a = AssignmentFromRow(**row);
  if (!a.ok()) return a.status();
  return *std::move(a);
}

// Columns: lead, body, enqueue_time, round, attempt, previous_assignment,
// rule.
absl::StatusOr<QueuedLead> QueuedFromRow(const SqlRow& row) {
  QueuedLead out;
  out.lead_id = row.Bytes(0);
  if (absl::Status s = ParseStoredProto(row.Bytes(1), &out.request); !s.ok()) {
    return s;
  }
  out.enqueue_time = absl::FromUnixMicros(row.Int(2));
  out.round = static_cast<int>(row.Int(3));
  out.attempt = static_cast<int>(row.Int(4));
  out.previous_assignment = row.Bytes(5);
  out.rule = row.Bytes(6);
  return out;
}

// Filtered lists use numbered parameters so one parameter list serves every
// combination of filters; the always-present keyset and limit come last.
std::string Where(
    std::initializer_list<std::pair<bool, const char*>> optional_terms) {
  std::string sql;
  for (const auto& [present, term] : optional_terms) {
    if (present) absl::StrAppend(&sql, " AND ", term);
  }
  return sql;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingStore>> RoutingStore::Open(Database& db) {
  if (absl::Status s = db.Migrate("routing", RoutingMigrations()); !s.ok())
    return s;
  return std::unique_ptr<RoutingStore>(new RoutingStore(db));
}

absl::Status RoutingStore::InsertRep(Transaction& tx, std::string_view id,
                                     const v1::Rep& rep) {
  v1::Rep stored = rep;
  stored.clear_open_assignments();
  std::string body = stored.SerializeAsString();
  return tx
      .Exec("INSERT INTO reps (id, body, team, status) VALUES (?, ?, ?, ?)",
            {id, SqlBlob{body}, rep.team(), static_cast<int>(rep.status())})
      .status();
}

absl::Status RoutingStore::UpdateRep(Transaction& tx, std::string_view id,
                                     const v1::Rep& rep) {
  v1::Rep stored = rep;
  stored.clear_open_assignments();
  std::string body = stored.SerializeAsString();
  return tx
      .Exec("UPDATE reps SET body = ?, team = ?, status = ? WHERE id = ?",
            {SqlBlob{body}, rep.team(), static_cast<int>(rep.status()), id})
      .status();
}

absl::StatusOr<std::optional<RepWithLoad>> RoutingStore::FindRep(
    Transaction& tx, std::string_view id) {
  absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
      "SELECT r.id, r.body, (SELECT COUNT(*) FROM assignments a"
      " WHERE a.rep = r.id AND a.state IN (?, ?)) FROM reps r WHERE r.id = ?",
      {kPending, kAccepted, id});
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  absl::StatusOr<RepWithLoad> rep = RepFromRow(**row);
  if (!rep.ok()) return rep.status();
  return *std::move(rep);
}

absl::StatusOr<std::vector<RepWithLoad>> RoutingStore::ListReps(
    Transaction& tx, const RepFilter& filter, const PageRequest& page) {
  std::string sql = absl::StrCat(
      "SELECT r.id, r.body, (SELECT COUNT(*) FROM assignments a"
      " WHERE a.rep = r.id AND a.state IN (?1, ?2)) FROM reps r"
      " WHERE r.id > ?5",
      Where({{!filter.team.empty(), "r.team = ?3"},
             {filter.status != v1::REP_STATUS_UNSPECIFIED, "r.status = ?4"}}),
      " ORDER BY r.id LIMIT ?6");
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      sql, {kPending, kAccepted, filter.team, static_cast<int>(filter.status),
            page.after_key, page.limit + 1});
  if (!rows.ok()) return rows.status();
  return RepsFromRows(*rows);
}

absl::StatusOr<std::vector<RepWithLoad>> RoutingStore::RoutingCandidates(
    Transaction& tx) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT r.id, r.body, (SELECT COUNT(*) FROM assignments a"
      " WHERE a.rep = r.id AND a.state IN (?, ?)) FROM reps r ORDER BY r.id",
      {kPending, kAccepted});
  if (!rows.ok()) return rows.status();
  return RepsFromRows(*rows);
}

absl::Status RoutingStore::InsertAssignment(Transaction& tx,
                                            std::string_view id,
                                            const v1::Assignment& a,
                                            int round) {
  std::string body = a.SerializeAsString();
  return tx
      .Exec(
          "INSERT INTO assignments (id, body, lead, rep, state,"
          " accept_due_time, round, attempt, warning_time)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {id, SqlBlob{body}, IdOf(a.lead()), IdOf(a.rep()),
           static_cast<int>(a.state()),
           Micros(FromProtoTime(a.accept_due_time())), round, a.attempt(),
           a.has_warning_time() ? Micros(FromProtoTime(a.warning_time()))
                                : int64_t{0}})
      .status();
}

absl::StatusOr<bool> RoutingStore::UpdateAssignmentIf(
    Transaction& tx, std::string_view id, const v1::Assignment& assignment,
    v1::AssignmentState expected) {
  std::string body = assignment.SerializeAsString();
  absl::StatusOr<int64_t> changed = tx.Exec(
      "UPDATE assignments SET body = ?, state = ?,"
      " warning_time = CASE WHEN ? = ? THEN warning_time ELSE 0 END,"
      " first_touch_due = ? WHERE id = ? AND state = ?",
      {SqlBlob{body}, static_cast<int>(assignment.state()),
       static_cast<int>(assignment.state()), kPending,
       FirstTouchDue(assignment), id, static_cast<int>(expected)});
  if (!changed.ok()) return changed.status();
  return *changed > 0;
}

absl::StatusOr<std::optional<StoredAssignment>> RoutingStore::FindAssignment(
    Transaction& tx, std::string_view id) {
  return OptionalAssignment(
      tx.QueryOne("SELECT body, round FROM assignments WHERE id = ?", {id}));
}

absl::StatusOr<std::optional<StoredAssignment>>
RoutingStore::LatestAssignmentForLead(Transaction& tx,
                                      std::string_view lead_id) {
  return OptionalAssignment(
      tx.QueryOne("SELECT body, round FROM assignments WHERE lead = ?"
                  " ORDER BY round DESC, attempt DESC LIMIT 1",
                  {lead_id}));
}

absl::StatusOr<std::set<std::string>> RoutingStore::PassedRepsInRound(
    Transaction& tx, std::string_view lead_id, int round) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT rep FROM assignments WHERE lead = ? AND round = ?"
      " AND state IN (?, ?)",
      {lead_id, round, kBreached,
       static_cast<int>(v1::ASSIGNMENT_STATE_REJECTED)});
  if (!rows.ok()) return rows.status();
  std::set<std::string> reps;
  for (const SqlRow& row : *rows) reps.insert(row.Bytes(0));
  return reps;
}

absl::StatusOr<std::vector<PendingDeadline>> RoutingStore::PendingDeadlines(
    Transaction& tx, const PendingDeadline& after, absl::Time until,
    int limit) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT id, accept_due_time FROM assignments"
      " WHERE state = ? AND (accept_due_time, id) > (?, ?)"
      " AND accept_due_time <= ? ORDER BY accept_due_time, id LIMIT ?",
      {kPending, Micros(after.due), after.id, Micros(until), limit});
  if (!rows.ok()) return rows.status();
  std::vector<PendingDeadline> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) {
    out.push_back({row.Bytes(0), absl::FromUnixMicros(row.Int(1))});
  }
  return out;
}

absl::Status RoutingStore::LoadPendingDeadlines(
    absl::FunctionRef<bool(std::string_view id, absl::Time due)> add) {
  return LoadPaged(
      [this](Transaction& tx, const PendingDeadline& after, int limit) {
        return PendingDeadlines(tx, after, absl::InfiniteFuture(), limit);
      },
      add);
}

absl::Status RoutingStore::LoadPendingTimers(
    SlaTimer timer,
    absl::FunctionRef<bool(std::string_view id, absl::Time due)> add) {
  return LoadPaged(
      [this, timer](Transaction& tx, const PendingDeadline& after, int limit) {
        return PendingTimers(tx, timer, after, absl::InfiniteFuture(), limit);
      },
      add);
}

absl::Status RoutingStore::LoadPaged(
    absl::FunctionRef<absl::StatusOr<std::vector<PendingDeadline>>(
        Transaction&, const PendingDeadline&, int)>
        page_after,
    absl::FunctionRef<bool(std::string_view id, absl::Time due)> add) {
  // A page holds the database for a few milliseconds.
  constexpr int kPage = 10'000;
  PendingDeadline after;
  bool more = true;
  while (more) {
    absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
      absl::StatusOr<std::vector<PendingDeadline>> page =
          page_after(tx, after, kPage);
      if (!page.ok()) return page.status();
      for (const PendingDeadline& deadline : *page) {
        if (!add(deadline.id, deadline.due)) {
          return absl::CancelledError("deadline reload stopped");
        }
      }
      more = page->size() == kPage;
      if (more) after = std::move(page->back());
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredAssignment>> RoutingStore::ListAssignments(
    Transaction& tx, const AssignmentFilter& filter, const PageRequest& page) {
  std::string sql = absl::StrCat(
      "SELECT body, round FROM assignments WHERE id > ?4",
      Where({{!filter.rep_id.empty(), "rep = ?1"},
             {!filter.lead_id.empty(), "lead = ?2"},
             {filter.state != v1::ASSIGNMENT_STATE_UNSPECIFIED, "state = ?3"}}),
      " ORDER BY id LIMIT ?5");
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      sql, {filter.rep_id, filter.lead_id, static_cast<int>(filter.state),
            page.after_key, page.limit + 1});
  if (!rows.ok()) return rows.status();
  return AssignmentsFromRows(*rows);
}

absl::Status RoutingStore::Enqueue(Transaction& tx, const QueuedLead& entry) {
  std::string body = entry.request.SerializeAsString();
  return tx
      .Exec(
          "INSERT INTO routing_queue (lead, body, enqueue_time, seq, round,"
          " attempt, previous_assignment, rule) VALUES (?, ?, ?,"
          " (SELECT COALESCE(MAX(seq), 0) + 1 FROM routing_queue), ?, ?, ?,"
          " ?)",
          {entry.lead_id, SqlBlob{body}, Micros(entry.enqueue_time),
           entry.round, entry.attempt, entry.previous_assignment, entry.rule})
      .status();
}

absl::Status RoutingStore::Dequeue(Transaction& tx, std::string_view lead_id) {
  return tx.Exec("DELETE FROM routing_queue WHERE lead = ?", {lead_id})
      .status();
}

absl::StatusOr<std::optional<QueuedLead>> RoutingStore::FindQueued(
    Transaction& tx, std::string_view lead_id) {
  absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
      "SELECT lead, body, enqueue_time, round, attempt, previous_assignment,"
      " rule FROM routing_queue WHERE lead = ?",
      {lead_id});
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  absl::StatusOr<QueuedLead> entry = QueuedFromRow(**row);
  if (!entry.ok()) return entry.status();
  return *std::move(entry);
}

absl::StatusOr<int> RoutingStore::QueuePosition(Transaction& tx,
                                                std::string_view lead_id) {
  absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
      // Counts the entries behind the lead (none for the one just queued).
      "SELECT (SELECT entries FROM routing_queue_size WHERE id = 1)"
      " - (SELECT COUNT(*) FROM routing_queue WHERE seq >"
      " (SELECT seq FROM routing_queue WHERE lead = ?1))"
      " WHERE EXISTS (SELECT 1 FROM routing_queue WHERE lead = ?1)",
      {lead_id});
  if (!row.ok()) return row.status();
  return row->has_value() ? static_cast<int>((*row)->Int(0)) : 0;
}

absl::StatusOr<std::vector<std::pair<int64_t, QueuedLead>>>
RoutingStore::QueuedAfter(Transaction& tx, int64_t after_seq, int limit) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT lead, body, enqueue_time, round, attempt, previous_assignment,"
      " rule, seq FROM routing_queue WHERE seq > ? ORDER BY seq LIMIT ?",
      {after_seq, limit});
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<int64_t, QueuedLead>> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) {
    absl::StatusOr<QueuedLead> entry = QueuedFromRow(row);
    if (!entry.ok()) return entry.status();
    out.emplace_back(row.Int(7), *std::move(entry));
  }
  return out;
}

absl::StatusOr<QueueStats> RoutingStore::GetQueueStats(Transaction& tx) {
  absl::StatusOr<std::optional<SqlRow>> row =
      tx.QueryOne("SELECT COUNT(*), MIN(enqueue_time) FROM routing_queue");
  if (!row.ok()) return row.status();
  QueueStats stats;
  if (!row->has_value()) return stats;
  stats.depth = (*row)->Int(0);
  if (!(*row)->IsNull(1)) {
    stats.oldest_enqueue_time = absl::FromUnixMicros((*row)->Int(1));
  }
  return stats;
}

absl::Status RoutingStore::DeleteRep(Transaction& tx, std::string_view id) {
  return tx.Exec("DELETE FROM reps WHERE id = ?", {id}).status();
}

absl::StatusOr<int> RoutingStore::OffersSince(Transaction& tx,
                                              std::string_view rep_id,
                                              absl::Time since) {
  // Every state is listed so that the count seeks assignments_by_rep_state
  // (rep, state, id) once per state instead of reading the rep's rows.
  static const std::string* const kCountSince = [] {
    const google::protobuf::EnumDescriptor* states =
        v1::AssignmentState_descriptor();
    std::vector<std::string> values;
    for (int i = 0; i < states->value_count(); ++i) {
      values.push_back(absl::StrCat(states->value(i)->number()));
    }
    return new std::string(
        absl::StrCat("SELECT COUNT(*) FROM assignments WHERE rep = ? AND"
                     " state IN (",
                     absl::StrJoin(values, ","), ") AND id >= ?"));
  }();
  // Ids are NewId(offer time): the time prefix orders them by offer time.
  absl::StatusOr<std::optional<SqlRow>> row =
      tx.QueryOne(*kCountSince, {rep_id, IdTimePrefix(since)});
  if (!row.ok()) return row.status();
  return row->has_value() ? static_cast<int>((*row)->Int(0)) : 0;
}

absl::StatusOr<std::vector<PendingDeadline>> RoutingStore::PendingTimers(
    Transaction& tx, SlaTimer timer, const PendingDeadline& after,
    absl::Time until, int limit) {
  const char* column = TimerColumn(timer);
  absl::StatusOr<std::vector<SqlRow>> rows =
      tx.Query(absl::StrCat("SELECT id, ", column, " FROM assignments WHERE ",
                            column, " > 0 AND (", column, ", id) > (?, ?) AND ",
                            column, " <= ? ORDER BY ", column, ", id LIMIT ?"),
               {Micros(after.due), after.id, Micros(until), limit});
  if (!rows.ok()) return rows.status();
  std::vector<PendingDeadline> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) {
    out.push_back({row.Bytes(0), absl::FromUnixMicros(row.Int(1))});
  }
  return out;
}

absl::StatusOr<bool> RoutingStore::MarkTimerFired(
    Transaction& tx, SlaTimer timer, std::string_view id,
    const v1::Assignment& assignment) {
  std::string body = assignment.SerializeAsString();
  const char* column = TimerColumn(timer);
  absl::StatusOr<int64_t> changed = tx.Exec(
      absl::StrCat("UPDATE assignments SET body = ?, ", column,
                   " = 0 WHERE id = ? AND state = ? AND ", column, " > 0"),
      {SqlBlob{body}, id, static_cast<int>(assignment.state())});
  if (!changed.ok()) return changed.status();
  return *changed > 0;
}

absl::StatusOr<std::optional<v1::RuleSet>> RoutingStore::LoadRuleSet(
    Transaction& tx) {
  absl::StatusOr<std::optional<SqlRow>> row =
      tx.QueryOne("SELECT body FROM rule_sets ORDER BY version DESC LIMIT 1");
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  v1::RuleSet rule_set;
  if (absl::Status s = ParseStoredProto((*row)->Bytes(0), &rule_set); !s.ok()) {
    return s;
  }
  return rule_set;
}

absl::Status RoutingStore::InsertRuleSet(Transaction& tx,
                                         const v1::RuleSet& rule_set,
                                         absl::Time apply_time) {
  std::string body = rule_set.SerializeAsString();
  return tx
      .Exec(
          "INSERT INTO rule_sets (version, body, apply_time) VALUES (?, ?, ?)",
          {rule_set.version(), SqlBlob{body}, Micros(apply_time)})
      .status();
}

absl::StatusOr<std::vector<v1::PoolStrategyState>> RoutingStore::LoadPoolStates(
    Transaction& tx) {
  absl::StatusOr<std::vector<SqlRow>> rows =
      tx.Query("SELECT body FROM pool_states ORDER BY pool");
  if (!rows.ok()) return rows.status();
  std::vector<v1::PoolStrategyState> out(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    if (absl::Status s = ParseStoredProto((*rows)[i].Bytes(0), &out[i]);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

absl::Status RoutingStore::SavePoolState(Transaction& tx,
                                         const v1::PoolStrategyState& state) {
  std::string body = state.SerializeAsString();
  return tx
      .Exec(
          "INSERT INTO pool_states (pool, body) VALUES (?, ?)"
          " ON CONFLICT (pool) DO UPDATE SET body = excluded.body",
          {state.pool(), SqlBlob{body}})
      .status();
}

absl::StatusOr<std::map<std::string, QueueStats>>
RoutingStore::QueueStatsByRule(Transaction& tx) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT rule, COUNT(*), MIN(enqueue_time) FROM routing_queue"
      " GROUP BY rule");
  if (!rows.ok()) return rows.status();
  std::map<std::string, QueueStats> out;
  for (const SqlRow& row : *rows) {
    QueueStats& stats = out[row.Bytes(0)];
    stats.depth = row.Int(1);
    stats.oldest_enqueue_time = absl::FromUnixMicros(row.Int(2));
  }
  return out;
}

std::string EventCursor(int64_t seq) { return absl::StrCat(seq); }

absl::StatusOr<int64_t> ParseEventCursor(std::string_view cursor) {
  int64_t seq = 0;
  if (!absl::SimpleAtoi(Sv(cursor), &seq) || seq < 0) {
    return absl::InvalidArgumentError(
        "after_cursor: not a cursor from an AssignmentEvent");
  }
  return seq;
}

absl::Status RoutingStore::AppendEvent(Transaction& tx,
                                       v1::AssignmentEvent& event) {
  event.clear_cursor();
  std::string body = event.SerializeAsString();
  absl::StatusOr<int64_t> changed = tx.Exec(
      "INSERT INTO assignment_events (event_time, rep, team, type, body)"
      " VALUES (?, ?, ?, ?, ?)",
      {Micros(FromProtoTime(event.event_time())), event.rep(), event.team(),
       static_cast<int>(event.type()), SqlBlob{body}});
  if (!changed.ok()) return changed.status();
  event.set_cursor(EventCursor(tx.LastInsertRowId()));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RoutingStore::LastEventSeq(Transaction& tx) {
  absl::StatusOr<std::optional<SqlRow>> row =
      tx.QueryOne("SELECT COALESCE(MAX(seq), 0) FROM assignment_events");
  if (!row.ok()) return row.status();
  return row->has_value() ? (*row)->Int(0) : 0;
}

namespace {

absl::StatusOr<std::vector<v1::AssignmentEvent>> EventsFromRows(
    const std::vector<SqlRow>& rows) {
  std::vector<v1::AssignmentEvent> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (absl::Status s = ParseStoredProto(rows[i].Bytes(1), &out[i]); !s.ok()) {
      return s;
    }
    out[i].set_cursor(EventCursor(rows[i].Int(0)));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<v1::AssignmentEvent>> RoutingStore::EventsAfter(
    Transaction& tx, int64_t after_seq, const EventFilter& filter, int limit) {
  std::string sql =
      absl::StrCat("SELECT seq, body FROM assignment_events WHERE seq > ?3",
                   Where({{!filter.rep.empty(), "rep = ?1"},
                          {!filter.team.empty(), "team = ?2"}}),
                   " ORDER BY seq LIMIT ?4");
  absl::StatusOr<std::vector<SqlRow>> rows =
      tx.Query(sql, {filter.rep, filter.team, after_seq, limit});
  if (!rows.ok()) return rows.status();
  return EventsFromRows(*rows);
}

absl::StatusOr<std::vector<v1::AssignmentEvent>> RoutingStore::EventsBetween(
    Transaction& tx, absl::Time start, absl::Time end, int64_t after_seq,
    int limit) {
  absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(
      "SELECT seq, body FROM assignment_events WHERE event_time >= ?"
      " AND event_time < ? AND seq > ? ORDER BY seq LIMIT ?",
      {Micros(start), Micros(end), after_seq, limit});
  if (!rows.ok()) return rows.status();
  return EventsFromRows(*rows);
}

}  // namespace handoff::routing
