#include "services/persona/persona_matcher.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace handoff::persona {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Persona NamedPersona(const std::string& id) {
  v1::Persona persona;
  persona.set_name("personas/" + id);
  persona.set_display_name("Persona " + id);
  return persona;
}

v1::LeadProfile FullProfile() {
  v1::LeadProfile profile;
  profile.set_industry("Software");
  profile.set_employee_count(400);
  profile.set_country("de");
  profile.set_job_title("VP of Engineering");
  profile.set_seniority(v1::SENIORITY_VP);
  return profile;
}

// The single result of a persona that defines only one criterion.
v1::CriterionResult OnlyResult(const v1::Persona& persona,
                               const v1::LeadProfile& profile) {
  v1::PersonaMatch match = MatchProfile(persona, profile);
  EXPECT_EQ(match.criteria_size(), 1);
  return match.criteria(0);
}

TEST(MatchProfileTest, IndustryMatchesCaseInsensitively) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_industries("software");
  persona.mutable_criteria()->add_industries("saas");
  v1::LeadProfile profile = FullProfile();
  profile.set_industry("SaaS");

  v1::CriterionResult result = OnlyResult(persona, profile);
  EXPECT_EQ(result.criterion(), "industry");
  EXPECT_TRUE(result.matched());
  EXPECT_EQ(result.weight(), 100);
  EXPECT_EQ(result.detail(), "industry SaaS in [software, saas]");
  EXPECT_EQ(MatchProfile(persona, profile).score(), 100);
}

TEST(MatchProfileTest, IndustryOutsideListDoesNotMatch) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_industries("software");
  v1::LeadProfile profile = FullProfile();
  profile.set_industry("retail");

  v1::CriterionResult result = OnlyResult(persona, profile);
  EXPECT_FALSE(result.matched());
  EXPECT_EQ(result.detail(), "industry retail not in [software]");
  EXPECT_EQ(MatchProfile(persona, profile).score(), 0);
}

struct SizeCase {
  int min;
  int max;
  int employees;
  bool matched;
  std::string detail;
};

TEST(MatchProfileTest, CompanySizeBoundsAreInclusive) {
  const std::vector<SizeCase> cases = {
      {200, 1000, 40, false, "employee_count 40 below minimum 200"},
      {200, 1000, 5000, false, "employee_count 5000 above maximum 1000"},
      {200, 1000, 200, true, "employee_count 200 within 200-1000"},
      {200, 1000, 1000, true, "employee_count 1000 within 200-1000"},
      {200, 0, 90000, true, "employee_count 90000 at least 200"},
      {200, 0, 199, false, "employee_count 199 below minimum 200"},
      {0, 50, 1, true, "employee_count 1 at most 50"},
      {0, 50, 51, false, "employee_count 51 above maximum 50"},
  };
  for (const SizeCase& c : cases) {
    v1::Persona persona = NamedPersona("a");
    persona.mutable_criteria()->set_min_employees(c.min);
    persona.mutable_criteria()->set_max_employees(c.max);
    v1::LeadProfile profile;
    profile.set_employee_count(c.employees);

    v1::CriterionResult result = OnlyResult(persona, profile);
    EXPECT_EQ(result.criterion(), "company_size");
    EXPECT_EQ(result.matched(), c.matched) << c.detail;
    EXPECT_EQ(result.detail(), c.detail);
  }
}

TEST(MatchProfileTest, CountryComparesUpperCase) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_countries("DE");
  persona.mutable_criteria()->add_countries("AT");
  v1::LeadProfile profile;
  profile.set_country("at");
  v1::CriterionResult result = OnlyResult(persona, profile);
  EXPECT_EQ(result.criterion(), "country");
  EXPECT_TRUE(result.matched());
  EXPECT_EQ(result.detail(), "country AT in [DE, AT]");

  profile.set_country("FR");
  result = OnlyResult(persona, profile);
  EXPECT_FALSE(result.matched());
  EXPECT_EQ(result.detail(), "country FR not in [DE, AT]");
}

