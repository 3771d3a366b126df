#include "services/persona/persona_server.h"

#include "services/persona/persona_store.h"

namespace handoff::persona {

absl::StatusOr<std::unique_ptr<PersonaServer>> PersonaServer::Create(
    const PersonaServerOptions& options, const Clock& clock, Metrics& metrics) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(
      {.path = options.db_path, .synchronous_full = options.db_sync_full});
  if (!db.ok()) return db.status();
  if (absl::Status s = PersonaStore::Migrate(**db); !s.ok()) return s;
  std::unique_ptr<PersonaServer> server(new PersonaServer(*std::move(db)));
  server->book_ = std::make_unique<PersonaBook>(*server->db_, clock, metrics);
  server->grpc_service_ = std::make_unique<PersonaGrpcService>(*server->book_);
  return server;
}

std::vector<grpc::Service*> PersonaServer::GrpcServices() {
  return {grpc_service_.get()};
}

}  // namespace handoff::persona
