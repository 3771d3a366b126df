#pragma once

#include <CLI/CLI.hpp>

#include "tools/handoffctl/command.h"

namespace handoff::ctl {

// persona, campaign, lead, rep, assignment and deal subcommands.
void AddResourceCommands(CLI::App& app, CommandContext& ctx);

}  // namespace handoff::ctl
