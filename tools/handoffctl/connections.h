#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clients/clients.h"

namespace handoff::ctl {

// Where the four services are and how long any one call may take; the
// typed clients are made on first use, after the flags are parsed.
class Connections {
 public:
  Connections() = default;
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // --persona/--campaign/--routing/--deal (HANDOFF_*_ADDRESS) and --timeout.
  void AddFlags(CLI::App& app);

  // Safe to call from several threads.
  PersonaClient& persona();
  CampaignClient& campaign();
  RoutingClient& routing();
  DealClient& deal();

  absl::Duration timeout() const { return absl::Seconds(timeout_seconds_); }

  // Service name ("persona", ...) and address, in the order of the flags.
  std::vector<std::pair<std::string, std::string>> Addresses() const;

  // Deadline and retry settings for any channel to the services.
  ClientOptions Options() const;

 private:
  std::string persona_address_ = "localhost:50051";
  std::string campaign_address_ = "localhost:50052";
  std::string routing_address_ = "localhost:50053";
  std::string deal_address_ = "localhost:50054";
  double timeout_seconds_ = 10;

  std::once_flag persona_once_, campaign_once_, routing_once_, deal_once_;
  std::unique_ptr<PersonaClient> persona_;
  std::unique_ptr<CampaignClient> campaign_;
  std::unique_ptr<RoutingClient> routing_;
  std::unique_ptr<DealClient> deal_;
};

}  // namespace handoff::ctl
