#include "tools/handoffctl/connections.h"

namespace handoff::ctl {

void Connections::AddFlags(CLI::App& app) {
  app.add_option("--persona", persona_address_, "persona service address")
      ->envname("HANDOFF_PERSONA_ADDRESS")
      ->capture_default_str();
  app.add_option("--campaign", campaign_address_, "campaign service address")
      ->envname("HANDOFF_CAMPAIGN_ADDRESS")
      ->capture_default_str();
  app.add_option("--routing", routing_address_, "lead routing service address")
      ->envname("HANDOFF_ROUTING_ADDRESS")
      ->capture_default_str();
  app.add_option("--deal", deal_address_, "deal service address")
      ->envname("HANDOFF_DEAL_ADDRESS")
      ->capture_default_str();
  app.add_option("--timeout", timeout_seconds_,
                 "deadline of each call, in seconds")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
}

std::vector<std::pair<std::string, std::string>> Connections::Addresses()
    const {
  return {{"persona", persona_address_},
          {"campaign", campaign_address_},
          {"routing", routing_address_},
          {"deal", deal_address_}};
}

ClientOptions Connections::Options() const {
  ClientOptions options;
  options.timeout = timeout();
  return options;
}

PersonaClient& Connections::persona() {
  std::call_once(persona_once_, [&] {
    persona_ = std::make_unique<PersonaClient>(persona_address_, Options());
  });
  return *persona_;
}

CampaignClient& Connections::campaign() {
  std::call_once(campaign_once_, [&] {
    campaign_ = std::make_unique<CampaignClient>(campaign_address_, Options());
  });
  return *campaign_;
}

RoutingClient& Connections::routing() {
  std::call_once(routing_once_, [&] {
    routing_ = std::make_unique<RoutingClient>(routing_address_, Options());
  });
  return *routing_;
}

DealClient& Connections::deal() {
  std::call_once(deal_once_, [&] {
    deal_ = std::make_unique<DealClient>(deal_address_, Options());
  });
  return *deal_;
}

}  // namespace handoff::ctl
