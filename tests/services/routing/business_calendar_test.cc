#include "services/routing/business_calendar.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace handoff::routing {
namespace {

using ::testing::HasSubstr;

constexpr absl::Weekday kWeekdays[] = {
    absl::Weekday::monday, absl::Weekday::tuesday, absl::Weekday::wednesday,
    absl::Weekday::thursday, absl::Weekday::friday};

struct Hours {
  int start_hour;
  int start_minute;
  int end_hour;
  int end_minute;
};

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

// Mon-Fri with the same windows every day.
BusinessCalendarSpec WeekdaySpec(const std::string& zone,
                                 const std::vector<Hours>& windows,
                                 std::vector<absl::CivilDay> holidays = {}) {
  BusinessCalendarSpec spec;
  spec.time_zone = zone;
  for (absl::Weekday day : kWeekdays) {
    for (const Hours& h : windows) {
      spec.weekly_hours.push_back({day, h.start_hour * 60 + h.start_minute,
                                   h.end_hour * 60 + h.end_minute});
    }
  }
  spec.holidays = std::move(holidays);
  return spec;
}

BusinessCalendar MustCreate(const BusinessCalendarSpec& spec) {
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(spec);
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return *std::move(calendar);
}

// A local wall-clock time; the first occurrence when it is repeated.
absl::Time At(const absl::TimeZone& zone, int y, int mo, int d, int h,
              int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), zone);
}

// The second occurrence of a repeated local time (fall back).
absl::Time SecondAt(const absl::TimeZone& zone, int y, int mo, int d, int h,
                    int mi = 0) {
  const absl::TimeZone::TimeInfo info =
      zone.At(absl::CivilSecond(y, mo, d, h, mi, 0));
  EXPECT_EQ(info.kind, absl::TimeZone::TimeInfo::REPEATED);
  return info.post;
}

std::string Local(absl::Time t, const absl::TimeZone& zone) {
  return absl::FormatTime("%a %Y-%m-%d %H:%M:%S %Ez", t, zone);
}

// --- The example ---------------------------------------------------

TEST(BusinessCalendarTest, SaturdayLeadWithOneHourWindowIsDueMondayTen) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Europe/Berlin", {{9, 0, 17, 0}}));
  const absl::Time saturday = At(zone, 2025, 3, 15, 15);
  ASSERT_EQ(absl::GetWeekday(absl::CivilDay(2025, 3, 15)),
            absl::Weekday::saturday);

  const absl::Time due = calendar.AddBusinessTime(saturday, absl::Hours(1));

  EXPECT_EQ(Local(due, zone), Local(At(zone, 2025, 3, 17, 10), zone));
  // Frappe CRM's answer counts the weekend's wall time against the window.
  EXPECT_NE(due, At(zone, 2025, 3, 17, 16));
}

// --- Semantics at edges ----------------------------------------------------

TEST(BusinessCalendarTest, WindowsAreHalfOpen) {
  const absl::TimeZone zone = Zone("America/New_York");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("America/New_York", {{9, 0, 17, 0}}));
  EXPECT_FALSE(calendar.IsOpen(At(zone, 2025, 3, 17, 8, 59, 59)));
  EXPECT_TRUE(calendar.IsOpen(At(zone, 2025, 3, 17, 9)));
  EXPECT_TRUE(calendar.IsOpen(At(zone, 2025, 3, 17, 16, 59, 59)));
  EXPECT_FALSE(calendar.IsOpen(At(zone, 2025, 3, 17, 17)));
  EXPECT_FALSE(calendar.IsOpen(At(zone, 2025, 3, 15, 12)));  // Saturday
}

TEST(BusinessCalendarTest, ZeroDurationIsStartWhenOpenElseNextOpening) {
  const absl::TimeZone zone = Zone("America/New_York");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("America/New_York", {{9, 0, 17, 0}}));
  const absl::Time open = At(zone, 2025, 3, 17, 11, 22, 33);
  EXPECT_EQ(calendar.AddBusinessTime(open, absl::ZeroDuration()), open);
  EXPECT_EQ(calendar.NextOpening(open), open);

  const absl::Time friday_evening = At(zone, 2025, 3, 21, 17);
  EXPECT_EQ(calendar.AddBusinessTime(friday_evening, absl::ZeroDuration()),
            At(zone, 2025, 3, 24, 9));
  EXPECT_EQ(calendar.NextOpening(friday_evening), At(zone, 2025, 3, 24, 9));
  // Negative durations are treated as zero.
  EXPECT_EQ(calendar.AddBusinessTime(friday_evening, absl::Minutes(-5)),
            At(zone, 2025, 3, 24, 9));
}

