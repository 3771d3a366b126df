#include "services/routing/business_calendar.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff::routing {
namespace {

constexpr std::array<const char*, 7> kWeekdayNames = {
    "Monday", "Tuesday",  "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday"};

int WeekdayIndex(absl::CivilDay day) {
  return static_cast<int>(absl::GetWeekday(day));
}

// The instant whose local time is `local` under a fixed UTC offset.
absl::Time InstantAt(absl::CivilSecond local, int offset_seconds) {
  return absl::FromUnixSeconds((local - absl::CivilSecond(1970, 1, 1)) -
                               offset_seconds);
}

}  // namespace

absl::StatusOr<BusinessCalendar> BusinessCalendar::Create(
    const BusinessCalendarSpec& spec, std::string_view field) {
  const std::string zone_field = absl::StrCat(Sv(field), ".time_zone");
  if (spec.time_zone.empty()) {
    return InvalidField(zone_field,
                        "required (an IANA name such as Europe/Berlin)");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(spec.time_zone, &zone)) {
    return InvalidField(
        zone_field, absl::StrCat("unknown time zone \"", spec.time_zone, "\""));
  }

  std::array<std::vector<Window>, 7> windows;
  std::array<std::vector<size_t>, 7> spec_index;  // for overlap messages
  for (size_t i = 0; i < spec.weekly_hours.size(); ++i) {
    const BusinessWindow& w = spec.weekly_hours[i];
    const std::string at = absl::StrCat(Sv(field), ".weekly_hours[", i, "]");
    const int day = static_cast<int>(w.day);
    if (day < 0 || day > 6) {
      return InvalidField(absl::StrCat(at, ".day"), "not a weekday");
    }
    if (w.start_minute < 0 || w.start_minute >= kMinutesPerDay) {
      return InvalidField(absl::StrCat(at, ".start"),
                          "must be between 00:00 and 23:59");
    }
    if (w.end_minute > kMinutesPerDay) {
      return InvalidField(absl::StrCat(at, ".end"),
                          "must be 24:00 at the latest");
    }
    if (w.end_minute <= w.start_minute) {
      return InvalidField(
          absl::StrCat(at, ".end"),
          "must be after start (a window crossing midnight is two windows, "
          "one ending 24:00 and one starting 00:00 the next day)");
    }
    for (size_t j : spec_index[day]) {
      const BusinessWindow& other = spec.weekly_hours[j];
      if (w.start_minute < other.end_minute &&
          other.start_minute < w.end_minute) {
        return InvalidField(
            at,
            absl::StrCat("overlaps weekly_hours[", j, "] (", kWeekdayNames[day],
                         " ", FormatTimeOfDay(other.start_minute), "-",
                         FormatTimeOfDay(other.end_minute), ")"));
      }
    }
    spec_index[day].push_back(i);
    windows[day].push_back({w.start_minute, w.end_minute});
  }
  bool any_open = false;
  for (auto& day_windows : windows) {
    std::sort(day_windows.begin(), day_windows.end(),
              [](const Window& a, const Window& b) {
                return a.start_minute < b.start_minute;
              });
    any_open = any_open || !day_windows.empty();
  }
  // Without open time a deadline would never come; refuse rather than let
  // a search run forever.
  if (!any_open) {
    return InvalidField(absl::StrCat(Sv(field), ".weekly_hours"),
                        "the week has no open time");
  }

  std::vector<absl::CivilDay> holidays = spec.holidays;
  std::sort(holidays.begin(), holidays.end());
  holidays.erase(std::unique(holidays.begin(), holidays.end()), holidays.end());
  return BusinessCalendar(zone, std::move(windows), std::move(holidays));
}

BusinessCalendar BusinessCalendar::AlwaysOpen(absl::TimeZone zone) {
  std::array<std::vector<Window>, 7> windows;
  for (auto& day_windows : windows) day_windows.push_back({0, kMinutesPerDay});
  return BusinessCalendar(zone, std::move(windows), {});
}

BusinessCalendar::BusinessCalendar(absl::TimeZone zone,
                                   std::array<std::vector<Window>, 7> windows,
                                   std::vector<absl::CivilDay> holidays)
    : zone_(zone),
      windows_(std::move(windows)),
      holidays_(std::move(holidays)),
      weekly_open_(absl::ZeroDuration()) {
  for (const auto& day_windows : windows_) {
    for (const Window& w : day_windows) {
      weekly_open_ += absl::Minutes(w.end_minute - w.start_minute);
    }
  }
}

bool BusinessCalendar::IsHoliday(absl::CivilDay day) const {
  return std::binary_search(holidays_.begin(), holidays_.end(), day);
}

bool BusinessCalendar::IsOpen(absl::Time t) const {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return false;
  const absl::CivilSecond local = zone_.At(t).cs;
  const absl::CivilDay day(local);
  if (IsHoliday(day)) return false;
  const int minute = local.hour() * 60 + local.minute();
  for (const Window& w : windows_[WeekdayIndex(day)]) {
    if (w.start_minute <= minute && minute < w.end_minute) return true;
  }
  return false;
}

absl::Time BusinessCalendar::NextOpening(absl::Time t) const {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  if (IsOpen(t)) return t;
  // The first open nanosecond after a closed `t` starts an open stretch.
  const absl::Duration tick = absl::Nanoseconds(1);
  return Walk(t, absl::InfiniteFuture(), tick).end - tick;
}

absl::Time BusinessCalendar::AddBusinessTime(absl::Time start,
                                             absl::Duration d) const {
  if (start == absl::InfinitePast() || start == absl::InfiniteFuture()) {
    return start;
  }
  if (d == absl::InfiniteDuration()) return absl::InfiniteFuture();
  if (d <= absl::ZeroDuration()) return NextOpening(start);
  return Walk(start, absl::InfiniteFuture(), d).end;
}

