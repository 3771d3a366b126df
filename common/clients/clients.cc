#include "common/clients/clients.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/metrics/grpc_metrics.h"

namespace handoff {
namespace {

// gRPC ignores a retry policy with more than 5 attempts' worth (it clamps).
constexpr int kMaxRetryAttempts = 5;

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT32_MAX));
}

std::string ServiceConfig(const std::string& service_full_name,
                          int max_attempts) {
  // Retries only on UNAVAILABLE: the request never reached a handler, so
  // repeating it is safe even for writes. Throttling stops retry storms when
  // a neighbour is down.
  const int attempts = std::min(max_attempts, kMaxRetryAttempts);
  if (attempts < 2) return "{}";
  return absl::StrFormat(
      R"json({
  "methodConfig": [{
    "name": [{"service": "%s"}],
    "retryPolicy": {
      "maxAttempts": %d,
      "initialBackoff": "0.05s",
      "maxBackoff": "0.5s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
})json",
      service_full_name, attempts);
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const std::string& service_full_name,
                                           const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  // Keepalive stays above the server's minimum ping interval (10 s), or the
  // server would answer with GOAWAY too_many_pings.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  const int max_backoff_ms = std::max(1, Millis(options.max_reconnect_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              std::min(100, max_backoff_ms));
  // Also the connect timeout of one attempt; loopback and in-cluster
  // handshakes take far less.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              std::min(1'000, max_backoff_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetServiceConfigJSON(
      ServiceConfig(service_full_name, options.max_attempts));

  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  if (options.metrics != nullptr) {
    std::vector<const google::protobuf::ServiceDescriptor*> services;
    if (const auto* service = google::protobuf::DescriptorPool::generated_pool()
                                  ->FindServiceByName(service_full_name)) {
      services.push_back(service);
    }
    interceptors.push_back(
        MakeClientMetricsInterceptor(*options.metrics, services));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), args,
      std::move(interceptors));
}

void SetCallDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  const absl::Time deadline =
      std::min(absl::Now() + timeout, ScopedCallDeadline::Current());
  if (deadline == absl::InfiniteFuture()) return;
  ctx->set_deadline(absl::ToChronoTime(deadline));
}

}  // namespace handoff
