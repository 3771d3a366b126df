#include "services/routing/engine/explanation_text.h"

#include "absl/strings/str_cat.h"
#include "common/enums.h"

namespace handoff::routing::engine {
namespace {

std::string ReasonName(v1::ExclusionReason reason) {
  return ShortEnumName(reason, v1::ExclusionReason_descriptor(),
                       "EXCLUSION_REASON_");
}

std::string Plural(int n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string Or(const std::string& value, const char* none) {
  return value.empty() ? none : value;
}

}  // namespace

std::string ExplanationText(const v1::RoutingExplanation& ex) {
  std::string out;
  const int failed = ex.rules_size() - 1 + ex.rules_not_listed();
  absl::StrAppend(&out, "rule set v", ex.rule_set_version(), ": ",
                  ex.matched_rule(),
                  ex.fallback() ? " (fallback) took the lead" : " matched");
  if (failed > 0 || ex.rules_skipped_by_territory() > 0) {
    absl::StrAppend(&out, "; ", Plural(failed, "earlier rule", "earlier rules"),
                    " did not match");
    if (ex.rules_skipped_by_territory() > 0) {
      absl::StrAppend(&out, ", ", ex.rules_skipped_by_territory(),
                      " skipped (other territories)");
    }
  }
  out += "\n";
  for (const v1::RuleEvaluation& rule : ex.rules()) {
    if (rule.matched()) continue;
    absl::StrAppend(&out, "  ", rule.rule(), ": ", rule.condition(), ": ",
                    rule.reason(), "\n");
  }
  if (ex.rules_not_listed() > 0) {
    absl::StrAppend(&out, "  (", ex.rules_not_listed(), " more not listed)\n");
  }
  absl::StrAppend(&out, "pool ", ex.pool(), ", strategy ",
                  ShortEnumName(ex.strategy(), v1::RoutingStrategy_descriptor(),
                                "ROUTING_STRATEGY_"),
                  ", SLA policy ", Or(ex.sla_policy(), "(default)"),
                  ex.priority() ? " (priority lead)" : "", "\n");
  absl::StrAppend(&out, "candidates: ", ex.candidates_total(), " considered, ",
                  ex.candidates_eligible(), " eligible");
  if (ex.outside_working_hours()) {
    out += " (nobody in working hours; offered outside them)";
  }
  for (int i = 0; i < ex.exclusion_counts_size(); ++i) {
    const v1::ExclusionCount& count = ex.exclusion_counts(i);
    absl::StrAppend(&out, i == 0 ? "; excluded: " : ", ",
                    ReasonName(count.reason()), " ", count.count());
  }
  out += "\n";
  for (const v1::CandidateEvaluation& c : ex.candidates()) {
    absl::StrAppend(
        &out, "  ", c.rep(), ": ",
        c.eligible() ? "eligible" : ReasonName(c.exclusion_reason()));
    if (!c.eligible() && !c.detail().empty()) {
      absl::StrAppend(&out, " (", c.detail(), ")");
    }
    if (c.exclusion_reason() != v1::EXCLUSION_REASON_UNKNOWN_REP) {
      absl::StrAppend(&out, ", open ", c.open_assignments(), "/", c.capacity());
    }
    if (c.eligible() && !c.detail().empty()) {
      absl::StrAppend(&out, ", ", c.detail());
    }
    out += "\n";
  }
  if (ex.candidates_not_listed() > 0) {
    absl::StrAppend(&out, "  (", ex.candidates_not_listed(),
                    " more not listed)\n");
  }
  if (ex.picked_rep().empty()) {
    absl::StrAppend(&out, "no rep picked: ", ex.pick_reason(), "\n");
    return out;
  }
  absl::StrAppend(&out, "picked ", ex.picked_rep(), ": ", ex.pick_reason(),
                  "\n");
  const v1::PoolStrategyState& before = ex.state_before();
  const v1::PoolStrategyState& after = ex.state_after();
  out += "state:";
  if (before.round_robin_pointer() != after.round_robin_pointer()) {
    absl::StrAppend(&out, " round robin pointer ",
                    Or(before.round_robin_pointer(), "(none)"), " -> ",
                    after.round_robin_pointer(), ";");
  }
  if (before.tie_break_pointer() != after.tie_break_pointer()) {
    absl::StrAppend(&out, " tie-break pointer ",
                    Or(before.tie_break_pointer(), "(none)"), " -> ",
                    after.tie_break_pointer(), ";");
  }
  if (ex.strategy() == v1::ROUTING_STRATEGY_WEIGHTED_ROUND_ROBIN) {
    for (int i = 0; i < before.reps_size() && i < after.reps_size(); ++i) {
      absl::StrAppend(&out, " ", before.reps(i).rep(), " current weight ",
                      before.reps(i).current_weight(), " -> ",
                      after.reps(i).current_weight(), ";");
    }
  }
  absl::StrAppend(&out, " assignments ", before.assignments(), " -> ",
                  after.assignments(), "\n");
  return out;
}

}  // namespace handoff::routing::engine
