#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clients/deadline.h"
#include "common/server/grpc_status.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.grpc.pb.h"
#include "handoff/deal/v1/deal.grpc.pb.h"
#include "handoff/persona/v1/persona.grpc.pb.h"
#include "handoff/routing/v1/routing.grpc.pb.h"

namespace handoff {

class Metrics;

struct ClientOptions {
  // Per-call deadline; shortened to the deadline of the call being served.
  absl::Duration timeout = absl::Seconds(2);
  // Total attempts, retried by gRPC only on UNAVAILABLE.
  int max_attempts = 4;
  // Cap on reconnect backoff, so a restarted neighbour is found quickly.
  absl::Duration max_reconnect_backoff = absl::Seconds(2);
  int max_message_bytes = 4 << 20;
  // When set, outgoing calls are counted as grpc_client_* series.
  Metrics* metrics = nullptr;
};

// An insecure channel to `target` with keepalive, a retry policy for
// `service_full_name` (UNAVAILABLE only) and the client metrics interceptor.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const std::string& service_full_name,
                                           const ClientOptions& options);

// Sets the context's deadline: now + timeout, or the served call's deadline
// when that is sooner.
void SetCallDeadline(grpc::ClientContext* ctx, absl::Duration timeout);

// A typed client: Call(&Stub::Method, request) with deadline and status
// conversion.
template <typename Service>
class ServiceClient {
 public:
  ServiceClient(const std::string& target, const ClientOptions& options)
      : options_(options),
        stub_(Service::NewStub(MakeChannel(
            target, std::string(Service::service_full_name()), options))) {}

  // The request may carry what the served call wrote or read, and the
  // destination may keep it: the call leaves once that is durable.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                            const Request&, Response*),
      const Request& request) const {
    DeferredDurability::AwaitCurrent();
    return Send(method, request);
  }

  // For a method that changes nothing at the destination: nothing there can
  // outlive a crash of this process, so the call does not wait for the
  // served call's writes to be durable (its reply still does). Waiting
  // would commit the open batch on this thread, ahead of the group commit.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Query(
      grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                            const Request&, Response*),
      const Request& request) const {
    return Send(method, request);
  }

  typename Service::Stub& stub() { return *stub_; }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Send(
      grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                            const Request&, Response*),
      const Request& request) const {
    grpc::ClientContext ctx;
    SetCallDeadline(&ctx, options_.timeout);
    Response response;
    grpc::Status status = (stub_.get()->*method)(&ctx, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  ClientOptions options_;
  std::unique_ptr<typename Service::Stub> stub_;
};

using PersonaClient = ServiceClient<persona::v1::PersonaService>;
using CampaignClient = ServiceClient<campaign::v1::CampaignService>;
using RoutingClient = ServiceClient<routing::v1::LeadRoutingService>;
using DealClient = ServiceClient<deal::v1::DealService>;

}  // namespace handoff
