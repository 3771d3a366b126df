#include "services/persona/persona_matcher.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enums.h"

namespace handoff::persona {
namespace {

struct Criterion {
  std::string name;
  int weight;
  bool matched;
  std::string detail;
};

std::string List(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string SeniorityName(int value) {
  return ShortEnumName(value, v1::Seniority_descriptor(), "SENIORITY_");
}

Criterion Unknown(std::string name, int weight, absl::string_view field) {
  return {std::move(name), weight, false, absl::StrCat(field, " unknown")};
}

Criterion MatchIndustry(const v1::PersonaCriteria& c,
                        const v1::LeadProfile& p) {
  absl::string_view industry = absl::StripAsciiWhitespace(p.industry());
  if (industry.empty()) return Unknown("industry", kIndustryWeight, "industry");
  bool matched = std::any_of(
      c.industries().begin(), c.industries().end(), [&](const std::string& i) {
        return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(i), industry);
      });
  return {"industry", kIndustryWeight, matched,
          absl::StrCat("industry ", industry, matched ? " in " : " not in ",
                       List(c.industries()))};
}

Criterion MatchCompanySize(const v1::PersonaCriteria& c,
                           const v1::LeadProfile& p) {
  const int count = p.employee_count();
  if (count <= 0) {
    return Unknown("company_size", kCompanySizeWeight, "employee_count");
  }
  const int min = c.min_employees();
  const int max = c.max_employees();
  std::string detail;
  bool matched = false;
  if (min > 0 && count < min) {
    detail = absl::StrCat("employee_count ", count, " below minimum ", min);
  } else if (max > 0 && count > max) {
    detail = absl::StrCat("employee_count ", count, " above maximum ", max);
  } else {
    matched = true;
    if (min > 0 && max > 0) {
      detail =
          absl::StrCat("employee_count ", count, " within ", min, "-", max);
    } else if (min > 0) {
      detail = absl::StrCat("employee_count ", count, " at least ", min);
    } else {
      detail = absl::StrCat("employee_count ", count, " at most ", max);
    }
  }
  return {"company_size", kCompanySizeWeight, matched, std::move(detail)};
}

Criterion MatchCountry(const v1::PersonaCriteria& c, const v1::LeadProfile& p) {
  std::string country =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(p.country()));
  if (country.empty()) return Unknown("country", kCountryWeight, "country");
  bool matched = std::any_of(
      c.countries().begin(), c.countries().end(),
      [&](const std::string& x) { return absl::EqualsIgnoreCase(x, country); });
  return {"country", kCountryWeight, matched,
          absl::StrCat("country ", country, matched ? " in " : " not in ",
                       List(c.countries()))};
}

// Lower-case words; bytes >= 0x80 count as letters so UTF-8 words stay whole.
std::vector<std::string> Words(absl::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(u) || u >= 0x80) {
      word.push_back(absl::ascii_tolower(u));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Whole words, so keyword "it" does not match "Recruiting Lead"; a keyword
// of several words must appear as that phrase.
bool ContainsPhrase(const std::vector<std::string>& title,
                    absl::string_view keyword) {
  std::vector<std::string> phrase = Words(keyword);
  if (phrase.empty()) return false;
  return std::search(title.begin(), title.end(), phrase.begin(),
                     phrase.end()) != title.end();
}

Criterion MatchJobTitle(const v1::PersonaCriteria& c,
                        const v1::LeadProfile& p) {
  absl::string_view title = absl::StripAsciiWhitespace(p.job_title());
  if (title.empty()) return Unknown("job_title", kJobTitleWeight, "job_title");
  std::vector<std::string> words = Words(title);
  for (const std::string& keyword : c.title_keywords()) {
    if (ContainsPhrase(words, keyword)) {
      return {"job_title", kJobTitleWeight, true,
              absl::StrCat("job_title \"", title, "\" contains \"",
                           absl::StripAsciiWhitespace(keyword), "\"")};
    }
  }
  return {"job_title", kJobTitleWeight, false,
          absl::StrCat("job_title \"", title, "\" has none of ",
                       List(c.title_keywords()))};
}

Criterion MatchSeniority(const v1::PersonaCriteria& c,
                         const v1::LeadProfile& p) {
  if (p.seniority() == v1::SENIORITY_UNSPECIFIED) {
    return Unknown("seniority", kSeniorityWeight, "seniority");
  }
  bool matched = std::find(c.seniorities().begin(), c.seniorities().end(),
                           p.seniority()) != c.seniorities().end();
  std::vector<std::string> wanted;
  for (int s : c.seniorities()) wanted.push_back(SeniorityName(s));
  return {"seniority", kSeniorityWeight, matched,
          absl::StrCat("seniority ", SeniorityName(p.seniority()),
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

}  // namespace

v1::PersonaMatch MatchProfile(const v1::Persona& persona,
                              const v1::LeadProfile& profile) {
  const v1::PersonaCriteria& c = persona.criteria();
  std::vector<Criterion> criteria;
  if (!c.industries().empty()) criteria.push_back(MatchIndustry(c, profile));
  if (c.min_employees() > 0 || c.max_employees() > 0) {
    criteria.push_back(MatchCompanySize(c, profile));
  }
  if (!c.countries().empty()) criteria.push_back(MatchCountry(c, profile));
  if (!c.title_keywords().empty()) {
    criteria.push_back(MatchJobTitle(c, profile));
  }
  if (!c.seniorities().empty()) criteria.push_back(MatchSeniority(c, profile));

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
  int matched = 0;
  for (const Criterion& criterion : criteria) {
    defined += criterion.weight;
    if (criterion.matched) matched += criterion.weight;
  }
  // Integer round half up of 100 * matched / defined.
  match.set_score((200 * matched + defined) / (2 * defined));
  std::vector<int> shares = Shares(criteria, defined);
  for (size_t i = 0; i < criteria.size(); ++i) {
    v1::CriterionResult* result = match.add_criteria();
    result->set_criterion(criteria[i].name);
    result->set_matched(criteria[i].matched);
    result->set_weight(shares[i]);
    result->set_detail(std::move(criteria[i].detail));
  }
  return match;
}

std::vector<v1::PersonaMatch> RankPersonas(
    const std::vector<v1::Persona>& personas, const v1::LeadProfile& profile,
    int min_score, int max_results) {
  std::vector<v1::PersonaMatch> matches;
  for (const v1::Persona& persona : personas) {
    v1::PersonaMatch match = MatchProfile(persona, profile);
    if (match.score() >= min_score) matches.push_back(std::move(match));
  }
  std::sort(matches.begin(), matches.end(),
            [](const v1::PersonaMatch& a, const v1::PersonaMatch& b) {
              if (a.score() != b.score()) return a.score() > b.score();
              return a.persona() < b.persona();
            });
  if (max_results > 0 && matches.size() > static_cast<size_t>(max_results)) {
    matches.resize(max_results);
  }
  return matches;
}

}  // namespace handoff::persona
