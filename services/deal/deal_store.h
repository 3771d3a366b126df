#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/storage/database.h"
#include "handoff/deal/v1/deal.pb.h"

namespace handoff::deal {

struct DealQuery {
  // Each empty / zero when not filtered on.
  std::string lead;
  std::string owner;
  v1::DealStage stage = v1::DEAL_STAGE_UNSPECIFIED;
  // Deals whose id sorts after this, in id order.
  std::string after_id;
  int limit = 50;
};

// The deals table. Every method runs inside the caller's transaction so
// domain code can combine it with the outbox in one commit.
class DealStore {
 public:
  explicit DealStore(Database& db) : db_(db) {}

  Database& db() { return db_; }
  // Creates or upgrades the deal schema.
  absl::Status Migrate();

  absl::StatusOr<std::optional<v1::Deal>> Find(Transaction& tx,
                                               std::string_view id) const;
  // The lead's open or won deal, if any; lost deals do not count.
  absl::StatusOr<std::optional<v1::Deal>> FindActiveForLead(
      Transaction& tx, std::string_view lead) const;
  // ALREADY_EXISTS when the lead already has an open or won deal.
  absl::Status Insert(Transaction& tx, std::string_view id,
                      const v1::Deal& deal) const;
  absl::Status Update(Transaction& tx, std::string_view id,
                      const v1::Deal& deal) const;
  absl::StatusOr<std::vector<v1::Deal>> List(Transaction& tx,
                                             const DealQuery& query) const;

 private:
  Database& db_;
};

}  // namespace handoff::deal
