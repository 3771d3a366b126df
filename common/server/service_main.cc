#include "common/server/service_main.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/metrics/metrics.h"

#ifndef HANDOFF_VERSION
#define HANDOFF_VERSION "dev"
#endif

// -1 means the service's own default, so 0 can still mean "any free port".
ABSL_FLAG(int, port, -1, "gRPC port (-1: the service's default; 0: any)");
ABSL_FLAG(int, metrics_port, -1,
          "Prometheus /metrics port (-1: the service's default; 0: any)");
ABSL_FLAG(std::string, listen_host, "0.0.0.0", "Address the gRPC server binds");
ABSL_FLAG(std::string, db_path, "",
          "SQLite database file (default data/<service>.db)");
ABSL_FLAG(std::string, db_sync, "full",
          "SQLite synchronous mode: full (durable on acknowledge) or normal");
ABSL_FLAG(std::string, log_format, "text", "Log line format: text or json");
ABSL_FLAG(std::string, log_level, "info",
          "Lowest level logged: debug, info, warning or error");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "After SIGTERM, report NOT_SERVING but keep serving this long");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "Then let in-flight calls finish for at most this long");
ABSL_FLAG(int, max_message_bytes, 4194304,
          "Largest gRPC message sent or received");
ABSL_FLAG(absl::Duration, rpc_timeout, absl::Seconds(2),
          "Deadline of each outgoing call (shortened to the served call's)");
ABSL_FLAG(int, rpc_max_attempts, 4,
          "Attempts per outgoing call, retried on UNAVAILABLE only (max 5)");
ABSL_FLAG(std::string, persona_address, "localhost:50051",
          "Persona service address");
ABSL_FLAG(std::string, campaign_address, "localhost:50052",
          "Campaign service address");
ABSL_FLAG(std::string, routing_address, "localhost:50053",
          "Lead routing service address");
ABSL_FLAG(std::string, deal_address, "localhost:50054", "Deal service address");

