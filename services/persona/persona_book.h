#pragma once

#include <prometheus/counter.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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
  using PersonaList = std::shared_ptr<const std::vector<v1::Persona>>;

  // Every persona, read in the transaction that changed them and published
  // once that change is durable: MatchPersona ranks them without a read.
  void PublishAfterCommit(Transaction& tx);
  PersonaList Personas();
  absl::StatusOr<PersonaList> ReadPersonas();

  Database& db_;
  const Clock& clock_;
  PersonaStore store_;
  prometheus::Counter& matches_total_;
  absl::Mutex personas_mu_;
  // Null only after a failed read of the table: Match then reads it itself.
  PersonaList personas_ ABSL_GUARDED_BY(personas_mu_);
};

}  // namespace handoff::persona