TEST(BusinessCalendarTest, DeadlineUsingUpAWindowIsItsEnd) {
  const absl::TimeZone zone = Zone("America/New_York");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("America/New_York", {{9, 0, 17, 0}}));
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 3, 21, 16), absl::Hours(1)),
            At(zone, 2025, 3, 21, 17));
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 3, 21, 16),
                                     absl::Hours(1) + absl::Seconds(1)),
            At(zone, 2025, 3, 24, 9, 0, 1));
}

TEST(BusinessCalendarTest, SubMinuteStartAndDuration) {
  const absl::TimeZone zone = Zone("UTC");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("UTC", {{9, 0, 17, 0}}));
  const absl::Time start =
      At(zone, 2025, 3, 21, 16, 59, 30) + absl::Milliseconds(250);
  EXPECT_EQ(calendar.AddBusinessTime(start, absl::Seconds(40)),
            At(zone, 2025, 3, 24, 9, 0, 10) + absl::Milliseconds(250));
  EXPECT_EQ(calendar.BusinessTimeBetween(start, At(zone, 2025, 3, 24, 9, 1)),
            absl::Seconds(29) + absl::Milliseconds(750) + absl::Minutes(1));
}

// --- Split days and holidays -----------------------------------------------

TEST(BusinessCalendarTest, LunchBreakIsNotCounted) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Europe/Berlin", {{9, 0, 12, 0}, {13, 0, 17, 0}}));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 3, 17, 11, 30), absl::Hours(1)),
      At(zone, 2025, 3, 17, 13, 30));
  EXPECT_FALSE(calendar.IsOpen(At(zone, 2025, 3, 17, 12, 15)));
  EXPECT_EQ(calendar.NextOpening(At(zone, 2025, 3, 17, 12, 15)),
            At(zone, 2025, 3, 17, 13));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 3, 17, 11),
                                         At(zone, 2025, 3, 17, 14)),
            absl::Hours(2));
  // Friday afternoon into Monday morning.
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 3, 21, 16, 30), absl::Hours(1)),
      At(zone, 2025, 3, 24, 9, 30));
  EXPECT_EQ(calendar.WeeklyOpenTime(), absl::Hours(35));
}

TEST(BusinessCalendarTest, HolidayOnMondayPushesToTuesday) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const BusinessCalendar calendar = MustCreate(WeekdaySpec(
      "Europe/Berlin", {{9, 0, 17, 0}}, {absl::CivilDay(2025, 3, 17)}));
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 3, 15, 15), absl::Hours(1)),
            At(zone, 2025, 3, 18, 10));
  EXPECT_FALSE(calendar.IsOpen(At(zone, 2025, 3, 17, 10)));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 3, 14, 16),
                                         At(zone, 2025, 3, 18, 10)),
            absl::Hours(2));
}

TEST(BusinessCalendarTest, HolidayRunAndDuplicateHolidays) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  // Christmas to New Year closed, listed with a duplicate.
  std::vector<absl::CivilDay> holidays;
  for (absl::CivilDay d(2025, 12, 24); d <= absl::CivilDay(2026, 1, 1); ++d) {
    holidays.push_back(d);
  }
  holidays.push_back(absl::CivilDay(2025, 12, 25));
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Europe/Berlin", {{9, 0, 17, 0}}, holidays));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 12, 23, 16), absl::Hours(2)),
      At(zone, 2026, 1, 2, 10));
}

// --- DST -------------------------------------------------------------------