namespace handoff {
namespace {

[[noreturn]] void Fail(int exit_code, const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(exit_code);
}

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Threads inherit the mask, so once blocked here before any thread exists,
// the signals are only ever consumed by sigwait in RunService.
void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

int CheckPort(const char* flag, int port) {
  if (port < -1 || port > 65535) {
    Fail(2, absl::StrCat("--", flag, ": ", port, " is not a port number"));
  }
  return port;
}

std::string HostPort(const std::string& host, int port) {
  if (absl::StrContains(host, ':') && !absl::StartsWith(host, "[")) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace

absl::Status ApplyEnvironmentToFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string variable =
        absl::StrCat("HANDOFF_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(variable, ": ", error));
    }
  }
  return absl::OkStatus();
}

CommonConfig InitService(int argc, char** argv,
                         const ServiceDefaults& defaults) {
  BlockTerminationSignals();
  // Debian's Abseil is built without NDEBUG: every Mutex acquisition also
  // records lock-order edges (GraphCycles in perf profiles of the services),
  // and a suspected cycle aborts the process. Tests keep the detection.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  static std::once_flag usage_once;
  std::call_once(usage_once, [&] {
    // absl lists only flags of <program>.cc under --help by default; ours
    // live here and in services/<name>/.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return absl::StrContains(file, "common/server/service_main") ||
             absl::StrContains(file, "services/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    usage.version_string = [] { return std::string(HANDOFF_VERSION "\n"); };
    absl::SetFlagsUsageConfig(usage);
    absl::SetProgramUsageMessage(absl::StrCat(
        "Runs the Handoff ", defaults.service,
        " service.\nEvery flag can also be set through the environment as "
        "HANDOFF_<FLAG> (e.g. HANDOFF_PORT=50052); the command line wins."));
  });
  if (absl::Status status = ApplyEnvironmentToFlags(); !status.ok()) {
    Fail(2, std::string(status.message()));
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    Fail(2, absl::StrCat("unexpected argument: ", positional[1]));
  }

  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  const std::string log_level = absl::GetFlag(FLAGS_log_level);
  if (!InitLogging(defaults.service, log_format, log_level)) {
    Fail(2,
         absl::StrCat("--log_format=", log_format, " --log_level=", log_level,
                      ": format must be text or json, level debug, info, "
                      "warning or error"));
  }

  CommonConfig config;
  config.service = defaults.service;
  const int port = CheckPort("port", absl::GetFlag(FLAGS_port));
  config.port = port == -1 ? defaults.port : port;
  const int metrics_port =
      CheckPort("metrics_port", absl::GetFlag(FLAGS_metrics_port));
  config.metrics_port =
      metrics_port == -1 ? defaults.metrics_port : metrics_port;

  config.db_path = absl::GetFlag(FLAGS_db_path);
  if (config.db_path.empty()) {
    config.db_path = absl::StrCat("data/", defaults.service, ".db");
  }
  const std::string db_sync = absl::GetFlag(FLAGS_db_sync);
  if (db_sync != "full" && db_sync != "normal") {
    Fail(2, absl::StrCat("--db_sync: \"", db_sync,
                         "\" is neither full nor normal"));
  }
  config.db_sync_full = db_sync == "full";

  const int max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (max_message_bytes <= 0) {
    Fail(2, absl::StrCat("--max_message_bytes: ", max_message_bytes,
                         " must be positive"));
  }
  config.server.address =
      HostPort(absl::GetFlag(FLAGS_listen_host), config.port);
  config.server.max_message_bytes = max_message_bytes;
  config.server.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  config.server.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  if (config.server.shutdown_grace < absl::ZeroDuration() ||
      config.server.drain_timeout < absl::ZeroDuration()) {
    Fail(2, "--shutdown_grace and --drain_timeout must not be negative");
  }

  config.client.timeout = absl::GetFlag(FLAGS_rpc_timeout);
  if (config.client.timeout <= absl::ZeroDuration()) {
    Fail(2, "--rpc_timeout must be positive");
  }
  config.client.max_attempts = absl::GetFlag(FLAGS_rpc_max_attempts);
  if (config.client.max_attempts < 1) {
    Fail(2, "--rpc_max_attempts must be at least 1");
  }
  config.client.max_message_bytes = max_message_bytes;
  config.persona_address = absl::GetFlag(FLAGS_persona_address);
  config.campaign_address = absl::GetFlag(FLAGS_campaign_address);
  config.routing_address = absl::GetFlag(FLAGS_routing_address);
  config.deal_address = absl::GetFlag(FLAGS_deal_address);

  if (config.db_path != ":memory:") {
    const std::filesystem::path dir =
        std::filesystem::path(config.db_path).parent_path();
    std::error_code error;
    if (!dir.empty() && !std::filesystem::create_directories(dir, error) &&
        error) {
      Fail(1, absl::StrCat("cannot create ", dir.string(),
                           " for --db_path: ", error.message()));
    }
  }
  return config;
}

int RunService(const CommonConfig& config, Metrics& metrics,
               ServiceModule& module) {
  absl::StatusOr<int> metrics_port = metrics.StartExposer(config.metrics_port);
  if (!metrics_port.ok()) {
    Log(LogLevel::kError, "start_failed",
        {{"error", std::string(metrics_port.status().message())}});
    return 1;
  }
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(config.server, module.GrpcServices(), metrics);
  if (!server.ok()) {
    Log(LogLevel::kError, "start_failed",
        {{"error", std::string(server.status().message())}});
    return 1;
  }
  module.StartBackground();
  Log(LogLevel::kInfo, "started",
      {{"port", absl::StrCat((*server)->port())},
       {"metrics_port", absl::StrCat(*metrics_port)},
       {"version", HANDOFF_VERSION}});

  const int signal = WaitForTerminationSignal();
  Log(LogLevel::kInfo, "stopping",
      {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_ms", absl::StrCat(absl::ToInt64Milliseconds(
                        config.server.shutdown_grace))}});
  module.BeforeShutdown();
  (*server)->Shutdown();
  module.StopBackground();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace handoff
