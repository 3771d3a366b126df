#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "tools/handoffctl/command.h"

namespace handoff::ctl {

struct DemoOptions {
  int leads = 300;
  uint64_t seed = 42;
  // Every K-th offered lead is left to breach its accept window once and is
  // accepted when re-offered; 0 lets nothing breach on purpose.
  int breach_every = 10;
  // Of those, this many are never accepted, so routing runs out of attempts
  // and recycles them to marketing.
  int exhaust = 1;
  // Tags campaign names, emails and request ids. Reusing a run id resumes
  // that run without creating anything twice; empty picks a new one.
  std::string run_id;
  // Bound on each wait for the services (offers, breaches, reports).
  double wait_seconds = 60;
};

// `handoffctl demo`: runs the whole funnel against running services and
// prints per-campaign funnel reports and an SLA summary.
void AddDemoCommand(CLI::App& app, CommandContext& ctx);

absl::Status RunDemo(Connections& connections, const DemoOptions& options);

}  // namespace handoff::ctl
