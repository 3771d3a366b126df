// Property test: BusinessCalendar against a minute-by-minute oracle on
// thousands of random calendars, start instants and durations.
//
// The oracle shares no code with the calendar: it walks real time one
// minute at a time and asks whether each minute is open by converting it to
// local civil time. Zone offsets and windows are whole minutes (true of
// every zone in the years generated, 2005-2040), so openness is constant
// within each UTC minute.
//
// Rerun one case: HANDOFF_BUSINESS_TIME_SEED=<seed>
// HANDOFF_BUSINESS_TIME_CASE=<index> business_time_test
// --gtest_filter='BusinessTimeProperty.*'. HANDOFF_BUSINESS_TIME_CASES
// changes the number of cases.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "services/routing/business_calendar.h"

namespace handoff::routing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kDefaultSeed = 20250317;
constexpr int kDefaultCases = 5000;
// Bounds the oracle: no case walks more than this many minutes.
constexpr int64_t kOracleMinuteCap = 400'000;

// DST and fixed zones, whole-hour, half-hour and 45-minute offsets, a
// 30-minute DST shift (Lord Howe), midnight transitions (Santiago, Havana),
// Ramadan switching (Casablanca), a skipped day (Apia, 2011), DST abolished
// midway (Tehran 2022, Sao Paulo 2019).
constexpr const char* kZones[] = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Santiago",
    "America/Havana",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Pacific/Apia",
    "Europe/London",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Europe/Dublin",
};

struct Case {
  uint64_t seed = 0;
  int index = 0;
  std::string zone_name;
  absl::TimeZone zone;
  BusinessCalendarSpec spec;
  absl::Time start;
  absl::Duration duration;
  // Set when BusinessTimeBetween(start, between_end) is checked against an
  // explicit end; otherwise the end is the oracle's deadline.
  std::optional<absl::Duration> between_span;
};

// --- The oracle --------------------------------------------------------------

bool OracleIsOpen(const Case& c, absl::Time t) {
  const absl::CivilSecond local = c.zone.At(t).cs;
  for (const absl::CivilDay& holiday : c.spec.holidays) {
    if (holiday.year() == local.year() && holiday.month() == local.month() &&
        holiday.day() == local.day()) {
      return false;
    }
  }
  const absl::Weekday weekday = absl::GetWeekday(local);
  const int minute = local.hour() * 60 + local.minute();
  for (const BusinessWindow& w : c.spec.weekly_hours) {
    if (w.day == weekday && w.start_minute <= minute && minute < w.end_minute) {
      return true;
    }
  }
  return false;
}

absl::Time FloorMinute(absl::Time t) {
  return absl::UnixEpoch() +
         absl::Floor(t - absl::UnixEpoch(), absl::Minutes(1));
}

absl::Time NextMinute(absl::Time t) {
  return FloorMinute(t) + absl::Minutes(1);
}

// Each step covers [t, next): the rest of the start's minute, then whole
// minutes. nullopt when the walk would exceed kOracleMinuteCap.
std::optional<absl::Time> OracleAdd(const Case& c, absl::Time start,
                                    absl::Duration d) {
  absl::Duration remaining = std::max(d, absl::ZeroDuration());
  absl::Time t = start;
  absl::Time next = NextMinute(start);
  for (int64_t steps = 0; steps < kOracleMinuteCap; ++steps) {
    if (OracleIsOpen(c, t)) {
      if (remaining == absl::ZeroDuration()) return t;
      if (remaining <= next - t) return t + remaining;
      remaining -= next - t;
    }
    t = next;
    next += absl::Minutes(1);
  }
  return std::nullopt;
}

absl::Duration OracleBetween(const Case& c, absl::Time a, absl::Time b) {
  absl::Duration open = absl::ZeroDuration();
  for (absl::Time t = a, next = NextMinute(a); t < b;
       t = next, next += absl::Minutes(1)) {
    if (OracleIsOpen(c, t)) open += std::min(next, b) - t;
  }
  return open;
}

// --- Case generation ---------------------------------------------------------

