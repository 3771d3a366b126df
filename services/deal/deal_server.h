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
#include "services/deal/deal_book.h"
#include "services/deal/deal_store.h"
#include "services/deal/grpc_service.h"

namespace handoff::deal {

struct DealServerOptions {
  // SQLite file, or ":memory:" in tests.
  std::string db_path;
  bool db_sync_full = true;
  // Where deal outcomes and conversions are delivered.
  std::string campaign_address;
  std::string routing_address;
  ClientOptions client;
  OutboxOptions outbox;
};

// The deal service in one piece: database, outbox with its delivery
// handlers, clients of campaign and routing, DealBook and its gRPC service.
class DealServer : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<DealServer>> Create(
      const DealServerOptions& options, const Clock& clock, Metrics& metrics);
  ~DealServer() override;

  std::vector<grpc::Service*> GrpcServices() override;
  // Runs the outbox dispatcher.
  void StartBackground() override;
  void StopBackground() override;

  Outbox& outbox() { return *outbox_; }

 private:
  DealServer() = default;
  void RegisterOutboxHandlers();

  // Declared in dependency order: the outbox, whose handlers use the
  // clients, stops before they go away.
  std::unique_ptr<Database> db_;
  std::unique_ptr<DealStore> store_;
  std::unique_ptr<CampaignClient> campaign_;
  std::unique_ptr<RoutingClient> routing_;
  std::unique_ptr<AcceptedLeads> accepted_leads_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<DealBook> book_;
  std::unique_ptr<DealGrpcService> grpc_service_;
};

}  // namespace handoff::deal
