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

namespace handoff::routing {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxTeam = 64;
constexpr size_t kMaxEmail = 254;
constexpr int kMaxCapacity = 10000;

const std::set<std::string, std::less<>>& UpdatableFields() {
  static const auto* fields = new std::set<std::string, std::less<>>{
      "display_name", "email", "team", "capacity", "status"};
  return *fields;
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

// Teams become metric label values, so they are short identifiers.
bool IsValidTeam(std::string_view team) {
  if (team.empty() || team.size() > kMaxTeam) return false;
  for (char c : team) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_' && c != '.') {
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
  if (!IsValidTeam(rep.team())) {
    return InvalidField("rep.team",
                        absl::StrCat("at most ", kMaxTeam,
                                     " letters, digits, '-', '_' or '.'"));
  }
  if (rep.capacity() < 1 || rep.capacity() > kMaxCapacity) {
    return InvalidField("rep.capacity",
                        absl::StrCat("must be between 1 and ", kMaxCapacity));
  }
  return CheckEnum("rep.status", rep.status(), v1::RepStatus_descriptor());
}

}  // namespace

RepDirectory::RepDirectory(RoutingStore& store, const Clock& clock,
                           std::function<void()> capacity_added)
    : store_(store),
      clock_(clock),
      capacity_added_(std::move(capacity_added)) {}

absl::StatusOr<v1::Rep> RepDirectory::CreateRep(
    const v1::CreateRepRequest& request) {
  v1::Rep rep = request.rep();
  if (rep.status() == v1::REP_STATUS_UNSPECIFIED) {
    rep.set_status(v1::REP_STATUS_AVAILABLE);
  }
  if (absl::Status s = ValidateRep(rep); !s.ok()) return s;

  absl::StatusOr<v1::Rep> created = IdempotentWrite<v1::Rep>(
      store_.db(), "CreateRep", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Rep> {
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
  if (created.ok() && created->status() == v1::REP_STATUS_AVAILABLE &&
      capacity_added_) {
    capacity_added_();
  }
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

absl::StatusOr<v1::Rep> RepDirectory::UpdateRep(
    const v1::UpdateRepRequest& request) {
  const v1::Rep& patch = request.rep();
  absl::StatusOr<std::string> id =
      ParseResourceName("rep.name", patch.name(), "reps");
  if (!id.ok()) return id.status();
  std::set<std::string, std::less<>> paths;
  for (const std::string& path : request.update_mask().paths()) {
    if (!UpdatableFields().contains(path)) {
      return InvalidField("update_mask",
                          absl::StrCat("\"", path, "\" cannot be updated"));
    }
    paths.insert(path);
  }
  if (paths.empty()) paths = UpdatableFields();

  bool added_capacity = false;
  absl::Status status = store_.db().Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<RepWithLoad>> found = store_.FindRep(tx, *id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return NotFound(patch.name());
    const v1::Rep& current = (*found)->rep;
    if (!patch.etag().empty() && patch.etag() != current.etag()) {
      return StaleEtag(patch.name(), patch.etag(), current.etag());
    }
    v1::Rep updated = current;
    if (paths.contains("display_name")) {
      updated.set_display_name(patch.display_name());
    }
    if (paths.contains("email")) updated.set_email(patch.email());
    if (paths.contains("team")) updated.set_team(patch.team());
    if (paths.contains("capacity")) updated.set_capacity(patch.capacity());
    if (paths.contains("status")) updated.set_status(patch.status());
    if (absl::Status s = ValidateRep(updated); !s.ok()) return s;

    *updated.mutable_update_time() = ToProtoTime(clock_.Now());
    updated.set_etag(NewEtag());
    if (absl::Status s = store_.UpdateRep(tx, *id, updated); !s.ok()) return s;
    added_capacity = updated.status() == v1::REP_STATUS_AVAILABLE &&
                     (current.status() != v1::REP_STATUS_AVAILABLE ||
                      updated.capacity() > current.capacity());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (added_capacity && capacity_added_) capacity_added_();
  // Re-read so open_assignments includes whatever the drain just offered.
  return Get(*id);
}

}  // namespace handoff::routing
