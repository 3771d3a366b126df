#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/strings.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::routing::engine::testing {

// Monday 2026-01-05 10:00 UTC.
inline absl::Time Monday10() {
  return absl::FromCivil(absl::CivilSecond(2026, 1, 5, 10, 0, 0),
                         absl::UTCTimeZone());
}

inline v1::Rep Rep(std::string_view id, std::string_view team,
                   int capacity = 10) {
  v1::Rep rep;
  rep.set_name(absl::StrCat("reps/", Sv(id)));
  rep.set_display_name(std::string(id));
  rep.set_team(std::string(team));
  rep.set_capacity(capacity);
  rep.set_status(v1::REP_STATUS_AVAILABLE);
  return rep;
}

inline void AddWindow(v1::WorkingHours* hours, int day, int start_minute,
                      int end_minute) {
  v1::WeeklyWindow* w = hours->add_windows();
  w->set_day_of_week(day);
  w->set_start_minute(start_minute);
  w->set_end_minute(end_minute);
}

// Mon-Fri 09:00-17:00.
inline v1::WorkingHours OfficeHours() {
  v1::WorkingHours hours;
  for (int day = 1; day <= 5; ++day) AddWindow(&hours, day, 9 * 60, 17 * 60);
  return hours;
}

inline v1::RoutingRule TeamRule(
    std::string_view id, std::string_view team,
    v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN) {
  v1::RoutingRule rule;
  rule.set_name(absl::StrCat("rules/", Sv(id)));
  rule.set_team(std::string(team));
  rule.set_strategy(strategy);
  return rule;
}

inline v1::RoutingRule PoolRule(
    std::string_view id, const std::vector<std::string>& rep_ids,
    v1::RoutingStrategy strategy = v1::ROUTING_STRATEGY_ROUND_ROBIN) {
  v1::RoutingRule rule;
  rule.set_name(absl::StrCat("rules/", Sv(id)));
  for (const std::string& id : rep_ids) {
    rule.mutable_pool()->add_reps(absl::StrCat("reps/", id));
  }
  rule.set_strategy(strategy);
  return rule;
}

// A rule set whose fallback sends everything else to team "fallback".
inline v1::RuleSet RuleSetOf(std::vector<v1::RoutingRule> rules,
                             int64_t version = 1) {
  v1::RuleSet set;
  set.set_version(version);
  for (v1::RoutingRule& rule : rules) *set.add_rules() = std::move(rule);
  *set.mutable_fallback() = TeamRule("fallback", "fallback");
  return set;
}

inline v1::LeadSummary Lead(std::string_view country, int employees = 0,
                            std::string_view industry = "") {
  v1::LeadSummary lead;
  lead.mutable_profile()->set_country(std::string(country));
  lead.mutable_profile()->set_employee_count(employees);
  lead.mutable_profile()->set_industry(std::string(industry));
  return lead;
}

}  // namespace handoff::routing::engine::testing