// Sunday 2025-03-30 in Berlin: 02:00 CET jumps to 03:00 CEST.
TEST(BusinessCalendarTest, BerlinSpringForwardShortensWindowAcrossGap) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.weekly_hours = {{absl::Weekday::sunday, 1 * 60, 4 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  const absl::Time midnight = At(zone, 2025, 3, 30, 0);

  // 01:00-04:00 local is 01:00-02:00 CET plus 03:00-04:00 CEST: 2h real.
  EXPECT_EQ(calendar.BusinessTimeBetween(midnight, At(zone, 2025, 3, 30, 6)),
            absl::Hours(2));
  EXPECT_EQ(calendar.AddBusinessTime(midnight, absl::Minutes(90)),
            At(zone, 2025, 3, 30, 3, 30));
  EXPECT_EQ(calendar.AddBusinessTime(midnight, absl::Hours(1)),
            At(zone, 2025, 3, 30, 3));
  EXPECT_EQ(At(zone, 2025, 3, 30, 3) - At(zone, 2025, 3, 30, 1, 59, 59),
            absl::Seconds(1));
  // 2h15m needs the next Sunday.
  EXPECT_EQ(calendar.AddBusinessTime(midnight, absl::Minutes(135)),
            At(zone, 2025, 4, 6, 1, 15));
}

TEST(BusinessCalendarTest, WindowInsideTheGapIsClosedThatDay) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.weekly_hours = {{absl::Weekday::sunday, 2 * 60, 2 * 60 + 30}};
  const BusinessCalendar calendar = MustCreate(spec);
  EXPECT_EQ(calendar.NextOpening(At(zone, 2025, 3, 29, 12)),
            At(zone, 2025, 4, 6, 2));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 3, 29, 0),
                                         At(zone, 2025, 4, 5, 0)),
            absl::ZeroDuration());
}

// Sunday 2025-10-26 in Berlin: 03:00 CEST goes back to 02:00 CET.
TEST(BusinessCalendarTest, BerlinFallBackCountsRepeatedHourTwice) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  BusinessCalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  spec.weekly_hours = {{absl::Weekday::sunday, 1 * 60, 4 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  const absl::Time midnight = At(zone, 2025, 10, 26, 0);

  EXPECT_EQ(calendar.BusinessTimeBetween(midnight, At(zone, 2025, 10, 26, 6)),
            absl::Hours(4));
  // 01:00 CEST + 2h30 of real open time is 02:30 the second time round.
  EXPECT_EQ(calendar.AddBusinessTime(midnight, absl::Minutes(150)),
            SecondAt(zone, 2025, 10, 26, 2, 30));
  EXPECT_TRUE(calendar.IsOpen(SecondAt(zone, 2025, 10, 26, 2, 59)));
  EXPECT_EQ(calendar.AddBusinessTime(midnight, absl::Hours(4)),
            At(zone, 2025, 10, 26, 4));
}

TEST(BusinessCalendarTest, BerlinWeekdayHoursAcrossBothTransitions) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Europe/Berlin", {{9, 0, 17, 0}}));
  // The weekend changes offset; Monday's local hours do not move.
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 3, 28, 16), absl::Hours(2)),
            At(zone, 2025, 3, 31, 10));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 10, 24, 16), absl::Hours(2)),
      At(zone, 2025, 10, 27, 10));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 3, 28, 16),
                                         At(zone, 2025, 3, 31, 10)),
            absl::Hours(2));
}

// Sunday 2025-03-09 in New York: 02:00 EST jumps to 03:00 EDT.
TEST(BusinessCalendarTest, NewYorkSpringForward) {
  const absl::TimeZone zone = Zone("America/New_York");
  BusinessCalendarSpec spec;
  spec.time_zone = "America/New_York";
  spec.weekly_hours = {{absl::Weekday::sunday, 0, 4 * 60},
                       {absl::Weekday::sunday, 9 * 60, 10 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  const absl::Time midnight = At(zone, 2025, 3, 9, 0);
  EXPECT_EQ(calendar.BusinessTimeBetween(midnight, At(zone, 2025, 3, 9, 12)),
            absl::Hours(4));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 3, 9, 1, 30), absl::Hours(1)),
      At(zone, 2025, 3, 9, 3, 30));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 3, 9, 1, 30), absl::Hours(2)),
      At(zone, 2025, 3, 9, 9, 30));
}

