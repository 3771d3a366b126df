#pragma once

#include <prometheus/counter.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/storage/database.h"
#include "handoff/persona/v1/persona.pb.h"
#include "services/persona/persona_store.h"

namespace handoff::persona {

// The PersonaService rules: validation, etags, update masks, paging and
// matching. `db` must already be migrated (PersonaStore::Migrate).
class PersonaBook {
 public:
  PersonaBook(Database& db, const Clock& clock, Metrics& metrics);

  absl::StatusOr<v1::Persona> Create(const v1::CreatePersonaRequest& request);
  absl::StatusOr<v1::Persona> Get(const v1::GetPersonaRequest& request);
  absl::StatusOr<v1::ListPersonasResponse> List(
      const v1::ListPersonasRequest& request);
  absl::StatusOr<v1::Persona> Update(const v1::UpdatePersonaRequest& request);
  absl::Status Delete(const v1::DeletePersonaRequest& request);
  absl::StatusOr<v1::MatchPersonaResponse> Match(
      const v1::MatchPersonaRequest& request);

 private:
  Database& db_;
  const Clock& clock_;
  PersonaStore store_;
  prometheus::Counter& matches_total_;
};

}  // namespace handoff::persona
