#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

// Rep CRUD: CreateRep, GetRep, ListReps, UpdateRep.
class RepDirectory {
 public:
  // `capacity_added` runs after a write that may let a queued lead be
  // offered (a rep became available or gained capacity); the module wires it
  // to Router::DrainQueue.
  RepDirectory(RoutingStore& store, const Clock& clock,
               std::function<void()> capacity_added);

  absl::StatusOr<v1::Rep> CreateRep(const v1::CreateRepRequest& request);
  absl::StatusOr<v1::Rep> GetRep(const v1::GetRepRequest& request);
  absl::StatusOr<v1::ListRepsResponse> ListReps(
      const v1::ListRepsRequest& request);
  absl::StatusOr<v1::Rep> UpdateRep(const v1::UpdateRepRequest& request);

 private:
  absl::StatusOr<v1::Rep> Get(std::string_view id);

  RoutingStore& store_;
  const Clock& clock_;
  std::function<void()> capacity_added_;
};

}  // namespace handoff::routing
