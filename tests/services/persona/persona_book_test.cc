#include "services/persona/persona_book.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/proto_time.h"
#include "common/storage/database.h"
#include "services/persona/persona_store.h"

namespace handoff::persona {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PersonaBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Open({.path = ":memory:"});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(PersonaStore::Migrate(*db_).ok());
    book_ = std::make_unique<PersonaBook>(*db_, clock_, metrics_);
  }

  static v1::Persona ValidPersona(const std::string& display_name) {
    v1::Persona persona;
    persona.set_display_name(display_name);
    persona.set_description("Runs engineering at a mid-size software firm");
    v1::PersonaCriteria* c = persona.mutable_criteria();
    c->add_industries("Software");
    c->set_min_employees(200);
    c->set_max_employees(1000);
    c->add_countries("DE");
    c->add_title_keywords("engineering");
    c->add_seniorities(v1::SENIORITY_VP);
    persona.add_pain_points("slow releases");
    persona.add_goals("ship weekly");
    persona.set_value_proposition("Release twice as often");
    v1::JourneyStageContent* stage = persona.add_journey();
    stage->set_stage(v1::JOURNEY_STAGE_AWARENESS);
    stage->set_message("Release pain is common");
    return persona;
  }

  v1::Persona MustCreate(const v1::Persona& persona,
                         const std::string& request_id = "") {
    v1::CreatePersonaRequest request;
    *request.mutable_persona() = persona;
    request.set_request_id(request_id);
    absl::StatusOr<v1::Persona> created = book_->Create(request);
    EXPECT_TRUE(created.ok()) << created.status();
    // Ids sort by creation time; keep them apart.
    clock_.Advance(absl::Milliseconds(1));
    return created.value_or(v1::Persona());
  }

  absl::StatusOr<v1::Persona> Create(const v1::Persona& persona) {
    v1::CreatePersonaRequest request;
    *request.mutable_persona() = persona;
    return book_->Create(request);
  }

  absl::StatusOr<v1::Persona> Get(const std::string& name) {
    v1::GetPersonaRequest request;
    request.set_name(name);
    return book_->Get(request);
  }

  absl::StatusOr<v1::ListPersonasResponse> List(
      int page_size, const std::string& token, const std::string& filter = "") {
    v1::ListPersonasRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    request.set_filter(filter);
    return book_->List(request);
  }

  // Every persona name, following next_page_token.
  std::vector<std::string> ListAll(int page_size, const std::string& filter,
                                   int* pages) {
    std::vector<std::string> names;
    std::string token;
    *pages = 0;
    do {
      absl::StatusOr<v1::ListPersonasResponse> page =
          List(page_size, token, filter);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      ++*pages;
      EXPECT_LE(page->personas_size(), page_size);
      for (const v1::Persona& p : page->personas()) names.push_back(p.name());
      token = page->next_page_token();
    } while (!token.empty() && *pages < 100);
    return names;
  }

  absl::StatusOr<v1::Persona> Update(const v1::Persona& persona,
                                     std::vector<std::string> paths) {
    v1::UpdatePersonaRequest request;
    *request.mutable_persona() = persona;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    return book_->Update(request);
  }

  absl::Status Delete(const std::string& name, const std::string& etag = "") {
    v1::DeletePersonaRequest request;
    request.set_name(name);
    request.set_etag(etag);
    return book_->Delete(request);
  }

  int PersonaCount() {
    int pages = 0;
    return static_cast<int>(ListAll(1000, "", &pages).size());
  }

  double MatchesTotal() {
    std::istringstream text(metrics_.Render());
    std::string line;
    while (std::getline(text, line)) {
      if (line.rfind("handoff_persona_matches_total", 0) == 0) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    ADD_FAILURE() << "handoff_persona_matches_total not exported";
    return -1;
  }

  FakeClock clock_;
  Metrics metrics_{"persona"};
  std::unique_ptr<Database> db_;
  std::unique_ptr<PersonaBook> book_;
};

void ExpectInvalid(const absl::Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(message));
}

TEST_F(PersonaBookTest, CreateAssignsNameTimesAndEtag) {
  const absl::Time now = clock_.Now();
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  EXPECT_THAT(created.name(), ::testing::StartsWith("personas/"));
  EXPECT_EQ(FromProtoTime(created.create_time()), now);
  EXPECT_EQ(FromProtoTime(created.update_time()), now);
  EXPECT_FALSE(created.etag().empty());

  absl::StatusOr<v1::Persona> got = Get(created.name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created.SerializeAsString());
}

