#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clients/clients.h"
#include "common/server/server.h"

namespace handoff {

class Metrics;

// Background work and gRPC services of one Handoff service, so main() and
// in-process tests start it the same way.
class ServiceModule {
 public:
  virtual ~ServiceModule() = default;
  virtual std::vector<grpc::Service*> GrpcServices() = 0;
  // Starts background threads (outbox dispatcher, timers).
  virtual void StartBackground() {}
  virtual void StopBackground() {}
  // Runs before the server drains: ends calls that would otherwise hold the
  // drain open until its deadline (server streams).
  virtual void BeforeShutdown() {}
};

// Settings every service has. Each is a flag and a HANDOFF_<FLAG> variable;
// a command-line flag wins over the environment.
struct CommonConfig {
  std::string service;
  int port = 0;
  int metrics_port = 0;
  // SQLite file of this service.
  std::string db_path;
  bool db_sync_full = true;
  ServerOptions server;
  ClientOptions client;
  std::string persona_address;
  std::string campaign_address;
  std::string routing_address;
  std::string deal_address;
};

struct ServiceDefaults {
  std::string service;  // "campaign"
  int port;             // 50052
  int metrics_port;     // 9102
};

// Sets every registered flag F whose variable HANDOFF_<F upper-cased> is set
// to that value; INVALID_ARGUMENT "HANDOFF_X: <why>" on a malformed one.
absl::Status ApplyEnvironmentToFlags();

// Applies HANDOFF_* environment variables to every flag, then parses the
// command line, sets up logging, and returns the common settings.
// Exits with a message on a malformed value.
CommonConfig InitService(int argc, char** argv,
                         const ServiceDefaults& defaults);

// Starts metrics and the gRPC server for `module`, runs until SIGTERM or
// SIGINT, then drains (see GrpcServer::Shutdown) and stops the background
// work. Returns the process exit code.
int RunService(const CommonConfig& config, Metrics& metrics,
               ServiceModule& module);

}  // namespace handoff
