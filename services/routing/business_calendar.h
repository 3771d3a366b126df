#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

// Business time for SLA deadlines: a time zone, weekly opening hours and
// holidays, and arithmetic that counts only open time.
//
// What "open" means, and why: an instant is open when its local civil time
// (in the calendar's zone) falls on a non-holiday date inside one of that
// weekday's windows. Everything else follows from that one predicate, so
// the SLA clock counts real elapsed open time:
//   - spring forward: local times that do not exist that day are never
//     open, so a window spanning the gap is shorter in real time;
//   - fall back: the repeated local hour happens twice in real time and a
//     window covering it is open for both, as a rep really works both;
//   - a day skipped entirely (Pacific/Apia, 2011-12-30) is simply closed.
namespace handoff::routing {

inline constexpr int kMinutesPerDay = 24 * 60;

// One opening window on a weekday, in local wall-clock minutes after
// midnight: [start_minute, end_minute). end_minute may be 1440 (24:00).
// Windows never cross midnight: an overnight shift is two windows,
// e.g. Mon 22:00-24:00 and Tue 00:00-06:00, which count as one stretch.
struct BusinessWindow {
  absl::Weekday day = absl::Weekday::monday;
  int start_minute = 0;
  int end_minute = 0;
};

struct BusinessCalendarSpec {
  // IANA zone name, e.g. "Europe/Berlin".
  std::string time_zone;
  // Any order; windows on the same weekday must not overlap (touching is
  // fine). The week must have some open time.
  std::vector<BusinessWindow> weekly_hours;
  // Local civil dates closed all day. Duplicates are ignored.
  std::vector<absl::CivilDay> holidays;
};

// Immutable once created; const methods are safe to call from any thread.
class BusinessCalendar {
 public:
  // Validates `spec`; errors are INVALID_ARGUMENT naming the offending
  // field under `field`, e.g. "calendar.weekly_hours[1].end: ...".
  static absl::StatusOr<BusinessCalendar> Create(
      const BusinessCalendarSpec& spec, std::string_view field = "calendar");
  // Open around the clock, no holidays: business time is real time.
  static BusinessCalendar AlwaysOpen(absl::TimeZone zone = absl::UTCTimeZone());

  bool IsOpen(absl::Time t) const;

  // `t` itself when open, else the first instant after `t` that is open.
  absl::Time NextOpening(absl::Time t) const;

  // The SLA deadline for a clock started at `start` with `d` of business
  // time: the clock starts at NextOpening(start) and the deadline is the
  // earliest instant by which `d` of open time has elapsed. So a zero (or
  // negative) `d` gives NextOpening(start), and a deadline that uses up a
  // window exactly is that window's end (Fri 16:00 + 1h = Fri 17:00, not
  // Mon 09:00). Infinite `start` is returned as is; infinite `d` gives
  // InfiniteFuture().
  absl::Time AddBusinessTime(absl::Time start, absl::Duration d) const;

  // Open time within [a, b); zero when b <= a. Infinite when a is
  // InfinitePast() or b is InfiniteFuture() (and a < b).
  absl::Duration BusinessTimeBetween(absl::Time a, absl::Time b) const;

  absl::TimeZone time_zone() const { return zone_; }
  // Sum of all windows: the open time of a week without holidays or
  // offset changes.
  absl::Duration WeeklyOpenTime() const { return weekly_open_; }

 private:
  struct Window {
    int start_minute;
    int end_minute;
  };
  struct Walked {
    absl::Time end;
    absl::Duration open;
  };

  BusinessCalendar(absl::TimeZone zone,
                   std::array<std::vector<Window>, 7> windows,
                   std::vector<absl::CivilDay> holidays);

  // Moves forward from `from` until `until` or until `budget` of open time
  // has been seen, whichever comes first.
  Walked Walk(absl::Time from, absl::Time until, absl::Duration budget) const;
  bool IsHoliday(absl::CivilDay day) const;

  absl::TimeZone zone_;
  // Indexed by absl::Weekday (monday = 0), sorted by start.
  std::array<std::vector<Window>, 7> windows_;
  // Sorted, unique.
  std::vector<absl::CivilDay> holidays_;
  absl::Duration weekly_open_;
};

// "HH:MM" from 00:00 to 24:00 as minutes after midnight; the error names
// `field`.
absl::StatusOr<int> ParseTimeOfDay(std::string_view text,
                                   std::string_view field);
// Minutes after midnight as "HH:MM" (1440 is "24:00").
std::string FormatTimeOfDay(int minute);
// A local date "YYYY-MM-DD" (a holiday); the error names `field`.
absl::StatusOr<absl::CivilDay> ParseCivilDate(std::string_view text,
                                              std::string_view field);
// "mon", "Monday", "TUE", ... ; the error names `field`.
absl::StatusOr<absl::Weekday> ParseWeekday(std::string_view text,
                                           std::string_view field);

}  // namespace handoff::routing
