#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
#include "common/server/service_main.h"
#include "services/campaign/campaign_server.h"

ABSL_FLAG(int, mql_threshold, 50,
          "Score at which a lead becomes an MQL, for campaigns that do not "
          "set their own.");

int main(int argc, char** argv) {
  handoff::CommonConfig config =
      handoff::InitService(argc, argv, {"campaign", 50052, 9102});
  handoff::Metrics metrics("campaign");
  handoff::SystemClock clock;

  handoff::campaign::CampaignServerOptions options;
  options.db_path = config.db_path;
  options.db_sync_full = config.db_sync_full;
  options.persona_address = config.persona_address;
  options.routing_address = config.routing_address;
  options.client = config.client;
  options.default_mql_threshold = absl::GetFlag(FLAGS_mql_threshold);

  absl::StatusOr<std::unique_ptr<handoff::campaign::CampaignServer>> server =
      handoff::campaign::CampaignServer::Create(options, clock, metrics);
  if (!server.ok()) {
    handoff::Log(handoff::LogLevel::kError, "startup_failed",
                 {{"error", server.status().ToString()}});
    return 1;
  }
  return handoff::RunService(config, metrics, **server);
}
