#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/engine/regions.h"
#include "services/routing/engine/rule_matcher.h"
#include "services/routing/engine/schedule.h"
#include "services/routing/engine/strategies.h"

// The routing decision engine: a rule set and the reps, held in memory with
// the indexes that keep a decision cheap (rules by country, reps by pool),
// and the strategies' state. No storage, no RPC. How a router uses it:
//   start-up / ApplyRuleSet: Build(rule set, reps with their loads), then
//     RestoreState() for every persisted PoolStrategyState (the store holds
//     the state of every pick, so a new rule set carries it over);
//   RouteLead: d = Decide(lead, now, reps that let it lapse); when
//     d.offered(), Commit(d, now) and in the same write transaction store
//     the assignment (rule set version, d.rule, d.explanation() as
//     Assignment.explanation_detail) and CopyState(d.pool); a transaction
//     that fails after Commit rebuilds the snapshot from the store;
//     otherwise queue the lead for d.rule;
//   rep changes, accepts, closes: UpsertRep / SetLoad / RemoveRep; a queued
//     lead's pool can take it once AvailableWithRoom(pool) > 0.
//
// Eligibility of a rep for a lead, checked in this order (the first failing
// check is the reported reason): did not let this lead lapse, AVAILABLE, not
// out of office, territory, segment, persona specialty (when the rule asks),
// under capacity, under the daily cap, in working hours. A lead attribute
// that is unknown (no country, 0 employees, no persona) does not exclude a
// rep: the rule already chose the pool, and an unknown value is no reason to
// hold a lead back from everyone in it.
//
// Working hours: with only_in_working_hours a rep outside hours is not
// eligible and the lead queues; without it reps in hours are preferred and
// the lead goes to one outside hours only when nobody eligible is in hours.
namespace handoff::routing::engine {

// What the router knows of a rep's load.
struct RepLoad {
  // Pending or accepted, not yet closed, assignments.
  int32_t open = 0;
  // Offers on `day`, a calendar day in the rep's time zone; counts of an
  // earlier day read as 0.
  int32_t offers_today = 0;
  absl::CivilDay day;
};

struct RepInput {
  v1::Rep rep;
  RepLoad load;
};

struct EngineOptions {
  // Explanations are bounded: at most this many earlier rules, excluded
  // candidates, eligible candidates (besides the picked one) and
  // strategy-state entries are listed; the rest are counted.
  size_t max_listed_rules = 50;
  size_t max_listed_excluded = 50;
  size_t max_listed_eligible = 10;
  size_t max_listed_state = 10;
  // Replaces the reps' weekly windows, e.g. with a business calendar that
  // knows holidays. Called at most once per candidate and decision.
  std::function<bool(const v1::Rep& rep, absl::Time now)> is_working;
  // False matches rules by a linear scan and gathers candidates by scanning
  // every rep: the same decisions, slower; for tests and benchmarks.
  bool use_indexes = true;
};

// PoolStrategyState.pool of a rule targeting every rep.
inline constexpr char kAllRepsPool[] = "reps";

// The outcome of RoutingSnapshot::Decide.
struct Decision {
  // The rule that took the lead (the fallback's name for the fallback).
  std::string rule;
  bool fallback = false;
  // PoolStrategyState.pool of the rule's target.
  std::string pool;
  v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN;
  // The rule's SlaPolicy.name; empty for the service default.
  std::string sla_policy;
  // The lead meets the policy's priority condition.
  bool priority = false;
  // The picked rep, reps/{rep}; empty when nobody is eligible and the lead
  // queues for `rule`.
  std::string rep;
  // The picked rep's team; with nobody eligible, the team the rule targets
  // (empty for a named pool).
  std::string team;

  bool offered() const { return !rep.empty(); }
  // Rule, candidates, pick and strategy state; the assignment records it
  // as explanation_detail.
  const v1::RoutingExplanation& explanation() const { return *explanation_; }

 private:
  friend class RoutingSnapshot;
  // The explanation has a hundred or so small parts; an arena makes them one
  // allocation instead of hundreds.
  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::RoutingExplanation* explanation_ = nullptr;
  uint64_t snapshot_id = 0;
  int32_t pool_index = -1;
  uint64_t pool_version = 0;
  int32_t rep_index = -1;
  int32_t chosen_member = -1;
  bool weighted = false;
  std::string round_robin_pointer;
  std::string tie_break_pointer;
  // Per member of the pool that took part: the new current weight and the
  // due share (millionths) to add.
  std::vector<int32_t> members;
  std::vector<int64_t> currents;
  std::vector<int64_t> due;
};

// One pool's strategy state copied out of a snapshot: flat arrays, cheap to
// take on every pick, and turned into the persisted form only when written.
class PoolStateCopy {
 public:
  v1::PoolStrategyState ToProto() const;

