#include "tools/handoffctl/routing_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/clients/clients.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "tools/handoffctl/leads_csv.h"
#include "tools/handoffctl/routing_text.h"
#include "tools/handoffctl/rules_yaml.h"

namespace handoff::ctl {
namespace {

namespace v1 = routing::v1;
using routing::v1::LeadRoutingService;

absl::StatusOr<std::string> ReadFile(std::string_view option,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(Sv(option), ": cannot read \"", path, "\""));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<v1::RuleSet> ReadRuleSet(std::string_view option,
                                        const std::string& path,
                                        RuleSetSourceMap* where) {
  auto text = ReadFile(option, path);
  if (!text.ok()) return text.status();
  return ParseRuleSetYaml(*text, path, where);
}

// ---- apply / rules get ------------------------------------------------------

struct ApplyOptions {
  std::string file;
  int64_t expected_version = 0;
  bool dry_run = false;
};

absl::Status Apply(CommandContext& ctx, const CLI::App& cmd,
                   const ApplyOptions& o) {
  RuleSetSourceMap where;
  auto rule_set = ReadRuleSet("-f", o.file, &where);
  if (!rule_set.ok()) return rule_set.status();
  auto& routing = ctx.connections->routing();
  v1::ApplyRuleSetRequest req;
  *req.mutable_rule_set() = *std::move(rule_set);
  req.set_validate_only(o.dry_run);
  // Without --expected-version the change is made against the version read
  // here: optimistic, so a change committed in between still gets ABORTED.
  bool read_version = cmd.count("--expected-version") == 0;
  if (read_version) {
    auto current = routing.Call(&LeadRoutingService::Stub::GetRuleSet,
                                v1::GetRuleSetRequest());
    if (!current.ok()) return current.status();
    req.set_expected_version(current->version());
  } else {
    req.set_expected_version(o.expected_version);
  }
  auto result = routing.Call(&LeadRoutingService::Stub::ApplyRuleSet, req);
  if (!result.ok()) {
    if (read_version && result.status().code() == absl::StatusCode::kAborted) {
      return absl::AbortedError(absl::StrCat(
          result.status().message(), " (version ", req.expected_version(),
          " was read just before: another change was applied in between)"));
    }
    return LocateRuleSetError(result.status(), "rule_set", where);
  }
  std::cout << (ctx.json ? RenderJson(*result)
                         : FormatApplyResult(*result, o.dry_run,
                                             req.expected_version()));
  return absl::OkStatus();
}

void AddApplyCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ApplyOptions>();
  auto self = std::make_shared<CLI::App*>(nullptr);
  auto* cmd = AddLeafCommand(
      app, "apply", "replace the routing rule set with a YAML file", ctx,
      [&ctx, o, self] { return Apply(ctx, **self, *o); });
  *self = cmd;
  cmd->add_option("-f,--file", o->file,
                  "rule set YAML (see tools/handoffctl/examples/rules.yaml)")
      ->required();
  cmd->add_option("--expected-version", o->expected_version,
                  "fail with ABORTED unless this is the current version; "
                  "default: the version current when the command starts "
                  "(a change committed after that still gets ABORTED)");
  cmd->add_flag("--dry-run", o->dry_run,
                "validate on the server only; nothing changes");
}

void AddRulesCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group = app.add_subcommand("rules", "the routing rule set");
  group->require_subcommand(1);
  auto output = std::make_shared<std::string>("yaml");
  auto* cmd = AddLeafCommand(*group, "get", "print the current rule set", ctx,
                             [&ctx, output]() -> absl::Status {
                               auto rule_set = ctx.connections->routing().Call(
                                   &LeadRoutingService::Stub::GetRuleSet,
                                   v1::GetRuleSetRequest());
                               if (!rule_set.ok()) return rule_set.status();
                               if (ctx.json) {
                                 std::cout << RenderJson(*rule_set);
                               } else if (*output == "text") {
                                 std::cout << RenderMessage(*rule_set);
                               } else {
                                 std::cout << FormatRuleSetYaml(*rule_set);
                               }
                               return absl::OkStatus();
                             });
  cmd->add_option("-o,--output", *output, "yaml (for apply -f) or text")
      ->check(CLI::IsMember({"yaml", "text"}))
      ->capture_default_str();
}

// ---- simulate ---------------------------------------------------------------

struct SimulateOptions {
  std::string leads, rules;
  bool explain = false;
};

absl::Status Simulate(CommandContext& ctx, const SimulateOptions& o) {
  auto text = ReadFile("-f", o.leads);
  if (!text.ok()) return text.status();
  auto leads = ParseLeadsCsv(*text, o.leads);
  if (!leads.ok()) return leads.status();
  v1::SimulateRoutingRequest req;
  for (auto& lead : *leads) *req.add_leads() = std::move(lead);
  RuleSetSourceMap where;
  if (!o.rules.empty()) {
    auto draft = ReadRuleSet("--rules", o.rules, &where);
    if (!draft.ok()) return draft.status();
    *req.mutable_draft_rule_set() = *std::move(draft);
  }
  auto result = ctx.connections->routing().Call(
      &LeadRoutingService::Stub::SimulateRouting, req);
  if (!result.ok()) {
    return LocateRuleSetError(result.status(), "draft_rule_set", where);
  }
  std::cout << (ctx.json
                    ? RenderJson(*result)
                    : FormatSimulation(*result, !o.rules.empty(), o.explain));
  return absl::OkStatus();
}

void AddSimulateCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd =
      AddLeafCommand(app, "simulate",
                     "route lead profiles from a CSV file without side effects",
                     ctx, [&ctx, o] { return Simulate(ctx, *o); });
  cmd->add_option("-f,--file", o->leads,
                  absl::StrCat("lead CSV with a header row; columns among ",
                               absl::StrJoin(LeadCsvColumns(), ",")))
      ->required();
  cmd->add_option("--rules", o->rules,
                  "route against this draft rule set YAML instead of the "
                  "current one");
  cmd->add_flag("--explain", o->explain, "print each lead's explanation");
}

// ---- describe ---------------------------------------------------------------

void AddDescribeCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group =
      app.add_subcommand("describe", "show a resource with its reasoning");
  group->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto* cmd = AddLeafCommand(
      *group, "assignment",
      "an assignment: times, SLA ladder and why the rep got it", ctx,
      [&ctx, name]() -> absl::Status {
        v1::GetAssignmentRequest req;
        req.set_name(QualifyName("assignments", *name));
        auto a = ctx.connections->routing().Call(
            &LeadRoutingService::Stub::GetAssignment, req);
        if (!a.ok()) return a.status();
        std::cout << (ctx.json ? RenderJson(*a)
                               : FormatAssignmentDescription(*a));
        return absl::OkStatus();
      });
  cmd->add_option("name", *name, "assignments/{id} or id")->required();
}

// ---- sla-report -------------------------------------------------------------

struct SlaReportOptions {
  std::string from, to, by = "team", period = "all", tz, team;
  int64_t mql_target = 0;
};

absl::Status SlaReport(CommandContext& ctx, const SlaReportOptions& o) {
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!o.tz.empty() && !absl::LoadTimeZone(o.tz, &zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tz: unknown time zone \"", o.tz,
                     "\"; use an IANA name, e.g. Europe/Berlin"));
  }
  auto from = ParseReportTime("--from", o.from, zone);
  if (!from.ok()) return from.status();
  auto to = ParseReportTime("--to", o.to, zone);
  if (!to.ok()) return to.status();
  if (*to <= *from)
    return absl::InvalidArgumentError("--to: must be after --from");
  v1::GetSlaReportRequest req;
  *req.mutable_start_time() = ToProtoTime(*from);
  *req.mutable_end_time() = ToProtoTime(*to);
  req.set_group_by(o.by == "rep" ? v1::SLA_REPORT_GROUPING_REP
                                 : v1::SLA_REPORT_GROUPING_TEAM);
  v1::SlaReportPeriod period = v1::SLA_REPORT_PERIOD_UNSPECIFIED;
  if (o.period == "day") period = v1::SLA_REPORT_PERIOD_DAY;
  if (o.period == "week") period = v1::SLA_REPORT_PERIOD_WEEK;
  req.set_period(period);
  req.set_time_zone(o.tz);
  req.set_team(o.team);
  req.set_mql_target_per_period(o.mql_target);
  auto report = ctx.connections->routing().Call(
      &LeadRoutingService::Stub::GetSlaReport, req);
  if (!report.ok()) return report.status();
  std::cout << (ctx.json ? RenderJson(*report)
                         : FormatSlaReport(*report, period, zone));
  return absl::OkStatus();
}

void AddSlaReportCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<SlaReportOptions>();
  auto* cmd = AddLeafCommand(
      app, "sla-report",
      "accept SLA per team or rep and period, and MQLs delivered", ctx,
      [&ctx, o] { return SlaReport(ctx, *o); });
  cmd->add_option("--from", o->from,
                  "start: 2026-03-01 (midnight in --tz) or RFC 3339")
      ->required();
  cmd->add_option("--to", o->to, "end (exclusive), as --from")->required();
  cmd->add_option("--by", o->by, "team or rep")
      ->check(CLI::IsMember({"team", "rep"}))
      ->capture_default_str();
  cmd->add_option("--period", o->period, "day, week (ISO) or all")
      ->check(CLI::IsMember({"day", "week", "all"}))
      ->capture_default_str();
  cmd->add_option("--tz", o->tz,
                  "IANA zone of dates and period boundaries; default UTC");
  cmd->add_option("--team", o->team, "only this team (its reps with --by rep)");
  cmd->add_option("--mql-target", o->mql_target,
                  "MQLs promised per period, for attainment")
      ->check(CLI::NonNegativeNumber);
}

// ---- watch ------------------------------------------------------------------

// Write end of the pipe the signal handler reports to; -1 when none.
std::atomic<int> interrupt_fd{-1};

