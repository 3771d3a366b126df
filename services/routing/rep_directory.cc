#include "services/routing/rep_directory.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxEmail = 254;
constexpr int kMaxCapacity = 10000;

const std::set<std::string, std::less<>>& UpdatableFields() {
  static const auto* fields = new std::set<std::string, std::less<>>{
      "display_name",  "email",        "team",
      "capacity",      "status",       "manager",
      "territories",   "segments",     "persona_specialties",
      "daily_cap",     "weight",       "time_zone",
      "working_hours", "out_of_office"};
  return *fields;
}

constexpr int kMaxOutOfOffice = 100;

// Copies the masked fields of `patch` onto `rep`.
void ApplyMask(const std::set<std::string, std::less<>>& paths,
               const v1::Rep& patch, v1::Rep& rep) {
  auto has = [&](std::string_view path) { return paths.contains(path); };
  if (has("display_name")) rep.set_display_name(patch.display_name());
  if (has("email")) rep.set_email(patch.email());
  if (has("team")) rep.set_team(patch.team());
  if (has("capacity")) rep.set_capacity(patch.capacity());
  if (has("status")) rep.set_status(patch.status());
  if (has("manager")) rep.set_manager(patch.manager());
  if (has("territories")) *rep.mutable_territories() = patch.territories();
  if (has("segments")) *rep.mutable_segments() = patch.segments();
  if (has("persona_specialties")) {
    *rep.mutable_persona_specialties() = patch.persona_specialties();
  }
  if (has("daily_cap")) rep.set_daily_cap(patch.daily_cap());
  if (has("weight")) rep.set_weight(patch.weight());
  if (has("time_zone")) rep.set_time_zone(patch.time_zone());
  if (has("working_hours"))
    *rep.mutable_working_hours() = patch.working_hours();
  if (has("out_of_office"))
    *rep.mutable_out_of_office() = patch.out_of_office();
}

bool IsPlausibleEmail(std::string_view email) {
  if (email.size() > kMaxEmail) return false;
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view domain = email.substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') {
    return false;
  }
  for (char c : email) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateRep(const v1::Rep& rep) {
  if (rep.display_name().empty()) {
    return InvalidField("rep.display_name", "required");
  }
  if (rep.display_name().size() > kMaxDisplayName) {
    return InvalidField(
        "rep.display_name",
        absl::StrCat("at most ", kMaxDisplayName, " characters"));
  }
  if (!rep.email().empty() && !IsPlausibleEmail(rep.email())) {
    return InvalidField("rep.email", "not a valid email address");
  }
  if (rep.team().empty()) return InvalidField("rep.team", "required");
  if (absl::Status s = engine::CheckShortName(rep.team(), "rep.team");
      !s.ok()) {
    return s;
  }
  if (rep.capacity() < 1 || rep.capacity() > kMaxCapacity) {
    return InvalidField("rep.capacity",
                        absl::StrCat("must be between 1 and ", kMaxCapacity));
  }
  if (absl::Status s =
          CheckEnum("rep.status", rep.status(), v1::RepStatus_descriptor());
      !s.ok()) {
    return s;
  }
  if (rep.out_of_office_size() > kMaxOutOfOffice) {
    return InvalidField("rep.out_of_office",
                        absl::StrCat("at most ", kMaxOutOfOffice, " periods"));
  }
  return engine::ValidateRepRouting(rep, "rep");
}

// The manager must be another existing rep.
absl::Status CheckManager(RoutingStore& store, Transaction& tx,
                          const v1::Rep& rep) {
  if (rep.manager().empty()) return absl::OkStatus();
  if (rep.manager() == rep.name()) {
    return InvalidField("rep.manager", "a rep cannot manage themselves");
  }
  absl::StatusOr<std::string> id =
      ParseResourceName("rep.manager", rep.manager(), "reps");
  if (!id.ok()) return id.status();
  absl::StatusOr<std::optional<RepWithLoad>> found = store.FindRep(tx, *id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return InvalidField("rep.manager",
                        absl::StrCat("no such rep ", rep.manager()));
  }
  return absl::OkStatus();
}

}  // namespace

RepDirectory::RepDirectory(RoutingStore& store, const Clock& clock,
                           Router& router)
    : store_(store), clock_(clock), router_(router) {}

