#include "services/routing/engine/rule_matcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing::engine {
namespace {

bool Contains(const std::vector<int32_t>& sorted, int32_t id) {
  return id >= 0 && std::binary_search(sorted.begin(), sorted.end(), id);
}

std::string Identity(std::string_view s) { return std::string(s); }

int32_t Find(const absl::flat_hash_map<std::string, int32_t>& vocabulary,
             const std::string& key) {
  if (key.empty()) return -1;
  auto it = vocabulary.find(key);
  return it == vocabulary.end() ? -1 : it->second;
}

std::string Quoted(std::string_view what, std::string_view value) {
  return value.empty() ? absl::StrCat(Sv(what), " unknown")
                       : absl::StrCat(Sv(what), " \"", Sv(value), "\"");
}

}  // namespace

std::string_view CriterionName(Criterion criterion) {
  switch (criterion) {
    case Criterion::kNone:
      return "";
    case Criterion::kTerritory:
      return "territory";
    case Criterion::kCompanySize:
      return "company_size";
    case Criterion::kIndustry:
      return "industry";
    case Criterion::kPersona:
      return "persona";
    case Criterion::kScore:
      return "score";
    case Criterion::kCampaignChannel:
      return "campaign_channel";
    case Criterion::kMqlReason:
      return "mql_reason";
  }
  return "";
}

