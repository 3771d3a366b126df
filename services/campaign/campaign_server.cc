#include "services/campaign/campaign_server.h"

#include "common/errors.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/campaign/campaign_book.h"
#include "services/campaign/campaign_store.h"
#include "services/campaign/grpc_service.h"
#include "services/campaign/lead_book.h"
#include "services/campaign/persona_fit.h"

namespace handoff::campaign {
namespace {

class PersonaClientFit final : public PersonaFit {
 public:
  PersonaClientFit(const std::string& address, const ClientOptions& options)
      : client_(address, options) {}

  absl::StatusOr<persona::v1::MatchPersonaResponse> Match(
      const persona::v1::LeadProfile& profile) override {
    persona::v1::MatchPersonaRequest request;
    *request.mutable_profile() = profile;
    request.set_max_results(1);
    return client_.Query(&persona::v1::PersonaService::Stub::MatchPersona,
                         request);
  }

 private:
  PersonaClient client_;
};

class UnconfiguredPersonaFit final : public PersonaFit {
 public:
  absl::StatusOr<persona::v1::MatchPersonaResponse> Match(
      const persona::v1::LeadProfile&) override {
    return absl::UnavailableError("persona_address is not configured");
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<CampaignServer>> CampaignServer::Create(
    const CampaignServerOptions& options, const Clock& clock,
    Metrics& metrics) {
  if (options.db_path.empty()) {
    return InvalidField("db_path", "required");
  }
  if (options.default_mql_threshold < 0) {
    return InvalidField("mql_threshold", "must not be negative");
  }
  std::unique_ptr<CampaignServer> server(new CampaignServer());
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open({options.db_path, options.db_sync_full});
  if (!db.ok()) return db.status();
  server->db_ = *std::move(db);
  if (absl::Status s = CampaignStore::Migrate(*server->db_); !s.ok()) return s;
  server->store_ = std::make_unique<CampaignStore>();
  server->outbox_ = std::make_unique<Outbox>(
      *server->db_, clock, options.outbox, &metrics.registry());

  ClientOptions client = options.client;
  if (client.metrics == nullptr) client.metrics = &metrics;
  if (options.persona_address.empty()) {
    server->persona_ = std::make_unique<UnconfiguredPersonaFit>();
  } else {
    server->persona_ =
        std::make_unique<PersonaClientFit>(options.persona_address, client);
  }
  if (!options.routing_address.empty()) {
    server->routing_ =
        std::make_unique<RoutingClient>(options.routing_address, client);
  }
  server->outbox_->RegisterHandler(
      kRoutingDestination, kRouteLeadMethod,
      [s = server.get()](const OutboxMessage& message) {
        return s->DeliverRouteLead(message);
      });

  server->campaigns_ =
      std::make_unique<CampaignBook>(*server->db_, *server->store_, clock);
  server->leads_ = std::make_unique<LeadBook>(
      *server->db_, *server->store_, *server->outbox_, *server->persona_, clock,
      metrics, options.default_mql_threshold);
  server->grpc_service_ = std::make_unique<CampaignGrpcService>(
      *server->campaigns_, *server->leads_);
  return server;
}

CampaignServer::~CampaignServer() { StopBackground(); }

std::vector<grpc::Service*> CampaignServer::GrpcServices() {
  return {grpc_service_.get()};
}

void CampaignServer::StartBackground() { outbox_->Start(); }

void CampaignServer::StopBackground() {
  if (outbox_ != nullptr) outbox_->Stop();
}

absl::Status CampaignServer::DeliverRouteLead(const OutboxMessage& message) {
  routing::v1::RouteLeadRequest request;
  if (!request.ParseFromString(message.payload)) {
    return absl::DataLossError("RouteLead outbox payload does not parse");
  }
  // The key stays the same across retries, so routing drops repeats.
  request.set_request_id(message.idempotency_key);
  // Only the status matters here; the explanation stays with routing.
  request.set_view(routing::v1::ASSIGNMENT_VIEW_BASIC);
  if (routing_ == nullptr) {
    // Kept and retried: configuring routing later delivers it.
    return absl::UnavailableError("routing_address is not configured");
  }
  absl::StatusOr<routing::v1::RouteLeadResponse> response = routing_->Call(
      &routing::v1::LeadRoutingService::Stub::RouteLead, request);
  return response.status();
}

}  // namespace handoff::campaign