TEST_F(PersonaBookTest, CreateIgnoresOutputOnlyFields) {
  v1::Persona persona = ValidPersona("VP Engineering");
  persona.set_name("personas/chosen-by-client");
  persona.set_etag("client-etag");
  v1::Persona created = MustCreate(persona);
  EXPECT_NE(created.name(), "personas/chosen-by-client");
  EXPECT_NE(created.etag(), "client-etag");
}

TEST_F(PersonaBookTest, CreateIsIdempotentByRequestId) {
  v1::Persona first = MustCreate(ValidPersona("VP Engineering"), "req-1");
  v1::Persona retry = MustCreate(ValidPersona("VP Engineering"), "req-1");
  EXPECT_EQ(retry.name(), first.name());
  EXPECT_EQ(retry.etag(), first.etag());
  EXPECT_EQ(PersonaCount(), 1);

  v1::Persona other = MustCreate(ValidPersona("VP Engineering"), "req-2");
  EXPECT_NE(other.name(), first.name());
  EXPECT_EQ(PersonaCount(), 2);
}

TEST_F(PersonaBookTest, CreateNormalizesCountries) {
  v1::Persona persona = ValidPersona("DACH");
  persona.mutable_criteria()->clear_countries();
  persona.mutable_criteria()->add_countries("de");
  persona.mutable_criteria()->add_countries(" at ");
  v1::Persona created = MustCreate(persona);
  EXPECT_THAT(created.criteria().countries(), ElementsAre("DE", "AT"));
}

TEST_F(PersonaBookTest, CreateValidationNamesTheField) {
  struct Case {
    std::function<void(v1::Persona&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::Persona& p) { p.clear_display_name(); },
       "persona.display_name: required"},
      {[](v1::Persona& p) { p.set_display_name("   "); },
       "persona.display_name: required"},
      {[](v1::Persona& p) { p.set_display_name(std::string(201, 'x')); },
       "persona.display_name: at most 200 characters"},
      {[](v1::Persona& p) { p.mutable_criteria()->set_min_employees(-1); },
       "persona.criteria.min_employees: must not be negative"},
      {[](v1::Persona& p) { p.mutable_criteria()->set_max_employees(-5); },
       "persona.criteria.max_employees: must not be negative"},
      {[](v1::Persona& p) {
         p.mutable_criteria()->set_min_employees(500);
         p.mutable_criteria()->set_max_employees(100);
       },
       "persona.criteria.max_employees: must be at least min_employees"},
      {[](v1::Persona& p) { p.mutable_criteria()->add_countries("Deu"); },
       "persona.criteria.countries[1]: must be an ISO 3166-1 alpha-2 code"},
      {[](v1::Persona& p) { p.mutable_criteria()->add_countries("D1"); },
       "persona.criteria.countries[1]"},
      {[](v1::Persona& p) { p.mutable_criteria()->add_industries(" "); },
       "persona.criteria.industries[1]: must not be empty"},
      {[](v1::Persona& p) { p.mutable_criteria()->add_title_keywords(""); },
       "persona.criteria.title_keywords[1]: must not be empty"},
      {[](v1::Persona& p) {
         p.mutable_criteria()->add_seniorities(static_cast<v1::Seniority>(99));
       },
       "persona.criteria.seniorities[1]"},
      {[](v1::Persona& p) {
         p.mutable_criteria()->add_seniorities(v1::SENIORITY_UNSPECIFIED);
       },
       "persona.criteria.seniorities[1]"},
      {[](v1::Persona& p) { p.add_pain_points(""); },
       "persona.pain_points[1]: must not be empty"},
      {[](v1::Persona& p) { p.add_goals(""); },
       "persona.goals[1]: must not be empty"},
      {[](v1::Persona& p) { p.add_journey(); }, "persona.journey[1].stage"},
      {[](v1::Persona& p) {
         p.add_journey()->set_stage(static_cast<v1::JourneyStage>(7));
       },
       "persona.journey[1].stage"},
      {[](v1::Persona& p) {
         p.add_journey()->set_stage(v1::JOURNEY_STAGE_AWARENESS);
       },
       "persona.journey[1].stage: duplicate stage AWARENESS"},
  };
  for (const Case& c : cases) {
    v1::Persona persona = ValidPersona("VP Engineering");
    c.change(persona);
    ExpectInvalid(Create(persona).status(), c.message);
  }
  // A rejected request changes nothing.
  EXPECT_EQ(PersonaCount(), 0);
}

