// handoff-loadgen: closed-loop gRPC load against running Handoff services and
// a bare echo server, reported as ratios to the echo measured in this run.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/bench/echo_server.h"
#include "tools/bench/scenarios.h"
#include "tools/bench/stats.h"

namespace handoff::bench {
namespace {

const std::vector<std::string>& AllScenarios() {
  static const auto* all = new std::vector<std::string>{"echo",
                                                        "echo_kit",
                                                        "match_persona",
                                                        "get_lead",
                                                        "get_assignment",
                                                        "capture_lead",
                                                        "record_engagement",
                                                        "route_lead",
                                                        "route_lead_full",
                                                        "mql_to_offer",
                                                        "route_lead_queued"};
  return *all;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return in ? absl::StrCat(one, " ", five, " ", fifteen) : "unknown";
}

struct Flags {
  std::string persona, campaign, routing;
  std::string echo, echo_kit;
  std::string scenarios = absl::StrJoin(AllScenarios(), ",");
  double duration_s = 5;
  double warmup_s = 1;
  int64_t count = 0;
  int concurrency = 64;
  int channels = 2;
  int payload_bytes = 16;
  int fixture_size = 1000;
  int reps = 20;
  int rep_capacity = 10000;
  std::string e2e_rates = "1000";
  double e2e_duration_s = 5;
  int e2e_max_in_flight = 256;
  std::string label;
  bool no_pairing = false;
  std::string watch;
};

int Run(const Flags& flags) {
  std::set<std::string> wanted;
  for (absl::string_view s :
       absl::StrSplit(flags.scenarios, ',', absl::SkipWhitespace())) {
    wanted.insert(std::string(s));
  }
  for (const std::string& s : wanted) {
    if (std::find(AllScenarios().begin(), AllScenarios().end(), s) ==
        AllScenarios().end()) {
      std::cerr << "unknown scenario \"" << s
                << "\"; known: " << absl::StrJoin(AllScenarios(), ",") << "\n";
      return 2;
    }
  }
  std::vector<double> rates;
  for (absl::string_view s :
       absl::StrSplit(flags.e2e_rates, ',', absl::SkipWhitespace())) {
    double rate = 0;
    if (!absl::SimpleAtod(s, &rate) || rate <= 0) {
      std::cerr << "--e2e_rates: \"" << s << "\" is not a positive rate\n";
      return 2;
    }
    rates.push_back(rate);
  }
  std::vector<WatchedProcess> watched;
  for (absl::string_view entry :
       absl::StrSplit(flags.watch, ',', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    int pid = 0;
    if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &pid) ||
        pid <= 0) {
      std::cerr << "--watch: \"" << entry << "\" is not name=pid\n";
      return 2;
    }
    watched.push_back({std::string(parts.first), pid});
  }

  BenchOptions options;
  options.watched = std::move(watched);
  options.persona_address = flags.persona;
  options.campaign_address = flags.campaign;
  options.routing_address = flags.routing;
  options.load.concurrency = flags.concurrency;
  options.load.channels = flags.channels;
  options.load.duration = absl::Seconds(flags.duration_s);
  options.load.warmup = absl::Seconds(flags.warmup_s);
  options.load.count = flags.count;
  if (flags.count > 0) options.load.warmup = absl::ZeroDuration();
  options.payload_bytes = flags.payload_bytes;
  options.fixture_size = flags.fixture_size;
  options.reps = flags.reps;
  options.rep_capacity = flags.rep_capacity;
  options.run_id =
      absl::StrFormat("%08x", absl::Uniform<uint32_t>(absl::BitGen()));

  // Echo servers not given by address run here, in this process.
  std::vector<std::unique_ptr<EchoServer>> local_echo;
  auto echo_address = [&](const std::string& given,
                          EchoMode mode) -> std::string {
    if (!given.empty()) return given;
    absl::StatusOr<std::unique_ptr<EchoServer>> server =
        EchoServer::Start({.address = "127.0.0.1:0", .mode = mode});
    if (!server.ok()) {
      std::cerr << "echo server: " << server.status() << "\n";
      return "";
    }
    const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
    local_echo.push_back(*std::move(server));
    return address;
  };
  std::string echo, echo_kit;
  if (wanted.contains("echo")) {
    echo = echo_address(flags.echo, EchoMode::kBare);
    if (echo.empty()) return 1;
  }
  if (wanted.contains("echo_kit")) {
    echo_kit = echo_address(flags.echo_kit, EchoMode::kKit);
    if (echo_kit.empty()) return 1;
  }