// SplitMix64: fixed across platforms, unlike std:: distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo +
           static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Between(1, 100) <= percent; }

 private:
  uint64_t state_;
};

absl::TimeZone LoadZone(const std::string& name) {
  static auto* zones = new std::map<std::string, absl::TimeZone>();
  auto it = zones->find(name);
  if (it == zones->end()) {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone(name, &zone)) {
      ADD_FAILURE() << "cannot load time zone " << name
                    << " (is Debian's tzdata installed?)";
    }
    it = zones->emplace(name, zone).first;
  }
  return it->second;
}

std::vector<BusinessWindow> RandomWeek(Rng& rng) {
  std::vector<BusinessWindow> windows;
  const bool full_days = rng.Chance(4);  // around the clock on open days
  const int day_percent = static_cast<int>(rng.Between(20, 100));
  for (int day = 0; day < 7; ++day) {
    if (!rng.Chance(day_percent)) continue;
    const absl::Weekday weekday = static_cast<absl::Weekday>(day);
    if (full_days) {
      windows.push_back({weekday, 0, kMinutesPerDay});
      continue;
    }
    // Often crowd the windows into the small hours, where offsets change.
    const int latest = rng.Chance(30) ? 300 : kMinutesPerDay;
    std::vector<int> edges;
    const int count = static_cast<int>(rng.Between(1, 3));
    for (int i = 0; i < 2 * count; ++i) {
      edges.push_back(static_cast<int>(rng.Between(0, latest)));
    }
    std::sort(edges.begin(), edges.end());
    for (int i = 0; i < 2 * count; i += 2) {
      if (edges[i] < edges[i + 1]) {
        windows.push_back({weekday, edges[i], edges[i + 1]});
      }
    }
  }
  if (windows.empty()) {
    const int start = static_cast<int>(rng.Between(0, kMinutesPerDay - 1));
    windows.push_back(
        {static_cast<absl::Weekday>(rng.Between(0, 6)), start,
         static_cast<int>(rng.Between(start + 1, kMinutesPerDay))});
  }
  return windows;
}

int64_t WeeklyMinutes(const std::vector<BusinessWindow>& windows) {
  int64_t total = 0;
  for (const BusinessWindow& w : windows) {
    total += w.end_minute - w.start_minute;
  }
  return total;
}