TEST_F(PersonaBookTest, DisplayNameLimitCountsCharactersNotBytes) {
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";  // é
  EXPECT_TRUE(Create(ValidPersona(name)).ok());
  ExpectInvalid(Create(ValidPersona(name + "e")).status(),
                "persona.display_name");
}

TEST_F(PersonaBookTest, CreateAllowsOpenCriteria) {
  v1::Persona persona;
  persona.set_display_name("Anyone");
  persona.mutable_criteria()->set_min_employees(50);  // no maximum
  EXPECT_TRUE(Create(persona).ok());
}

TEST_F(PersonaBookTest, GetChecksTheName) {
  ExpectInvalid(Get("campaigns/0123456789abcdef0123").status(), "name");
  ExpectInvalid(Get("").status(), "name");
  absl::Status missing = Get("personas/0123456789abc0123456").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

TEST_F(PersonaBookTest, UpdateReplacesOnlyMaskedFields) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  clock_.Advance(absl::Minutes(5));

  v1::Persona patch;
  patch.set_name(created.name());
  patch.set_display_name("Head of Engineering");
  patch.set_description("ignored: not in the mask");
  absl::StatusOr<v1::Persona> updated = Update(patch, {"display_name"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "Head of Engineering");
  EXPECT_EQ(updated->description(), created.description());
  EXPECT_EQ(updated->criteria().SerializeAsString(),
            created.criteria().SerializeAsString());
  EXPECT_NE(updated->etag(), created.etag());
  EXPECT_EQ(FromProtoTime(updated->update_time()), clock_.Now());
  EXPECT_EQ(FromProtoTime(updated->create_time()),
            FromProtoTime(created.create_time()));

  absl::StatusOr<v1::Persona> got = Get(created.name());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->SerializeAsString(), updated->SerializeAsString());
}

TEST_F(PersonaBookTest, UpdateEachMaskPath) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch = ValidPersona("Other");
  patch.set_name(created.name());
  patch.set_description("new description");
  patch.mutable_criteria()->clear_industries();
  patch.mutable_criteria()->add_industries("fintech");
  patch.set_pain_points(0, "compliance");
  patch.set_goals(0, "audit ready");
  patch.set_value_proposition("new value");
  patch.mutable_journey(0)->set_stage(v1::JOURNEY_STAGE_DECISION);

  absl::StatusOr<v1::Persona> u = Update(patch, {"description"});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->description(), "new description");
  EXPECT_EQ(u->display_name(), "VP Engineering");
  u = Update(patch, {"criteria"});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_THAT(u->criteria().industries(), ElementsAre("fintech"));
  u = Update(patch, {"pain_points", "goals"});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_THAT(u->pain_points(), ElementsAre("compliance"));
  EXPECT_THAT(u->goals(), ElementsAre("audit ready"));
  u = Update(patch, {"value_proposition"});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->value_proposition(), "new value");
  u = Update(patch, {"journey"});
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->journey(0).stage(), v1::JOURNEY_STAGE_DECISION);
  EXPECT_EQ(u->display_name(), "VP Engineering");
}

TEST_F(PersonaBookTest, UpdateWithEmptyMaskReplacesEveryUpdatableField) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch;
  patch.set_name(created.name());
  patch.set_display_name("Minimal");
  absl::StatusOr<v1::Persona> updated = Update(patch, {});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "Minimal");
  EXPECT_TRUE(updated->description().empty());
  EXPECT_EQ(updated->criteria().industries_size(), 0);
  EXPECT_EQ(updated->journey_size(), 0);
  EXPECT_EQ(updated->name(), created.name());
}

TEST_F(PersonaBookTest, UpdateRejectsUnknownMaskPath) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch = created;
  patch.set_display_name("Changed");
  ExpectInvalid(Update(patch, {"display_name", "etag"}).status(),
                "update_mask.paths[1]");
  ExpectInvalid(Update(patch, {"create_time"}).status(), "update_mask");
  absl::StatusOr<v1::Persona> got = Get(created.name());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->display_name(), "VP Engineering");
}

TEST_F(PersonaBookTest, UpdateWithStaleEtagIsAbortedAndChangesNothing) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch = created;
  patch.set_display_name("First writer");
  absl::StatusOr<v1::Persona> first = Update(patch, {"display_name"});
  ASSERT_TRUE(first.ok()) << first.status();

  patch.set_display_name("Second writer");  // still carries the old etag
  absl::Status stale = Update(patch, {"display_name"}).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  absl::StatusOr<v1::Persona> got = Get(created.name());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->display_name(), "First writer");
  EXPECT_EQ(got->etag(), first->etag());

  patch.set_etag(first->etag());
  EXPECT_TRUE(Update(patch, {"display_name"}).ok());
}

