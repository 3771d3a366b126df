// Business-time arithmetic (issue 3, "SLA policies and business time"): the
// cost of one SLA deadline, AddBusinessTime, for short windows (minutes to a
// day of business time) and multi-week ones, in a DST zone with a lunch
// break and holidays, and in a fixed-offset zone.
//
//   build/tools/bench/business_time_bench [benchmark flags]
//
// Starts are spread over a year so DST weeks and holidays are crossed.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/routing/business_calendar.h"

namespace handoff::routing {
namespace {

BusinessCalendar OfficeCalendar(const std::string& zone) {
  BusinessCalendarSpec spec;
  spec.time_zone = zone;
  for (int day = 0; day < 5; ++day) {
    const auto weekday = static_cast<absl::Weekday>(day);
    spec.weekly_hours.push_back({weekday, 9 * 60, 12 * 60});
    spec.weekly_hours.push_back({weekday, 13 * 60, 17 * 60 + 30});
  }
  constexpr int kHolidays[][2] = {{1, 1},   {5, 1},   {10, 3}, {12, 24},
                                  {12, 25}, {12, 26}, {12, 31}};
  for (int year = 2025; year <= 2027; ++year) {
    for (const auto& [month, day] : kHolidays) {
      spec.holidays.push_back(absl::CivilDay(year, month, day));
    }
  }
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(spec);
  if (!calendar.ok()) {
    std::fprintf(stderr, "calendar: %s\n",
                 std::string(calendar.status().message()).c_str());
    std::abort();
  }
  return *std::move(calendar);
}

// 4,096 starts spread over 2025 at odd second offsets, so starts fall both
// inside and outside business hours.
std::vector<absl::Time> Starts() {
  std::vector<absl::Time> starts;
  const absl::Time base = absl::FromUnixSeconds(1735689600);  // 2025-01-01Z
  for (int i = 0; i < 4096; ++i) {
    starts.push_back(base + absl::Seconds(int64_t{i} * 7717 + i % 61));
  }
  return starts;
}

void RunAdd(benchmark::State& state, const std::string& zone,
            absl::Duration d) {
  const BusinessCalendar calendar = OfficeCalendar(zone);
  const std::vector<absl::Time> starts = Starts();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        calendar.AddBusinessTime(starts[i++ & (starts.size() - 1)], d));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Add5Minutes_Berlin(benchmark::State& state) {
  RunAdd(state, "Europe/Berlin", absl::Minutes(5));
}
void BM_Add2Hours_Berlin(benchmark::State& state) {
  RunAdd(state, "Europe/Berlin", absl::Hours(2));
}
void BM_Add1Day_Berlin(benchmark::State& state) {
  RunAdd(state, "Europe/Berlin", absl::Hours(8));
}
void BM_Add4Weeks_Berlin(benchmark::State& state) {
  RunAdd(state, "Europe/Berlin", absl::Hours(4 * 37.5));
}
void BM_Add26Weeks_Berlin(benchmark::State& state) {
  RunAdd(state, "Europe/Berlin", absl::Hours(26 * 37.5));
}
void BM_Add2Hours_Kolkata(benchmark::State& state) {
  RunAdd(state, "Asia/Kolkata", absl::Hours(2));
}
void BM_Add26Weeks_Kolkata(benchmark::State& state) {
  RunAdd(state, "Asia/Kolkata", absl::Hours(26 * 37.5));
}

// Time to accept in business time, typically hours apart.
void BM_Between_Berlin(benchmark::State& state) {
  const BusinessCalendar calendar = OfficeCalendar("Europe/Berlin");
  const std::vector<absl::Time> starts = Starts();
  size_t i = 0;
  for (auto _ : state) {
    const absl::Time a = starts[i++ & (starts.size() - 1)];
    benchmark::DoNotOptimize(
        calendar.BusinessTimeBetween(a, a + absl::Hours(30)));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Add5Minutes_Berlin);
BENCHMARK(BM_Add2Hours_Berlin);
BENCHMARK(BM_Add1Day_Berlin);
BENCHMARK(BM_Add4Weeks_Berlin);
BENCHMARK(BM_Add26Weeks_Berlin);
BENCHMARK(BM_Add2Hours_Kolkata);
BENCHMARK(BM_Add26Weeks_Kolkata);
BENCHMARK(BM_Between_Berlin);

}  // namespace
}  // namespace handoff::routing

BENCHMARK_MAIN();