 private:
  friend class RoutingSnapshot;
  std::string pool_;
  std::string round_robin_pointer_;
  std::string tie_break_pointer_;
  int64_t assignments_ = 0;
  // Member i's name ends at name_ends_[i].
  std::string names_;
  std::vector<uint32_t> name_ends_;
  std::vector<RepCredit> credit_;
};

// Decide is const and may run concurrently with other Decide calls; every
// other method mutates and needs exclusive access.
class RoutingSnapshot {
 public:
  // INVALID_ARGUMENT for an invalid rule set or rep (see validation.h; a
  // rep also needs a name, a team and capacity >= 1).
  static absl::StatusOr<RoutingSnapshot> Build(const v1::RuleSet& rule_set,
                                               std::vector<RepInput> reps,
                                               EngineOptions options = {});

  RoutingSnapshot(RoutingSnapshot&&) = default;
  RoutingSnapshot& operator=(RoutingSnapshot&&) = default;

  // An independent copy, e.g. to try decisions on: a Decision made by one
  // cannot be committed to the other.
  RoutingSnapshot Clone() const;

  // Routes one lead at `now`: the first matching rule, the eligible reps of
  // its target and the strategy's pick, with the explanation. Changes
  // nothing; `lapsed_reps` (reps/{rep}) already let this lead lapse.
  Decision Decide(const v1::LeadSummary& lead, absl::Time now,
                  std::span<const std::string> lapsed_reps = {}) const;

  // Applies an offered decision: the strategy state advances and the rep
  // gets one more open assignment and one more offer today. ABORTED when the
  // pool changed since Decide (another commit, a membership change).
  absl::Status Commit(const Decision& decision, absl::Time now);

  // A new rep or new attributes of one; its pools follow its team.
  absl::Status UpsertRep(const v1::Rep& rep, RepLoad load);
  absl::Status RemoveRep(std::string_view rep);
  absl::Status SetLoad(std::string_view rep, RepLoad load);
  // The rep's calendar day at `now` in its time zone (for RepLoad.day).
  absl::StatusOr<absl::CivilDay> LocalDay(std::string_view rep,
                                          absl::Time now) const;

  // Strategy state of one pool, for persistence; entries of reps no longer
  // in the pool are dropped.
  absl::StatusOr<v1::PoolStrategyState> ExportState(
      std::string_view pool) const;
  // The same, left flat; for persisting at every pick.
  absl::StatusOr<PoolStateCopy> CopyState(std::string_view pool) const;
  std::vector<v1::PoolStrategyState> ExportAllStates() const;
  // Loads a persisted state; NOT_FOUND for a pool no rule targets and no
  // rep's team names. Entries of reps not in the pool are ignored.
  absl::Status RestoreState(const v1::PoolStrategyState& state);

  // Assignments per rep against its share, under the strategy of the first
  // rule targeting the pool.
  absl::StatusOr<v1::PoolFairness> Fairness(std::string_view pool) const;
  // Reps of the pool available and under capacity (a queued lead of this
  // pool may be offered only when this is positive).
  absl::StatusOr<int32_t> AvailableWithRoom(std::string_view pool) const;

  // The rep as last upserted, or null.
  const v1::Rep* FindRepProto(std::string_view rep) const;
  absl::StatusOr<RepLoad> LoadOf(std::string_view rep) const;
  // The manager most members of the pool name (a tie: the first by name),
  // counting only managers who are reps themselves; empty when there is
  // none. A queued lead's escalation goes there: there is no rep yet whose
  // own manager it could be.
  absl::StatusOr<std::string> PoolManager(std::string_view pool) const;
  // Every rep, sorted.
  std::vector<std::string> RepNames() const;

  // "teams/{team}", the rule's name for a pool target, or kAllRepsPool.
  static std::string PoolKey(const v1::RoutingRule& rule);

  const v1::RuleSet& rule_set() const { return rule_set_; }
  int64_t version() const { return rule_set_.version(); }

 private:
  RoutingSnapshot(const RoutingSnapshot&) = default;
  // The facts every eligibility check reads. Each pool keeps a copy per
  // member, sorted by rep, so a decision walks one contiguous array instead
  // of chasing every rep's proto.
  struct MemberHot {
    int32_t slot = 0;
    int32_t capacity = 1;
    int32_t daily_cap = 0;
    int32_t weight = 1;
    int32_t open = 0;
    int32_t offers_today = 0;
    // RepLoad.day as days since 1970-01-01.
    int32_t offers_day = 0;
    // Interned territory set and weekly schedule; -1 means any / always.
    int32_t territories = -1;
    int32_t schedule = -1;
    int16_t zone = 0;
    // Bit per CompanySegment value; 0 means any.
    uint8_t segments = 0;
    uint8_t flags = 0;
  };
  static constexpr uint8_t kAvailable = 1;
  static constexpr uint8_t kHasOutOfOffice = 2;
  static constexpr uint8_t kHasSpecialties = 4;

