#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/engine/regions.h"

namespace handoff::routing::engine {

// The criteria of a rule condition, in the order they are checked.
enum class Criterion : uint8_t {
  kNone,  // every criterion holds
  kTerritory,
  kCompanySize,
  kIndustry,
  kPersona,
  kScore,
  kCampaignChannel,
  kMqlReason,
};
// "territory", "company_size", ... as in RuleEvaluation.condition.
std::string_view CriterionName(Criterion criterion);

// A lead's attributes resolved once against the rule set's vocabulary, so
// each rule check is integer comparisons.
struct LeadFacts {
  const v1::LeadSummary* lead = nullptr;
  CountryCode country = kNoCountry;
  int32_t employees = 0;
  int32_t score = 0;
  // Ids in the rule set's vocabularies; -1 when no rule names the value.
  int32_t industry = -1;
  int32_t persona = -1;
  int32_t channel = -1;
  int32_t mql_reason = -1;
};

struct RuleMatch {
  // Index into the rules; -1 for the fallback.
  int rule = -1;
  // Earlier rules evaluated, and the criterion each failed on; the first
  // `max_listed` of them.
  std::vector<std::pair<int, Criterion>> failed;
  int evaluated = 0;
  // Earlier rules not evaluated because they require other territories.
  int skipped = 0;
};

// The ordered rules of a rule set compiled for matching. First match wins.
// Rules with territories are indexed by country, the rest are on a wildcard
// list; a lead is checked only against its country's rules and the
// wildcards, merged in rule order, which gives exactly the linear scan's
// first match since every skipped rule fails on territory.
class RuleMatcher {
 public:
  // INVALID_ARGUMENT for territories that are neither country nor region;
  // the rule set should have passed ValidateRuleSet.
  static absl::StatusOr<RuleMatcher> Compile(const v1::RuleSet& rule_set);

  LeadFacts Resolve(const v1::LeadSummary& lead) const;
  RuleMatch Match(const LeadFacts& lead, size_t max_listed) const;
  // The same answer by checking every rule in order; for tests and
  // benchmarks.
  RuleMatch MatchLinear(const LeadFacts& lead, size_t max_listed) const;

  // The first criterion rule `rule` fails for the lead; kNone if it matches.
  Criterion FirstFailure(int rule, const LeadFacts& lead) const;
  // A readable reason, e.g. "employee_count 40 below min_employees 200".
  std::string Reason(int rule, const LeadFacts& lead,
                     Criterion criterion) const;

  int size() const { return static_cast<int>(rules_.size()); }

 private:
  struct Compiled {
    // Sorted; empty means any territory.
    std::vector<CountryCode> countries;
    int32_t min_employees = 0;
    int32_t max_employees = 0;
    int32_t min_score = 0;
    int32_t max_score = 0;
    // Sorted vocabulary ids; empty means any.
    std::vector<int32_t> industries;
    std::vector<int32_t> personas;
    std::vector<int32_t> channels;
    std::vector<int32_t> mql_reasons;
  };
  using Vocabulary = absl::flat_hash_map<std::string, int32_t>;

  static std::vector<int32_t> Intern(
      Vocabulary& vocabulary,
      const google::protobuf::RepeatedPtrField<std::string>& values,
      std::string (*canonical)(std::string_view));

  std::vector<Compiled> rules_;
  // Indexed by CountryCode: the rules naming that country, ascending.
  std::vector<std::vector<int32_t>> by_country_;
  std::vector<int32_t> wildcard_;
  Vocabulary industries_;
  Vocabulary personas_;
  Vocabulary channels_;
  Vocabulary mql_reasons_;
};

}  // namespace handoff::routing::engine
