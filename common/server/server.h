#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace handoff {

class Metrics;

struct ServerOptions {
  // e.g. "0.0.0.0:50052"; port 0 picks a free one (tests: "127.0.0.1:0").
  std::string address = "0.0.0.0:0";
  int max_message_bytes = 4 << 20;
  // After SIGTERM health says NOT_SERVING for this long while still serving,
  // so load balancers stop sending before the listener closes.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Then Shutdown(deadline) lets in-flight calls finish for at most this long.
  absl::Duration drain_timeout = absl::Seconds(10);
  // Server-side keepalive limits.
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration min_client_ping_interval = absl::Seconds(10);
};

// A started gRPC server with health (overall and per service), reflection and
// the metrics interceptor.
class GrpcServer {
 public:
  // Registers `services`, marks them SERVING and starts listening.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options, const std::vector<grpc::Service*>& services,
      Metrics& metrics);
  ~GrpcServer();

  int port() const { return port_; }
  // Health status of "" and every registered service.
  void SetServing(bool serving);
  // NOT_SERVING, keep serving for shutdown_grace, then Shutdown(now +
  // drain_timeout) and wait. Idempotent.
  void Shutdown();

 private:
  GrpcServer() = default;
  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace handoff