  const std::string load_before = LoadAverage();
  std::cout << "handoff-loadgen run " << options.run_id << ", "
            << absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", absl::Now(),
                                absl::LocalTimeZone())
            << "\n"
            << "  " << flags.concurrency << " calls in flight on "
            << flags.channels << " channels per service, "
            << (flags.count > 0
                    ? absl::StrCat(flags.count, " calls per scenario")
                    : absl::StrCat(flags.warmup_s, " s warmup + ",
                                   flags.duration_s, " s per scenario"))
            << "; " << sysconf(_SC_NPROCESSORS_ONLN)
            << " CPUs shared by client and servers; load average "
            << load_before << "\n";
  if (wanted.contains("echo")) {
    std::cout << "  x echo: RPC/s over the bare echo's RPC/s "
              << (flags.no_pairing ? "measured first in this run"
                                   : "measured right before the scenario "
                                     "(column echo RPC/s)")
              << "\n";
  }
  if (!flags.label.empty()) std::cout << "  " << flags.label << "\n";
  std::cout << std::flush;

  Bench bench(options);
  if (!flags.persona.empty() || !flags.campaign.empty() ||
      !flags.routing.empty()) {
    if (absl::Status s = bench.Connect(absl::Seconds(10)); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }

  std::vector<ScenarioResult> results;
  std::vector<MqlToOfferResult> e2e;
  int failures = 0;
  auto progress = [](const ScenarioResult& r) {
    std::cerr << absl::StrFormat(
        "  %-20s %9.0f RPC/s  p50 %.2f ms  p99 %.2f ms\n", r.name,
        r.Throughput(), r.latency.p50_ns / 1e6, r.latency.p99_ns / 1e6);
  };
  auto add = [&](std::string_view name,
                 const absl::StatusOr<ScenarioResult>& result) {
    if (!result.ok()) {
      std::cerr << name << ": " << result.status() << "\n";
      ++failures;
      return;
    }
    progress(*result);
    results.push_back(*result);
  };

  // Other processes on a shared machine make throughput drift within a run,
  // so each scenario is compared with an echo measured right before it.
  const bool paired = wanted.contains("echo") && !flags.no_pairing;
  auto add_paired = [&](std::string_view name, auto run) {
    std::optional<ScenarioResult> before;
    if (paired) {
      before = bench.Echo("echo (paired)", echo);
      progress(*before);
    }
    absl::StatusOr<ScenarioResult> result = run();
    if (result.ok() && before.has_value()) {
      result->baseline_rps = before->Throughput();
      absl::StrAppend(&result->note, result->note.empty() ? "" : "; ",
                      absl::StrFormat("echo just before: p50 %.2f ms, p99 "
                                      "%.2f ms",
                                      before->latency.p50_ns / 1e6,
                                      before->latency.p99_ns / 1e6));
    }
    add(name, result);
  };

  for (const std::string& scenario : AllScenarios()) {
    if (!wanted.contains(scenario)) continue;
    std::cerr << "running " << scenario << "\n";
    if (scenario == "echo") {
      add(scenario, bench.Echo("echo", echo));
    } else if (scenario == "echo_kit") {
      add_paired(scenario, [&]() -> absl::StatusOr<ScenarioResult> {
        return bench.Echo("echo (service kit)", echo_kit);
      });
    } else if (scenario == "match_persona") {
      add_paired(scenario, [&] { return bench.MatchPersona(); });
    } else if (scenario == "get_lead") {
      add_paired(scenario, [&] { return bench.GetLead(); });
    } else if (scenario == "get_assignment") {
      add_paired(scenario, [&] { return bench.GetAssignment(); });
    } else if (scenario == "capture_lead") {
      add_paired(scenario, [&] { return bench.CaptureLead(); });
    } else if (scenario == "record_engagement") {
      add_paired(scenario, [&] { return bench.RecordEngagement(); });
    } else if (scenario == "route_lead") {
      add_paired(scenario, [&] {
        return bench.RouteLead(/*queued=*/false,
                               routing::v1::ASSIGNMENT_VIEW_BASIC);
      });
    } else if (scenario == "route_lead_full") {
      add_paired(scenario, [&] {
        return bench.RouteLead(/*queued=*/false,
                               routing::v1::ASSIGNMENT_VIEW_FULL);
      });
    } else if (scenario == "route_lead_queued") {
      add_paired(scenario, [&] {
        return bench.RouteLead(/*queued=*/true,
                               routing::v1::ASSIGNMENT_VIEW_BASIC);
      });
    } else if (scenario == "mql_to_offer") {
      for (double rate : rates) {
        absl::StatusOr<MqlToOfferResult> r = bench.MqlToOffer(
            rate, absl::Seconds(flags.e2e_duration_s), flags.e2e_max_in_flight);
        if (!r.ok()) {
          std::cerr << scenario << ": " << r.status() << "\n";
          ++failures;
          continue;
        }
        e2e.push_back(*r);
      }
    }
  }
  // The baseline again at the end: how much the machine drifted meanwhile.
  if (wanted.contains("echo") && wanted.size() > 1) {
    std::cerr << "running echo again\n";
    add("echo", bench.Echo("echo (again, at the end)", echo));
  }

  if (!results.empty()) std::cout << "\n" << FormatTable(results, "echo");
  for (const MqlToOfferResult& r : e2e) {
    std::cout << "\n" << FormatMqlToOffer(r);
  }
  std::cout << "\nload average before " << load_before << ", after "
            << LoadAverage() << "\n";
  for (auto& server : local_echo) server->Shutdown();
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace handoff::bench

int main(int argc, char** argv) {
  handoff::bench::Flags flags;
  CLI::App app{
      "Closed-loop gRPC load against running Handoff services, reported as "
      "ratios to a bare gRPC echo server measured in the same run.\n"
      "Echo servers not given by address are started in this process."};
  app.add_option("--persona", flags.persona, "persona service address");
  app.add_option("--campaign", flags.campaign, "campaign service address");
  app.add_option("--routing", flags.routing, "routing service address");
  app.add_option("--echo", flags.echo,
                 "bare echo server address (handoff-echo-server)");
  app.add_option("--echo_kit", flags.echo_kit,
                 "echo server on the service kit (handoff-echo-server "
                 "--mode=kit)");
  app.add_option("--scenarios", flags.scenarios,
                 "comma-separated, run in this order: " +
                     absl::StrJoin(handoff::bench::AllScenarios(), ","))
      ->capture_default_str();
  app.add_option("--duration", flags.duration_s,
                 "measured seconds per scenario")
      ->capture_default_str();
  app.add_option("--warmup", flags.warmup_s, "seconds of load before measuring")
      ->capture_default_str();
  app.add_option("--count", flags.count,
                 "calls per scenario instead of a duration (0: use duration)")
      ->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "calls in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--channels", flags.channels,
                 "connections per service, calls spread round robin")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--payload_bytes", flags.payload_bytes, "echo payload size")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--fixture_size", flags.fixture_size,
                 "leads and assignments created for the read scenarios")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--reps", flags.reps, "reps created for routing")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--rep_capacity", flags.rep_capacity,
                 "capacity of each created rep")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--e2e_rates", flags.e2e_rates,
                 "MQL/s of the mql_to_offer scenario, comma-separated")
      ->capture_default_str();
  app.add_option("--e2e_duration", flags.e2e_duration_s,
                 "seconds of open-loop load per rate")
      ->capture_default_str();
  app.add_option("--e2e_max_in_flight", flags.e2e_max_in_flight,
                 "leads being captured/engaged at once before further ones "
                 "are skipped")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--watch", flags.watch,
                 "name=pid,... of the servers: each scenario reports their CPU "
                 "per call, mql_to_offer per MQL");
  app.add_flag("--no_pairing", flags.no_pairing,
               "compare every scenario with the first echo only, instead of "
               "an echo measured right before it");
  app.add_option("--label", flags.label,
                 "free text printed in the header, e.g. the db_sync mode");
  CLI11_PARSE(app, argc, argv);
  // Debian's Abseil is built with Mutex deadlock detection on, and gRPC
  // locks absl::Mutex on every call: the client skips that bookkeeping so
  // more of the shared CPUs go to the servers (which keep the default).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return handoff::bench::Run(flags);
}
