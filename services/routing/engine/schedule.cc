#include "services/routing/engine/schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff::routing::engine {

int MinuteOfWeek(absl::CivilSecond local) {
  // absl::Weekday counts from Monday = 0.
  const int day = static_cast<int>(absl::GetWeekday(local));
  return day * 24 * 60 + local.hour() * 60 + local.minute();
}

absl::StatusOr<WeeklySchedule> WeeklySchedule::Compile(
    std::string_view field, const v1::WorkingHours& hours) {
  WeeklySchedule schedule;
  for (int i = 0; i < hours.windows_size(); ++i) {
    const v1::WeeklyWindow& w = hours.windows(i);
    const std::string at = absl::StrCat(Sv(field), ".windows[", i, "]");
    if (w.day_of_week() < 1 || w.day_of_week() > 7) {
      return InvalidField(absl::StrCat(at, ".day_of_week"),
                          "must be 1 (Monday) to 7 (Sunday)");
    }
    if (w.start_minute() < 0 || w.end_minute() > 24 * 60 ||
        w.start_minute() >= w.end_minute()) {
      return InvalidField(at, "need 0 <= start_minute < end_minute <= 1440");
    }
    const int base = (w.day_of_week() - 1) * 24 * 60;
    schedule.intervals_.emplace_back(base + w.start_minute(),
                                     base + w.end_minute());
  }
  auto& in = schedule.intervals_;
  std::sort(in.begin(), in.end());
  std::vector<std::pair<int, int>> merged;
  for (const auto& interval : in) {
    if (!merged.empty() && interval.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, interval.second);
    } else {
      merged.push_back(interval);
    }
  }
  in = std::move(merged);
  return schedule;
}

bool WeeklySchedule::Contains(int minute_of_week) const {
  if (intervals_.empty()) return true;
  // The first interval starting after the minute; the one before may hold it.
  auto it = std::upper_bound(
      intervals_.begin(), intervals_.end(), minute_of_week,
      [](int m, const std::pair<int, int>& iv) { return m < iv.first; });
  if (it == intervals_.begin()) return false;
  --it;
  return minute_of_week < it->second;
}

}  // namespace handoff::routing::engine
