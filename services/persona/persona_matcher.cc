#include "services/persona/persona_matcher.h"

#include <algorithm>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enums.h"

namespace handoff::persona {
namespace {

struct Criterion {
  absl::string_view name;
  int weight;
  bool matched;
  // Left empty when the caller only wants the score.
  std::string detail;
};

// The profile's values as every persona compares them: prepared once per
// request rather than once per persona.
struct PreparedProfile {
  explicit PreparedProfile(const v1::LeadProfile& profile);

  const v1::LeadProfile& raw;
  absl::string_view industry;
  absl::string_view country;
  absl::string_view title;
  std::vector<std::string> title_words;
};

std::string List(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string SeniorityName(int value) {
  return ShortEnumName(value, v1::Seniority_descriptor(), "SENIORITY_");
}

Criterion Unknown(absl::string_view name, int weight, absl::string_view field,
                  bool explain) {
  return {name, weight, false,
          explain ? absl::StrCat(field, " unknown") : std::string()};
}

Criterion MatchIndustry(const v1::PersonaCriteria& c, const PreparedProfile& p,
                        bool explain) {
  const absl::string_view industry = p.industry;
  if (industry.empty()) {
    return Unknown("industry", kIndustryWeight, "industry", explain);
  }
  bool matched = std::any_of(
      c.industries().begin(), c.industries().end(), [&](const std::string& i) {
        return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(i), industry);
      });
  if (!explain) return {"industry", kIndustryWeight, matched, {}};
  return {"industry", kIndustryWeight, matched,
          absl::StrCat("industry ", industry, matched ? " in " : " not in ",
                       List(c.industries()))};
}

Criterion MatchCompanySize(const v1::PersonaCriteria& c,
                           const PreparedProfile& p, bool explain) {
  const int count = p.raw.employee_count();
  if (count <= 0) {
    return Unknown("company_size", kCompanySizeWeight, "employee_count",
                   explain);
  }
  const int min = c.min_employees();
  const int max = c.max_employees();
  const bool below = min > 0 && count < min;
  const bool above = max > 0 && count > max;
  const bool matched = !below && !above;
  if (!explain) return {"company_size", kCompanySizeWeight, matched, {}};
  std::string detail;
  if (below) {
    detail = absl::StrCat("employee_count ", count, " below minimum ", min);
  } else if (above) {
    detail = absl::StrCat("employee_count ", count, " above maximum ", max);
  } else if (min > 0 && max > 0) {
    detail = absl::StrCat("employee_count ", count, " within ", min, "-", max);
  } else if (min > 0) {
    detail = absl::StrCat("employee_count ", count, " at least ", min);
  } else {
    detail = absl::StrCat("employee_count ", count, " at most ", max);
  }
  return {"company_size", kCompanySizeWeight, matched, std::move(detail)};
}

Criterion MatchCountry(const v1::PersonaCriteria& c, const PreparedProfile& p,
                       bool explain) {
  const absl::string_view given = p.country;
  if (given.empty()) {
    return Unknown("country", kCountryWeight, "country", explain);
  }
  bool matched = std::any_of(
      c.countries().begin(), c.countries().end(),
      [&](const std::string& x) { return absl::EqualsIgnoreCase(x, given); });
  if (!explain) return {"country", kCountryWeight, matched, {}};
  const std::string country = absl::AsciiStrToUpper(given);
  return {"country", kCountryWeight, matched,
          absl::StrCat("country ", country, matched ? " in " : " not in ",
                       List(c.countries()))};
}

// Bytes >= 0x80 count as letters so UTF-8 words stay whole.
bool IsWordByte(unsigned char u) { return absl::ascii_isalnum(u) || u >= 0x80; }

// Lower-case words.
std::vector<std::string> Words(absl::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (IsWordByte(u)) {
      word.push_back(absl::ascii_tolower(u));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

PreparedProfile::PreparedProfile(const v1::LeadProfile& profile)
    : raw(profile),
      industry(absl::StripAsciiWhitespace(profile.industry())),
      country(absl::StripAsciiWhitespace(profile.country())),
      title(absl::StripAsciiWhitespace(profile.job_title())),
      title_words(Words(title)) {}

// The words of `text`, split as Words splits them but not lower-cased:
// views into `text`.
absl::InlinedVector<absl::string_view, 4> WordViews(absl::string_view text) {
  absl::InlinedVector<absl::string_view, 4> words;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const bool letter =
        i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]));
    if (letter) continue;
    if (i > start) words.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  return words;
}

// Whole words, so keyword "it" does not match "Recruiting Lead"; a keyword
// of several words must appear as that phrase. `title` is lower case.
bool ContainsPhrase(const std::vector<std::string>& title,
                    absl::string_view keyword) {
  const absl::InlinedVector<absl::string_view, 4> phrase = WordViews(keyword);
  if (phrase.empty()) return false;
  return std::search(title.begin(), title.end(), phrase.begin(), phrase.end(),
                     [](const std::string& word, absl::string_view wanted) {
                       return absl::EqualsIgnoreCase(word, wanted);
                     }) != title.end();
}

Criterion MatchJobTitle(const v1::PersonaCriteria& c, const PreparedProfile& p,
                        bool explain) {
  const absl::string_view title = p.title;
  if (title.empty()) {
    return Unknown("job_title", kJobTitleWeight, "job_title", explain);
  }
  for (const std::string& keyword : c.title_keywords()) {
    if (ContainsPhrase(p.title_words, keyword)) {
      if (!explain) return {"job_title", kJobTitleWeight, true, {}};
      return {"job_title", kJobTitleWeight, true,
              absl::StrCat("job_title \"", title, "\" contains \"",
                           absl::StripAsciiWhitespace(keyword), "\"")};
    }
  }
  if (!explain) return {"job_title", kJobTitleWeight, false, {}};
  return {"job_title", kJobTitleWeight, false,
          absl::StrCat("job_title \"", title, "\" has none of ",
                       List(c.title_keywords()))};
}

Criterion MatchSeniority(const v1::PersonaCriteria& c, const PreparedProfile& p,
                         bool explain) {
  const v1::Seniority seniority = p.raw.seniority();
  if (seniority == v1::SENIORITY_UNSPECIFIED) {
    return Unknown("seniority", kSeniorityWeight, "seniority", explain);
  }
  bool matched = std::find(c.seniorities().begin(), c.seniorities().end(),
                           seniority) != c.seniorities().end();
  if (!explain) return {"seniority", kSeniorityWeight, matched, {}};
  std::vector<std::string> wanted;
  for (int s : c.seniorities()) wanted.push_back(SeniorityName(s));
  return {"seniority", kSeniorityWeight, matched,
          absl::StrCat("seniority ", SeniorityName(seniority),
                       matched ? " in [" : " not in [",
                       absl::StrJoin(wanted, ", "), "]")};
}

// Shares of 100 by largest remainder, so they add up to exactly 100.
std::vector<int> Shares(const std::vector<Criterion>& criteria, int total) {
  std::vector<int> shares;
  std::vector<std::pair<int, size_t>> remainders;  // (remainder, index)
  int assigned = 0;
  for (size_t i = 0; i < criteria.size(); ++i) {
    shares.push_back(100 * criteria[i].weight / total);
    assigned += shares.back();
    remainders.push_back({100 * criteria[i].weight % total, i});
  }
  std::stable_sort(
      remainders.begin(), remainders.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; assigned < 100; ++k, ++assigned) {
    ++shares[remainders[k].second];
  }
  return shares;
}

std::vector<Criterion> Evaluate(const v1::PersonaCriteria& c,
                                const PreparedProfile& profile, bool explain) {
  std::vector<Criterion> criteria;
  criteria.reserve(5);
  if (!c.industries().empty()) {
    criteria.push_back(MatchIndustry(c, profile, explain));
  }
  if (c.min_employees() > 0 || c.max_employees() > 0) {
    criteria.push_back(MatchCompanySize(c, profile, explain));
  }
  if (!c.countries().empty()) {
    criteria.push_back(MatchCountry(c, profile, explain));
  }
  if (!c.title_keywords().empty()) {
    criteria.push_back(MatchJobTitle(c, profile, explain));
  }
  if (!c.seniorities().empty()) {
    criteria.push_back(MatchSeniority(c, profile, explain));
  }
  return criteria;
}

// Integer round half up of 100 * matched weight / defined weight; 0 for no
// criteria.
int Score(const std::vector<Criterion>& criteria) {
  int defined = 0;
  int matched = 0;
  for (const Criterion& criterion : criteria) {
    defined += criterion.weight;
    if (criterion.matched) matched += criterion.weight;
  }
  if (defined == 0) return 0;
  return (200 * matched + defined) / (2 * defined);
}

// The ranking order: best score first, ties by persona name.
bool RanksBefore(int score_a, const std::string& name_a, int score_b,
                 const std::string& name_b) {
  if (score_a != score_b) return score_a > score_b;
  return name_a < name_b;
}

v1::PersonaMatch Explain(const v1::Persona& persona,
                         const PreparedProfile& profile) {
  std::vector<Criterion> criteria =
      Evaluate(persona.criteria(), profile, /*explain=*/true);

  v1::PersonaMatch match;
  match.set_persona(persona.name());
  match.set_display_name(persona.display_name());
  if (criteria.empty()) {
    v1::CriterionResult* none = match.add_criteria();
    none->set_criterion("none");
    none->set_detail("persona defines no criteria, so no profile fits it");
    return match;
  }
  int defined = 0;
  for (const Criterion& criterion : criteria) defined += criterion.weight;
  match.set_score(Score(criteria));
  std::vector<int> shares = Shares(criteria, defined);
  for (size_t i = 0; i < criteria.size(); ++i) {
    v1::CriterionResult* result = match.add_criteria();
    result->set_criterion(std::string(criteria[i].name));
    result->set_matched(criteria[i].matched);
    result->set_weight(shares[i]);
    result->set_detail(std::move(criteria[i].detail));
  }
  return match;
}

}  // namespace