Case GenerateCase(uint64_t seed, int index) {
  Rng rng(seed ^ (0x5851f42d4c957f2dULL * (static_cast<uint64_t>(index) + 1)));
  Case c;
  c.seed = seed;
  c.index = index;
  c.zone_name = kZones[rng.Between(0, std::size(kZones) - 1)];
  c.zone = LoadZone(c.zone_name);
  c.spec.time_zone = c.zone_name;
  c.spec.weekly_hours = RandomWeek(rng);

  const int64_t from = absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilSecond(2005, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
  const int64_t to = absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilSecond(2040, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
  c.start = absl::FromUnixSeconds(rng.Between(from, to));
  absl::TimeZone::CivilTransition transition;
  if (rng.Chance(60) && c.zone.NextTransition(c.start, &transition)) {
    // Start shortly before (or just after) an offset change.
    c.start = absl::FromCivil(transition.to, c.zone) +
              absl::Seconds(rng.Between(-10 * 86400, 2 * 86400));
  }
  if (rng.Chance(50)) {
    c.start = FloorMinute(c.start);
  } else {
    c.start += absl::Nanoseconds(rng.Between(0, 999'999'999));
  }

  if (rng.Chance(50)) {
    const absl::CivilDay near = absl::ToCivilDay(c.start, c.zone);
    const int holidays = static_cast<int>(rng.Between(1, 5));
    for (int i = 0; i < holidays; ++i) {
      const absl::CivilDay first = near + rng.Between(-2, 30);
      const int run = rng.Chance(25) ? static_cast<int>(rng.Between(2, 5)) : 1;
      for (int k = 0; k < run; ++k) c.spec.holidays.push_back(first + k);
    }
  }

  const int64_t weekly = WeeklyMinutes(c.spec.weekly_hours);
  const int64_t four_weeks = 4 * 7 * kMinutesPerDay;
  int64_t minutes = 0;
  const int64_t mode = rng.Between(1, 100);
  if (mode <= 10) {
    minutes = 0;
  } else if (mode <= 45) {
    minutes = rng.Between(1, std::min<int64_t>(weekly, 600));
  } else if (mode <= 75) {
    minutes = rng.Between(1, weekly);
  } else if (mode <= 95) {
    // Several weeks: exercises the week-skipping path.
    minutes = rng.Between(weekly, std::min(weekly * 3, four_weeks));
  } else {
    // Whole weeks exactly: the deadline is the end of a window.
    minutes = weekly * rng.Between(1, 2);
  }
  c.duration = absl::Minutes(minutes);
  if (rng.Chance(15)) c.duration += absl::Seconds(rng.Between(1, 59));
  if (rng.Chance(50)) {
    c.between_span = absl::Seconds(rng.Between(0, 7 * 86400)) +
                     absl::Milliseconds(rng.Between(0, 999));
  }
  return c;
}

// --- Reporting ---------------------------------------------------------------

std::string Instant(absl::Time t, const absl::TimeZone& zone) {
  return absl::StrCat(
      absl::FormatTime("%a %Y-%m-%d %H:%M:%E*S %Ez", t, zone), " (",
      absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()), ")");
}

std::string Describe(const Case& c) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu",
                                          "Fri", "Sat", "Sun"};
  std::vector<std::string> windows;
  for (const BusinessWindow& w : c.spec.weekly_hours) {
    windows.push_back(absl::StrCat(kDays[static_cast<int>(w.day)], " ",
                                   FormatTimeOfDay(w.start_minute), "-",
                                   FormatTimeOfDay(w.end_minute)));
  }
  std::vector<std::string> holidays;
  for (const absl::CivilDay& d : c.spec.holidays) {
    holidays.push_back(absl::FormatCivilTime(d));
  }
  return absl::StrCat(
      "business-time case seed=", c.seed, " case=", c.index,
      "\n  rerun: HANDOFF_BUSINESS_TIME_SEED=", c.seed,
      " HANDOFF_BUSINESS_TIME_CASE=", c.index,
      " business_time_test --gtest_filter='BusinessTimeProperty.*'",
      "\n  zone=", c.zone_name, "\n  windows=", absl::StrJoin(windows, ", "),
      "\n  holidays=",
      holidays.empty() ? "none" : absl::StrJoin(holidays, ", "),
      "\n  start=", Instant(c.start, c.zone),
      "\n  duration=", absl::FormatDuration(c.duration),
      c.between_span ? absl::StrCat("\n  between_end=start+",
                                    absl::FormatDuration(*c.between_span))
                     : "");
}

// The operations under test, replaceable to check the reporting itself.
struct Operations {
  std::function<absl::Time(const BusinessCalendar&, absl::Time, absl::Duration)>
      add = [](const BusinessCalendar& cal, absl::Time t, absl::Duration d) {
        return cal.AddBusinessTime(t, d);
      };
  std::function<absl::Duration(const BusinessCalendar&, absl::Time, absl::Time)>
      between = [](const BusinessCalendar& cal, absl::Time a, absl::Time b) {
        return cal.BusinessTimeBetween(a, b);
      };
};

struct Coverage {
  int cases = 0;
  int across_offset_change = 0;
  int with_holiday_in_span = 0;
  int multi_week = 0;
  int sub_minute_start = 0;
  int closed_start = 0;
};

struct Checked {
  bool failed = false;
  // The oracle's deadline, when it has one.
  std::optional<absl::Time> deadline;
};

