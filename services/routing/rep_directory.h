#pragma once

#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/router.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

// Rep CRUD, status and out-of-office. Every write goes through
// Router::WriteRep, so routing sees the change at once and queued leads
// flow to a rep who became able to take them.
class RepDirectory {
 public:
  RepDirectory(RoutingStore& store, const Clock& clock, Router& router);

  absl::StatusOr<v1::Rep> CreateRep(const v1::CreateRepRequest& request);
  absl::StatusOr<v1::Rep> GetRep(const v1::GetRepRequest& request);
  absl::StatusOr<v1::ListRepsResponse> ListReps(
      const v1::ListRepsRequest& request);
  absl::StatusOr<v1::Rep> UpdateRep(const v1::UpdateRepRequest& request);
  absl::StatusOr<v1::Rep> SetRepStatus(const v1::SetRepStatusRequest& request);
  absl::StatusOr<v1::Rep> SetOutOfOffice(
      const v1::SetOutOfOfficeRequest& request);
  // FAILED_PRECONDITION while the rep has open assignments.
  absl::Status DeleteRep(const v1::DeleteRepRequest& request);

 private:
  absl::StatusOr<v1::Rep> Get(std::string_view id);
  // Reads the rep `name` (the request field `name_field`), checks `etag`
  // when given, applies `change`, validates and writes it.
  absl::StatusOr<v1::Rep> Modify(std::string_view name_field,
                                 std::string_view name, std::string_view etag,
                                 absl::FunctionRef<void(v1::Rep&)> change);

  RoutingStore& store_;
  const Clock& clock_;
  Router& router_;
};

}  // namespace handoff::routing
