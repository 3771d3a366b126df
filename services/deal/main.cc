#include <memory>

#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
#include "common/server/service_main.h"
#include "services/deal/deal_server.h"

int main(int argc, char** argv) {
  const handoff::CommonConfig config =
      handoff::InitService(argc, argv, {"deal", 50054, 9104});
  handoff::Metrics metrics("deal");
  handoff::SystemClock clock;

  handoff::deal::DealServerOptions options;
  options.db_path = config.db_path;
  options.db_sync_full = config.db_sync_full;
  options.campaign_address = config.campaign_address;
  options.routing_address = config.routing_address;
  options.client = config.client;

  absl::StatusOr<std::unique_ptr<handoff::deal::DealServer>> server =
      handoff::deal::DealServer::Create(options, clock, metrics);
  if (!server.ok()) {
    handoff::Log(handoff::LogLevel::kError, "startup_failed",
                 {{"error", server.status().ToString()}});
    return 1;
  }
  return handoff::RunService(config, metrics, **server);
}