TEST(MatchProfileTest, JobTitleMatchesWholeWordsAndPhrases) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_title_keywords("it");
  persona.mutable_criteria()->add_title_keywords("Head of Marketing");
  v1::LeadProfile profile;

  profile.set_job_title("Director, IT Operations");
  v1::CriterionResult result = OnlyResult(persona, profile);
  EXPECT_EQ(result.criterion(), "job_title");
  EXPECT_TRUE(result.matched());
  EXPECT_EQ(result.detail(),
            "job_title \"Director, IT Operations\" contains \"it\"");

  profile.set_job_title("EMEA head of marketing");
  EXPECT_TRUE(OnlyResult(persona, profile).matched());

  // "it" inside another word is not the keyword.
  profile.set_job_title("Recruiting Lead");
  result = OnlyResult(persona, profile);
  EXPECT_FALSE(result.matched());
  EXPECT_EQ(
      result.detail(),
      "job_title \"Recruiting Lead\" has none of [it, Head of Marketing]");

  // The words of a phrase must be adjacent.
  profile.set_job_title("Head of Sales and Marketing");
  EXPECT_FALSE(OnlyResult(persona, profile).matched());
}

TEST(MatchProfileTest, KeywordWordsSplitLikeTheTitles) {
  v1::Persona persona = NamedPersona("a");
  // Punctuation and spaces separate words in a keyword too; UTF-8 bytes are
  // letters, compared exactly.
  persona.mutable_criteria()->add_title_keywords(" Head-of  MARKETING ");
  persona.mutable_criteria()->add_title_keywords("Geschäftsführer");
  v1::LeadProfile profile;

  profile.set_job_title("head of marketing (EMEA)");
  EXPECT_TRUE(OnlyResult(persona, profile).matched());
  profile.set_job_title("Geschäftsführer, Vertrieb");
  EXPECT_TRUE(OnlyResult(persona, profile).matched());
  profile.set_job_title("GeschäftsführerIn");
  EXPECT_FALSE(OnlyResult(persona, profile).matched());
  profile.set_job_title("Head of Marketing-Ops");
  EXPECT_TRUE(OnlyResult(persona, profile).matched());
}

TEST(MatchProfileTest, SeniorityMustBeListed) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_seniorities(v1::SENIORITY_DIRECTOR);
  persona.mutable_criteria()->add_seniorities(v1::SENIORITY_VP);
  v1::LeadProfile profile;
  profile.set_seniority(v1::SENIORITY_VP);
  v1::CriterionResult result = OnlyResult(persona, profile);
  EXPECT_EQ(result.criterion(), "seniority");
  EXPECT_TRUE(result.matched());
  EXPECT_EQ(result.detail(), "seniority VP in [DIRECTOR, VP]");

  profile.set_seniority(v1::SENIORITY_MANAGER);
  result = OnlyResult(persona, profile);
  EXPECT_FALSE(result.matched());
  EXPECT_EQ(result.detail(), "seniority MANAGER not in [DIRECTOR, VP]");
}

v1::Persona FullPersona(const std::string& id) {
  v1::Persona persona = NamedPersona(id);
  v1::PersonaCriteria* c = persona.mutable_criteria();
  c->add_industries("software");
  c->set_min_employees(200);
  c->set_max_employees(1000);
  c->add_countries("DE");
  c->add_title_keywords("engineering");
  c->add_seniorities(v1::SENIORITY_VP);
  return persona;
}

TEST(MatchProfileTest, UnknownProfileValuesDoNotMatch) {
  v1::PersonaMatch match = MatchProfile(FullPersona("a"), v1::LeadProfile());
  EXPECT_EQ(match.score(), 0);
  std::vector<std::string> details;
  for (const v1::CriterionResult& r : match.criteria()) {
    EXPECT_FALSE(r.matched()) << r.criterion();
    details.push_back(r.detail());
  }
  EXPECT_THAT(details, ElementsAre("industry unknown", "employee_count unknown",
                                   "country unknown", "job_title unknown",
                                   "seniority unknown"));
}

