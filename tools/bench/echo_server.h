#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace handoff {
class GrpcServer;
class Metrics;
}  // namespace handoff

namespace handoff::bench {

// How the echo server is built. The benchmark's denominator is kBare; kKit
// shows what the shared server kit adds on its own.
enum class EchoMode {
  // Plain grpc::ServerBuilder with the channel arguments GrpcServer sets
  // (message size limits, keepalive, no port reuse), and nothing else: no
  // interceptors, no health or reflection service. This is the "bare gRPC
  // C++ callback echo server" the design brief's targets are ratios to.
  kBare,
  // common/server GrpcServer, exactly as the four services start: metrics
  // interceptor, health, reflection; the handler goes through HandleUnary.
  // Handoff RPC cost minus this is the domain and storage work.
  kKit,
};

struct EchoServerOptions {
  // "127.0.0.1:0" picks a free loopback port.
  std::string address = "127.0.0.1:0";
  EchoMode mode = EchoMode::kBare;
};

// A callback-API handoff.bench.v1.EchoService that returns the payload.
class EchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(
      const EchoServerOptions& options);
  ~EchoServer();

  int port() const { return port_; }
  // Stops accepting and waits for in-flight calls (at most 1 s). Idempotent.
  void Shutdown();

 private:
  EchoServer();

  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<Metrics> metrics_;  // kKit only
  std::unique_ptr<GrpcServer> kit_server_;
  std::unique_ptr<grpc::Server> bare_server_;
  int port_ = 0;
};

}  // namespace handoff::bench
