#include "tools/handoffctl/command.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"

namespace handoff::ctl {

CLI::App* AddLeafCommand(CLI::App& parent, const std::string& name,
                         const std::string& description, CommandContext& ctx,
                         std::function<absl::Status()> run) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  cmd->add_flag("--json", ctx.json, "print protobuf JSON instead of text");
  cmd->callback([&ctx, run = std::move(run)] { ctx.result = run(); });
  return cmd;
}

std::string RequestIdOr(std::string_view given) {
  if (!given.empty()) return std::string(given);
  absl::BitGen gen;
  return absl::StrFormat("ctl-%016x", absl::Uniform<uint64_t>(gen));
}

}  // namespace handoff::ctl
