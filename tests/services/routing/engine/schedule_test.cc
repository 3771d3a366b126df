#include "services/routing/engine/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/services/routing/engine/engine_test_util.h"

namespace handoff::routing::engine {
namespace {

using testing::AddWindow;

TEST(ScheduleTest, MinuteOfWeekCountsFromMondayMidnight) {
  EXPECT_EQ(MinuteOfWeek(absl::CivilSecond(2026, 1, 5, 0, 0, 0)), 0);
  EXPECT_EQ(MinuteOfWeek(absl::CivilSecond(2026, 1, 5, 9, 30, 59)), 570);
  EXPECT_EQ(MinuteOfWeek(absl::CivilSecond(2026, 1, 11, 23, 59, 0)),
            kMinutesPerWeek - 1);
}

TEST(ScheduleTest, NoWindowsMeansAlwaysWorking) {
  absl::StatusOr<WeeklySchedule> s =
      WeeklySchedule::Compile("h", v1::WorkingHours());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->always());
  EXPECT_TRUE(s->Contains(0));
}

TEST(ScheduleTest, SplitDaysAndHalfOpenWindows) {
  v1::WorkingHours hours;
  AddWindow(&hours, 2, 9 * 60, 12 * 60);   // Tue 09-12
  AddWindow(&hours, 2, 13 * 60, 17 * 60);  // Tue 13-17
  absl::StatusOr<WeeklySchedule> s = WeeklySchedule::Compile("h", hours);
  ASSERT_TRUE(s.ok());
  const int tue = 24 * 60;
  EXPECT_FALSE(s->Contains(tue + 9 * 60 - 1));
  EXPECT_TRUE(s->Contains(tue + 9 * 60));
  EXPECT_TRUE(s->Contains(tue + 12 * 60 - 1));
  EXPECT_FALSE(s->Contains(tue + 12 * 60));  // lunch
  EXPECT_TRUE(s->Contains(tue + 13 * 60));
  EXPECT_FALSE(s->Contains(tue + 17 * 60));
  EXPECT_FALSE(s->Contains(9 * 60));  // Monday
}

TEST(ScheduleTest, OverlappingWindowsMerge) {
  v1::WorkingHours hours;
  AddWindow(&hours, 7, 600, 700);
  AddWindow(&hours, 7, 650, 1440);
  AddWindow(&hours, 1, 0, 60);
  absl::StatusOr<WeeklySchedule> s = WeeklySchedule::Compile("h", hours);
  ASSERT_TRUE(s.ok());
  const int sun = 6 * 24 * 60;
  EXPECT_TRUE(s->Contains(sun + 699));
  EXPECT_TRUE(s->Contains(sun + 1439));
  EXPECT_TRUE(s->Contains(30));
  EXPECT_FALSE(s->Contains(60));
}

TEST(ScheduleTest, InvalidWindowsNameTheField) {
  v1::WorkingHours hours;
  AddWindow(&hours, 8, 0, 60);
  absl::StatusOr<WeeklySchedule> s =
      WeeklySchedule::Compile("rep.working_hours", hours);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              ::testing::HasSubstr("rep.working_hours.windows[0].day_of_week"));

  v1::WorkingHours empty_window;
  AddWindow(&empty_window, 1, 600, 600);
  EXPECT_FALSE(WeeklySchedule::Compile("h", empty_window).ok());
  v1::WorkingHours past_midnight;
  AddWindow(&past_midnight, 1, 600, 1441);
  EXPECT_FALSE(WeeklySchedule::Compile("h", past_midnight).ok());
}

}  // namespace
}  // namespace handoff::routing::engine