v1::PersonaMatch MatchProfile(const v1::Persona& persona,
                              const v1::LeadProfile& profile) {
  return Explain(persona, PreparedProfile(profile));
}

std::vector<v1::PersonaMatch> RankPersonas(
    const std::vector<v1::Persona>& personas, const v1::LeadProfile& profile,
    int min_score, int max_results) {
  const PreparedProfile prepared(profile);
  if (max_results == 0 || personas.size() <= size_t(max_results)) {
    std::vector<v1::PersonaMatch> matches;
    for (const v1::Persona& persona : personas) {
      v1::PersonaMatch match = Explain(persona, prepared);
      if (match.score() >= min_score) matches.push_back(std::move(match));
    }
    std::sort(matches.begin(), matches.end(),
              [](const v1::PersonaMatch& a, const v1::PersonaMatch& b) {
                return RanksBefore(a.score(), a.persona(), b.score(),
                                   b.persona());
              });
    return matches;
  }
  // Some are cut: scores first, explanations only for the personas returned
  // (campaign asks for the best one of all).
  std::vector<std::pair<int, const v1::Persona*>> ranked;
  ranked.reserve(personas.size());
  for (const v1::Persona& persona : personas) {
    const int score =
        Score(Evaluate(persona.criteria(), prepared, /*explain=*/false));
    if (score >= min_score) ranked.push_back({score, &persona});
  }
  auto better = [](const auto& a, const auto& b) {
    return RanksBefore(a.first, a.second->name(), b.first, b.second->name());
  };
  const size_t keep = std::min(ranked.size(), static_cast<size_t>(max_results));
  std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                    better);
  std::vector<v1::PersonaMatch> matches;
  matches.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    matches.push_back(Explain(*ranked[i].second, prepared));
  }
  return matches;
}

}  // namespace handoff::persona