void OnInterrupt(int) {
  int fd = interrupt_fd.load();
  char c = 'i';
  if (fd >= 0) (void)!write(fd, &c, 1);
}

// While alive, the first Ctrl-C (or SIGTERM) cancels `call` so the stream
// ends and the command exits cleanly; handlers reset after one signal, so a
// second Ctrl-C kills as usual. The cancel runs on a thread of its own
// because TryCancel is not async-signal-safe.
class InterruptCanceller {
 public:
  explicit InterruptCanceller(grpc::ClientContext* call) {
    if (pipe(fds_) != 0) {
      fds_[0] = fds_[1] = -1;
      return;
    }
    interrupt_fd.store(fds_[1]);
    struct sigaction action = {};
    action.sa_handler = &OnInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
    thread_ = std::thread([this, call] {
      char c = 0;
      ssize_t n;
      do {
        n = read(fds_[0], &c, 1);
      } while (n < 0 && errno == EINTR);
      if (n == 1 && c == 'i') {
        interrupted_.store(true);
        call->TryCancel();
      }
    });
  }

  ~InterruptCanceller() {
    if (fds_[0] < 0) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    interrupt_fd.store(-1);
    char c = 'q';
    (void)!write(fds_[1], &c, 1);
    thread_.join();
    close(fds_[0]);
    close(fds_[1]);
  }

  InterruptCanceller(const InterruptCanceller&) = delete;
  InterruptCanceller& operator=(const InterruptCanceller&) = delete;

  bool interrupted() const { return interrupted_.load(); }

 private:
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ = {}, old_term_ = {};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

struct WatchOptions {
  std::string rep, team, after;
};

absl::Status Watch(CommandContext& ctx, const WatchOptions& o) {
  v1::WatchAssignmentsRequest req;
  if (!o.rep.empty()) req.set_rep(QualifyName("reps", o.rep));
  req.set_team(o.team);
  req.set_after_cursor(o.after);
  auto& routing = ctx.connections->routing();
  // No deadline: a watch runs until the stream ends or Ctrl-C.
  grpc::ClientContext call;
  InterruptCanceller canceller(&call);
  auto reader = routing.stub().WatchAssignments(&call, req);
  v1::AssignmentEvent event;
  google::protobuf::util::JsonPrintOptions json_options;
  while (reader->Read(&event)) {
    if (ctx.json) {
      // One object per line, so the output can be piped through jq.
      std::string line;
      (void)google::protobuf::util::MessageToJsonString(event, &line,
                                                        json_options);
      std::cout << line << std::endl;
    } else {
      std::cout << FormatAssignmentEvent(event) << std::endl;
    }
  }
  grpc::Status status = reader->Finish();
  if (canceller.interrupted()) return absl::OkStatus();
  if (!status.ok()) return FromGrpcStatus(status);
  return absl::OkStatus();
}

void AddWatchCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<WatchOptions>();
  auto* cmd = AddLeafCommand(
      app, "watch",
      "stream assignment events (one line each, with its cursor) until "
      "Ctrl-C",
      ctx, [&ctx, o] { return Watch(ctx, *o); });
  auto* rep = cmd->add_option("--rep", o->rep, "only this rep's events");
  auto* team = cmd->add_option("--team", o->team, "only this team's events");
  rep->excludes(team);
  cmd->add_option("--after", o->after,
                  "resume after this cursor (from an earlier event line)");
}

// ---- fairness ---------------------------------------------------------------

void AddFairnessCommand(CLI::App& app, CommandContext& ctx) {
  auto pool = std::make_shared<std::string>();
  auto* cmd = AddLeafCommand(
      app, "fairness", "assignments per rep of a pool against its share", ctx,
      [&ctx, pool]() -> absl::Status {
        if (!absl::StartsWith(*pool, "teams/") &&
            !absl::StartsWith(*pool, "rules/") && *pool != "reps") {
          return absl::InvalidArgumentError(
              absl::StrCat("pool: \"", *pool,
                           "\" is not teams/{team}, rules/{rule} or reps"));
        }
        v1::GetPoolFairnessRequest req;
        req.set_pool(*pool);
        auto fairness = ctx.connections->routing().Call(
            &LeadRoutingService::Stub::GetPoolFairness, req);
        if (!fairness.ok()) return fairness.status();
        std::cout << (ctx.json ? RenderJson(*fairness)
                               : FormatPoolFairness(*fairness));
        return absl::OkStatus();
      });
  cmd->add_option("pool", *pool,
                  "teams/{team}, rules/{rule} for a rule's own rep pool, or "
                  "reps for rules that take every rep")
      ->required();
}

}  // namespace

void AddRoutingCommands(CLI::App& app, CommandContext& ctx) {
  AddApplyCommand(app, ctx);
  AddRulesCommands(app, ctx);
  AddSimulateCommand(app, ctx);
  AddDescribeCommands(app, ctx);
  AddSlaReportCommand(app, ctx);
  AddWatchCommand(app, ctx);
  AddFairnessCommand(app, ctx);
}

}  // namespace handoff::ctl