  struct RepSlot {
    bool live = true;
    MemberHot hot;
    std::vector<std::pair<absl::Time, absl::Time>> out_of_office;
    std::vector<std::string> specialties;
    std::vector<int32_t> pools;
    v1::Rep rep;
  };
  struct PoolSlot {
    std::string key;
    // Team pools: the team. Rule pools: empty.
    std::string team;
    // Rule pools: the reps named, sorted.
    std::vector<std::string> named;
    // The members sorted by rep name: their facts, their names (one buffer,
    // name i ends at name_ends[i]) and their strategy credit.
    std::vector<MemberHot> members;
    std::string names;
    std::vector<uint32_t> name_ends;
    std::vector<RepCredit> credit;
    std::string round_robin_pointer;
    std::string tie_break_pointer;
    int64_t assignments = 0;
    v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN;
    // Members available with room, and away.
    int32_t with_room = 0;
    int32_t away = 0;
    uint64_t version = 0;

    std::string_view Name(size_t i) const {
      const uint32_t start = i == 0 ? 0 : name_ends[i - 1];
      return std::string_view(names).substr(start, name_ends[i] - start);
    }
    // The member's index, or where it would go.
    size_t LowerBound(std::string_view name) const;
  };
  struct LocalTime {
    bool known = false;
    int minute_of_week = 0;
    int32_t day = 0;
  };

  RoutingSnapshot() = default;

  absl::Status Fill(RepSlot& slot, const v1::Rep& rep, RepLoad load);
  int32_t InternZone(const std::string& name, absl::TimeZone zone);
  int32_t InternTerritories(const std::vector<CountryCode>& codes);
  int32_t InternSchedule(WeeklySchedule schedule);
  int32_t PoolFor(const std::string& key, const std::string& team);
  std::vector<int32_t> PoolsOf(const RepSlot& slot) const;
  // Adds (+1) or removes (-1) the rep from its pools' counters.
  void Count(int32_t slot, int sign);
  // Copies the rep's facts into its pools.
  void Sync(int32_t slot);
  void Join(int32_t pool, int32_t slot);
  void Leave(int32_t pool, int32_t slot);
  void InsertSorted(int32_t slot);
  std::optional<int32_t> FindRep(std::string_view name) const;
  std::optional<int32_t> FindPool(std::string_view key) const;
  const LocalTime& LocalAt(std::vector<LocalTime>& cache, int32_t zone,
                           absl::Time now) const;
  // Indexes into pool.members of the candidates, in order.
  std::vector<int32_t> Candidates(const PoolSlot& pool) const;
  static PoolStateCopy CopyOf(const PoolSlot& pool);

  uint64_t id_ = 0;
  EngineOptions options_;
  v1::RuleSet rule_set_;
  RuleMatcher matcher_;
  // Per rule, then the fallback: its pool.
  std::vector<int32_t> rule_pools_;
  // Kept apart from the protos for explanations.
  std::vector<std::string> rule_names_;
  // SlaPolicy.name to its index in rule_set_.sla_policies.
  absl::flat_hash_map<std::string, int> policies_;
  std::vector<RepSlot> reps_;
  absl::flat_hash_map<std::string, int32_t> rep_by_name_;
  // Live rep slots sorted by name, for the linear scan.
  std::vector<int32_t> reps_sorted_;
  std::vector<PoolSlot> pools_;
  absl::flat_hash_map<std::string, int32_t> pool_by_key_;
  // Rep name to the rule pools naming it.
  absl::flat_hash_map<std::string, std::vector<int32_t>> pools_naming_;
  std::vector<absl::TimeZone> zones_;
  std::vector<std::string> zone_names_;
  absl::flat_hash_map<std::string, int32_t> zone_by_name_;
  // Reps share a few territory lists and schedules; interned, they stay in
  // cache across candidates.
  std::vector<std::vector<CountryCode>> territory_sets_;
  absl::flat_hash_map<std::string, int32_t> territory_set_ids_;
  std::vector<WeeklySchedule> schedules_;
  absl::flat_hash_map<std::string, int32_t> schedule_ids_;
};

}  // namespace handoff::routing::engine
