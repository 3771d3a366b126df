#include "services/routing/engine/routing_snapshot.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "services/routing/engine/sla_choice.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing::engine {
namespace {

std::atomic<uint64_t> next_snapshot_id{1};

constexpr int kReasonSlots = v1::ExclusionReason_ARRAYSIZE;
// Scan verdicts beyond the exclusion reasons.
constexpr uint8_t kInHours = 100;
constexpr uint8_t kOutOfHours = 101;

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string SegmentName(v1::CompanySegment segment) {
  return ShortEnumName(segment, v1::CompanySegment_descriptor(),
                       "COMPANY_SEGMENT_");
}

int32_t DayNumber(absl::CivilDay day) {
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

void FillCredit(v1::RepStrategyState* out, std::string_view rep,
                const RepCredit& credit) {
  out->set_rep(std::string(rep));
  out->set_current_weight(credit.current_weight);
  out->set_assignments(credit.assignments);
  out->set_expected_micros(credit.expected_micros);
}

}  // namespace

std::string RoutingSnapshot::PoolKey(const v1::RoutingRule& rule) {
  if (rule.has_pool()) return rule.name();
  if (rule.target_case() == v1::RoutingRule::kAllReps) return kAllRepsPool;
  return absl::StrCat("teams/", rule.team());
}

absl::StatusOr<RoutingSnapshot> RoutingSnapshot::Build(
    const v1::RuleSet& rule_set, std::vector<RepInput> reps,
    EngineOptions options) {
  if (absl::Status s = ValidateRuleSet(rule_set); !s.ok()) return s;
  absl::StatusOr<RuleMatcher> matcher = RuleMatcher::Compile(rule_set);
  if (!matcher.ok()) return matcher.status();

  RoutingSnapshot snap;
  snap.id_ = next_snapshot_id.fetch_add(1);
  snap.options_ = std::move(options);
  snap.rule_set_ = rule_set;
  snap.matcher_ = *std::move(matcher);
  snap.InternZone("", absl::UTCTimeZone());
  for (int i = 0; i < rule_set.sla_policies_size(); ++i) {
    snap.policies_[rule_set.sla_policies(i).name()] = i;
  }
  for (const v1::RoutingRule& rule : rule_set.rules()) {
    snap.rule_names_.push_back(rule.name());
  }
  auto add_rule = [&snap](const v1::RoutingRule& rule) {
    const std::string key = PoolKey(rule);
    const bool existed = snap.pool_by_key_.contains(key);
    const int32_t pool = snap.PoolFor(
        key, rule.target_case() == v1::RoutingRule::kTeam ? rule.team() : "");
    if (!existed) {
      PoolSlot& slot = snap.pools_[pool];
      slot.strategy = Effective(rule.strategy());
      if (rule.has_pool()) {
        slot.named.assign(rule.pool().reps().begin(), rule.pool().reps().end());
        std::sort(slot.named.begin(), slot.named.end());
        for (const std::string& rep : slot.named) {
          snap.pools_naming_[rep].push_back(pool);
        }
      }
    }
    snap.rule_pools_.push_back(pool);
  };
  for (const v1::RoutingRule& rule : rule_set.rules()) add_rule(rule);
  add_rule(rule_set.fallback());

  for (size_t i = 0; i < reps.size(); ++i) {
    if (snap.rep_by_name_.contains(reps[i].rep.name())) {
      return InvalidField(absl::StrCat("reps[", i, "].name"),
                          absl::StrCat("duplicate rep ", reps[i].rep.name()));
    }
    if (absl::Status s = snap.UpsertRep(reps[i].rep, reps[i].load); !s.ok()) {
      return s;
    }
  }
  return snap;
}

int32_t RoutingSnapshot::InternZone(const std::string& name,
                                    absl::TimeZone zone) {
  auto [it, inserted] =
      zone_by_name_.try_emplace(name, static_cast<int32_t>(zones_.size()));
  if (inserted) {
    zones_.push_back(zone);
    zone_names_.push_back(name.empty() ? "UTC" : name);
  }
  return it->second;
}

int32_t RoutingSnapshot::InternTerritories(
    const std::vector<CountryCode>& codes) {
  if (codes.empty()) return -1;
  std::string key(reinterpret_cast<const char*>(codes.data()),
                  codes.size() * sizeof(CountryCode));
  auto [it, inserted] = territory_set_ids_.try_emplace(
      std::move(key), static_cast<int32_t>(territory_sets_.size()));
  if (inserted) territory_sets_.push_back(codes);
  return it->second;
}

int32_t RoutingSnapshot::InternSchedule(WeeklySchedule schedule) {
  if (schedule.always()) return -1;
  std::string key;
  for (const auto& [from, to] : schedule.intervals()) {
    absl::StrAppend(&key, from, "-", to, ",");
  }
  auto [it, inserted] = schedule_ids_.try_emplace(
      std::move(key), static_cast<int32_t>(schedules_.size()));
  if (inserted) schedules_.push_back(std::move(schedule));
  return it->second;
}

RoutingSnapshot RoutingSnapshot::Clone() const {
  RoutingSnapshot copy(*this);
  copy.id_ = next_snapshot_id.fetch_add(1);
  return copy;
}

int32_t RoutingSnapshot::PoolFor(const std::string& key,
                                 const std::string& team) {
  auto [it, inserted] =
      pool_by_key_.try_emplace(key, static_cast<int32_t>(pools_.size()));
  if (inserted) {
    PoolSlot pool;
    pool.key = key;
    pool.team = team;
    pools_.push_back(std::move(pool));
  }
  return it->second;
}

size_t RoutingSnapshot::PoolSlot::LowerBound(std::string_view name) const {
  size_t lo = 0;
  size_t hi = members.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (Name(mid) < name) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::optional<int32_t> RoutingSnapshot::FindRep(std::string_view name) const {
  auto it = rep_by_name_.find(Sv(name));
  if (it == rep_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> RoutingSnapshot::FindPool(std::string_view key) const {
  auto it = pool_by_key_.find(Sv(key));
  if (it == pool_by_key_.end()) return std::nullopt;
  return it->second;
}

absl::Status RoutingSnapshot::Fill(RepSlot& slot, const v1::Rep& rep,
                                   RepLoad load) {
  if (absl::StatusOr<std::string> id =
          ParseResourceName("rep.name", rep.name(), "reps");
      !id.ok()) {
    return id.status();
  }
  if (rep.team().empty()) return InvalidField("rep.team", "required");
  if (rep.capacity() < 1) return InvalidField("rep.capacity", "must be >= 1");
  if (load.open < 0 || load.offers_today < 0) {
    return InvalidField("load", "counts must be >= 0");
  }
  if (absl::Status s = ValidateRepRouting(rep); !s.ok()) return s;
  absl::StatusOr<absl::TimeZone> zone =
      LoadZone("rep.time_zone", rep.time_zone());
  if (!zone.ok()) return zone.status();
  absl::StatusOr<WeeklySchedule> hours =
      WeeklySchedule::Compile("rep.working_hours", rep.working_hours());
  if (!hours.ok()) return hours.status();
  absl::StatusOr<std::vector<CountryCode>> territories =
      ExpandTerritories("rep.territories", rep.territories());
  if (!territories.ok()) return territories.status();

  slot.rep = rep;
  slot.live = true;
  slot.out_of_office.clear();
  for (const v1::TimeRange& range : rep.out_of_office()) {
    slot.out_of_office.emplace_back(FromProtoTime(range.start_time()),
                                    FromProtoTime(range.end_time()));
  }
  slot.specialties.assign(rep.persona_specialties().begin(),
                          rep.persona_specialties().end());
  std::sort(slot.specialties.begin(), slot.specialties.end());

  MemberHot& hot = slot.hot;
  hot.capacity = rep.capacity();
  hot.daily_cap = rep.daily_cap();
  hot.weight = std::max(1, rep.weight());
  hot.open = load.open;
  hot.offers_today = load.offers_today;
  hot.offers_day = DayNumber(load.day);
  hot.territories = InternTerritories(*territories);
  hot.schedule = InternSchedule(*std::move(hours));
  hot.zone = static_cast<int16_t>(InternZone(rep.time_zone(), *zone));
  hot.segments = 0;
  for (int segment : rep.segments()) hot.segments |= 1u << segment;
  hot.flags = 0;
  if (rep.status() != v1::REP_STATUS_AWAY) hot.flags |= kAvailable;
  if (!slot.out_of_office.empty()) hot.flags |= kHasOutOfOffice;
  if (!slot.specialties.empty()) hot.flags |= kHasSpecialties;
  return absl::OkStatus();
}

std::vector<int32_t> RoutingSnapshot::PoolsOf(const RepSlot& slot) const {
  std::vector<int32_t> pools;
  if (std::optional<int32_t> team =
          FindPool(absl::StrCat("teams/", slot.rep.team()))) {
    pools.push_back(*team);
  }
  if (std::optional<int32_t> all = FindPool(kAllRepsPool)) {
    pools.push_back(*all);
  }
  if (auto it = pools_naming_.find(slot.rep.name());
      it != pools_naming_.end()) {
    pools.insert(pools.end(), it->second.begin(), it->second.end());
  }
  std::sort(pools.begin(), pools.end());
  return pools;
}

void RoutingSnapshot::Count(int32_t slot_index, int sign) {
  const RepSlot& slot = reps_[slot_index];
  const bool available = (slot.hot.flags & kAvailable) != 0;
  const bool with_room = available && slot.hot.open < slot.hot.capacity;
  for (int32_t pool : slot.pools) {
    pools_[pool].with_room += sign * (with_room ? 1 : 0);
    pools_[pool].away += sign * (available ? 0 : 1);
  }
}

void RoutingSnapshot::Sync(int32_t slot_index) {
  const RepSlot& slot = reps_[slot_index];
  for (int32_t pool_index : slot.pools) {
    PoolSlot& pool = pools_[pool_index];
    const size_t at = pool.LowerBound(slot.rep.name());
    if (at < pool.members.size() && pool.members[at].slot == slot_index) {
      pool.members[at] = slot.hot;
    }
  }
}

void RoutingSnapshot::Join(int32_t pool_index, int32_t slot_index) {
  PoolSlot& pool = pools_[pool_index];
  const std::string& name = reps_[slot_index].rep.name();
  const size_t at = pool.LowerBound(name);
  const uint32_t start = at == 0 ? 0 : pool.name_ends[at - 1];
  const auto length = static_cast<uint32_t>(name.size());
  pool.names.insert(start, name);
  for (size_t i = at; i < pool.name_ends.size(); ++i) {
    pool.name_ends[i] += length;
  }
  pool.name_ends.insert(pool.name_ends.begin() + at, start + length);
  pool.members.insert(pool.members.begin() + at, reps_[slot_index].hot);
  pool.credit.insert(pool.credit.begin() + at, RepCredit{});
  ++pool.version;
}

void RoutingSnapshot::Leave(int32_t pool_index, int32_t slot_index) {
  PoolSlot& pool = pools_[pool_index];
  const size_t at = pool.LowerBound(reps_[slot_index].rep.name());
  if (at >= pool.members.size() || pool.members[at].slot != slot_index) {
    return;
  }
  const uint32_t start = at == 0 ? 0 : pool.name_ends[at - 1];
  const uint32_t length = pool.name_ends[at] - start;
  pool.names.erase(start, length);
  pool.name_ends.erase(pool.name_ends.begin() + at);
  for (size_t i = at; i < pool.name_ends.size(); ++i) {
    pool.name_ends[i] -= length;
  }
  pool.members.erase(pool.members.begin() + at);
  pool.credit.erase(pool.credit.begin() + at);
  ++pool.version;
}

void RoutingSnapshot::InsertSorted(int32_t slot_index) {
  const std::string& name = reps_[slot_index].rep.name();
  auto at = std::lower_bound(reps_sorted_.begin(), reps_sorted_.end(), name,
                             [this](int32_t m, const std::string& n) {
                               return reps_[m].rep.name() < n;
                             });
  reps_sorted_.insert(at, slot_index);
}

absl::Status RoutingSnapshot::UpsertRep(const v1::Rep& rep, RepLoad load) {
  RepSlot fresh;
  if (absl::Status s = Fill(fresh, rep, load); !s.ok()) return s;
  // A team pool exists for every team with reps, so the team's leads and
  // fairness can be looked up even before a rule targets it.
  PoolFor(absl::StrCat("teams/", rep.team()), rep.team());
  std::vector<int32_t> new_pools = PoolsOf(fresh);

  int32_t slot_index;
  std::vector<int32_t> old_pools;
  if (std::optional<int32_t> existing = FindRep(rep.name())) {
    slot_index = *existing;
    Count(slot_index, -1);
    old_pools = std::move(reps_[slot_index].pools);
    reps_[slot_index] = std::move(fresh);
    reps_[slot_index].pools = old_pools;
  } else {
    slot_index = static_cast<int32_t>(reps_.size());
    reps_.push_back(std::move(fresh));
    rep_by_name_[rep.name()] = slot_index;
    InsertSorted(slot_index);
  }
  reps_[slot_index].hot.slot = slot_index;
  for (int32_t pool : old_pools) {
    if (!std::binary_search(new_pools.begin(), new_pools.end(), pool)) {
      Leave(pool, slot_index);
    }
  }
  for (int32_t pool : new_pools) {
    if (!std::binary_search(old_pools.begin(), old_pools.end(), pool)) {
      Join(pool, slot_index);
    }
  }
  reps_[slot_index].pools = std::move(new_pools);
  Sync(slot_index);
  Count(slot_index, +1);
  return absl::OkStatus();
}

absl::Status RoutingSnapshot::RemoveRep(std::string_view name) {
  std::optional<int32_t> slot_index = FindRep(name);
  if (!slot_index.has_value()) return NotFound(name);
  Count(*slot_index, -1);
  RepSlot& slot = reps_[*slot_index];
  for (int32_t pool : slot.pools) Leave(pool, *slot_index);
  slot.pools.clear();
  slot.live = false;
  reps_sorted_.erase(
      std::find(reps_sorted_.begin(), reps_sorted_.end(), *slot_index));
  rep_by_name_.erase(rep_by_name_.find(Sv(name)));
  return absl::OkStatus();
}

absl::Status RoutingSnapshot::SetLoad(std::string_view name, RepLoad load) {
  std::optional<int32_t> slot_index = FindRep(name);
  if (!slot_index.has_value()) return NotFound(name);
  if (load.open < 0 || load.offers_today < 0) {
    return InvalidField("load", "counts must be >= 0");
  }
  Count(*slot_index, -1);
  MemberHot& hot = reps_[*slot_index].hot;
  hot.open = load.open;
  hot.offers_today = load.offers_today;
  hot.offers_day = DayNumber(load.day);
  Sync(*slot_index);
  Count(*slot_index, +1);
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> RoutingSnapshot::LocalDay(std::string_view name,
                                                         absl::Time now) const {
  std::optional<int32_t> slot_index = FindRep(name);
  if (!slot_index.has_value()) return NotFound(name);
  return absl::ToCivilDay(now, zones_[reps_[*slot_index].hot.zone]);
}

const RoutingSnapshot::LocalTime& RoutingSnapshot::LocalAt(
    std::vector<LocalTime>& cache, int32_t zone, absl::Time now) const {
  LocalTime& local = cache[zone];
  if (!local.known) {
    const absl::CivilSecond cs = absl::ToCivilSecond(now, zones_[zone]);
    local.minute_of_week = MinuteOfWeek(cs);
    local.day = DayNumber(absl::CivilDay(cs));
    local.known = true;
  }
  return local;
}

std::vector<int32_t> RoutingSnapshot::Candidates(const PoolSlot& pool) const {
  std::vector<int32_t> out;
  if (options_.use_indexes) {
    out.resize(pool.members.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int32_t>(i);
    return out;
  }
  // The naive way: look at every rep.
  for (int32_t slot_index : reps_sorted_) {
    const v1::Rep& rep = reps_[slot_index].rep;
    const bool member =
        pool.key == kAllRepsPool ||
        (pool.team.empty() ? std::binary_search(pool.named.begin(),
                                                pool.named.end(), rep.name())
                           : rep.team() == pool.team);
    if (member)
      out.push_back(static_cast<int32_t>(pool.LowerBound(rep.name())));
  }
  return out;
}

Decision RoutingSnapshot::Decide(
    const v1::LeadSummary& lead, absl::Time now,
    std::span<const std::string> lapsed_reps) const {
  Decision d;
  d.snapshot_id = id_;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 16 * 1024;
  d.arena_ = std::make_unique<google::protobuf::Arena>(arena_options);
  d.explanation_ =
      google::protobuf::Arena::CreateMessage<v1::RoutingExplanation>(
          d.arena_.get());
  v1::RoutingExplanation& ex = *d.explanation_;
  ex.set_rule_set_version(version());

  // The rule.
  const LeadFacts facts = matcher_.Resolve(lead);
  const RuleMatch match =
      options_.use_indexes
          ? matcher_.Match(facts, options_.max_listed_rules)
          : matcher_.MatchLinear(facts, options_.max_listed_rules);
  d.fallback = match.rule < 0;
  const v1::RoutingRule& rule =
      d.fallback ? rule_set_.fallback() : rule_set_.rules(match.rule);
  for (const auto& [index, criterion] : match.failed) {
    v1::RuleEvaluation* e = ex.add_rules();
    e->set_rule(rule_names_[index]);
    e->set_condition(std::string(CriterionName(criterion)));
    e->set_reason(matcher_.Reason(index, facts, criterion));
  }
  v1::RuleEvaluation* matched = ex.add_rules();
  matched->set_rule(rule.name());
  matched->set_matched(true);
  matched->set_reason(d.fallback ? "no rule matched; the fallback takes it"
                                 : "every condition holds");
  ex.set_rules_skipped_by_territory(match.skipped);
  ex.set_rules_not_listed(match.evaluated -
                          static_cast<int>(match.failed.size()));
  d.rule = rule.name();
  ex.set_matched_rule(rule.name());
  ex.set_fallback(d.fallback);
  d.strategy = Effective(rule.strategy());
  ex.set_strategy(d.strategy);
  d.sla_policy = rule.sla_policy();
  if (auto it = policies_.find(rule.sla_policy()); it != policies_.end()) {
    d.priority = IsPriorityLead(rule_set_.sla_policies(it->second), lead);
  }
  ex.set_sla_policy(d.sla_policy);
  ex.set_priority(d.priority);

  // The pool.
  d.pool_index = rule_pools_[d.fallback ? rule_set_.rules_size() : match.rule];
  const PoolSlot& pool = pools_[d.pool_index];
  d.pool = pool.key;
  d.team = pool.team;
  d.pool_version = pool.version;
  ex.set_pool(pool.key);
  v1::PoolStrategyState* before = ex.mutable_state_before();
  before->set_pool(pool.key);
  before->set_round_robin_pointer(pool.round_robin_pointer);
  before->set_tie_break_pointer(pool.tie_break_pointer);
  before->set_assignments(pool.assignments);

  int32_t unknown = 0;
  for (const std::string& name : pool.named) {
    if (!rep_by_name_.contains(name)) ++unknown;
  }
  std::array<int32_t, kReasonSlots> counts{};
  counts[v1::EXCLUSION_REASON_UNKNOWN_REP] = unknown;
  auto add_candidate = [&ex](std::string_view name, const MemberHot& m,
                             v1::ExclusionReason reason, std::string detail) {
    v1::CandidateEvaluation* c = ex.add_candidates();
    c->set_rep(std::string(name));
    c->set_eligible(reason == v1::EXCLUSION_REASON_UNSPECIFIED);
    c->set_exclusion_reason(reason);
    c->set_detail(std::move(detail));
    c->set_open_assignments(m.open);
    c->set_capacity(m.capacity);
  };
  auto add_unknown = [&](size_t room) {
    for (const std::string& name : pool.named) {
      if (room == 0) break;
      if (rep_by_name_.contains(name)) continue;
      v1::CandidateEvaluation* c = ex.add_candidates();
      c->set_rep(name);
      c->set_exclusion_reason(v1::EXCLUSION_REASON_UNKNOWN_REP);
      c->set_detail("no such rep");
      --room;
    }
  };
  auto finish_counts = [&](int32_t total, int32_t eligible) {
    for (int r = 1; r < kReasonSlots; ++r) {
      if (counts[r] == 0) continue;
      v1::ExclusionCount* count = ex.add_exclusion_counts();
      count->set_reason(static_cast<v1::ExclusionReason>(r));
      count->set_count(counts[r]);
    }
    ex.set_candidates_total(total);
    ex.set_candidates_eligible(eligible);
    ex.set_candidates_not_listed(total - ex.candidates_size());
  };

  const int32_t total = static_cast<int32_t>(pool.members.size()) + unknown;
  // Nobody available with room: a big pool is summarized from its counters
  // instead of checked rep by rep.
  if (options_.use_indexes && pool.with_room == 0 &&
      pool.members.size() > options_.max_listed_excluded) {
    counts[v1::EXCLUSION_REASON_AWAY] = pool.away;
    counts[v1::EXCLUSION_REASON_AT_CAPACITY] =
        static_cast<int32_t>(pool.members.size()) - pool.away;
    for (size_t i = 0;
         i < pool.members.size() && i < options_.max_listed_excluded; ++i) {
      const MemberHot& m = pool.members[i];
      if ((m.flags & kAvailable) != 0) {
        add_candidate(pool.Name(i), m, v1::EXCLUSION_REASON_AT_CAPACITY,
                      absl::StrCat("open ", m.open, "/", m.capacity));
      } else {
        add_candidate(pool.Name(i), m, v1::EXCLUSION_REASON_AWAY,
                      "status away");
      }
    }
    finish_counts(total, 0);
    ex.set_pick_reason(
        "nobody in the pool is available with room; the lead queues");
    return d;
  }

  // Every candidate's verdict.
  std::vector<int32_t> lapsed;
  for (const std::string& name : lapsed_reps) {
    if (std::optional<int32_t> slot = FindRep(name)) lapsed.push_back(*slot);
  }
  const v1::CompanySegment segment = SegmentOf(facts.employees);
  const uint8_t segment_bit =
      segment == v1::COMPANY_SEGMENT_UNSPECIFIED ? 0 : 1u << segment;
  const bool check_persona =
      rule.require_persona_specialty() && !lead.persona().empty();
  std::vector<LocalTime> local_times(zones_.size());
  const std::vector<int32_t> candidates = Candidates(pool);
  std::vector<uint8_t> verdicts(candidates.size());
  int32_t in_hours = 0;
  int32_t out_of_hours = 0;
  for (size_t k = 0; k < candidates.size(); ++k) {
    const MemberHot& m = pool.members[candidates[k]];
    v1::ExclusionReason reason = v1::EXCLUSION_REASON_UNSPECIFIED;
    if (!lapsed.empty() &&
        std::find(lapsed.begin(), lapsed.end(), m.slot) != lapsed.end()) {
      reason = v1::EXCLUSION_REASON_LAPSED;
    } else if ((m.flags & kAvailable) == 0) {
      reason = v1::EXCLUSION_REASON_AWAY;
    } else if ((m.flags & kHasOutOfOffice) != 0 &&
               std::any_of(reps_[m.slot].out_of_office.begin(),
                           reps_[m.slot].out_of_office.end(),
                           [now](const auto& r) {
                             return r.first <= now && now < r.second;
                           })) {
      reason = v1::EXCLUSION_REASON_OUT_OF_OFFICE;
    } else if (m.territories >= 0 && facts.country != kNoCountry &&
               !std::binary_search(territory_sets_[m.territories].begin(),
                                   territory_sets_[m.territories].end(),
                                   facts.country)) {
      reason = v1::EXCLUSION_REASON_TERRITORY_MISMATCH;
    } else if (segment_bit != 0 && m.segments != 0 &&
               (m.segments & segment_bit) == 0) {
      reason = v1::EXCLUSION_REASON_SEGMENT_MISMATCH;
    } else if (check_persona &&
               ((m.flags & kHasSpecialties) == 0 ||
                !std::binary_search(reps_[m.slot].specialties.begin(),
                                    reps_[m.slot].specialties.end(),
                                    lead.persona()))) {
      reason = v1::EXCLUSION_REASON_PERSONA_MISMATCH;
    } else if (m.open >= m.capacity) {
      reason = v1::EXCLUSION_REASON_AT_CAPACITY;
    } else if (m.daily_cap > 0 && m.offers_today >= m.daily_cap &&
               m.offers_day == LocalAt(local_times, m.zone, now).day) {
      reason = v1::EXCLUSION_REASON_DAILY_CAP;
    }
    if (reason != v1::EXCLUSION_REASON_UNSPECIFIED) {
      verdicts[k] = static_cast<uint8_t>(reason);
      ++counts[reason];
      continue;
    }
    const bool working =
        options_.is_working
            ? options_.is_working(reps_[m.slot].rep, now)
            : m.schedule < 0 ||
                  schedules_[m.schedule].Contains(
                      LocalAt(local_times, m.zone, now).minute_of_week);
    verdicts[k] = working ? kInHours : kOutOfHours;
    ++(working ? in_hours : out_of_hours);
  }
  const bool outside_hours =
      in_hours == 0 && out_of_hours > 0 && !rule.only_in_working_hours();
  const uint8_t eligible_verdict = outside_hours ? kOutOfHours : kInHours;
  if (!outside_hours) counts[v1::EXCLUSION_REASON_OUT_OF_HOURS] += out_of_hours;
  ex.set_outside_working_hours(outside_hours);

  // The strategy's pick among the eligible.
  std::vector<Candidate> eligible;
  std::vector<int32_t> positions;
  eligible.reserve(outside_hours ? out_of_hours : in_hours);
  positions.reserve(eligible.capacity());
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (verdicts[k] != eligible_verdict) continue;
    const MemberHot& m = pool.members[candidates[k]];
    eligible.push_back({.rep = pool.Name(candidates[k]),
                        .weight = m.weight,
                        .open = m.open,
                        .capacity = m.capacity});
    positions.push_back(candidates[k]);
  }
  d.weighted = d.strategy == v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN;
  std::vector<int64_t> currents(eligible.size());
  if (d.weighted) {
    for (size_t i = 0; i < eligible.size(); ++i) {
      currents[i] = pool.credit[positions[i]].current_weight;
    }
  }
  std::optional<StrategyStep> step =
      RunStrategy({.strategy = d.strategy,
                   .eligible = eligible,
                   .round_robin_pointer = pool.round_robin_pointer,
                   .tie_break_pointer = pool.tie_break_pointer,
                   .current = currents});
  int32_t chosen = -1;
  if (step.has_value()) {
    chosen = positions[step->index];
    const RepSlot& rep = reps_[pool.members[chosen].slot];
    d.rep = rep.rep.name();
    d.team = rep.rep.team();
    d.rep_index = pool.members[chosen].slot;
    d.chosen_member = chosen;
    d.round_robin_pointer = step->round_robin_pointer;
    d.tie_break_pointer = step->tie_break_pointer;
    d.due.resize(eligible.size());
    DueShares(d.strategy, eligible, d.due);
    ex.set_picked_rep(d.rep);
    ex.set_pick_reason(std::move(step->reason));

    v1::PoolStrategyState* after = ex.mutable_state_after();
    after->set_pool(pool.key);
    after->set_round_robin_pointer(d.round_robin_pointer);
    after->set_tie_break_pointer(d.tie_break_pointer);
    after->set_assignments(pool.assignments + 1);
    // Weighted: the reps that took part (their current weights moved);
    // otherwise the picked rep alone.
    size_t listed = 0;
    for (size_t i = 0; i < eligible.size(); ++i) {
      const bool picked = i == step->index;
      if (!picked && (!d.weighted || listed >= options_.max_listed_state)) {
        continue;
      }
      ++listed;
      const RepCredit& was = pool.credit[positions[i]];
      FillCredit(before->add_reps(), eligible[i].rep, was);
      RepCredit now_credit = was;
      if (d.weighted) now_credit.current_weight = currents[i];
      now_credit.expected_micros += d.due[i];
      if (picked) ++now_credit.assignments;
      FillCredit(after->add_reps(), eligible[i].rep, now_credit);
    }
    d.members = std::move(positions);
    if (d.weighted) d.currents = std::move(currents);
  } else {
    ex.set_pick_reason(
        absl::StrCat("no eligible rep; the lead queues for ", rule.name()));
  }

  // The candidates, bounded: the first excluded, the first eligible and the
  // picked rep.
  size_t listed_excluded = 0;
  size_t listed_eligible = 0;
  bool chosen_listed = chosen < 0;
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (listed_excluded >= options_.max_listed_excluded &&
        listed_eligible >= options_.max_listed_eligible && chosen_listed) {
      break;
    }
    const int32_t position = candidates[k];
    const MemberHot& m = pool.members[position];
    const uint8_t verdict = verdicts[k];
    if (verdict == eligible_verdict) {
      const bool picked = position == chosen;
      if (listed_eligible >= options_.max_listed_eligible && !picked) continue;
      ++listed_eligible;
      chosen_listed = chosen_listed || picked;
      std::string detail = picked ? "picked" : "";
      if (outside_hours) {
        detail += picked ? ", outside working hours" : "outside working hours";
      }
      add_candidate(pool.Name(position), m, v1::EXCLUSION_REASON_UNSPECIFIED,
                    std::move(detail));
      continue;
    }
    if (listed_excluded >= options_.max_listed_excluded) continue;
    ++listed_excluded;
    const v1::ExclusionReason reason =
        verdict >= kInHours ? v1::EXCLUSION_REASON_OUT_OF_HOURS
                            : static_cast<v1::ExclusionReason>(verdict);
    // Short details (most fit a string's inline buffer); the reason, the
    // open count and the capacity are fields of their own.
    std::string detail;
    switch (reason) {
      case v1::EXCLUSION_REASON_OUT_OF_OFFICE:
        for (const auto& [from, until] : reps_[m.slot].out_of_office) {
          if (from <= now && now < until) {
            detail = absl::StrCat("until ", FormatUtc(until));
            break;
          }
        }
        break;
      case v1::EXCLUSION_REASON_TERRITORY_MISMATCH:
        detail = absl::StrCat("country ", CountryString(facts.country));
        break;
      case v1::EXCLUSION_REASON_SEGMENT_MISMATCH:
        detail = SegmentName(segment);
        break;
      case v1::EXCLUSION_REASON_PERSONA_MISMATCH:
        detail = lead.persona();
        break;
      case v1::EXCLUSION_REASON_DAILY_CAP:
        detail = absl::StrCat(m.offers_today, "/", m.daily_cap, " today");
        break;
      case v1::EXCLUSION_REASON_OUT_OF_HOURS:
        detail = zone_names_[m.zone];
        break;
      default:
        break;
    }
    add_candidate(pool.Name(position), m, reason, std::move(detail));
  }
  if (listed_excluded < options_.max_listed_excluded) {
    add_unknown(options_.max_listed_excluded - listed_excluded);
  }
  finish_counts(total, outside_hours ? out_of_hours : in_hours);
  return d;
}

v1::PoolStrategyState PoolStateCopy::ToProto() const {
  v1::PoolStrategyState proto;
  proto.set_pool(pool_);
  proto.set_round_robin_pointer(round_robin_pointer_);
  proto.set_tie_break_pointer(tie_break_pointer_);
  proto.set_assignments(assignments_);
  uint32_t start = 0;
  for (size_t i = 0; i < credit_.size(); ++i) {
    FillCredit(proto.add_reps(),
               std::string_view(names_).substr(start, name_ends_[i] - start),
               credit_[i]);
    start = name_ends_[i];
  }
  return proto;
}

PoolStateCopy RoutingSnapshot::CopyOf(const PoolSlot& pool) {
  PoolStateCopy copy;
  copy.pool_ = pool.key;
  copy.round_robin_pointer_ = pool.round_robin_pointer;
  copy.tie_break_pointer_ = pool.tie_break_pointer;
  copy.assignments_ = pool.assignments;
  copy.names_ = pool.names;
  copy.name_ends_ = pool.name_ends;
  copy.credit_ = pool.credit;
  return copy;
}

absl::Status RoutingSnapshot::Commit(const Decision& d, absl::Time now) {
  if (!d.offered()) {
    return WrongState("decision", "nobody was picked; the lead queues");
  }
  if (d.snapshot_id != id_ || pools_[d.pool_index].version != d.pool_version) {
    return absl::AbortedError(
        absl::StrCat(d.pool, ": changed since the decision"));
  }
  PoolSlot& pool = pools_[d.pool_index];
  for (size_t i = 0; i < d.members.size(); ++i) {
    RepCredit& credit = pool.credit[d.members[i]];
    if (d.weighted) credit.current_weight = d.currents[i];
    credit.expected_micros += d.due[i];
  }
  ++pool.credit[d.chosen_member].assignments;
  pool.round_robin_pointer = d.round_robin_pointer;
  pool.tie_break_pointer = d.tie_break_pointer;
  ++pool.assignments;
  ++pool.version;

  MemberHot& hot = reps_[d.rep_index].hot;
  const int32_t today = DayNumber(absl::ToCivilDay(now, zones_[hot.zone]));
  Count(d.rep_index, -1);
  ++hot.open;
  if (hot.offers_day != today) {
    hot.offers_day = today;
    hot.offers_today = 0;
  }
  ++hot.offers_today;
  Sync(d.rep_index);
  Count(d.rep_index, +1);
  return absl::OkStatus();
}

absl::StatusOr<v1::PoolStrategyState> RoutingSnapshot::ExportState(
    std::string_view key) const {
  std::optional<int32_t> pool = FindPool(key);
  if (!pool.has_value()) return NotFound(key);
  return CopyOf(pools_[*pool]).ToProto();
}

absl::StatusOr<PoolStateCopy> RoutingSnapshot::CopyState(
    std::string_view key) const {
  std::optional<int32_t> pool = FindPool(key);
  if (!pool.has_value()) return NotFound(key);
  return CopyOf(pools_[*pool]);
}

std::vector<v1::PoolStrategyState> RoutingSnapshot::ExportAllStates() const {
  std::vector<v1::PoolStrategyState> out;
  out.reserve(pools_.size());
  for (const PoolSlot& pool : pools_) out.push_back(CopyOf(pool).ToProto());
  return out;
}

absl::Status RoutingSnapshot::RestoreState(const v1::PoolStrategyState& state) {
  std::optional<int32_t> pool_index = FindPool(state.pool());
  if (!pool_index.has_value()) return NotFound(state.pool());
  PoolSlot& pool = pools_[*pool_index];
  pool.round_robin_pointer = state.round_robin_pointer();
  pool.tie_break_pointer = state.tie_break_pointer();
  pool.assignments = state.assignments();
  std::fill(pool.credit.begin(), pool.credit.end(), RepCredit{});
  for (const v1::RepStrategyState& rep : state.reps()) {
    const size_t at = pool.LowerBound(rep.rep());
    if (at == pool.members.size() || pool.Name(at) != rep.rep()) continue;
    pool.credit[at] = RepCredit{.current_weight = rep.current_weight(),
                                .assignments = rep.assignments(),
                                .expected_micros = rep.expected_micros()};
  }
  ++pool.version;
  return absl::OkStatus();
}

absl::StatusOr<v1::PoolFairness> RoutingSnapshot::Fairness(
    std::string_view key) const {
  std::optional<int32_t> pool_index = FindPool(key);
  if (!pool_index.has_value()) return NotFound(key);
  const PoolSlot& pool = pools_[*pool_index];
  std::vector<FairnessMember> rows;
  rows.reserve(pool.members.size());
  for (size_t i = 0; i < pool.members.size(); ++i) {
    rows.push_back({.rep = pool.Name(i),
                    .weight = pool.members[i].weight,
                    .credit = pool.credit[i]});
  }
  return ComputeFairness(pool.key, pool.strategy, pool.assignments, rows);
}

absl::StatusOr<int32_t> RoutingSnapshot::AvailableWithRoom(
    std::string_view key) const {
  std::optional<int32_t> pool_index = FindPool(key);
  if (!pool_index.has_value()) return NotFound(key);
  return pools_[*pool_index].with_room;
}

const v1::Rep* RoutingSnapshot::FindRepProto(std::string_view name) const {
  std::optional<int32_t> slot = FindRep(name);
  return slot.has_value() ? &reps_[*slot].rep : nullptr;
}

absl::StatusOr<RepLoad> RoutingSnapshot::LoadOf(std::string_view name) const {
  std::optional<int32_t> slot = FindRep(name);
  if (!slot.has_value()) return NotFound(name);
  const MemberHot& hot = reps_[*slot].hot;
  return RepLoad{.open = hot.open,
                 .offers_today = hot.offers_today,
                 .day = absl::CivilDay(1970, 1, 1) + hot.offers_day};
}

absl::StatusOr<std::string> RoutingSnapshot::PoolManager(
    std::string_view key) const {
  std::optional<int32_t> pool_index = FindPool(key);
  if (!pool_index.has_value()) return NotFound(key);
  // Ordered by name, so a tie goes to the first manager by name.
  std::map<std::string_view, int> named;
  for (const MemberHot& member : pools_[*pool_index].members) {
    const std::string& manager = reps_[member.slot].rep.manager();
    if (!manager.empty() && FindRepProto(manager) != nullptr) {
      ++named[manager];
    }
  }
  std::string_view chosen;
  int most = 0;
  for (const auto& [manager, members] : named) {
    if (members > most) {
      chosen = manager;
      most = members;
    }
  }
  return std::string(chosen);
}

std::vector<std::string> RoutingSnapshot::RepNames() const {
  std::vector<std::string> names;
  names.reserve(reps_sorted_.size());
  for (int32_t slot : reps_sorted_) names.push_back(reps_[slot].rep.name());
  return names;
}

}  // namespace handoff::routing::engine
