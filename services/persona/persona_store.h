#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/storage/database.h"
#include "handoff/persona/v1/persona.pb.h"

namespace handoff::persona {

// The personas table and its industry index; the only place with persona SQL.
class PersonaStore {
 public:
  static absl::Status Migrate(Database& db);

  absl::StatusOr<std::optional<v1::Persona>> Find(Transaction& tx,
                                                  std::string_view id) const;
  absl::Status Insert(Transaction& tx, std::string_view id,
                      const v1::Persona& persona) const;
  absl::Status Replace(Transaction& tx, std::string_view id,
                       const v1::Persona& persona) const;
  // Returns whether a persona with `id` existed.
  absl::StatusOr<bool> Remove(Transaction& tx, std::string_view id) const;

  // Up to `limit` personas with id > `after_id`, by id. When `industry` is
  // set, only personas listing it (case-insensitively).
  absl::StatusOr<std::vector<v1::Persona>> ListAfter(
      Transaction& tx, std::string_view after_id, int limit,
      std::optional<std::string_view> industry) const;
  absl::StatusOr<std::vector<v1::Persona>> All(Transaction& tx) const;

 private:
  absl::Status IndexIndustries(Transaction& tx, std::string_view id,
                               const v1::Persona& persona) const;
};

}  // namespace handoff::persona
