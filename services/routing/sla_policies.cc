#include "services/routing/sla_policies.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "services/routing/engine/sla_choice.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing {

absl::Duration CompiledPolicy::Window(bool priority) const {
  return engine::AcceptWindow(proto, priority);
}

absl::Time CompiledPolicy::AcceptDue(absl::Time now, bool priority) const {
  return calendar.AddBusinessTime(now, Window(priority));
}

std::optional<absl::Time> CompiledPolicy::WarningAt(absl::Time now,
                                                    bool priority) const {
  const int bp = proto.warning_fraction_bp();
  if (bp <= 0) return std::nullopt;
  return calendar.AddBusinessTime(now, Window(priority) * bp / 10000);
}

absl::StatusOr<BusinessCalendar> CompileCalendar(
    const v1::BusinessCalendar& calendar, std::string_view field) {
  absl::StatusOr<absl::TimeZone> zone = engine::LoadZone(
      absl::StrCat(Sv(field), ".time_zone"), calendar.time_zone());
  if (!zone.ok()) return zone.status();
  if (calendar.working_hours().windows().empty() &&
      calendar.holidays().empty()) {
    return BusinessCalendar::AlwaysOpen(*zone);
  }
  BusinessCalendarSpec spec;
  spec.time_zone = calendar.time_zone().empty() ? "UTC" : calendar.time_zone();
  if (calendar.working_hours().windows().empty()) {
    for (int day = 0; day < 7; ++day) {
      spec.weekly_hours.push_back(
          {static_cast<absl::Weekday>(day), 0, kMinutesPerDay});
    }
  }
  for (const v1::WeeklyWindow& w : calendar.working_hours().windows()) {
    if (w.day_of_week() < 1 || w.day_of_week() > 7) {
      return InvalidField(absl::StrCat(Sv(field), ".working_hours.day_of_week"),
                          "must be 1 (Monday) to 7 (Sunday)");
    }
    // absl::Weekday counts from Monday = 0.
    spec.weekly_hours.push_back(
        {static_cast<absl::Weekday>(w.day_of_week() - 1), w.start_minute(),
         w.end_minute()});
  }
  for (int i = 0; i < calendar.holidays_size(); ++i) {
    absl::StatusOr<absl::CivilDay> day = ParseCivilDate(
        calendar.holidays(i), absl::StrCat(Sv(field), ".holidays[", i, "]"));
    if (!day.ok()) return day.status();
    spec.holidays.push_back(*day);
  }
  return BusinessCalendar::Create(spec, field);
}

absl::StatusOr<SlaPolicies> SlaPolicies::Compile(const v1::RuleSet& rule_set,
                                                 const SlaDefaults& defaults) {
  SlaPolicies out;
  CompiledPolicy fallback;
  fallback.proto.set_name(kDefaultPolicy);
  *fallback.proto.mutable_accept_within() =
      ToProtoDuration(defaults.accept_window);
  fallback.proto.set_on_exhausted(v1::EXHAUSTED_ACTION_RECYCLE);
  fallback.max_attempts = defaults.max_attempts;
  out.policies_.emplace(kDefaultPolicy, std::move(fallback));
  for (int i = 0; i < rule_set.sla_policies_size(); ++i) {
    const v1::SlaPolicy& proto = rule_set.sla_policies(i);
    const std::string field = absl::StrCat("rule_set.sla_policies[", i, "]");
    CompiledPolicy policy;
    policy.proto = proto;
    absl::StatusOr<BusinessCalendar> calendar =
        CompileCalendar(proto.calendar(), absl::StrCat(Sv(field), ".calendar"));
    if (!calendar.ok()) return calendar.status();
    policy.calendar = *std::move(calendar);
    policy.max_attempts =
        proto.max_attempts() > 0 ? proto.max_attempts() : defaults.max_attempts;
    out.policies_.insert_or_assign(proto.name(), std::move(policy));
  }
  return out;
}

const CompiledPolicy& SlaPolicies::Get(std::string_view name) const {
  auto it =
      policies_.find(name.empty() ? std::string_view(kDefaultPolicy) : name);
  if (it == policies_.end()) it = policies_.find(kDefaultPolicy);
  return it->second;
}

}  // namespace handoff::routing
