#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "handoff/routing/v1/routing.pb.h"

// Rule sets as YAML: what `handoffctl apply` reads and `rules get` prints.
namespace handoff::ctl {

// Parses one YAML document into a RuleSet. Keys are the proto field names
// (or their JSON names); on top of that:
//  - Duration fields take absl::ParseDuration text: "5m", "2h", "1h30m".
//  - Enums take their short name in any case: "round_robin", "recycle".
//  - Rule names may omit "rules/", pool reps "reps/", personas "personas/".
//  - A pool may be a plain list of reps.
//  - working_hours is a list of windows, each either a WeeklyWindow or
//    {days: [mon, tue], start: "09:00", end: "17:00"} (days also as ranges
//    "mon-fri" or numbers 1-7) standing for one WeeklyWindow per day; the
//    windows end up sorted by day and start.
//  - condition.segments: [smb, mid_market, enterprise] stands for the
//    employee bounds of those segments (adjacent ones only).
//  - warning_at: "75%" stands for warning_fraction_bp: 7500.
// Errors are INVALID_ARGUMENT "<source>:<line>:<column>: <field>: <problem>",
// e.g. "rules.yaml:12:15: rules[2].strategy: unknown value ...".
// Where the fields of a parsed rule set were given: proto field path
// ("rules[2].condition.territories[0]", the server's spelling) ->
// "<source>:<line>:<column>". Windows of working_hours are left out: the
// message holds them sorted, not in the file's order.
using RuleSetSourceMap = std::map<std::string, std::string>;

absl::StatusOr<routing::v1::RuleSet> ParseRuleSetYaml(
    std::string_view yaml, std::string_view source = "<yaml>",
    RuleSetSourceMap* where = nullptr);

// A server's INVALID_ARGUMENT "<root>.<path>: <problem>" about a rule set
// parsed with `where`, prefixed with the position of the deepest part of
// <path> the file gave. Any other status comes back as it is.
absl::Status LocateRuleSetError(const absl::Status& status,
                                std::string_view root,
                                const RuleSetSourceMap& where);

// The set fields of `rule_set` in the forms above (durations "5m", windows
// by day with HH:MM, segments, warning_at); ParseRuleSetYaml reads the text
// back into an equal message.
std::string FormatRuleSetYaml(const routing::v1::RuleSet& rule_set);

}  // namespace handoff::ctl
