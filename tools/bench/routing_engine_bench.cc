// Routing decision latency with 10,000 reps (100 teams of 100) and 1,000
// rules, in process: the indexed engine against a naive one (every rule
// checked in order, every rep scanned). Each benchmark reports the mean
// (benchmark's own time) and per-decision p50/p99 counters in microseconds.
//
// Run: build/tools/bench/routing_engine_bench
//      (--benchmark_filter=Indexed for the engine alone)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/proto_time.h"
#include "services/routing/engine/routing_snapshot.h"

namespace handoff::routing::engine {
namespace {

constexpr int kTeams = 100;
constexpr int kRepsPerTeam = 100;
constexpr int kRules = 1000;
constexpr int kLeads = 4096;

const std::vector<std::string>& Countries() {
  static const auto* countries = new std::vector<std::string>{
      "DE", "AT", "CH", "FR", "GB", "IE", "NL", "BE", "LU", "DK",
      "SE", "NO", "FI", "ES", "PT", "IT", "PL", "CZ", "US", "CA",
      "MX", "BR", "AR", "CL", "JP", "KR", "CN", "IN", "SG", "AU",
      "NZ", "ZA", "AE", "SA", "IL", "TR", "EG", "NG", "KE", "MA"};
  return *countries;
}

const std::vector<std::string> kRegions = {
    "DACH", "BENELUX", "NORDICS", "UKI", "EMEA", "LATAM", "APAC", "NAMER"};
const std::vector<std::string> kIndustries = {"software", "retail", "finance",
                                              "health", "manufacturing"};
const std::vector<std::string> kChannels = {"WEBINAR", "EVENT", "EMAIL",
                                            "PAID_SEARCH", "REFERRAL"};
const std::vector<std::string> kZones = {
    "Europe/Berlin",       "Europe/London", "America/New_York",
    "America/Los_Angeles", "Asia/Tokyo",    "Australia/Sydney"};

// Tuesday 2026-01-06 14:00 UTC: Europe in hours, the Americas partly,
// Asia-Pacific out.
absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2026, 1, 6, 14, 0, 0),
                         absl::UTCTimeZone());
}

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& from) {
  return from[rng() % from.size()];
}

struct World {
  v1::RuleSet rules;
  std::vector<RepInput> reps;
  std::vector<v1::LeadSummary> leads;
};

