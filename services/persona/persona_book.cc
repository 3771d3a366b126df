#include "services/persona/persona_book.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "common/strings.h"
#include "services/persona/persona_matcher.h"

namespace handoff::persona {
namespace {

constexpr std::string_view kCollection = "personas";
constexpr size_t kMaxDisplayNameChars = 200;

size_t Utf8Chars(std::string_view s) {
  size_t chars = 0;
  for (char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

std::string Indexed(std::string_view field, int index) {
  return absl::StrCat(Sv(field), "[", index, "]");
}

absl::Status CheckNonEmptyItems(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& items) {
  for (int i = 0; i < items.size(); ++i) {
    if (absl::StripAsciiWhitespace(items[i]).empty()) {
      return InvalidField(Indexed(field, i), "must not be empty");
    }
  }
  return absl::OkStatus();
}

bool IsCountryCode(std::string_view code) {
  return code.size() == 2 && absl::ascii_isupper(code[0]) &&
         absl::ascii_isupper(code[1]);
}

// Checks `criteria` (request field `field`) and upper-cases its countries.
absl::Status NormalizeCriteria(std::string_view field,
                               v1::PersonaCriteria& criteria) {
  if (absl::Status s = CheckNonEmptyItems(
          absl::StrCat(Sv(field), ".industries"), criteria.industries());
      !s.ok()) {
    return s;
  }
  if (criteria.min_employees() < 0) {
    return InvalidField(absl::StrCat(Sv(field), ".min_employees"),
                        "must not be negative");
  }
  if (criteria.max_employees() < 0) {
    return InvalidField(absl::StrCat(Sv(field), ".max_employees"),
                        "must not be negative");
  }
  if (criteria.min_employees() > 0 && criteria.max_employees() > 0 &&
      criteria.min_employees() > criteria.max_employees()) {
    return InvalidField(absl::StrCat(Sv(field), ".max_employees"),
                        absl::StrCat("must be at least min_employees (",
                                     criteria.min_employees(), "), got ",
                                     criteria.max_employees()));
  }
  for (int i = 0; i < criteria.countries_size(); ++i) {
    std::string code = absl::AsciiStrToUpper(
        absl::StripAsciiWhitespace(criteria.countries(i)));
    if (!IsCountryCode(code)) {
      return InvalidField(
          Indexed(absl::StrCat(Sv(field), ".countries"), i),
          absl::StrCat("must be an ISO 3166-1 alpha-2 code such as \"DE\", "
                       "got \"",
                       criteria.countries(i), "\""));
    }
    *criteria.mutable_countries(i) = std::move(code);
  }
  if (absl::Status s =
          CheckNonEmptyItems(absl::StrCat(Sv(field), ".title_keywords"),
                             criteria.title_keywords());
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < criteria.seniorities_size(); ++i) {
    if (absl::Status s =
            CheckEnum(Indexed(absl::StrCat(Sv(field), ".seniorities"), i),
                      criteria.seniorities(i), v1::Seniority_descriptor());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Checks the client-settable fields of `persona` (request field `field`)
// and normalizes them in place.
absl::Status NormalizePersona(std::string_view field, v1::Persona& persona) {
  const std::string display_name = absl::StrCat(Sv(field), ".display_name");
  if (absl::StripAsciiWhitespace(persona.display_name()).empty()) {
    return InvalidField(display_name, "required");
  }
  if (Utf8Chars(persona.display_name()) > kMaxDisplayNameChars) {
    return InvalidField(
        display_name,
        absl::StrCat("at most ", kMaxDisplayNameChars, " characters"));
  }
  if (absl::Status s = NormalizeCriteria(absl::StrCat(Sv(field), ".criteria"),
                                         *persona.mutable_criteria());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNonEmptyItems(
          absl::StrCat(Sv(field), ".pain_points"), persona.pain_points());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNonEmptyItems(absl::StrCat(Sv(field), ".goals"),
                                          persona.goals());
      !s.ok()) {
    return s;
  }
  std::vector<bool> seen(v1::JourneyStage_ARRAYSIZE, false);
  for (int i = 0; i < persona.journey_size(); ++i) {
    const std::string stage =
        absl::StrCat(Indexed(absl::StrCat(Sv(field), ".journey"), i), ".stage");
    const int value = persona.journey(i).stage();
    if (absl::Status s = CheckEnum(stage, value, v1::JourneyStage_descriptor());
        !s.ok()) {
      return s;
    }
    // One entry per stage, so a reader never has to pick between two.
    if (seen[value]) {
      return InvalidField(
          stage,
          absl::StrCat("duplicate stage ",
                       ShortEnumName(value, v1::JourneyStage_descriptor(),
                                     "JOURNEY_STAGE_")));
    }
    seen[value] = true;
  }
  return absl::OkStatus();
}

using FieldCopier = std::function<void(const v1::Persona&, v1::Persona&)>;

// The update_mask paths UpdatePersona accepts, in proto order.
const std::vector<std::pair<std::string_view, FieldCopier>>& UpdatableFields() {
  static const auto* fields =
      new std::vector<std::pair<std::string_view, FieldCopier>>{
          {"display_name",
           [](const v1::Persona& from, v1::Persona& to) {
             to.set_display_name(from.display_name());
           }},
          {"description",
           [](const v1::Persona& from, v1::Persona& to) {
             to.set_description(from.description());
           }},
          {"criteria",
           [](const v1::Persona& from, v1::Persona& to) {
             *to.mutable_criteria() = from.criteria();
           }},
          {"pain_points",
           [](const v1::Persona& from, v1::Persona& to) {
             *to.mutable_pain_points() = from.pain_points();
           }},
          {"goals",
           [](const v1::Persona& from, v1::Persona& to) {
             *to.mutable_goals() = from.goals();
           }},
          {"value_proposition",
           [](const v1::Persona& from, v1::Persona& to) {
             to.set_value_proposition(from.value_proposition());
           }},
          {"journey",
           [](const v1::Persona& from, v1::Persona& to) {
             *to.mutable_journey() = from.journey();
           }},
      };
  return *fields;
}

// The copiers for `mask`; an empty mask means every updatable field.
absl::StatusOr<std::vector<const FieldCopier*>> CopiersFor(
    const google::protobuf::FieldMask& mask) {
  std::vector<const FieldCopier*> copiers;
  if (mask.paths().empty()) {
    for (const auto& [path, copier] : UpdatableFields()) {
      copiers.push_back(&copier);
    }
    return copiers;
  }
  for (int i = 0; i < mask.paths_size(); ++i) {
    const FieldCopier* found = nullptr;
    for (const auto& [path, copier] : UpdatableFields()) {
      if (mask.paths(i) == path) found = &copier;
    }
    if (found == nullptr) {
      return InvalidField(
          Indexed("update_mask.paths", i),
          absl::StrCat("\"", mask.paths(i),
                       "\" is not an updatable field; use display_name, "
                       "description, criteria, pain_points, goals, "
                       "value_proposition or journey"));
    }
    copiers.push_back(found);
  }
  return copiers;
}

absl::Status ValidateProfile(v1::LeadProfile& profile) {
  if (profile.employee_count() < 0) {
    return InvalidField("profile.employee_count", "must not be negative");
  }
  std::string country =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(profile.country()));
  if (!country.empty() && !IsCountryCode(country)) {
    return InvalidField(
        "profile.country",
        absl::StrCat(
            "must be an ISO 3166-1 alpha-2 code such as \"DE\", got \"",
            profile.country(), "\""));
  }
  profile.set_country(std::move(country));
  return CheckEnum("profile.seniority", profile.seniority(),
                   v1::Seniority_descriptor(), /*allow_unspecified=*/true);
}

}  // namespace

PersonaBook::PersonaBook(Database& db, const Clock& clock, Metrics& metrics)
    : db_(db),
      clock_(clock),
      matches_total_(metrics.Counter("handoff_persona_matches_total",
                                     "MatchPersona requests evaluated.")) {
  // Outside any RPC: returns once what it read is durable.
  absl::StatusOr<PersonaList> loaded = ReadPersonas();
  if (loaded.ok()) {
    absl::MutexLock lock(&personas_mu_);
    personas_ = *std::move(loaded);
  } else {
    Log(LogLevel::kWarning, "persona.list_load_failed",
        {{"error", loaded.status().ToString()}});
  }
}

absl::StatusOr<PersonaBook::PersonaList> PersonaBook::ReadPersonas() {
  PersonaList personas;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<v1::Persona>> all = store_.All(tx);
    if (!all.ok()) return all.status();
    personas =
        std::make_shared<const std::vector<v1::Persona>>(*std::move(all));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return personas;
}

void PersonaBook::PublishAfterCommit(Transaction& tx) {
  absl::StatusOr<std::vector<v1::Persona>> all = store_.All(tx);
  PersonaList next =
      all.ok()
          ? std::make_shared<const std::vector<v1::Persona>>(*std::move(all))
          : nullptr;
  // Hooks run in commit order, so the last change published is the latest.
  tx.AfterCommit([this, next = std::move(next)] {
    absl::MutexLock lock(&personas_mu_);
    personas_ = next;
  });
}

PersonaBook::PersonaList PersonaBook::Personas() {
  absl::MutexLock lock(&personas_mu_);
  return personas_;
}

absl::StatusOr<v1::Persona> PersonaBook::Create(
    const v1::CreatePersonaRequest& request) {
  v1::Persona persona = request.persona();
  if (absl::Status s = NormalizePersona("persona", persona); !s.ok()) return s;
  return IdempotentWrite<v1::Persona>(
      db_, "CreatePersona", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Persona> {
        const absl::Time now = clock_.Now();
        const std::string id = NewId(now);
        v1::Persona created = persona;
        created.set_name(ResourceName(kCollection, id));
        *created.mutable_create_time() = ToProtoTime(now);
        *created.mutable_update_time() = ToProtoTime(now);
        created.set_etag(NewEtag());
        if (absl::Status s = store_.Insert(tx, id, created); !s.ok()) return s;
        PublishAfterCommit(tx);
        return created;
      });
}

absl::StatusOr<v1::Persona> PersonaBook::Get(
    const v1::GetPersonaRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), kCollection);
  if (!id.ok()) return id.status();
  std::optional<v1::Persona> persona;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Persona>> found = store_.Find(tx, *id);
    if (!found.ok()) return found.status();
    persona = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!persona.has_value()) return NotFound(request.name());
  return *std::move(persona);
}

absl::StatusOr<v1::ListPersonasResponse> PersonaBook::List(
    const v1::ListPersonasRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> filter =
      ParseFilter(request.filter(), {"industry"});
  if (!filter.ok()) return filter.status();
  std::optional<std::string> industry;
  for (const auto& [key, value] : *filter) {
    if (absl::EqualsIgnoreCase(key, "industry")) industry = value;
  }
  if (industry.has_value() && absl::StripAsciiWhitespace(*industry).empty()) {
    return InvalidField("filter", "industry must not be empty");
  }

  std::vector<v1::Persona> rows;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    // One extra row tells whether another page exists.
    absl::StatusOr<std::vector<v1::Persona>> found =
        store_.ListAfter(tx, page->after_key, page->limit + 1, industry);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  v1::ListPersonasResponse response;
  const bool more = rows.size() > static_cast<size_t>(page->limit);
  if (more) rows.resize(page->limit);
  for (v1::Persona& persona : rows) {
    *response.add_personas() = std::move(persona);
  }
  if (more) {
    absl::StatusOr<std::string> last_id = ParseResourceName(
        "name", response.personas().rbegin()->name(), kCollection);
    if (!last_id.ok()) return last_id.status();
    response.set_next_page_token(MakePageToken(*last_id));
  }
  return response;
}

absl::StatusOr<v1::Persona> PersonaBook::Update(
    const v1::UpdatePersonaRequest& request) {
  const v1::Persona& patch = request.persona();
  absl::StatusOr<std::string> id =
      ParseResourceName("persona.name", patch.name(), kCollection);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::vector<const FieldCopier*>> copiers =
      CopiersFor(request.update_mask());
  if (!copiers.ok()) return copiers.status();

  v1::Persona updated;
  absl::Status status = db_.Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Persona>> current = store_.Find(tx, *id);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return NotFound(patch.name());
    updated = **std::move(current);
    if (!patch.etag().empty() && patch.etag() != updated.etag()) {
      return StaleEtag(patch.name(), patch.etag(), updated.etag());
    }
    for (const FieldCopier* copy : *copiers) (*copy)(patch, updated);
    if (absl::Status s = NormalizePersona("persona", updated); !s.ok()) {
      return s;
    }
    *updated.mutable_update_time() = ToProtoTime(clock_.Now());
    updated.set_etag(NewEtag());
    if (absl::Status s = store_.Replace(tx, *id, updated); !s.ok()) return s;
    PublishAfterCommit(tx);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return updated;
}

absl::Status PersonaBook::Delete(const v1::DeletePersonaRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), kCollection);
  if (!id.ok()) return id.status();
  return db_.Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Persona>> current = store_.Find(tx, *id);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return NotFound(request.name());
    const std::string& etag = (*current)->etag();
    if (!request.etag().empty() && request.etag() != etag) {
      return StaleEtag(request.name(), request.etag(), etag);
    }
    if (absl::Status s = store_.Remove(tx, *id).status(); !s.ok()) return s;
    PublishAfterCommit(tx);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::MatchPersonaResponse> PersonaBook::Match(
    const v1::MatchPersonaRequest& request) {
  if (request.max_results() < 0) {
    return InvalidField("max_results", "must not be negative");
  }
  if (request.min_score() < 0 || request.min_score() > 100) {
    return InvalidField(
        "min_score", absl::StrCat("must be 0-100, got ", request.min_score()));
  }
  v1::LeadProfile profile = request.profile();
  if (absl::Status s = ValidateProfile(profile); !s.ok()) return s;

  PersonaList personas = Personas();
  if (personas == nullptr) {
    absl::StatusOr<PersonaList> read = ReadPersonas();
    if (!read.ok()) return read.status();
    personas = *std::move(read);
  }
  matches_total_.Increment();

  v1::MatchPersonaResponse response;
  for (v1::PersonaMatch& match : RankPersonas(
           *personas, profile, request.min_score(), request.max_results())) {
    *response.add_matches() = std::move(match);
  }
  return response;
}

}  // namespace handoff::persona
