#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clients/clients.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/server/service_main.h"
#include "common/storage/database.h"

namespace handoff::campaign {

class CampaignBook;
class CampaignGrpcService;
class CampaignStore;
class LeadBook;
class PersonaFit;

struct CampaignServerOptions {
  // SQLite file, or ":memory:".
  std::string db_path;
  bool db_sync_full = true;
  // host:port of the persona and routing services; empty means not
  // configured (fit stays pending, MQLs wait in the outbox).
  std::string persona_address;
  std::string routing_address;
  ClientOptions client;
  OutboxOptions outbox;
  // MQL threshold of campaigns that do not set their own.
  int default_mql_threshold = 50;
};

// The campaign service as a module: its database, outbox (MQL handoffs to
// routing), clients and gRPC service.
class CampaignServer : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<CampaignServer>> Create(
      const CampaignServerOptions& options, const Clock& clock,
      Metrics& metrics);
  ~CampaignServer() override;

  std::vector<grpc::Service*> GrpcServices() override;
  // Starts / stops the outbox dispatcher.
  void StartBackground() override;
  void StopBackground() override;

  Outbox& outbox() { return *outbox_; }

 private:
  CampaignServer() = default;
  absl::Status DeliverRouteLead(const OutboxMessage& message);

  std::unique_ptr<Database> db_;
  std::unique_ptr<CampaignStore> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PersonaFit> persona_;
  std::unique_ptr<RoutingClient> routing_;
  std::unique_ptr<CampaignBook> campaigns_;
  std::unique_ptr<LeadBook> leads_;
  std::unique_ptr<CampaignGrpcService> grpc_service_;
};

}  // namespace handoff::campaign
