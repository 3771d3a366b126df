#include "tools/handoffctl/health.h"

#include <grpcpp/grpcpp.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clients/clients.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kPoll = absl::Milliseconds(200);
constexpr absl::Duration kCallTimeout = absl::Seconds(2);

struct Target {
  std::string service;
  std::string address;
  std::unique_ptr<Health::Stub> stub;
  std::string status = "UNKNOWN";
  bool serving = false;
};

// Asks the server as a whole (service ""), which is what probes ask too.
void Check(Target& t) {
  grpc::ClientContext ctx;
  SetCallDeadline(&ctx, kCallTimeout);
  HealthCheckRequest req;
  HealthCheckResponse resp;
  grpc::Status status = t.stub->Check(&ctx, req, &resp);
  if (!status.ok()) {
    t.serving = false;
    t.status =
        absl::StrCat(absl::StatusCodeToString(
                         static_cast<absl::StatusCode>(status.error_code())),
                     ": ", status.error_message());
    return;
  }
  t.serving = resp.status() == HealthCheckResponse::SERVING;
  t.status = EnumShortName(HealthCheckResponse::ServingStatus_descriptor(),
                           resp.status());
}

}  // namespace

absl::Status CheckHealth(Connections& connections, absl::Duration wait) {
  std::vector<Target> targets;
  for (auto& [service, address] : connections.Addresses()) {
    Target t;
    t.service = service;
    t.address = address;
    t.stub = Health::NewStub(
        MakeChannel(address, std::string(Health::service_full_name()),
                    connections.Options()));
    targets.push_back(std::move(t));
  }
  absl::Time deadline = absl::Now() + wait;
  while (true) {
    bool all = true;
    for (Target& t : targets) {
      if (!t.serving) Check(t);
      all = all && t.serving;
    }
    if (all || absl::Now() >= deadline) break;
    absl::SleepFor(kPoll);
  }
  Table table({"SERVICE", "ADDRESS", "STATUS"});
  std::vector<std::string> down;
  for (const Target& t : targets) {
    table.AddRow({t.service, t.address, t.status});
    if (!t.serving)
      down.push_back(absl::StrCat(t.service, " (", t.address, ")"));
  }
  std::cout << table.Render() << std::flush;
  if (down.empty()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("not SERVING",
                   wait > absl::ZeroDuration()
                       ? absl::StrCat(" after ", absl::FormatDuration(wait))
                       : "",
                   ": ", absl::StrJoin(down, ", ")));
}

void AddHealthCommand(CLI::App& app, CommandContext& ctx) {
  auto wait = std::make_shared<std::string>("0s");
  CLI::App* cmd =
      app.add_subcommand("health", "grpc.health.v1 status of every service");
  cmd->add_option("--wait", *wait,
                  "keep asking until all are SERVING, e.g. 30s")
      ->capture_default_str()
      ->check([](const std::string& v) {
        absl::Duration d;
        double seconds;
        return absl::ParseDuration(v, &d) || absl::SimpleAtod(v, &seconds)
                   ? std::string()
                   : std::string(
                         "a duration such as 30s, 2m or a number of seconds");
      });
  cmd->callback([&ctx, wait] {
    absl::Duration d;
    double seconds = 0;
    if (!absl::ParseDuration(*wait, &d)) {
      d = absl::SimpleAtod(*wait, &seconds) ? absl::Seconds(seconds)
                                            : absl::ZeroDuration();
    }
    ctx.result = CheckHealth(*ctx.connections, d);
  });
}

}  // namespace handoff::ctl