// The usual shape of a rule set: specific rules first (one country and two
// more criteria each), broad ones last (30 region rules, 10 territory
// wildcards), so most leads are checked against hundreds of rules before
// one matches, and about a fifth reach the broad ones. Reps have
// territories, segments, time zones with office hours and loads; some are
// away or out of office.
const World& TheWorld() {
  static const World* world = [] {
    auto* w = new World;
    std::mt19937 rng(1);
    w->rules.set_version(1);
    constexpr int kBroad = 40;
    for (int r = 0; r < kRules; ++r) {
      v1::RoutingRule* rule = w->rules.add_rules();
      rule->set_name(absl::StrCat("rules/r", r));
      rule->set_team(absl::StrCat("team-", rng() % kTeams));
      rule->set_strategy(static_cast<v1::RoutingStrategy>(1 + rng() % 3));
      rule->set_only_in_working_hours(rng() % 2 == 0);
      v1::RuleCondition* c = rule->mutable_condition();
      const bool broad = r >= kRules - kBroad;
      if (!broad) {
        c->add_territories(Pick(rng, Countries()));
      } else if (r < kRules - 10) {
        c->add_territories(Pick(rng, kRegions));
      }
      const int criteria = broad ? 1 : 2;
      for (int k = 0, first = static_cast<int>(rng() % 4); k < criteria; ++k) {
        switch ((first + k) % 4) {
          case 0:
            if (rng() % 2 == 0) {
              c->set_min_employees(1000);
            } else {
              c->set_min_employees(200);
              c->set_max_employees(999);
            }
            break;
          case 1:
            c->add_industries(Pick(rng, kIndustries));
            break;
          case 2:
            c->set_min_score(static_cast<int32_t>(50 + rng() % 40));
            break;
          default:
            c->add_campaign_channels(Pick(rng, kChannels));
            break;
        }
      }
    }
    v1::RoutingRule* fallback = w->rules.mutable_fallback();
    fallback->set_name("rules/fallback");
    fallback->set_team("team-0");

    v1::WorkingHours office;
    for (int day = 1; day <= 5; ++day) {
      v1::WeeklyWindow* win = office.add_windows();
      win->set_day_of_week(day);
      win->set_start_minute(8 * 60);
      win->set_end_minute(18 * 60);
    }
    for (int t = 0; t < kTeams; ++t) {
      for (int i = 0; i < kRepsPerTeam; ++i) {
        v1::Rep rep;
        // Ids shaped like NewId's (20 hex digits), so names are as long as
        // real ones.
        rep.set_name(absl::StrFormat("reps/%013x%07x", 0x18f000000000 + t,
                                     i * 7919 + 1));
        rep.set_team(absl::StrCat("team-", t));
        rep.set_capacity(static_cast<int32_t>(5 + rng() % 16));
        rep.set_status(rng() % 10 == 0 ? v1::REP_STATUS_AWAY
                                       : v1::REP_STATUS_AVAILABLE);
        rep.set_weight(static_cast<int32_t>(1 + rng() % 5));
        if (rng() % 3 == 0) rep.add_territories(Pick(rng, kRegions));
        if (rng() % 4 == 0) {
          rep.add_segments(static_cast<v1::CompanySegment>(1 + rng() % 3));
        }
        if (rng() % 5 == 0)
          rep.set_daily_cap(static_cast<int32_t>(10 + rng() % 20));
        rep.set_time_zone(Pick(rng, kZones));
        if (rng() % 2 == 0) *rep.mutable_working_hours() = office;
        if (rng() % 20 == 0) {
          v1::TimeRange* ooo = rep.add_out_of_office();
          *ooo->mutable_start_time() = ToProtoTime(Now() - absl::Hours(24));
          *ooo->mutable_end_time() = ToProtoTime(Now() + absl::Hours(24));
        }
        RepLoad load;
        load.open = static_cast<int32_t>(rng() % rep.capacity());
        w->reps.push_back({std::move(rep), load});
      }
    }
    for (int l = 0; l < kLeads; ++l) {
      v1::LeadSummary lead;
      lead.mutable_profile()->set_country(Pick(rng, Countries()));
      lead.mutable_profile()->set_employee_count(
          static_cast<int32_t>(rng() % 5 == 0 ? 0 : 1 + rng() % 5000));
      lead.mutable_profile()->set_industry(Pick(rng, kIndustries));
      lead.set_score(static_cast<int32_t>(rng() % 100));
      lead.set_campaign_channel(Pick(rng, kChannels));
      lead.set_mql_reason(rng() % 10 == 0 ? "DEMO_REQUEST" : "SCORE_THRESHOLD");
      w->leads.push_back(std::move(lead));
    }
    return w;
  }();
  return *world;
}

enum class Mode { kIndexed, kNaive, kIndexedUnexplained };

RoutingSnapshot MakeSnapshot(Mode mode) {
  EngineOptions options;
  options.use_indexes = mode != Mode::kNaive;
  if (mode == Mode::kIndexedUnexplained) {
    options.max_listed_rules = 0;
    options.max_listed_excluded = 0;
    options.max_listed_eligible = 0;
    options.max_listed_state = 0;
  }
  absl::StatusOr<RoutingSnapshot> snap = RoutingSnapshot::Build(
      TheWorld().rules, TheWorld().reps, std::move(options));
  if (!snap.ok()) {
    std::fprintf(stderr, "build: %s\n", snap.status().ToString().c_str());
    std::abort();
  }
  return *std::move(snap);
}