absl::StatusOr<v1::Rep> RepDirectory::CreateRep(
    const v1::CreateRepRequest& request) {
  v1::Rep rep = request.rep();
  rep.clear_name();
  if (rep.status() == v1::REP_STATUS_UNSPECIFIED) {
    rep.set_status(v1::REP_STATUS_AVAILABLE);
  }
  if (absl::Status s = ValidateRep(rep); !s.ok()) return s;

  absl::StatusOr<v1::Rep> created;
  absl::Status status = router_.WriteRep([&]() -> absl::StatusOr<std::string> {
    created = IdempotentWrite<v1::Rep>(
        store_.db(), "CreateRep", request.request_id(),
        [&](Transaction& tx) -> absl::StatusOr<v1::Rep> {
          if (absl::Status s = CheckManager(store_, tx, rep); !s.ok()) {
            return s;
          }
          const absl::Time now = clock_.Now();
          const std::string id = NewId(now);
          v1::Rep stored = rep;
          stored.set_name(ResourceName("reps", id));
          stored.set_open_assignments(0);
          *stored.mutable_create_time() = ToProtoTime(now);
          *stored.mutable_update_time() = ToProtoTime(now);
          stored.set_etag(NewEtag());
          if (absl::Status s = store_.InsertRep(tx, id, stored); !s.ok()) {
            return s;
          }
          return stored;
        });
    if (!created.ok()) return created.status();
    return created->name();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Rep> RepDirectory::GetRep(const v1::GetRepRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "reps");
  if (!id.ok()) return id.status();
  return Get(*id);
}

absl::StatusOr<v1::Rep> RepDirectory::Get(std::string_view id) {
  std::optional<RepWithLoad> found;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<RepWithLoad>> rep = store_.FindRep(tx, id);
    if (!rep.ok()) return rep.status();
    found = *std::move(rep);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!found.has_value()) return NotFound(ResourceName("reps", id));
  return found->rep;
}

absl::StatusOr<v1::ListRepsResponse> RepDirectory::ListReps(
    const v1::ListRepsRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> terms =
      ParseFilter(request.filter(), {"team", "status"});
  if (!terms.ok()) return terms.status();
  RepFilter filter;
  if (auto it = terms->find("team"); it != terms->end()) {
    filter.team = it->second;
  }
  if (auto it = terms->find("status"); it != terms->end()) {
    absl::StatusOr<int> status = ParseEnumName(
        "filter", it->second, v1::RepStatus_descriptor(), "REP_STATUS_");
    if (!status.ok()) return status.status();
    filter.status = static_cast<v1::RepStatus>(*status);
  }

  std::vector<RepWithLoad> reps;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<RepWithLoad>> rows =
        store_.ListReps(tx, filter, *page);
    if (!rows.ok()) return rows.status();
    reps = *std::move(rows);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  v1::ListRepsResponse response;
  const bool more = static_cast<int>(reps.size()) > page->limit;
  if (more) reps.resize(page->limit);
  for (RepWithLoad& rep : reps) *response.add_reps() = std::move(rep.rep);
  if (more && !reps.empty()) {
    response.set_next_page_token(MakePageToken(reps.back().id));
  }
  return response;
}

absl::StatusOr<v1::Rep> RepDirectory::Modify(
    std::string_view name_field, std::string_view name, std::string_view etag,
    absl::FunctionRef<void(v1::Rep&)> change) {
  absl::StatusOr<std::string> id = ParseResourceName(name_field, name, "reps");
  if (!id.ok()) return id.status();
  absl::Status status = router_.WriteRep([&]() -> absl::StatusOr<std::string> {
    absl::Status written =
        store_.db().Write([&](Transaction& tx) -> absl::Status {
          absl::StatusOr<std::optional<RepWithLoad>> found =
              store_.FindRep(tx, *id);
          if (!found.ok()) return found.status();
          if (!found->has_value()) return NotFound(name);
          const v1::Rep& current = (*found)->rep;
          if (!etag.empty() && etag != current.etag()) {
            return StaleEtag(name, etag, current.etag());
          }
          v1::Rep updated = current;
          change(updated);
          updated.set_name(current.name());
          if (absl::Status s = ValidateRep(updated); !s.ok()) return s;
          if (absl::Status s = CheckManager(store_, tx, updated); !s.ok()) {
            return s;
          }
          *updated.mutable_update_time() = ToProtoTime(clock_.Now());
          updated.set_etag(NewEtag());
          return store_.UpdateRep(tx, *id, updated);
        });
    if (!written.ok()) return written;
    return std::string(name);
  });
  if (!status.ok()) return status;
  // Re-read so open_assignments includes whatever the drain just offered.
  return Get(*id);
}

absl::StatusOr<v1::Rep> RepDirectory::UpdateRep(
    const v1::UpdateRepRequest& request) {
  const v1::Rep& patch = request.rep();
  std::set<std::string, std::less<>> paths;
  for (const std::string& path : request.update_mask().paths()) {
    if (!UpdatableFields().contains(path)) {
      return InvalidField("update_mask",
                          absl::StrCat("\"", path, "\" cannot be updated"));
    }
    paths.insert(path);
  }
  if (paths.empty()) paths = UpdatableFields();
  return Modify("rep.name", patch.name(), patch.etag(),
                [&](v1::Rep& rep) { ApplyMask(paths, patch, rep); });
}

absl::StatusOr<v1::Rep> RepDirectory::SetRepStatus(
    const v1::SetRepStatusRequest& request) {
  if (request.status() != v1::REP_STATUS_AVAILABLE &&
      request.status() != v1::REP_STATUS_AWAY) {
    return InvalidField("status", "must be AVAILABLE or AWAY");
  }
  return Modify("name", request.name(), "",
                [&](v1::Rep& rep) { rep.set_status(request.status()); });
}

absl::StatusOr<v1::Rep> RepDirectory::SetOutOfOffice(
    const v1::SetOutOfOfficeRequest& request) {
  if (request.out_of_office_size() > kMaxOutOfOffice) {
    return InvalidField("out_of_office",
                        absl::StrCat("at most ", kMaxOutOfOffice, " periods"));
  }
  return Modify("name", request.name(), "", [&](v1::Rep& rep) {
    *rep.mutable_out_of_office() = request.out_of_office();
  });
}

absl::Status RepDirectory::DeleteRep(const v1::DeleteRepRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "reps");
  if (!id.ok()) return id.status();
  return router_.WriteRep([&]() -> absl::StatusOr<std::string> {
    absl::Status written =
        store_.db().Write([&](Transaction& tx) -> absl::Status {
          absl::StatusOr<std::optional<RepWithLoad>> found =
              store_.FindRep(tx, *id);
          if (!found.ok()) return found.status();
          if (!found->has_value()) return NotFound(request.name());
          if ((*found)->open > 0) {
            return WrongState(
                request.name(),
                absl::StrCat("has ", (*found)->open,
                             " open assignments; reassign or close them "
                             "first (set the rep AWAY to stop new ones)"));
          }
          return store_.DeleteRep(tx, *id);
        });
    if (!written.ok()) return written;
    return request.name();
  });
}

}  // namespace handoff::routing