TEST_F(PersonaBookTest, InvalidUpdateChangesNothing) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch = created;
  patch.mutable_criteria()->add_countries("Germany");
  patch.set_description("would change");
  ExpectInvalid(Update(patch, {"criteria", "description"}).status(),
                "persona.criteria.countries[1]");
  patch = created;
  patch.clear_display_name();
  ExpectInvalid(Update(patch, {"display_name"}).status(),
                "persona.display_name: required");
  absl::StatusOr<v1::Persona> got = Get(created.name());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->SerializeAsString(), created.SerializeAsString());
}

TEST_F(PersonaBookTest, UpdateChecksTheName) {
  v1::Persona patch = ValidPersona("x");
  ExpectInvalid(Update(patch, {}).status(), "persona.name");
  patch.set_name("personas/0123456789abc0123456");
  EXPECT_EQ(Update(patch, {}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PersonaBookTest, DeleteRemovesAndHonoursEtag) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  absl::Status stale = Delete(created.name(), "not-the-etag");
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  EXPECT_TRUE(Get(created.name()).ok());

  EXPECT_TRUE(Delete(created.name(), created.etag()).ok());
  EXPECT_EQ(Get(created.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Delete(created.name()).code(), absl::StatusCode::kNotFound);
  ExpectInvalid(Delete("personas/"), "name");
  int pages = 0;
  EXPECT_THAT(ListAll(10, "industry=software", &pages), IsEmpty());
}

TEST_F(PersonaBookTest, DeleteWithoutEtag) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  EXPECT_TRUE(Delete(created.name()).ok());
  EXPECT_EQ(PersonaCount(), 0);
}

TEST_F(PersonaBookTest, ListPagesInCreationOrder) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(MustCreate(ValidPersona("P" + std::to_string(i))).name());
  }
  absl::StatusOr<v1::ListPersonasResponse> first = List(2, "");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->personas_size(), 2);
  EXPECT_FALSE(first->next_page_token().empty());
  EXPECT_EQ(first->personas(0).name(), created[0]);

  int pages = 0;
  EXPECT_EQ(ListAll(2, "", &pages), created);
  EXPECT_EQ(pages, 3);
  // Exactly one full page: no token pointing at an empty page.
  absl::StatusOr<v1::ListPersonasResponse> all = List(5, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->personas_size(), 5);
  EXPECT_TRUE(all->next_page_token().empty());
  // page_size 0 means the default.
  all = List(0, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->personas_size(), 5);
}

