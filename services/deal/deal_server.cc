#include "services/deal/deal_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::deal {
namespace {

// Asks routing for the lead's accepted assignment.
class RoutingAcceptedLeads final : public AcceptedLeads {
 public:
  explicit RoutingAcceptedLeads(const RoutingClient& routing)
      : routing_(routing) {}

  absl::StatusOr<std::string> AcceptedRep(std::string_view lead) override {
    routing::v1::ListAssignmentsRequest request;
    request.set_filter(absl::StrCat("lead=", Sv(lead), " AND state=ACCEPTED"));
    request.set_page_size(1);
    absl::StatusOr<routing::v1::ListAssignmentsResponse> response =
        routing_.Query(&routing::v1::LeadRoutingService::Stub::ListAssignments,
                       request);
    if (!response.ok()) return response.status();
    if (response->assignments().empty()) {
      return absl::NotFoundError(
          absl::StrCat(Sv(lead), " has no accepted assignment"));
    }
    return response->assignments(0).rep();
  }

 private:
  const RoutingClient& routing_;
};

// Parses an outbox payload into a request carrying the message's
// idempotency key, so the receiver drops a repeated delivery.
template <typename Request>
absl::StatusOr<Request> RequestFrom(const OutboxMessage& message) {
  Request request;
  if (!request.ParseFromString(message.payload)) {
    return absl::DataLossError(absl::StrCat("outbox message ", message.id,
                                            ": unreadable ", message.method,
                                            " payload"));
  }
  request.set_request_id(message.idempotency_key);
  return request;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DealServer>> DealServer::Create(
    const DealServerOptions& options, const Clock& clock, Metrics& metrics) {
  if (options.db_path.empty()) {
    return absl::InvalidArgumentError("db_path: required");
  }
  if (options.campaign_address.empty()) {
    return absl::InvalidArgumentError("campaign_address: required");
  }
  if (options.routing_address.empty()) {
    return absl::InvalidArgumentError("routing_address: required");
  }
  std::unique_ptr<DealServer> server(new DealServer());
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(
      {.path = options.db_path, .synchronous_full = options.db_sync_full});
  if (!db.ok()) return db.status();
  server->db_ = *std::move(db);
  server->store_ = std::make_unique<DealStore>(*server->db_);
  if (absl::Status s = server->store_->Migrate(); !s.ok()) return s;

  ClientOptions client = options.client;
  if (client.metrics == nullptr) client.metrics = &metrics;
  server->campaign_ =
      std::make_unique<CampaignClient>(options.campaign_address, client);
  server->routing_ =
      std::make_unique<RoutingClient>(options.routing_address, client);
  server->accepted_leads_ =
      std::make_unique<RoutingAcceptedLeads>(*server->routing_);
  server->outbox_ = std::make_unique<Outbox>(
      *server->db_, clock, options.outbox, &metrics.registry());
  server->RegisterOutboxHandlers();
  server->book_ =
      std::make_unique<DealBook>(*server->store_, *server->outbox_,
                                 *server->accepted_leads_, clock, metrics);
  server->grpc_service_ = std::make_unique<DealGrpcService>(*server->book_);
  return server;
}

DealServer::~DealServer() {
  if (outbox_ != nullptr) outbox_->Stop();
}

void DealServer::RegisterOutboxHandlers() {
  outbox_->RegisterHandler(
      kCampaignDestination, kUpdateLeadStageMethod,
      [this](const OutboxMessage& message) -> absl::Status {
        absl::StatusOr<campaign::v1::UpdateLeadStageRequest> request =
            RequestFrom<campaign::v1::UpdateLeadStageRequest>(message);
        if (!request.ok()) return request.status();
        return campaign_
            ->Call(&campaign::v1::CampaignService::Stub::UpdateLeadStage,
                   *request)
            .status();
      });
  outbox_->RegisterHandler(
      kRoutingDestination, kRecordConversionMethod,
      [this](const OutboxMessage& message) -> absl::Status {
        absl::StatusOr<routing::v1::RecordConversionRequest> request =
            RequestFrom<routing::v1::RecordConversionRequest>(message);
        if (!request.ok()) return request.status();
        return routing_
            ->Call(&routing::v1::LeadRoutingService::Stub::RecordConversion,
                   *request)
            .status();
      });
}

std::vector<grpc::Service*> DealServer::GrpcServices() {
  return {grpc_service_.get()};
}

void DealServer::StartBackground() { outbox_->Start(); }

void DealServer::StopBackground() { outbox_->Stop(); }

}  // namespace handoff::deal
