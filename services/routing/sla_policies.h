#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/business_calendar.h"

namespace handoff::routing {

// The policy a rule names, or the service default ("default") for rules that
// name none: a 30-minute (configurable) wall-time window, recycle when
// attempts run out.
inline constexpr char kDefaultPolicy[] = "default";

struct SlaDefaults {
  absl::Duration accept_window = absl::Minutes(30);
  int max_attempts = 3;
};

// An SlaPolicy ready for deadline arithmetic.
struct CompiledPolicy {
  v1::SlaPolicy proto;
  BusinessCalendar calendar = BusinessCalendar::AlwaysOpen();
  int max_attempts = 3;

  // Accept deadline of an offer made at `now`.
  absl::Time AcceptDue(absl::Time now, bool priority) const;
  // When the warning fires, or nullopt without one.
  std::optional<absl::Time> WarningAt(absl::Time now, bool priority) const;
  absl::Duration Window(bool priority) const;
};

class SlaPolicies {
 public:
  // The rule set's policies plus the default; INVALID_ARGUMENT naming the
  // field for a calendar that does not compile.
  static absl::StatusOr<SlaPolicies> Compile(const v1::RuleSet& rule_set,
                                             const SlaDefaults& defaults);

  // `name` empty or unknown (a policy dropped by a later rule set) is the
  // default.
  const CompiledPolicy& Get(std::string_view name) const;
  // The policy's name as assignments record it.
  static std::string NameOf(std::string_view rule_policy) {
    return rule_policy.empty() ? kDefaultPolicy : std::string(rule_policy);
  }

 private:
  std::map<std::string, CompiledPolicy, std::less<>> policies_;
};

// The SLA calendar of `calendar`; always open without working hours.
absl::StatusOr<BusinessCalendar> CompileCalendar(
    const v1::BusinessCalendar& calendar, std::string_view field);

}  // namespace handoff::routing
