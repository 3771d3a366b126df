#pragma once

#include <google/protobuf/message.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/handoffctl/connections.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {

// Shared by every subcommand: the services, the output format, and the
// outcome of the command that ran (main prints it and sets the exit code).
struct CommandContext {
  Connections* connections = nullptr;
  bool json = false;
  absl::Status result;
};

// Adds a runnable subcommand: `run` executes after parsing and its status
// becomes ctx.result. Every leaf also takes --json.
CLI::App* AddLeafCommand(CLI::App& parent, const std::string& name,
                         const std::string& description, CommandContext& ctx,
                         std::function<absl::Status()> run);

// Prints a resource in the chosen format, or passes the error on.
template <typename M>
absl::Status PrintResult(const CommandContext& ctx,
                         const absl::StatusOr<M>& result) {
  if (!result.ok()) return result.status();
  std::cout << (ctx.json ? RenderJson(*result) : RenderMessage(*result));
  return absl::OkStatus();
}

// `given`, or a fresh random id so a retried call is still deduplicated.
std::string RequestIdOr(std::string_view given);

}  // namespace handoff::ctl