// Sunday 2025-11-02 in New York: 02:00 EDT goes back to 01:00 EST.
TEST(BusinessCalendarTest, NewYorkFallBack) {
  const absl::TimeZone zone = Zone("America/New_York");
  BusinessCalendarSpec spec;
  spec.time_zone = "America/New_York";
  spec.weekly_hours = {{absl::Weekday::sunday, 60, 2 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  // 01:00-02:00 happens twice: 2h of real open time.
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 11, 2, 0),
                                         At(zone, 2025, 11, 2, 12)),
            absl::Hours(2));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2025, 11, 2, 0), absl::Minutes(90)),
      SecondAt(zone, 2025, 11, 2, 1, 30));
  // Between the two passes (the instant of the transition) it is open.
  EXPECT_TRUE(calendar.IsOpen(SecondAt(zone, 2025, 11, 2, 1, 0)));
}

TEST(BusinessCalendarTest, AlwaysOpenIsRealTimeAcrossDst) {
  const absl::TimeZone zone = Zone("America/New_York");
  const BusinessCalendar calendar = BusinessCalendar::AlwaysOpen(zone);
  for (absl::Time start : {At(zone, 2025, 3, 8, 23), At(zone, 2025, 11, 1, 23),
                           At(zone, 2025, 1, 1, 0)}) {
    for (absl::Duration d : {absl::Hours(4), absl::Hours(24 * 400)}) {
      EXPECT_EQ(calendar.AddBusinessTime(start, d), start + d)
          << Local(start, zone);
      EXPECT_EQ(calendar.BusinessTimeBetween(start, start + d), d);
    }
  }
}

// Santiago changes offset at midnight: on 2024-09-08 the local day starts at
// 01:00, and on 2024-04-06 23:00-24:00 happens twice.
TEST(BusinessCalendarTest, SantiagoTransitionsAtMidnight) {
  const absl::TimeZone zone = Zone("America/Santiago");
  BusinessCalendarSpec spec;
  spec.time_zone = "America/Santiago";
  spec.weekly_hours = {{absl::Weekday::saturday, 22 * 60, 24 * 60},
                       {absl::Weekday::sunday, 0, 2 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2024, 9, 7, 12),
                                         At(zone, 2024, 9, 8, 12)),
            absl::Hours(3));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2024, 4, 6, 12),
                                         At(zone, 2024, 4, 7, 12)),
            absl::Hours(5));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2024, 9, 7, 23, 30), absl::Hours(1)),
      At(zone, 2024, 9, 8, 1, 30));
}

// Samoa skipped Friday 2011-12-30 entirely.
TEST(BusinessCalendarTest, SkippedDayIsClosed) {
  const absl::TimeZone zone = Zone("Pacific/Apia");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Pacific/Apia", {{9, 0, 17, 0}}));
  EXPECT_EQ(
      calendar.AddBusinessTime(At(zone, 2011, 12, 29, 16), absl::Hours(2)),
      At(zone, 2012, 1, 2, 10));
}

TEST(BusinessCalendarTest, HalfHourOffsetZone) {
  const absl::TimeZone zone = Zone("Asia/Kolkata");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Asia/Kolkata", {{9, 30, 18, 0}}));
  const absl::Time due =
      calendar.AddBusinessTime(At(zone, 2025, 3, 15, 15), absl::Hours(1));
  EXPECT_EQ(due, At(zone, 2025, 3, 17, 10, 30));
  EXPECT_EQ(absl::FormatTime("%H:%M", due, absl::UTCTimeZone()), "05:00");
}

// --- Long durations --------------------------------------------------------

TEST(BusinessCalendarTest, ManyWeeksEndAtTheLastWindowEnd) {
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("Europe/Berlin", {{9, 0, 17, 0}}));
  // Ten 40-hour weeks, without and with the March offset change inside.
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 1, 6, 9), absl::Hours(400)),
            At(zone, 2025, 3, 14, 17));
  EXPECT_EQ(calendar.AddBusinessTime(At(zone, 2025, 3, 3, 9), absl::Hours(400)),
            At(zone, 2025, 5, 9, 17));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(zone, 2025, 3, 3, 9),
                                         At(zone, 2025, 5, 9, 17)),
            absl::Hours(400));
}