std::vector<int32_t> RuleMatcher::Intern(
    Vocabulary& vocabulary,
    const google::protobuf::RepeatedPtrField<std::string>& values,
    std::string (*canonical)(std::string_view)) {
  std::vector<int32_t> ids;
  for (const std::string& value : values) {
    auto [it, inserted] = vocabulary.try_emplace(
        canonical(value), static_cast<int32_t>(vocabulary.size()));
    ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

absl::StatusOr<RuleMatcher> RuleMatcher::Compile(const v1::RuleSet& rule_set) {
  RuleMatcher m;
  m.by_country_.resize(kCountrySlots);
  m.rules_.reserve(rule_set.rules_size());
  for (int i = 0; i < rule_set.rules_size(); ++i) {
    const v1::RuleCondition& c = rule_set.rules(i).condition();
    Compiled rule;
    absl::StatusOr<std::vector<CountryCode>> countries = ExpandTerritories(
        absl::StrCat("rule_set.rules[", i, "].condition.territories"),
        c.territories());
    if (!countries.ok()) return countries.status();
    rule.countries = *std::move(countries);
    rule.min_employees = c.min_employees();
    rule.max_employees = c.max_employees();
    rule.min_score = c.min_score();
    rule.max_score = c.max_score();
    rule.industries = Intern(m.industries_, c.industries(), CanonicalIndustry);
    rule.personas = Intern(m.personas_, c.personas(), Identity);
    rule.channels =
        Intern(m.channels_, c.campaign_channels(), CanonicalChannel);
    rule.mql_reasons =
        Intern(m.mql_reasons_, c.mql_reasons(), CanonicalMqlReason);
    if (rule.countries.empty()) {
      m.wildcard_.push_back(i);
    } else {
      for (CountryCode code : rule.countries) m.by_country_[code].push_back(i);
    }
    m.rules_.push_back(std::move(rule));
  }
  return m;
}

LeadFacts RuleMatcher::Resolve(const v1::LeadSummary& lead) const {
  LeadFacts facts;
  facts.lead = &lead;
  facts.country = ParseCountry(lead.profile().country()).value_or(kNoCountry);
  facts.employees = lead.profile().employee_count();
  facts.score = lead.score();
  facts.industry =
      Find(industries_, CanonicalIndustry(lead.profile().industry()));
  facts.persona = Find(personas_, lead.persona());
  facts.channel = Find(channels_, CanonicalChannel(lead.campaign_channel()));
  facts.mql_reason = Find(mql_reasons_, CanonicalMqlReason(lead.mql_reason()));
  return facts;
}

Criterion RuleMatcher::FirstFailure(int index, const LeadFacts& lead) const {
  const Compiled& r = rules_[index];
  if (!r.countries.empty() &&
      !std::binary_search(r.countries.begin(), r.countries.end(),
                          lead.country)) {
    return Criterion::kTerritory;
  }
  if ((r.min_employees > 0 || r.max_employees > 0) &&
      (lead.employees <= 0 || lead.employees < r.min_employees ||
       (r.max_employees > 0 && lead.employees > r.max_employees))) {
    return Criterion::kCompanySize;
  }
  if (!r.industries.empty() && !Contains(r.industries, lead.industry)) {
    return Criterion::kIndustry;
  }
  if (!r.personas.empty() && !Contains(r.personas, lead.persona)) {
    return Criterion::kPersona;
  }
  if ((r.min_score > 0 && lead.score < r.min_score) ||
      (r.max_score > 0 && lead.score > r.max_score)) {
    return Criterion::kScore;
  }
  if (!r.channels.empty() && !Contains(r.channels, lead.channel)) {
    return Criterion::kCampaignChannel;
  }
  if (!r.mql_reasons.empty() && !Contains(r.mql_reasons, lead.mql_reason)) {
    return Criterion::kMqlReason;
  }
  return Criterion::kNone;
}

RuleMatch RuleMatcher::Match(const LeadFacts& lead, size_t max_listed) const {
  RuleMatch match;
  static const std::vector<int32_t> kNone;
  const std::vector<int32_t>& local =
      lead.country == kNoCountry ? kNone : by_country_[lead.country];
  auto a = local.begin();
  auto b = wildcard_.begin();
  while (a != local.end() || b != wildcard_.end()) {
    int32_t next;
    if (b == wildcard_.end() || (a != local.end() && *a < *b)) {
      next = *a++;
    } else {
      next = *b++;
    }
    const Criterion failed = FirstFailure(next, lead);
    if (failed == Criterion::kNone) {
      match.rule = next;
      match.skipped = next - match.evaluated;
      return match;
    }
    if (match.failed.size() < max_listed)
      match.failed.emplace_back(next, failed);
    ++match.evaluated;
  }
  match.skipped = size() - match.evaluated;
  return match;
}

RuleMatch RuleMatcher::MatchLinear(const LeadFacts& lead,
                                   size_t max_listed) const {
  RuleMatch match;
  for (int i = 0; i < size(); ++i) {
    const Criterion failed = FirstFailure(i, lead);
    if (failed == Criterion::kNone) {
      match.rule = i;
      return match;
    }
    if (match.failed.size() < max_listed) match.failed.emplace_back(i, failed);
    ++match.evaluated;
  }
  return match;
}

std::string RuleMatcher::Reason(int index, const LeadFacts& lead,
                                Criterion criterion) const {
  const Compiled& r = rules_[index];
  const v1::LeadSummary& l = *lead.lead;
  switch (criterion) {
    case Criterion::kNone:
      return "every condition holds";
    case Criterion::kTerritory:
      return lead.country == kNoCountry
                 ? absl::StrCat(Quoted("country", l.profile().country()),
                                ", the rule requires territories")
                 : absl::StrCat("country ", CountryString(lead.country),
                                " not in the rule's territories");
    case Criterion::kCompanySize:
      if (lead.employees <= 0) {
        return "employee_count unknown, the rule requires a company size";
      }
      if (lead.employees < r.min_employees) {
        return absl::StrCat("employee_count ", lead.employees,
                            " below min_employees ", r.min_employees);
      }
      return absl::StrCat("employee_count ", lead.employees,
                          " above max_employees ", r.max_employees);
    case Criterion::kIndustry:
      return absl::StrCat(Quoted("industry", l.profile().industry()),
                          " not among the rule's ", r.industries.size(),
                          " industries");
    case Criterion::kPersona:
      return absl::StrCat(
          l.persona().empty() ? "no persona" : Quoted("persona", l.persona()),
          ", the rule requires one of ", r.personas.size(), " personas");
    case Criterion::kScore:
      if (r.min_score > 0 && lead.score < r.min_score) {
        return absl::StrCat("score ", lead.score, " below min_score ",
                            r.min_score);
      }
      return absl::StrCat("score ", lead.score, " above max_score ",
                          r.max_score);
    case Criterion::kCampaignChannel:
      return absl::StrCat(Quoted("campaign channel", l.campaign_channel()),
                          " not among the rule's ", r.channels.size(),
                          " channels");
    case Criterion::kMqlReason:
      return absl::StrCat(Quoted("mql_reason", l.mql_reason()),
                          " not among the rule's ", r.mql_reasons.size(),
                          " reasons");
  }
  return "";
}

}  // namespace handoff::routing::engine
