#include "services/routing/engine/validation.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "services/routing/engine/regions.h"
#include "services/routing/engine/schedule.h"

namespace handoff::routing::engine {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxShortName = 64;
constexpr size_t kMaxValue = 200;

std::string At(std::string_view field, std::string_view sub) {
  return absl::StrCat(Sv(field), ".", Sv(sub));
}
std::string At(std::string_view field, std::string_view sub, int i) {
  return absl::StrCat(Sv(field), ".", Sv(sub), "[", i, "]");
}

absl::Status CheckDuration(std::string_view field,
                           const google::protobuf::Duration& d, bool required) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999999999 ||
      d.seconds() > int64_t{10} * 365 * 24 * 3600) {
    return InvalidField(field,
                        "must be a non-negative duration of at most "
                        "10 years");
  }
  if (required && d.seconds() == 0 && d.nanos() == 0) {
    return InvalidField(field, "required, more than zero");
  }
  return absl::OkStatus();
}

absl::Status CheckValues(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].empty() || values[i].size() > kMaxValue) {
      return InvalidField(absl::StrCat(Sv(field), "[", i, "]"),
                          "must be 1 to 200 characters");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNames(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    std::string_view collection) {
  std::set<std::string_view> seen;
  for (int i = 0; i < names.size(); ++i) {
    const std::string at = absl::StrCat(Sv(field), "[", i, "]");
    if (absl::StatusOr<std::string> id =
            ParseResourceName(at, names[i], collection);
        !id.ok()) {
      return id.status();
    }
    if (!seen.insert(names[i]).second) {
      return InvalidField(at, absl::StrCat("duplicate ", names[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRange(std::string_view field, std::string_view min_name,
                        int32_t min, std::string_view max_name, int32_t max) {
  if (min < 0) return InvalidField(At(field, min_name), "must be >= 0");
  if (max < 0) return InvalidField(At(field, max_name), "must be >= 0");
  if (max != 0 && min > max) {
    return InvalidField(At(field, max_name),
                        absl::StrCat("must be >= ", Sv(min_name), " (", min,
                                     ") or 0 for no bound"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCondition(const v1::RuleCondition& c,
                               std::string_view field) {
  if (absl::StatusOr<std::vector<CountryCode>> codes =
          ExpandTerritories(At(field, "territories"), c.territories());
      !codes.ok()) {
    return codes.status();
  }
  if (absl::Status s = CheckRange(field, "min_employees", c.min_employees(),
                                  "max_employees", c.max_employees());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckValues(At(field, "industries"), c.industries());
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckNames(At(field, "personas"), c.personas(), "personas");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange(field, "min_score", c.min_score(),
                                  "max_score", c.max_score());
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < c.campaign_channels_size(); ++i) {
    const std::string channel = CanonicalChannel(c.campaign_channels(i));
    const auto* value = campaign::v1::Channel_descriptor()->FindValueByName(
        absl::StrCat("CHANNEL_", channel));
    if (channel.empty() || value == nullptr || value->number() == 0) {
      return InvalidField(
          At(field, "campaign_channels", i),
          absl::StrCat("unknown channel \"", c.campaign_channels(i), "\""));
    }
  }
  return CheckValues(At(field, "mql_reasons"), c.mql_reasons());
}

absl::Status ValidateRule(const v1::RoutingRule& rule, std::string_view field,
                          const std::set<std::string, std::less<>>& policies) {
  if (absl::StatusOr<std::string> id =
          ParseResourceName(At(field, "name"), rule.name(), "rules");
      !id.ok()) {
    return id.status();
  }
  if (rule.display_name().size() > kMaxDisplayName) {
    return InvalidField(At(field, "display_name"), "at most 200 characters");
  }
  if (absl::Status s =
          ValidateCondition(rule.condition(), At(field, "condition"));
      !s.ok()) {
    return s;
  }
  switch (rule.target_case()) {
    case v1::RoutingRule::kTeam:
      if (absl::Status s = CheckShortName(rule.team(), At(field, "team"));
          !s.ok()) {
        return s;
      }
      break;
    case v1::RoutingRule::kPool:
      if (rule.pool().reps_size() == 0 ||
          rule.pool().reps_size() > kMaxPoolReps) {
        return InvalidField(At(field, "pool.reps"),
                            "must list 1 to 10000 reps");
      }
      if (absl::Status s =
              CheckNames(At(field, "pool.reps"), rule.pool().reps(), "reps");
          !s.ok()) {
        return s;
      }
      break;
    case v1::RoutingRule::kAllReps:
      if (!rule.all_reps()) {
        return InvalidField(At(field, "all_reps"), "must be true when set");
      }
      break;
    default:
      return InvalidField(
          At(field, "team"),
          "a rule needs a target: a team, a pool of reps or all_reps");
  }
  if (absl::Status s = CheckEnum(At(field, "strategy"), rule.strategy(),
                                 v1::RoutingStrategy_descriptor(),
                                 /*allow_unspecified=*/true);
      !s.ok()) {
    return s;
  }
  if (!rule.sla_policy().empty() && !policies.contains(rule.sla_policy())) {
    return InvalidField(At(field, "sla_policy"),
                        absl::StrCat("no SLA policy \"", rule.sla_policy(),
                                     "\" in the rule set"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsShortName(std::string_view name) {
  if (name.empty() || name.size() > kMaxShortName) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

absl::Status CheckShortName(std::string_view name, std::string_view field) {
  if (IsShortName(name)) return absl::OkStatus();
  return InvalidField(field, absl::StrCat("must be 1 to ", kMaxShortName,
                                          " letters, digits, '-', '_', '.'"));
}

std::string CanonicalIndustry(std::string_view industry) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(Sv(industry)));
}

std::string CanonicalChannel(std::string_view channel) {
  std::string upper =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(Sv(channel)));
  if (absl::StartsWith(upper, "CHANNEL_")) upper.erase(0, 8);
  return upper;
}

std::string CanonicalMqlReason(std::string_view reason) {
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(Sv(reason)));
}

absl::StatusOr<absl::TimeZone> LoadZone(std::string_view field,
                                        std::string_view name) {
  absl::TimeZone zone = absl::UTCTimeZone();
  if (name.empty()) return zone;
  if (!absl::LoadTimeZone(std::string(name), &zone)) {
    return InvalidField(field,
                        absl::StrCat("unknown time zone \"", Sv(name), "\""));
  }
  return zone;
}

absl::Status ValidateRepRouting(const v1::Rep& rep, std::string_view field) {
  if (!rep.manager().empty()) {
    if (absl::StatusOr<std::string> id =
            ParseResourceName(At(field, "manager"), rep.manager(), "reps");
        !id.ok()) {
      return id.status();
    }
    if (!rep.name().empty() && rep.manager() == rep.name()) {
      return InvalidField(At(field, "manager"), "a rep cannot manage itself");
    }
  }
  if (absl::StatusOr<std::vector<CountryCode>> codes =
          ExpandTerritories(At(field, "territories"), rep.territories());
      !codes.ok()) {
    return codes.status();
  }
  for (int i = 0; i < rep.segments_size(); ++i) {
    if (absl::Status s = CheckEnum(At(field, "segments", i), rep.segments(i),
                                   v1::CompanySegment_descriptor());
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckNames(At(field, "persona_specialties"),
                                  rep.persona_specialties(), "personas");
      !s.ok()) {
    return s;
  }
  if (rep.daily_cap() < 0) {
    return InvalidField(At(field, "daily_cap"), "must be >= 0 (0: no cap)");
  }
  if (rep.weight() < 0 || rep.weight() > kMaxWeight) {
    return InvalidField(At(field, "weight"), "must be 1 to 1000 (0 means 1)");
  }
  if (absl::StatusOr<absl::TimeZone> zone =
          LoadZone(At(field, "time_zone"), rep.time_zone());
      !zone.ok()) {
    return zone.status();
  }
  if (absl::StatusOr<WeeklySchedule> hours = WeeklySchedule::Compile(
          At(field, "working_hours"), rep.working_hours());
      !hours.ok()) {
    return hours.status();
  }
  for (int i = 0; i < rep.out_of_office_size(); ++i) {
    const v1::TimeRange& range = rep.out_of_office(i);
    const std::string at = At(field, "out_of_office", i);
    absl::StatusOr<absl::Time> start =
        ParseProtoTime(At(at, "start_time"), range.start_time());
    if (!start.ok()) return start.status();
    absl::StatusOr<absl::Time> end =
        ParseProtoTime(At(at, "end_time"), range.end_time());
    if (!end.ok()) return end.status();
    if (*end <= *start) {
      return InvalidField(At(at, "end_time"), "must be after start_time");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSlaPolicy(const v1::SlaPolicy& policy,
                               std::string_view field) {
  if (absl::Status s = CheckShortName(policy.name(), At(field, "name"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckDuration(At(field, "accept_within"),
                                     policy.accept_within(), true);
      !s.ok()) {
    return s;
  }
  for (auto [name, d] :
       {std::pair{"first_touch_within", &policy.first_touch_within()},
        std::pair{"priority_accept_within", &policy.priority_accept_within()},
        std::pair{"queue_age_limit", &policy.queue_age_limit()}}) {
    if (absl::Status s = CheckDuration(At(field, name), *d, false); !s.ok()) {
      return s;
    }
  }
  if (policy.priority().min_score() < 0) {
    return InvalidField(At(field, "priority.min_score"), "must be >= 0");
  }
  if (absl::Status s = CheckValues(At(field, "priority.mql_reasons"),
                                   policy.priority().mql_reasons());
      !s.ok()) {
    return s;
  }
  const v1::BusinessCalendar& calendar = policy.calendar();
  if (absl::StatusOr<absl::TimeZone> zone =
          LoadZone(At(field, "calendar.time_zone"), calendar.time_zone());
      !zone.ok()) {
    return zone.status();
  }
  if (absl::StatusOr<WeeklySchedule> hours = WeeklySchedule::Compile(
          At(field, "calendar.working_hours"), calendar.working_hours());
      !hours.ok()) {
    return hours.status();
  }
  for (int i = 0; i < calendar.holidays_size(); ++i) {
    absl::CivilDay day;
    if (calendar.holidays(i).size() != 10 ||
        !absl::ParseCivilTime(calendar.holidays(i), &day)) {
      return InvalidField(At(field, "calendar.holidays", i),
                          absl::StrCat("\"", calendar.holidays(i),
                                       "\" is not a YYYY-MM-DD date"));
    }
  }
  if (policy.warning_fraction_bp() < 0 ||
      policy.warning_fraction_bp() >= 10000) {
    return InvalidField(At(field, "warning_fraction_bp"),
                        "must be 0 (no warning) to 9999 basis points");
  }
  if (policy.max_attempts() < 0 || policy.max_attempts() > 100) {
    return InvalidField(At(field, "max_attempts"),
                        "must be 0 (service default) to 100");
  }
  return CheckEnum(At(field, "on_exhausted"), policy.on_exhausted(),
                   v1::ExhaustedAction_descriptor(),
                   /*allow_unspecified=*/true);
}

absl::Status ValidateRuleSet(const v1::RuleSet& rule_set,
                             std::string_view field) {
  if (rule_set.version() < 0) {
    return InvalidField(At(field, "version"), "must be >= 0");
  }
  if (rule_set.rules_size() > kMaxRules) {
    return InvalidField(At(field, "rules"), "at most 10000 rules");
  }
  std::set<std::string, std::less<>> policies;
  for (int i = 0; i < rule_set.sla_policies_size(); ++i) {
    const std::string at = At(field, "sla_policies", i);
    if (absl::Status s = ValidateSlaPolicy(rule_set.sla_policies(i), at);
        !s.ok()) {
      return s;
    }
    if (!policies.insert(rule_set.sla_policies(i).name()).second) {
      return InvalidField(At(at, "name"),
                          absl::StrCat("duplicate policy \"",
                                       rule_set.sla_policies(i).name(), "\""));
    }
  }
  std::set<std::string_view> names;
  for (int i = 0; i < rule_set.rules_size(); ++i) {
    const std::string at = At(field, "rules", i);
    if (absl::Status s = ValidateRule(rule_set.rules(i), at, policies);
        !s.ok()) {
      return s;
    }
    if (!names.insert(rule_set.rules(i).name()).second) {
      return InvalidField(
          At(at, "name"),
          absl::StrCat("duplicate rule ", rule_set.rules(i).name()));
    }
  }
  const std::string fallback = At(field, "fallback");
  if (!rule_set.has_fallback()) {
    return InvalidField(fallback,
                        "required: it takes the leads no rule "
                        "matched");
  }
  if (absl::Status s = ValidateRule(rule_set.fallback(), fallback, policies);
      !s.ok()) {
    return s;
  }
  if (rule_set.fallback().condition().ByteSizeLong() != 0) {
    return InvalidField(At(fallback, "condition"),
                        "must be empty: the fallback takes every lead");
  }
  if (names.contains(rule_set.fallback().name())) {
    return InvalidField(
        At(fallback, "name"),
        absl::StrCat("duplicate rule ", rule_set.fallback().name()));
  }
  return absl::OkStatus();
}

}  // namespace handoff::routing::engine