TEST(MatchProfileTest, FullMatchUsesTheDefinedWeights) {
  v1::PersonaMatch match = MatchProfile(FullPersona("a"), FullProfile());
  EXPECT_EQ(match.persona(), "personas/a");
  EXPECT_EQ(match.display_name(), "Persona a");
  EXPECT_EQ(match.score(), 100);
  std::vector<std::pair<std::string, int>> weights;
  for (const v1::CriterionResult& r : match.criteria()) {
    EXPECT_TRUE(r.matched()) << r.detail();
    weights.push_back({r.criterion(), r.weight()});
  }
  EXPECT_THAT(weights,
              ElementsAre(std::pair<std::string, int>{"industry", 30},
                          std::pair<std::string, int>{"company_size", 25},
                          std::pair<std::string, int>{"country", 15},
                          std::pair<std::string, int>{"job_title", 15},
                          std::pair<std::string, int>{"seniority", 15}));
}

TEST(MatchProfileTest, PartialMatchScoresMatchedWeightOverDefinedWeight) {
  v1::LeadProfile profile = FullProfile();
  profile.set_employee_count(40);  // outside 200-1000
  // Everything but company size: 75 of 100.
  EXPECT_EQ(MatchProfile(FullPersona("a"), profile).score(), 75);

  profile.set_industry("retail");
  // country + job_title + seniority: 45 of 100.
  EXPECT_EQ(MatchProfile(FullPersona("a"), profile).score(), 45);
}

TEST(MatchProfileTest, OnlyDefinedCriteriaCount) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_industries("software");
  persona.mutable_criteria()->set_min_employees(200);
  v1::LeadProfile profile = FullProfile();
  profile.set_employee_count(40);
  // Industry 30 of 55 defined: 54.5 rounds to 55.
  v1::PersonaMatch match = MatchProfile(persona, profile);
  EXPECT_EQ(match.score(), 55);
  ASSERT_EQ(match.criteria_size(), 2);
  // Shares of 100, summing to exactly 100.
  EXPECT_EQ(match.criteria(0).weight(), 55);
  EXPECT_EQ(match.criteria(1).weight(), 45);
}

TEST(MatchProfileTest, EqualWeightsShareOneHundred) {
  v1::Persona persona = NamedPersona("a");
  persona.mutable_criteria()->add_countries("DE");
  persona.mutable_criteria()->add_title_keywords("engineering");
  persona.mutable_criteria()->add_seniorities(v1::SENIORITY_C_LEVEL);
  v1::PersonaMatch match = MatchProfile(persona, FullProfile());
  // Two of three equal criteria: 66.7 rounds to 67.
  EXPECT_EQ(match.score(), 67);
  int total = 0;
  for (const v1::CriterionResult& r : match.criteria()) total += r.weight();
  EXPECT_EQ(total, 100);
}

TEST(MatchProfileTest, PersonaWithoutCriteriaScoresZeroAndSaysSo) {
  v1::PersonaMatch match = MatchProfile(NamedPersona("a"), FullProfile());
  EXPECT_EQ(match.score(), 0);
  ASSERT_EQ(match.criteria_size(), 1);
  EXPECT_EQ(match.criteria(0).criterion(), "none");
  EXPECT_FALSE(match.criteria(0).matched());
  EXPECT_EQ(match.criteria(0).detail(),
            "persona defines no criteria, so no profile fits it");
}

TEST(RankPersonasTest, BestFirstTiesByName) {
  v1::Persona weak = NamedPersona("c");
  weak.mutable_criteria()->add_industries("retail");
  weak.mutable_criteria()->add_countries("DE");  // 15 of 45: 33
  v1::Persona strong_b = FullPersona("b");       // 100
  v1::Persona strong_a = FullPersona("a");       // 100
  v1::Persona none = NamedPersona("d");          // 0

  std::vector<v1::PersonaMatch> ranked =
      RankPersonas({weak, strong_b, none, strong_a}, FullProfile(), 0, 0);
  std::vector<std::pair<std::string, int>> order;
  for (const v1::PersonaMatch& m : ranked) {
    order.push_back({m.persona(), m.score()});
  }
  EXPECT_THAT(order, ElementsAre(std::pair<std::string, int>{"personas/a", 100},
                                 std::pair<std::string, int>{"personas/b", 100},
                                 std::pair<std::string, int>{"personas/c", 33},
                                 std::pair<std::string, int>{"personas/d", 0}));
}