// Checks one case, reporting each disagreement with the full case.
Checked CheckCase(const Case& c, const Operations& ops) {
  Checked checked;
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(c.spec);
  if (!calendar.ok()) {
    ADD_FAILURE() << "generated calendar rejected: " << calendar.status()
                  << "\n"
                  << Describe(c);
    checked.failed = true;
    return checked;
  }
  const std::optional<absl::Time> expected = OracleAdd(c, c.start, c.duration);
  if (!expected) {
    ADD_FAILURE() << "oracle walk exceeds " << kOracleMinuteCap
                  << " minutes; the generator must bound its cases\n"
                  << Describe(c);
    checked.failed = true;
    return checked;
  }
  checked.deadline = expected;
  const absl::Time got = ops.add(*calendar, c.start, c.duration);
  if (got != *expected) {
    checked.failed = true;
    ADD_FAILURE() << "AddBusinessTime disagrees with the oracle\n"
                  << Describe(c)
                  << "\n  oracle deadline=" << Instant(*expected, c.zone)
                  << "\n  calendar deadline=" << Instant(got, c.zone);
  }

  // Up to its own deadline the oracle has, by construction, seen exactly
  // the duration of open time; other ends it walks again.
  const absl::Time end = c.between_span ? c.start + *c.between_span : *expected;
  const absl::Duration expected_open =
      c.between_span ? OracleBetween(c, c.start, end) : c.duration;
  const absl::Duration got_open = ops.between(*calendar, c.start, end);
  if (got_open != expected_open) {
    checked.failed = true;
    ADD_FAILURE() << "BusinessTimeBetween disagrees with the oracle\n"
                  << Describe(c) << "\n  end=" << Instant(end, c.zone)
                  << "\n  oracle=" << absl::FormatDuration(expected_open)
                  << "\n  calendar=" << absl::FormatDuration(got_open);
  }

  const bool open = OracleIsOpen(c, c.start);
  if (calendar->IsOpen(c.start) != open) {
    checked.failed = true;
    ADD_FAILURE() << "IsOpen(start) disagrees with the oracle (oracle says "
                  << open << ")\n"
                  << Describe(c);
  }
  const std::optional<absl::Time> opening =
      c.duration == absl::ZeroDuration() ? expected : OracleAdd(c, c.start, {});
  if (opening && calendar->NextOpening(c.start) != *opening) {
    checked.failed = true;
    ADD_FAILURE() << "NextOpening(start) disagrees with the oracle\n"
                  << Describe(c) << "\n  oracle=" << Instant(*opening, c.zone)
                  << "\n  calendar="
                  << Instant(calendar->NextOpening(c.start), c.zone);
  }
  return checked;
}

void Tally(const Case& c, absl::Time deadline, Coverage& coverage) {
  ++coverage.cases;
  const absl::Time end =
      std::max(deadline, c.between_span ? c.start + *c.between_span : c.start);
  if (c.zone.At(c.start).offset != c.zone.At(end).offset) {
    ++coverage.across_offset_change;
  }
  const absl::CivilDay first = absl::ToCivilDay(c.start, c.zone);
  const absl::CivilDay last = absl::ToCivilDay(end, c.zone);
  for (const absl::CivilDay& d : c.spec.holidays) {
    if (first <= d && d <= last) {
      ++coverage.with_holiday_in_span;
      break;
    }
  }
  if (c.duration > 2 * absl::Minutes(WeeklyMinutes(c.spec.weekly_hours))) {
    ++coverage.multi_week;
  }
  if (c.start != FloorMinute(c.start)) {
    ++coverage.sub_minute_start;
  }
  if (!OracleIsOpen(c, c.start)) ++coverage.closed_start;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10)
                                            : fallback;
}

