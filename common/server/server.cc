#include "common/server/server.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/metrics.h"
#include "grpc/health/v1/health.pb.h"

namespace handoff {
namespace {

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT32_MAX));
}

// grpc::Service does not expose its name, and the metrics interceptor must
// exist before BuildAndStart. The server knows the names once services are
// registered, which is before it starts taking calls: a builder plugin reads
// them there and creates the interceptor the placeholder factory delegates to.
struct StartState {
  explicit StartState(Metrics& m) : metrics(m) {}
  Metrics& metrics;
  std::vector<std::string> service_names;  // ours, without grpc.* services
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
      interceptor;
};

class DeferredInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit DeferredInterceptorFactory(std::shared_ptr<StartState> state)
      : state_(std::move(state)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return state_->interceptor != nullptr
               ? state_->interceptor->CreateServerInterceptor(info)
               : nullptr;
  }

 private:
  std::shared_ptr<StartState> state_;
};

class ServiceNamesPlugin final : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::shared_ptr<StartState> state)
      : state_(std::move(state)) {}

  std::string name() override { return "handoff_service_names"; }

  // Runs after services (and the reflection plugin's service) are registered
  // and before the server starts.
  void InitServer(grpc::ServerInitializer* si) override {
    std::vector<const google::protobuf::ServiceDescriptor*> descriptors;
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const std::string& name : *si->GetServiceList()) {
      if (!absl::StartsWith(name, "grpc.")) {
        state_->service_names.push_back(name);
      }
      if (const auto* descriptor = pool->FindServiceByName(name)) {
        descriptors.push_back(descriptor);
      }
    }
    // The default health service registers itself later, at Start.
    descriptors.push_back(grpc::health::v1::HealthCheckRequest::descriptor()
                              ->file()
                              ->FindServiceByName("Health"));
    state_->interceptor =
        MakeServerMetricsInterceptor(state_->metrics, descriptors);
  }
  void Finish(grpc::ServerInitializer*) override {}
  void ChangeArguments(const std::string&, void*) override {}

 private:
  std::shared_ptr<StartState> state_;
};

class ServiceNamesOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::shared_ptr<StartState> state)
      : state_(std::move(state)) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(state_));
  }

 private:
  std::shared_ptr<StartState> state_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services,
    Metrics& metrics) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  auto state = std::make_shared<StartState>(metrics);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(),
                           &selected_port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(options.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // Without this a second instance would silently share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetOption(std::make_unique<ServiceNamesOption>(state));
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<DeferredInterceptorFactory>(state));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address,
                     " (port in use or address not available)"));
  }
  std::unique_ptr<GrpcServer> result(new GrpcServer());
  result->options_ = options;
  result->server_ = std::move(server);
  result->service_names_ = state->service_names;
  result->port_ = selected_port;
  result->SetServing(true);
  return result;
}

GrpcServer::~GrpcServer() {
  if (server_ != nullptr && !shut_down_) {
    // Not drained through Shutdown(): stop without the grace period.
    options_.shutdown_grace = absl::ZeroDuration();
    Shutdown();
  }
}

void GrpcServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : service_names_) {
    health->SetServingStatus(name, serving);
  }
}

void GrpcServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  SetServing(false);
  absl::SleepFor(options_.shutdown_grace);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.drain_timeout));
  server_->Wait();
}

}  // namespace handoff