// The week-skipping path must agree with many short steps, which never
// skip a week, over years of holidays and offset changes.
TEST(BusinessCalendarTest, WeekSkippingAgreesWithShortSteps) {
  for (const char* zone_name :
       {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"}) {
    const absl::TimeZone zone = Zone(zone_name);
    BusinessCalendarSpec spec = WeekdaySpec(zone_name, {{8, 0, 12, 0}});
    spec.weekly_hours.push_back({absl::Weekday::sunday, 60, 3 * 60});
    spec.weekly_hours.push_back({absl::Weekday::saturday, 22 * 60, 24 * 60});
    for (int year = 2024; year <= 2027; ++year) {
      spec.holidays.push_back(absl::CivilDay(year, 5, 1));
      spec.holidays.push_back(absl::CivilDay(year, 10, 3));
      spec.holidays.push_back(absl::CivilDay(year, 12, 25));
    }
    const BusinessCalendar calendar = MustCreate(spec);
    const absl::Time start = At(zone, 2024, 2, 7, 10, 17, 3);
    absl::Time stepped = start;
    for (int step = 1; step <= 300; ++step) {
      stepped = calendar.AddBusinessTime(stepped, absl::Minutes(37));
      const absl::Duration total = absl::Minutes(37) * step;
      ASSERT_EQ(calendar.AddBusinessTime(start, total), stepped)
          << zone_name << " step " << step;
    }
    const absl::Duration years = absl::Hours(2000);
    const absl::Time due = calendar.AddBusinessTime(start, years);
    EXPECT_EQ(calendar.BusinessTimeBetween(start, due), years) << zone_name;
    EXPECT_LT(calendar.BusinessTimeBetween(start, due - absl::Nanoseconds(1)),
              years)
        << zone_name;
  }
}

TEST(BusinessCalendarTest, InfiniteInputs) {
  const BusinessCalendar calendar =
      MustCreate(WeekdaySpec("UTC", {{9, 0, 17, 0}}));
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(calendar.AddBusinessTime(t, absl::InfiniteDuration()),
            absl::InfiniteFuture());
  EXPECT_EQ(calendar.AddBusinessTime(absl::InfiniteFuture(), absl::Hours(1)),
            absl::InfiniteFuture());
  EXPECT_EQ(calendar.BusinessTimeBetween(t, absl::InfiniteFuture()),
            absl::InfiniteDuration());
  EXPECT_EQ(calendar.BusinessTimeBetween(t, t - absl::Hours(1)),
            absl::ZeroDuration());
  EXPECT_FALSE(calendar.IsOpen(absl::InfiniteFuture()));
}

// --- Validation ------------------------------------------------------------

absl::Status CreateStatus(const BusinessCalendarSpec& spec) {
  return BusinessCalendar::Create(spec).status();
}

TEST(BusinessCalendarValidationTest, NamesTheField) {
  BusinessCalendarSpec spec = WeekdaySpec("Europe/Berlin", {{9, 0, 17, 0}});
  ASSERT_TRUE(CreateStatus(spec).ok());

  BusinessCalendarSpec bad = spec;
  bad.time_zone = "";
  EXPECT_THAT(CreateStatus(bad).message(), HasSubstr("calendar.time_zone:"));
  bad.time_zone = "Mars/Olympus_Mons";
  EXPECT_EQ(CreateStatus(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.time_zone: unknown time zone "
                        "\"Mars/Olympus_Mons\""));

  bad = spec;
  bad.weekly_hours[1].end_minute = bad.weekly_hours[1].start_minute;
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[1].end: must be after start"));

  // Crossing midnight is rejected with a hint.
  bad = spec;
  bad.weekly_hours[0] = {absl::Weekday::monday, 22 * 60, 6 * 60};
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[0].end: must be after start "
                        "(a window crossing midnight is two windows"));

  bad = spec;
  bad.weekly_hours[2].start_minute = -1;
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[2].start:"));
  bad.weekly_hours[2].start_minute = kMinutesPerDay;
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[2].start:"));

  bad = spec;
  bad.weekly_hours[3].end_minute = kMinutesPerDay + 1;
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[3].end: must be 24:00"));

  bad = spec;
  bad.weekly_hours[4].day = static_cast<absl::Weekday>(7);
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[4].day: not a weekday"));

  bad = spec;
  bad.weekly_hours.push_back({absl::Weekday::tuesday, 16 * 60, 18 * 60});
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours[5]: overlaps weekly_hours[1] "
                        "(Tuesday 09:00-17:00)"));

  bad = spec;
  bad.weekly_hours.clear();
  EXPECT_THAT(CreateStatus(bad).message(),
              HasSubstr("calendar.weekly_hours: the week has no open time"));

  // The caller chooses the prefix, e.g. for a rep's working hours.
  EXPECT_THAT(
      BusinessCalendar::Create(bad, "rep.working_hours").status().message(),
      HasSubstr("rep.working_hours.weekly_hours:"));
}

