#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/routing/v1/routing.pb.h"

// Checks of the routing attributes of reps, rule sets and SLA policies.
// Errors are INVALID_ARGUMENT naming the field, e.g.
// "rule_set.rules[3].condition.territories[0]: ...".
namespace handoff::routing::engine {

inline constexpr int kMaxRules = 10000;
inline constexpr int kMaxPoolReps = 10000;
inline constexpr int kMaxWeight = 1000;

// The routing attributes only (fields 11 and later): manager, territories,
// segments, persona specialties, daily cap, weight, time zone, working hours
// and out-of-office periods.
absl::Status ValidateRepRouting(const v1::Rep& rep,
                                std::string_view field = "rep");

// Teams and policy names become metric labels, so they are short ids: 1 to
// 64 letters, digits, '-', '_' or '.'.
bool IsShortName(std::string_view name);
// INVALID_ARGUMENT naming `field` unless IsShortName(name).
absl::Status CheckShortName(std::string_view name, std::string_view field);

absl::Status ValidateRuleSet(const v1::RuleSet& rule_set,
                             std::string_view field = "rule_set");
absl::Status ValidateSlaPolicy(const v1::SlaPolicy& policy,
                               std::string_view field);

// UTC for an empty name.
absl::StatusOr<absl::TimeZone> LoadZone(std::string_view field,
                                        std::string_view name);

// Canonical forms compared by rules: industries lower case, channels and
// MQL reasons upper case ("CHANNEL_WEBINAR" and "webinar" are "WEBINAR").
std::string CanonicalIndustry(std::string_view industry);
std::string CanonicalChannel(std::string_view channel);
std::string CanonicalMqlReason(std::string_view reason);

}  // namespace handoff::routing::engine
