// handoffctl: a command-line client for the four Handoff services.
#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/status/status.h"
#include "tools/handoffctl/command.h"
#include "tools/handoffctl/connections.h"
#include "tools/handoffctl/demo.h"
#include "tools/handoffctl/health.h"
#include "tools/handoffctl/resources.h"
#include "tools/handoffctl/routing_commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "handoffctl: create, inspect and work Handoff resources, or run the demo "
      "funnel.\n"
      "Service flags go before the subcommand."};
  app.require_subcommand(1);
  handoff::ctl::Connections connections;
  connections.AddFlags(app);
  handoff::ctl::CommandContext ctx;
  ctx.connections = &connections;
  app.add_flag("--json", ctx.json, "print protobuf JSON instead of text");
  handoff::ctl::AddResourceCommands(app, ctx);
  handoff::ctl::AddRoutingCommands(app, ctx);
  handoff::ctl::AddHealthCommand(app, ctx);
  handoff::ctl::AddDemoCommand(app, ctx);
  CLI11_PARSE(app, argc, argv);
  if (!ctx.result.ok()) {
    std::cerr << "error: " << absl::StatusCodeToString(ctx.result.code())
              << ": " << ctx.result.message() << std::endl;
    return 1;
  }
  return 0;
}
