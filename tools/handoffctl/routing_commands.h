#pragma once

#include <CLI/CLI.hpp>

#include "tools/handoffctl/command.h"

namespace handoff::ctl {

// Routing rules and their operation: apply, rules get, simulate, describe
// assignment, sla-report, watch and fairness.
void AddRoutingCommands(CLI::App& app, CommandContext& ctx);

}  // namespace handoff::ctl