TEST(BusinessCalendarValidationTest, TouchingWindowsAndFullDaysAreFine) {
  BusinessCalendarSpec spec;
  spec.time_zone = "UTC";
  spec.weekly_hours = {{absl::Weekday::monday, 22 * 60, 24 * 60},
                       {absl::Weekday::tuesday, 0, 6 * 60},
                       {absl::Weekday::monday, 9 * 60, 12 * 60},
                       {absl::Weekday::monday, 12 * 60, 22 * 60}};
  const BusinessCalendar calendar = MustCreate(spec);
  const absl::TimeZone utc = absl::UTCTimeZone();
  // An overnight shift written as two windows runs straight through.
  EXPECT_EQ(calendar.AddBusinessTime(At(utc, 2025, 3, 17, 23), absl::Hours(2)),
            At(utc, 2025, 3, 18, 1));
  EXPECT_EQ(calendar.BusinessTimeBetween(At(utc, 2025, 3, 17, 0),
                                         At(utc, 2025, 3, 19, 0)),
            absl::Hours(21));
}

TEST(TimeOfDayTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseTimeOfDay("09:30", "w.start"), 570);
  EXPECT_EQ(*ParseTimeOfDay("00:00", "w.start"), 0);
  EXPECT_EQ(*ParseTimeOfDay("24:00", "w.end"), kMinutesPerDay);
  for (const char* bad :
       {"24:01", "9:30", "09:60", "25:00", "ab:cd", "", "09-30", "+9:30"}) {
    const absl::StatusOr<int> parsed = ParseTimeOfDay(bad, "w.end");
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("w.end: ")) << bad;
  }
  EXPECT_EQ(FormatTimeOfDay(570), "09:30");
  EXPECT_EQ(FormatTimeOfDay(kMinutesPerDay), "24:00");
}

TEST(CivilDateTest, ParsesDatesThatExist) {
  EXPECT_EQ(*ParseCivilDate("2025-12-25", "h"), absl::CivilDay(2025, 12, 25));
  EXPECT_EQ(*ParseCivilDate("2024-02-29", "h"), absl::CivilDay(2024, 2, 29));
  for (const char* bad : {"2025-02-30", "2025-13-01", "2025-1-1", "25-12-25",
                          "2025-12-25T00:00", "tomorrow", ""}) {
    const absl::StatusOr<absl::CivilDay> parsed =
        ParseCivilDate(bad, "policy.calendar.holidays[2]");
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(),
                HasSubstr("policy.calendar.holidays[2]: "))
        << bad;
  }
}

TEST(WeekdayTest, ParsesNamesAndAbbreviations) {
  EXPECT_EQ(*ParseWeekday("mon", "d"), absl::Weekday::monday);
  EXPECT_EQ(*ParseWeekday("Sunday", "d"), absl::Weekday::sunday);
  EXPECT_EQ(*ParseWeekday("WED", "d"), absl::Weekday::wednesday);
  EXPECT_THAT(ParseWeekday("mo", "x.day").status().message(),
              HasSubstr("x.day: "));
  EXPECT_FALSE(ParseWeekday("funday", "d").ok());
}

}  // namespace
}  // namespace handoff::routing