TEST_F(PersonaBookTest, ListRejectsBadPaging) {
  EXPECT_EQ(List(-1, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(List(10, "not-a-token").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PersonaBookTest, ListFiltersByIndustryAcrossPages) {
  std::vector<std::string> saas;
  for (int i = 0; i < 7; ++i) {
    v1::Persona persona = ValidPersona("P" + std::to_string(i));
    persona.mutable_criteria()->clear_industries();
    if (i % 2 == 0) {
      persona.mutable_criteria()->add_industries("manufacturing");
      persona.mutable_criteria()->add_industries(i == 4 ? "SAAS" : "SaaS");
      saas.push_back(MustCreate(persona).name());
    } else {
      persona.mutable_criteria()->add_industries("retail");
      MustCreate(persona);
    }
  }
  int pages = 0;
  EXPECT_EQ(ListAll(2, "industry=saas", &pages), saas);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(ListAll(1, "INDUSTRY=\"SaaS\"", &pages), saas);
  EXPECT_THAT(ListAll(10, "industry=banking", &pages), IsEmpty());
  EXPECT_EQ(ListAll(3, "industry=retail", &pages).size(), 3u);

  ExpectInvalid(List(10, "", "stage=MQL").status(), "filter");
}

TEST_F(PersonaBookTest, UpdateMovesPersonaBetweenIndustryFilters) {
  v1::Persona created = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona patch = created;
  patch.mutable_criteria()->clear_industries();
  patch.mutable_criteria()->add_industries("fintech");
  ASSERT_TRUE(Update(patch, {"criteria"}).ok());
  int pages = 0;
  EXPECT_THAT(ListAll(10, "industry=software", &pages), IsEmpty());
  EXPECT_THAT(ListAll(10, "industry=fintech", &pages),
              ElementsAre(created.name()));
}

TEST_F(PersonaBookTest, MatchRanksStoredPersonas) {
  v1::Persona engineering = MustCreate(ValidPersona("VP Engineering"));
  v1::Persona retail = ValidPersona("Retail owner");
  retail.mutable_criteria()->clear_industries();
  retail.mutable_criteria()->add_industries("retail");
  retail = MustCreate(retail);

  v1::MatchPersonaRequest request;
  v1::LeadProfile* profile = request.mutable_profile();
  profile->set_industry("software");
  profile->set_employee_count(500);
  profile->set_country("de");
  profile->set_job_title("VP Engineering");
  profile->set_seniority(v1::SENIORITY_VP);
  absl::StatusOr<v1::MatchPersonaResponse> response = book_->Match(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->matches_size(), 2);
  EXPECT_EQ(response->matches(0).persona(), engineering.name());
  EXPECT_EQ(response->matches(0).score(), 100);
  EXPECT_EQ(response->matches(1).persona(), retail.name());
  EXPECT_EQ(response->matches(1).score(), 70);

  request.set_min_score(80);
  response = book_->Match(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->matches_size(), 1);
  request.set_min_score(0);
  request.set_max_results(1);
  response = book_->Match(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->matches_size(), 1);
  EXPECT_EQ(MatchesTotal(), 3);
}

// Match ranks the personas as of the last committed change, without reading
// the table: every change, and only a change that commits, shows at once.
TEST_F(PersonaBookTest, MatchFollowsEveryCommittedChangeAndARestart) {
  v1::MatchPersonaRequest request;
  request.mutable_profile()->set_industry("software");
  auto matched = [&]() -> std::vector<std::pair<std::string, int>> {
    absl::StatusOr<v1::MatchPersonaResponse> response = book_->Match(request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::pair<std::string, int>> out;
    if (!response.ok()) return out;
    for (const v1::PersonaMatch& m : response->matches()) {
      out.emplace_back(m.persona(), m.score());
    }
    return out;
  };
  v1::Persona persona = ValidPersona("VP Engineering");
  persona.mutable_criteria()->clear_min_employees();
  persona.mutable_criteria()->clear_max_employees();
  persona.mutable_criteria()->clear_countries();
  persona.mutable_criteria()->clear_title_keywords();
  persona.mutable_criteria()->clear_seniorities();
  EXPECT_THAT(matched(), IsEmpty());
  v1::Persona created = MustCreate(persona);
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(created.name(), 100)));

  v1::Persona patch;
  patch.set_name(created.name());
  patch.mutable_criteria()->add_industries("retail");
  absl::StatusOr<v1::Persona> updated = Update(patch, {"criteria"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(created.name(), 0)));

  // A change that fails is not seen.
  patch.mutable_criteria()->clear_industries();
  patch.mutable_criteria()->add_industries("software");
  patch.set_etag("stale");
  EXPECT_EQ(Update(patch, {"criteria"}).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(created.name(), 0)));
  EXPECT_EQ(Delete(created.name(), "stale").code(), absl::StatusCode::kAborted);
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(created.name(), 0)));

  // A new book over the same store (a restart) starts from what is stored.
  v1::Persona other = MustCreate(ValidPersona("Second"));
  book_ = std::make_unique<PersonaBook>(*db_, clock_, metrics_);
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(other.name(), 30),
                                     std::make_pair(created.name(), 0)));
  ASSERT_TRUE(Delete(created.name()).ok());
  EXPECT_THAT(matched(), ElementsAre(std::make_pair(other.name(), 30)));
}

TEST_F(PersonaBookTest, MatchValidatesRequest) {
  MustCreate(ValidPersona("VP Engineering"));
  v1::MatchPersonaRequest request;
  request.set_max_results(-1);
  ExpectInvalid(book_->Match(request).status(), "max_results");
  request.set_max_results(0);
  request.set_min_score(-1);
  ExpectInvalid(book_->Match(request).status(), "min_score");
  request.set_min_score(101);
  ExpectInvalid(book_->Match(request).status(), "min_score");
  request.set_min_score(100);
  EXPECT_TRUE(book_->Match(request).ok());
  request.mutable_profile()->set_employee_count(-3);
  ExpectInvalid(book_->Match(request).status(), "profile.employee_count");
  request.mutable_profile()->set_employee_count(0);
  request.mutable_profile()->set_country("Germany");
  ExpectInvalid(book_->Match(request).status(), "profile.country");
  request.mutable_profile()->set_country("");
  request.mutable_profile()->set_seniority(static_cast<v1::Seniority>(42));
  ExpectInvalid(book_->Match(request).status(), "profile.seniority");
  // Only evaluated requests are counted.
  EXPECT_EQ(MatchesTotal(), 1);
}

}  // namespace
}  // namespace handoff::persona
