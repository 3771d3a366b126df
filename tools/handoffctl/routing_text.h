#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/routing/v1/routing.pb.h"

// Pure formatting of the routing service's rule, simulation, SLA and
// fairness answers for handoffctl: no calls, no clocks.
namespace handoff::ctl {

// "rule set version 7 applied (4 rules, 2 policies)"; for a dry run, that
// the set is valid and nothing changed.
std::string FormatApplyResult(const routing::v1::RuleSet& result, bool dry_run,
                              int64_t expected_version);

// A table per lead (lead, rule, rep or QUEUED, policy, priority, due), then
// the projected load per rep; with `explain`, each lead's explanation text.
// `draft` says the leads were routed against a draft rule set.
std::string FormatSimulation(const routing::v1::SimulateRoutingResponse& r,
                             bool draft, bool explain);

// An assignment as an operator reads it: who, state, times, rule and SLA
// policy, the SLA ladder in order, the service's explanation text and the
// structured decision summary.
std::string FormatAssignmentDescription(const routing::v1::Assignment& a);

// The structured decision: matched rule, rules evaluated, candidates
// eligible of total, exclusions by reason, the pick and its reason, and the
// pool's strategy state before and after. Lines indented by `indent`.
std::string FormatRoutingExplanation(const routing::v1::RoutingExplanation& e,
                                     int indent);

// "2026-03-01" (midnight in `zone`) or RFC 3339; INVALID_ARGUMENT naming
// `option` otherwise.
absl::StatusOr<absl::Time> ParseReportTime(std::string_view option,
                                           std::string_view text,
                                           absl::TimeZone zone);

// Period label of a report row: "all", "2026-03-02" (day) or "2026-W10"
// (ISO week), in `zone`.
std::string FormatReportPeriod(const google::protobuf::Timestamp& start,
                               routing::v1::SlaReportPeriod period,
                               absl::TimeZone zone);

// SLA rows (group, period, offers, accepted in SLA, share, median and p90
// time to accept, breaches, rejections, recycled, escalations), then MQL
// delivery per period.
std::string FormatSlaReport(const routing::v1::SlaReport& report,
                            routing::v1::SlaReportPeriod period,
                            absl::TimeZone zone);

// One line: time, type, then key=value for lead, rep, team, rule,
// assignment, attempt, policy, detail and the cursor to resume after it.
std::string FormatAssignmentEvent(const routing::v1::AssignmentEvent& event);

// Per rep of a pool: weight, assignments, share against target share, and
// assignments against those due.
std::string FormatPoolFairness(const routing::v1::PoolFairness& fairness);

}  // namespace handoff::ctl