TEST(RankPersonasTest, MinScoreAndMaxResults) {
  v1::Persona weak = NamedPersona("c");
  weak.mutable_criteria()->add_industries("retail");
  weak.mutable_criteria()->add_countries("DE");  // 33
  std::vector<v1::Persona> personas = {weak, FullPersona("b"),
                                       FullPersona("a")};
  auto names = [](const std::vector<v1::PersonaMatch>& matches) {
    std::vector<std::string> out;
    for (const v1::PersonaMatch& m : matches) out.push_back(m.persona());
    return out;
  };

  EXPECT_THAT(names(RankPersonas(personas, FullProfile(), 34, 0)),
              ElementsAre("personas/a", "personas/b"));
  EXPECT_THAT(names(RankPersonas(personas, FullProfile(), 33, 0)),
              ElementsAre("personas/a", "personas/b", "personas/c"));
  EXPECT_THAT(names(RankPersonas(personas, FullProfile(), 0, 1)),
              ElementsAre("personas/a"));
  EXPECT_EQ(RankPersonas(personas, FullProfile(), 100, 0).size(), 2u);
  v1::LeadProfile nobody;
  EXPECT_THAT(RankPersonas(personas, nobody, 1, 0), IsEmpty());
}

// RankPersonas scores every persona but explains only those it returns; the
// result must be what explaining all of them, then filtering, sorting and
// cutting, gives.
TEST(RankPersonasTest, SameAsExplainingEveryPersona) {
  std::mt19937 rng(20261127);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::vector<std::string> industries = {"software", "retail", "Fintech",
                                               " logistics "};
  const std::vector<std::string> countries = {"DE", "fr", "US", " gb"};
  const std::vector<std::string> titles = {"VP of Engineering", "CFO",
                                           "Head of IT", "Recruiting Lead"};
  for (int round = 0; round < 300; ++round) {
    std::vector<v1::Persona> personas;
    const int count = pick(12);
    for (int i = 0; i < count; ++i) {
      v1::Persona persona =
          NamedPersona(std::to_string(pick(8)) + "-" + std::to_string(i));
      v1::PersonaCriteria& c = *persona.mutable_criteria();
      if (pick(2)) c.add_industries(industries[pick(4)]);
      if (pick(2)) c.set_min_employees(pick(3) * 100);
      if (pick(2)) c.set_max_employees(pick(3) * 500);
      if (pick(2)) c.add_countries(countries[pick(4)]);
      if (pick(2)) c.add_title_keywords(pick(2) ? "engineering" : "head of");
      if (pick(2)) c.add_seniorities(v1::SENIORITY_VP);
      personas.push_back(persona);
    }
    v1::LeadProfile profile;
    if (pick(4)) profile.set_industry(industries[pick(4)]);
    if (pick(4)) profile.set_employee_count(pick(1200));
    if (pick(4)) profile.set_country(countries[pick(4)]);
    if (pick(4)) profile.set_job_title(titles[pick(4)]);
    if (pick(4))
      profile.set_seniority(pick(2) ? v1::SENIORITY_VP : v1::SENIORITY_C_LEVEL);
    const int min_score = pick(3) * 30;
    const int max_results = pick(4);

    std::vector<v1::PersonaMatch> expected;
    for (const v1::Persona& persona : personas) {
      v1::PersonaMatch match = MatchProfile(persona, profile);
      if (match.score() >= min_score) expected.push_back(match);
    }
    std::sort(expected.begin(), expected.end(),
              [](const v1::PersonaMatch& a, const v1::PersonaMatch& b) {
                if (a.score() != b.score()) return a.score() > b.score();
                return a.persona() < b.persona();
              });
    if (max_results > 0 && expected.size() > size_t(max_results)) {
      expected.resize(max_results);
    }
    std::vector<v1::PersonaMatch> ranked =
        RankPersonas(personas, profile, min_score, max_results);
    ASSERT_EQ(ranked.size(), expected.size()) << "round " << round;
    for (size_t i = 0; i < ranked.size(); ++i) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          ranked[i], expected[i]))
          << "round " << round << ": " << ranked[i].DebugString() << " vs "
          << expected[i].DebugString();
    }
  }
}

}  // namespace
}  // namespace handoff::persona