TEST(BusinessTimeProperty, AgreesWithMinuteByMinuteOracle) {
  const uint64_t seed = EnvOr("HANDOFF_BUSINESS_TIME_SEED", kDefaultSeed);
  const int cases =
      static_cast<int>(EnvOr("HANDOFF_BUSINESS_TIME_CASES", kDefaultCases));
  const char* only = std::getenv("HANDOFF_BUSINESS_TIME_CASE");
  const absl::Time began = absl::Now();
  Coverage coverage;
  int failed_cases = 0;
  for (int i = 0; i < cases; ++i) {
    if (only != nullptr && *only != '\0' && i != std::atoi(only)) continue;
    const Case c = GenerateCase(seed, i);
    const Checked checked = CheckCase(c, Operations{});
    if (checked.deadline) Tally(c, *checked.deadline, coverage);
    if (checked.failed && ++failed_cases >= 10) {
      FAIL() << "stopping after 10 failing cases";
    }
  }
  std::printf(
      "business time: %d cases (seed %llu) in %s: %d across an offset "
      "change, %d with a holiday in the span, %d longer than two business "
      "weeks, %d sub-minute starts, %d starting closed\n",
      coverage.cases, static_cast<unsigned long long>(seed),
      absl::FormatDuration(absl::Now() - began).c_str(),
      coverage.across_offset_change, coverage.with_holiday_in_span,
      coverage.multi_week, coverage.sub_minute_start, coverage.closed_start);
  if (only == nullptr && cases >= 1000) {
    // The generator must keep producing the hard cases it exists for.
    EXPECT_GE(coverage.across_offset_change, cases / 20);
    EXPECT_GE(coverage.with_holiday_in_span, cases / 10);
    EXPECT_GE(coverage.multi_week, cases / 20);
    EXPECT_GE(coverage.sub_minute_start, cases / 5);
    EXPECT_GE(coverage.closed_start, cases / 5);
  }
}

TEST(BusinessTimeProperty, OracleAgreesWithHandWorkedExample) {
  Case c;
  c.zone_name = "Europe/Berlin";
  c.zone = LoadZone(c.zone_name);
  for (int day = 0; day < 5; ++day) {
    c.spec.weekly_hours.push_back(
        {static_cast<absl::Weekday>(day), 9 * 60, 17 * 60});
  }
  const absl::Time saturday =
      absl::FromCivil(absl::CivilMinute(2025, 3, 15, 15, 0), c.zone);
  EXPECT_EQ(OracleAdd(c, saturday, absl::Hours(1)),
            absl::FromCivil(absl::CivilMinute(2025, 3, 17, 10, 0), c.zone));
  EXPECT_EQ(OracleBetween(
                c, saturday,
                absl::FromCivil(absl::CivilMinute(2025, 3, 17, 10, 0), c.zone)),
            absl::Hours(1));
}

// A disagreement must print everything needed to rerun the case.
TEST(BusinessTimeProperty, FailurePrintsTheCase) {
  const Case c = GenerateCase(kDefaultSeed, 7);
  Operations off_by_a_minute;
  off_by_a_minute.add = [](const BusinessCalendar& cal, absl::Time t,
                           absl::Duration d) {
    return cal.AddBusinessTime(t, d) + absl::Minutes(1);
  };
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    CheckCase(c, off_by_a_minute);
  }
  ASSERT_EQ(failures.size(), 1);
  const std::string message = failures.GetTestPartResult(0).message();
  EXPECT_THAT(message, HasSubstr("AddBusinessTime disagrees"));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("seed=", kDefaultSeed)));
  EXPECT_THAT(message, HasSubstr("case=7"));
  EXPECT_THAT(message, HasSubstr("HANDOFF_BUSINESS_TIME_CASE=7"));
  EXPECT_THAT(message, HasSubstr("zone=" + c.zone_name));
  EXPECT_THAT(message, HasSubstr("windows"));
  EXPECT_THAT(message, HasSubstr("holidays="));
  EXPECT_THAT(message, HasSubstr("start=" + Instant(c.start, c.zone)));
  EXPECT_THAT(message,
              HasSubstr("duration=" + absl::FormatDuration(c.duration)));
}

TEST(BusinessTimeProperty, CasesAreReproducibleFromSeedAndIndex) {
  const Case a = GenerateCase(42, 123);
  const Case b = GenerateCase(42, 123);
  EXPECT_EQ(Describe(a), Describe(b));
  EXPECT_NE(Describe(a), Describe(GenerateCase(42, 124)));
}

}  // namespace
}  // namespace handoff::routing
