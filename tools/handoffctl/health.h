#pragma once

#include <CLI/CLI.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/handoffctl/command.h"

namespace handoff::ctl {

// `handoffctl health [--wait 30s]`: grpc.health.v1 status of the four
// services; scripts wait on it after starting them.
void AddHealthCommand(CLI::App& app, CommandContext& ctx);

// OK once every service reports SERVING; with a zero `wait` asks once.
absl::Status CheckHealth(Connections& connections, absl::Duration wait);

}  // namespace handoff::ctl