// Per-iteration latencies, reported as p50/p99 counters (microseconds).
class Latencies {
 public:
  void Reserve(size_t n) { nanos_.reserve(n); }
  void Add(std::chrono::steady_clock::duration d) {
    nanos_.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  void Report(benchmark::State& state) {
    if (nanos_.empty()) return;
    std::sort(nanos_.begin(), nanos_.end());
    auto at = [this](double q) {
      return nanos_[std::min(nanos_.size() - 1,
                             static_cast<size_t>(q * nanos_.size()))] /
             1000.0;
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["max_us"] = nanos_.back() / 1000.0;
  }

 private:
  std::vector<int64_t> nanos_;
};

// One routing decision (rule, candidates, strategy pick, explanation).
void Decide(benchmark::State& state, Mode mode) {
  const RoutingSnapshot snap = MakeSnapshot(mode);
  const World& world = TheWorld();
  const absl::Time now = Now();
  Latencies latencies;
  latencies.Reserve(1 << 20);
  size_t i = 0;
  int64_t offered = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Decision d = snap.Decide(world.leads[i++ % world.leads.size()], now);
    latencies.Add(std::chrono::steady_clock::now() - start);
    offered += d.offered();
    benchmark::DoNotOptimize(d);
  }
  latencies.Report(state);
  state.counters["offered_share"] =
      static_cast<double>(offered) / static_cast<double>(state.iterations());
}

// A decision and its commit (strategy state and the rep's load advance);
// the rep's load is put back afterwards, outside the timing, so the pools
// do not fill up over the run.
void DecideAndCommit(benchmark::State& state, Mode mode) {
  RoutingSnapshot snap = MakeSnapshot(mode);
  const World& world = TheWorld();
  std::vector<RepLoad> loads;
  for (const RepInput& rep : world.reps) loads.push_back(rep.load);
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t k = 0; k < world.reps.size(); ++k) {
    index[world.reps[k].rep.name()] = k;
  }
  const absl::Time now = Now();
  Latencies latencies;
  latencies.Reserve(1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Decision d = snap.Decide(world.leads[i++ % world.leads.size()], now);
    if (d.offered() && !snap.Commit(d, now).ok()) std::abort();
    latencies.Add(std::chrono::steady_clock::now() - start);
    if (d.offered()) {
      state.PauseTiming();
      if (!snap.SetLoad(d.rep, loads[index[d.rep]]).ok()) std::abort();
      state.ResumeTiming();
    }
  }
  latencies.Report(state);
}

// Rule matching alone.
void MatchRule(benchmark::State& state, bool use_indexes) {
  absl::StatusOr<RuleMatcher> matcher = RuleMatcher::Compile(TheWorld().rules);
  if (!matcher.ok()) std::abort();
  const World& world = TheWorld();
  size_t i = 0;
  int64_t depth = 0;
  int64_t evaluated = 0;
  int64_t fallbacks = 0;
  for (auto _ : state) {
    const LeadFacts facts =
        matcher->Resolve(world.leads[i++ % world.leads.size()]);
    RuleMatch m = use_indexes ? matcher->Match(facts, 50)
                              : matcher->MatchLinear(facts, 50);
    depth += m.rule < 0 ? kRules : m.rule;
    evaluated += m.evaluated + 1;
    fallbacks += m.rule < 0;
    benchmark::DoNotOptimize(m);
  }
  const double n = static_cast<double>(state.iterations());
  // Where the matching rule sits, and how many rules were actually checked.
  state.counters["match_position"] = static_cast<double>(depth) / n;
  state.counters["rules_checked"] = static_cast<double>(evaluated) / n;
  state.counters["fallback_share"] = static_cast<double>(fallbacks) / n;
}

// Repetitions give a spread on a shared machine; the aggregates report the
// median of each counter across them.
#define ROUTING_BENCH(fn, name, arg)  \
  BENCHMARK_CAPTURE(fn, name, arg)    \
      ->Unit(benchmark::kMicrosecond) \
      ->MinTime(0.5)                  \
      ->Repetitions(5)                \
      ->ReportAggregatesOnly(true)

ROUTING_BENCH(Decide, Indexed, Mode::kIndexed);
ROUTING_BENCH(Decide, Naive, Mode::kNaive);
// The same decisions with nothing listed in the explanation (counts only):
// what the explanation costs.
ROUTING_BENCH(Decide, IndexedUnexplained, Mode::kIndexedUnexplained);
ROUTING_BENCH(DecideAndCommit, Indexed, Mode::kIndexed);
ROUTING_BENCH(DecideAndCommit, Naive, Mode::kNaive);
ROUTING_BENCH(MatchRule, Indexed, true);
ROUTING_BENCH(MatchRule, Linear, false);

}  // namespace
}  // namespace handoff::routing::engine

BENCHMARK_MAIN();
