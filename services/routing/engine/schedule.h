#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "handoff/routing/v1/routing.pb.h"

namespace handoff::routing::engine {

inline constexpr int kMinutesPerWeek = 7 * 24 * 60;

// Minutes since Monday 00:00 of `local`'s week.
int MinuteOfWeek(absl::CivilSecond local);

// A rep's weekly working hours, compiled for quick "in hours at this local
// time?" checks. No windows means always working.
class WeeklySchedule {
 public:
  WeeklySchedule() = default;
  // Overlapping or touching windows merge. INVALID_ARGUMENT naming
  // `field`.windows[i] for a window outside 1-7 / [0, 1440] or empty.
  static absl::StatusOr<WeeklySchedule> Compile(std::string_view field,
                                                const v1::WorkingHours& hours);

  bool always() const { return intervals_.empty(); }
  bool Contains(int minute_of_week) const;
  // [start, end) minutes of the week, sorted and disjoint.
  const std::vector<std::pair<int, int>>& intervals() const {
    return intervals_;
  }

 private:
  // [start, end) in minutes of the week, sorted, disjoint.
  std::vector<std::pair<int, int>> intervals_;
};

}  // namespace handoff::routing::engine
