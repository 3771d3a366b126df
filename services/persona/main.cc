#include <memory>

#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
#include "common/server/service_main.h"
#include "services/persona/persona_server.h"

int main(int argc, char** argv) {
  handoff::CommonConfig config =
      handoff::InitService(argc, argv, {"persona", 50051, 9101});
  handoff::Metrics metrics(config.service);
  handoff::SystemClock clock;
  absl::StatusOr<std::unique_ptr<handoff::persona::PersonaServer>> server =
      handoff::persona::PersonaServer::Create(
          {.db_path = config.db_path, .db_sync_full = config.db_sync_full},
          clock, metrics);
  if (!server.ok()) {
    handoff::Log(handoff::LogLevel::kError, "startup_failed",
                 {{"error", server.status().ToString()}});
    return 1;
  }
  return handoff::RunService(config, metrics, **server);
}