absl::Duration BusinessCalendar::BusinessTimeBetween(absl::Time a,
                                                     absl::Time b) const {
  if (b <= a) return absl::ZeroDuration();
  if (a == absl::InfinitePast() || b == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  return Walk(a, b, absl::InfiniteDuration()).open;
}

// The zone's offset is constant between transitions, so real time there is
// local time shifted: walk local days of each such segment, clip each
// window to the segment, and convert back with the segment's offset. A
// local day that a transition cuts is finished in the next segment under
// the new offset, which is how gaps shorten windows and repeats lengthen
// them. Inside a segment, whole weeks without holidays have exactly
// weekly_open_ of open time and are skipped in one step.
BusinessCalendar::Walked BusinessCalendar::Walk(absl::Time from,
                                                absl::Time until,
                                                absl::Duration budget) const {
  constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
  const absl::Duration kWeek = absl::Hours(24 * 7);
  absl::Duration open = absl::ZeroDuration();
  absl::Time t = from;
  while (t < until) {
    const absl::TimeZone::CivilInfo here = zone_.At(t);
    const int offset = here.offset;
    absl::Time segment_end = until;
    absl::TimeZone::CivilTransition transition;
    if (zone_.NextTransition(t, &transition)) {
      // `from` is the last local time under the old offset, so this is the
      // instant the offset changes.
      segment_end = std::min(segment_end, InstantAt(transition.from, offset));
    }
    absl::CivilDay day(here.cs);
    while (t < segment_end) {
      const absl::Time day_start = InstantAt(absl::CivilSecond(day), offset);
      const absl::Duration remaining = budget - open;
      if (t == day_start && remaining > weekly_open_) {
        absl::Duration unused_rest;  // IDivDuration needs somewhere for it
        // Strictly less than the remaining budget, so the walk still ends
        // inside a window rather than at a week boundary.
        int64_t weeks =
            remaining == absl::InfiniteDuration()
                ? kUnbounded
                : absl::IDivDuration(remaining - absl::Nanoseconds(1),
                                     weekly_open_, &unused_rest);
        if (segment_end != absl::InfiniteFuture()) {
          weeks = std::min(weeks, absl::IDivDuration(segment_end - day_start,
                                                     kWeek, &unused_rest));
        }
        const auto next_holiday =
            std::lower_bound(holidays_.begin(), holidays_.end(), day);
        if (next_holiday != holidays_.end()) {
          weeks = std::min<int64_t>(weeks, (*next_holiday - day) / 7);
        }
        if (weeks > 0) {
          open += weekly_open_ * weeks;
          day += weeks * 7;
          t = day_start + kWeek * weeks;
          continue;
        }
      }
      if (!IsHoliday(day)) {
        for (const Window& w : windows_[WeekdayIndex(day)]) {
          const absl::Time a =
              std::max(t, day_start + absl::Minutes(w.start_minute));
          const absl::Time b =
              std::min(segment_end, day_start + absl::Minutes(w.end_minute));
          if (a >= b) continue;
          if (b - a >= budget - open) return {a + (budget - open), budget};
          open += b - a;
        }
      }
      t = std::min(segment_end, day_start + absl::Hours(24));
      ++day;
    }
  }
  return {until, open};
}

absl::StatusOr<int> ParseTimeOfDay(std::string_view text,
                                   std::string_view field) {
  const absl::Status bad =
      InvalidField(field, absl::StrCat("\"", Sv(text),
                                       "\" is not a time HH:MM between 00:00 "
                                       "and 24:00"));
  if (text.size() != 5 || text[2] != ':') return bad;
  int hours = 0;
  int minutes = 0;
  const std::string_view hh = text.substr(0, 2);
  const std::string_view mm = text.substr(3, 2);
  if (!absl::ascii_isdigit(hh[0]) || !absl::ascii_isdigit(hh[1]) ||
      !absl::ascii_isdigit(mm[0]) || !absl::ascii_isdigit(mm[1]) ||
      !absl::SimpleAtoi(Sv(hh), &hours) ||
      !absl::SimpleAtoi(Sv(mm), &minutes)) {
    return bad;
  }
  if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0)) return bad;
  return hours * 60 + minutes;
}

std::string FormatTimeOfDay(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

absl::StatusOr<absl::CivilDay> ParseCivilDate(std::string_view text,
                                              std::string_view field) {
  absl::CivilDay day;
  // ParseCivilTime normalizes (Feb 30 becomes Mar 2); a round trip refuses
  // dates that do not exist.
  if (text.size() != 10 || !absl::ParseCivilTime(Sv(text), &day) ||
      absl::FormatCivilTime(day) != Sv(text)) {
    return InvalidField(
        field, absl::StrCat("\"", Sv(text), "\" is not a date YYYY-MM-DD"));
  }
  return day;
}

absl::StatusOr<absl::Weekday> ParseWeekday(std::string_view text,
                                           std::string_view field) {
  const std::string lower = absl::AsciiStrToLower(Sv(text));
  for (int i = 0; i < 7; ++i) {
    const std::string name = absl::AsciiStrToLower(kWeekdayNames[i]);
    if (lower == name || (lower.size() == 3 && name.rfind(lower, 0) == 0)) {
      return static_cast<absl::Weekday>(i);
    }
  }
  return InvalidField(
      field, absl::StrCat("\"", Sv(text), "\" is not a weekday (mon..sun)"));
}

}  // namespace handoff::routing
