#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/server/service_main.h"
#include "common/storage/database.h"
#include "services/persona/grpc_service.h"
#include "services/persona/persona_book.h"

namespace handoff::persona {

struct PersonaServerOptions {
  // SQLite file, or ":memory:" for tests.
  std::string db_path;
  bool db_sync_full = true;
};

// The persona service as one unit: its database, domain and gRPC adapter.
class PersonaServer : public ServiceModule {
 public:
  // Opens and migrates the database.
  static absl::StatusOr<std::unique_ptr<PersonaServer>> Create(
      const PersonaServerOptions& options, const Clock& clock,
      Metrics& metrics);

  std::vector<grpc::Service*> GrpcServices() override;
  PersonaBook& book() { return *book_; }

 private:
  explicit PersonaServer(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  std::unique_ptr<Database> db_;
  std::unique_ptr<PersonaBook> book_;
  std::unique_ptr<PersonaGrpcService> grpc_service_;
};

}  // namespace handoff::persona
