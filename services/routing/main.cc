#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"
#include "common/server/service_main.h"
#include "services/routing/routing_server.h"

ABSL_FLAG(absl::Duration, accept_window, absl::Minutes(30),
          "How long a rep has to accept an offered lead before it moves on "
          "to the next rep.");
ABSL_FLAG(int, max_attempts, 3,
          "Offers of one lead before it goes back to marketing as recycled.");

int main(int argc, char** argv) {
  const handoff::CommonConfig config =
      handoff::InitService(argc, argv, {"routing", 50053, 9103});
  handoff::Metrics metrics(config.service);
  handoff::SystemClock clock;

  handoff::routing::RoutingServerOptions options;
  options.db_path = config.db_path;
  options.db_sync_full = config.db_sync_full;
  options.campaign_address = config.campaign_address;
  options.client = config.client;
  options.client.metrics = &metrics;
  options.accept_window = absl::GetFlag(FLAGS_accept_window);
  options.max_attempts = absl::GetFlag(FLAGS_max_attempts);

  auto server =
      handoff::routing::RoutingServer::Create(options, clock, metrics);
  if (!server.ok()) {
    handoff::Log(handoff::LogLevel::kError, "routing.start_failed",
                 {{"error", server.status().ToString()}});
    return 1;
  }
  return handoff::RunService(config, metrics, **server);
}
