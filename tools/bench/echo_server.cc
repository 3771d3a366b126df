#include "tools/bench/echo_server.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/metrics/metrics.h"
#include "common/server/grpc_status.h"
#include "common/server/server.h"
#include "handoff/bench/v1/echo.grpc.pb.h"

namespace handoff::bench {
namespace {

using v1::EchoMessage;

class BareEcho final : public v1::EchoService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const EchoMessage* request,
                                 EchoMessage* response) override {
    response->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// The shape of every Handoff adapter method.
class KitEcho final : public v1::EchoService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const EchoMessage* request,
                                 EchoMessage* response) override {
    return HandleUnary(ctx, [&] {
      response->set_payload(request->payload());
      return absl::OkStatus();
    });
  }
};

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT32_MAX));
}

}  // namespace

EchoServer::EchoServer() = default;

EchoServer::~EchoServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(
    const EchoServerOptions& options) {
  std::unique_ptr<EchoServer> echo(new EchoServer());
  ServerOptions server_options;
  server_options.address = options.address;
  server_options.shutdown_grace = absl::ZeroDuration();
  server_options.drain_timeout = absl::Seconds(1);

  if (options.mode == EchoMode::kKit) {
    echo->service_ = std::make_unique<KitEcho>();
    echo->metrics_ = std::make_unique<Metrics>("echo");
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
        server_options, {echo->service_.get()}, *echo->metrics_);
    if (!server.ok()) return server.status();
    echo->port_ = (*server)->port();
    echo->kit_server_ = *std::move(server);
    return echo;
  }

  // The same arguments GrpcServer::Start sets, so only the kit's extras
  // (interceptor, health, reflection) differ between the two modes.
  echo->service_ = std::make_unique<BareEcho>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(),
                           &echo->port_);
  builder.RegisterService(echo->service_.get());
  builder.SetMaxReceiveMessageSize(server_options.max_message_bytes);
  builder.SetMaxSendMessageSize(server_options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(server_options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(server_options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(server_options.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  echo->bare_server_ = builder.BuildAndStart();
  if (echo->bare_server_ == nullptr || echo->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address));
  }
  return echo;
}

void EchoServer::Shutdown() {
  if (kit_server_ != nullptr) {
    kit_server_->Shutdown();
    kit_server_.reset();
  }
  if (bare_server_ != nullptr) {
    bare_server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    bare_server_->Wait();
    bare_server_.reset();
  }
}

}  // namespace handoff::bench
