#include "services/routing/sla_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "common/storage/database.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {
namespace {

using testing::ElementsAre;
using testing::StartsWith;

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm),
                         absl::UTCTimeZone());
}

class SlaReportTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = *Database::Open({.path = ":memory:", .synchronous_full = false});
    store_ = *RoutingStore::Open(*db_);
    reporter_ = std::make_unique<SlaReporter>(*store_);
  }

  // Appends an event as the router would write it.
  void Add(v1::AssignmentEventType type, absl::Time at, const std::string& rep,
           const std::string& team, absl::Duration time_to_accept = {},
           v1::RejectReason reason = v1::REJECT_REASON_UNSPECIFIED) {
    v1::AssignmentEvent event;
    event.set_type(type);
    *event.mutable_event_time() = ToProtoTime(at);
    event.set_lead(absl::StrCat("leads/l", ++leads_));
    event.set_rep(rep);
    event.set_team(team);
    if (type == v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED) {
      *event.mutable_assignment()->mutable_time_to_accept() =
          ToProtoDuration(time_to_accept);
    }
    if (type == v1::ASSIGNMENT_EVENT_TYPE_REJECTED) {
      event.mutable_assignment()->set_reject_reason(reason);
    }
    if (type == v1::ASSIGNMENT_EVENT_TYPE_RECYCLED) {
      event.set_detail("SLA_EXHAUSTED");
    }
    absl::Status s = db_->Write(
        [&](Transaction& tx) { return store_->AppendEvent(tx, event); });
    ASSERT_TRUE(s.ok()) << s;
  }

  void Accept(absl::Time at, const std::string& rep, const std::string& team,
              absl::Duration time_to_accept) {
    Add(v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED, at, rep, team, time_to_accept);
  }

  void Reject(absl::Time at, const std::string& rep, const std::string& team,
              v1::RejectReason reason) {
    Add(v1::ASSIGNMENT_EVENT_TYPE_REJECTED, at, rep, team, {}, reason);
  }

  static v1::GetSlaReportRequest Request(absl::Time start, absl::Time end) {
    v1::GetSlaReportRequest request;
    *request.mutable_start_time() = ToProtoTime(start);
    *request.mutable_end_time() = ToProtoTime(end);
    return request;
  }

  v1::SlaReport Report(const v1::GetSlaReportRequest& request) {
    absl::StatusOr<v1::SlaReport> report = reporter_->GetSlaReport(request);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : v1::SlaReport();
  }

  static std::vector<std::string> Groups(const v1::SlaReport& report) {
    std::vector<std::string> groups;
    for (const v1::SlaReportRow& row : report.rows()) {
      groups.push_back(row.group());
    }
    return groups;
  }

  static std::vector<absl::Time> RowStarts(const v1::SlaReport& report) {
    std::vector<absl::Time> starts;
    for (const v1::SlaReportRow& row : report.rows()) {
      starts.push_back(FromProtoTime(row.period_start()));
    }
    return starts;
  }

  static std::vector<absl::Time> MqlStarts(const v1::SlaReport& report) {
    std::vector<absl::Time> starts;
    for (const v1::MqlDelivery& mql : report.mql_delivery()) {
      starts.push_back(FromProtoTime(mql.period_start()));
    }
    return starts;
  }

  static std::vector<int64_t> Delivered(const v1::SlaReport& report) {
    std::vector<int64_t> delivered;
    for (const v1::MqlDelivery& mql : report.mql_delivery()) {
      delivered.push_back(mql.mqls_delivered());
    }
    return delivered;
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<RoutingStore> store_;
  std::unique_ptr<SlaReporter> reporter_;
  int leads_ = 0;
};

TEST_F(SlaReportTest, FiguresPerTeamOverTheWholeRange) {
  const absl::Time t = Utc(2026, 3, 2, 10);
  using absl::Minutes;
  // emea: three first offers, a reassignment and an escalation.
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/bob", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_WARNED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_REASSIGNED, t, "reps/bob", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ESCALATED, t, "reps/max", "emea");
  Accept(t, "reps/ann", "emea", Minutes(40));
  Accept(t, "reps/bob", "emea", Minutes(10));
  Accept(t, "reps/max", "emea", Minutes(30));
  Accept(t, "reps/bob", "emea", Minutes(20));
  Reject(t, "reps/bob", "emea", v1::REJECT_REASON_NO_BUDGET);
  Reject(t, "reps/ann", "emea", v1::REJECT_REASON_NOT_A_FIT);
  Reject(t, "reps/bob", "emea", v1::REJECT_REASON_NOT_A_FIT);
  Add(v1::ASSIGNMENT_EVENT_TYPE_RECYCLED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_CONVERTED, t, "reps/bob", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_QUEUED, t, "", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "emea");
  // apac: one lapsed offer.
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "apac");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/cho", "apac");
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, t, "reps/cho", "apac");
  // Team unknown when routed; recycled before any offer: no row.
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "");
  Add(v1::ASSIGNMENT_EVENT_TYPE_RECYCLED, t, "", "");

  v1::GetSlaReportRequest request = Request(Utc(2026, 3, 1), Utc(2026, 3, 8));
  request.set_mql_target_per_period(4);
  v1::SlaReport report = Report(request);

  ASSERT_THAT(Groups(report), ElementsAre("apac", "emea"));
  const v1::SlaReportRow& apac = report.rows(0);
  EXPECT_EQ(FromProtoTime(apac.period_start()), Utc(2026, 3, 1));
  EXPECT_EQ(apac.offers(), 1);
  EXPECT_EQ(apac.accepted_within_sla(), 0);
  EXPECT_EQ(apac.breaches(), 1);
  EXPECT_EQ(apac.accepted_within_sla_share(), 0.0);
  EXPECT_FALSE(apac.has_median_time_to_accept());
  EXPECT_FALSE(apac.has_p90_time_to_accept());
  EXPECT_EQ(apac.rejections_size(), 0);

  const v1::SlaReportRow& emea = report.rows(1);
  EXPECT_EQ(FromProtoTime(emea.period_start()), Utc(2026, 3, 1));
  EXPECT_EQ(emea.offers(), 5);
  EXPECT_EQ(emea.accepted_within_sla(), 4);
  EXPECT_EQ(emea.breaches(), 1);
  EXPECT_DOUBLE_EQ(emea.accepted_within_sla_share(), 0.8);
  // Accepts 10, 20, 30, 40 minutes: nearest rank 2 and 4.
  EXPECT_EQ(FromProtoDuration(emea.median_time_to_accept()), Minutes(20));
  EXPECT_EQ(FromProtoDuration(emea.p90_time_to_accept()), Minutes(40));
  ASSERT_EQ(emea.rejections_size(), 2);
  EXPECT_EQ(emea.rejections(0).reason(), v1::REJECT_REASON_NOT_A_FIT);
  EXPECT_EQ(emea.rejections(0).count(), 2);
  EXPECT_EQ(emea.rejections(1).reason(), v1::REJECT_REASON_NO_BUDGET);
  EXPECT_EQ(emea.rejections(1).count(), 1);
  EXPECT_EQ(emea.recycled(), 1);
  EXPECT_EQ(emea.escalations(), 1);

  ASSERT_EQ(report.mql_delivery_size(), 1);
  const v1::MqlDelivery& mql = report.mql_delivery(0);
  EXPECT_EQ(FromProtoTime(mql.period_start()), Utc(2026, 3, 1));
  EXPECT_EQ(mql.mqls_delivered(), 4);
  EXPECT_EQ(mql.target(), 4);
  EXPECT_DOUBLE_EQ(mql.attainment(), 1.0);
}

TEST_F(SlaReportTest, NearestRankMedianAndP90PerRep) {
  const absl::Time t = Utc(2026, 3, 2, 10);
  // ann: 1..10 minutes, shuffled; bob: 1..11; cat: one accept.
  for (int m : {7, 3, 10, 1, 9, 2, 8, 4, 6, 5}) {
    Accept(t, "reps/ann", "emea", absl::Minutes(m));
  }
  for (int m = 11; m >= 1; --m) Accept(t, "reps/bob", "emea", absl::Minutes(m));
  Accept(t, "reps/cat", "emea", absl::Seconds(90));
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, t, "reps/cat", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, t, "reps/cat", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, t, "reps/cat", "emea");

  v1::GetSlaReportRequest request = Request(Utc(2026, 3, 2), Utc(2026, 3, 3));
  request.set_group_by(v1::SLA_REPORT_GROUPING_REP);
  v1::SlaReport report = Report(request);

  ASSERT_THAT(Groups(report), ElementsAre("reps/ann", "reps/bob", "reps/cat"));
  // 10 accepts: ranks ceil(5) = 5 and ceil(9) = 9.
  EXPECT_EQ(FromProtoDuration(report.rows(0).median_time_to_accept()),
            absl::Minutes(5));
  EXPECT_EQ(FromProtoDuration(report.rows(0).p90_time_to_accept()),
            absl::Minutes(9));
  EXPECT_DOUBLE_EQ(report.rows(0).accepted_within_sla_share(), 1.0);
  // 11 accepts: ranks ceil(5.5) = 6 and ceil(9.9) = 10.
  EXPECT_EQ(FromProtoDuration(report.rows(1).median_time_to_accept()),
            absl::Minutes(6));
  EXPECT_EQ(FromProtoDuration(report.rows(1).p90_time_to_accept()),
            absl::Minutes(10));
  EXPECT_EQ(report.rows(1).accepted_within_sla(), 11);
  EXPECT_EQ(FromProtoDuration(report.rows(2).median_time_to_accept()),
            absl::Seconds(90));
  EXPECT_EQ(FromProtoDuration(report.rows(2).p90_time_to_accept()),
            absl::Seconds(90));
  EXPECT_DOUBLE_EQ(report.rows(2).accepted_within_sla_share(), 0.25);
  EXPECT_EQ(report.rows(2).breaches(), 3);
  // No target: attainment stays 0.
  ASSERT_EQ(report.mql_delivery_size(), 1);
  EXPECT_EQ(report.mql_delivery(0).target(), 0);
  EXPECT_EQ(report.mql_delivery(0).attainment(), 0.0);
}

TEST_F(SlaReportTest, RepGroupingSkipsEventsWithoutRep) {
  const absl::Time t = Utc(2026, 3, 2, 10);
  Add(v1::ASSIGNMENT_EVENT_TYPE_RECYCLED, t, "", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_RECYCLED, t, "reps/ann", "emea");
  v1::GetSlaReportRequest request = Request(Utc(2026, 3, 2), Utc(2026, 3, 3));
  request.set_group_by(v1::SLA_REPORT_GROUPING_REP);
  v1::SlaReport by_rep = Report(request);
  ASSERT_THAT(Groups(by_rep), ElementsAre("reps/ann"));
  EXPECT_EQ(by_rep.rows(0).recycled(), 1);
  EXPECT_EQ(by_rep.rows(0).offers(), 0);

  request.set_group_by(v1::SLA_REPORT_GROUPING_TEAM);
  v1::SlaReport by_team = Report(request);
  ASSERT_THAT(Groups(by_team), ElementsAre("emea"));
  EXPECT_EQ(by_team.rows(0).recycled(), 2);
}

TEST_F(SlaReportTest, CountsOnlyEventsInTheRange) {
  const absl::Time start = Utc(2026, 3, 2);
  const absl::Time end = Utc(2026, 3, 3);
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, start - absl::Microseconds(1),
      "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, start, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, end - absl::Microseconds(1),
      "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, end, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, end, "", "emea");
  v1::SlaReport report = Report(Request(start, end));
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).offers(), 2);
  EXPECT_THAT(Delivered(report), ElementsAre(0));
}

TEST_F(SlaReportTest, ScansLogsLongerThanAPage) {
  const absl::Time t = Utc(2026, 3, 2, 10);
  absl::Status s = db_->Write([&](Transaction& tx) {
    for (int i = 0; i < 2500; ++i) {
      v1::AssignmentEvent event;
      event.set_type(i % 2 == 0 ? v1::ASSIGNMENT_EVENT_TYPE_OFFERED
                                : v1::ASSIGNMENT_EVENT_TYPE_ROUTED);
      *event.mutable_event_time() = ToProtoTime(t + absl::Seconds(i));
      event.set_rep(i % 2 == 0 ? "reps/ann" : "");
      event.set_team("emea");
      if (absl::Status a = store_->AppendEvent(tx, event); !a.ok()) return a;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  v1::SlaReport report = Report(Request(Utc(2026, 3, 2), Utc(2026, 3, 3)));
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).offers(), 1250);
  EXPECT_THAT(Delivered(report), ElementsAre(1250));
}

// Berlin moves to summer time on Sunday 2026-03-29 at 02:00 (01:00 UTC):
// that day has 23 hours, and later days start at 22:00 UTC, not 23:00.
TEST_F(SlaReportTest, DaysFollowLocalMidnightsAcrossDst) {
  // 00:30 CET, Sunday: 29 March.
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, Utc(2026, 3, 28, 23, 30), "reps/ann",
      "emea");
  // 23:30 CEST, Sunday: still 29 March.
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, Utc(2026, 3, 29, 21, 30), "reps/ann",
      "emea");
  // 00:30 CEST, Monday 30 March (23:30 on the 29th at the winter offset).
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, Utc(2026, 3, 29, 22, 30), "reps/ann",
      "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, Utc(2026, 3, 29, 22, 30), "", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, Utc(2026, 3, 27, 8), "", "emea");

  // 27 March 00:00 CET to 31 March 00:00 CEST.
  v1::GetSlaReportRequest request =
      Request(Utc(2026, 3, 26, 23), Utc(2026, 3, 30, 22));
  request.set_period(v1::SLA_REPORT_PERIOD_DAY);
  request.set_time_zone("Europe/Berlin");
  request.set_mql_target_per_period(2);
  v1::SlaReport report = Report(request);

  EXPECT_THAT(RowStarts(report),
              ElementsAre(Utc(2026, 3, 28, 23), Utc(2026, 3, 29, 22)));
  ASSERT_EQ(report.rows_size(), 2);
  EXPECT_EQ(report.rows(0).offers(), 2);
  EXPECT_EQ(report.rows(1).offers(), 1);
  EXPECT_THAT(MqlStarts(report),
              ElementsAre(Utc(2026, 3, 26, 23), Utc(2026, 3, 27, 23),
                          Utc(2026, 3, 28, 23), Utc(2026, 3, 29, 22)));
  EXPECT_THAT(Delivered(report), ElementsAre(1, 0, 0, 1));
  EXPECT_DOUBLE_EQ(report.mql_delivery(0).attainment(), 0.5);
  EXPECT_EQ(report.mql_delivery(1).attainment(), 0.0);
}

TEST_F(SlaReportTest, WeeksStartMondayLocalAcrossDst) {
  // Sunday 29 March 23:59 CEST: the week of Monday 23 March.
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, Utc(2026, 3, 29, 21, 59), "reps/ann",
      "emea");
  // Monday 30 March 00:00 CEST: the next week.
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, Utc(2026, 3, 29, 22), "reps/ann",
      "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_BREACHED, Utc(2026, 4, 7, 12), "reps/ann",
      "emea");

  // Wednesday 25 March to Wednesday 8 April.
  v1::GetSlaReportRequest request =
      Request(Utc(2026, 3, 25, 12), Utc(2026, 4, 8, 12));
  request.set_period(v1::SLA_REPORT_PERIOD_WEEK);
  request.set_time_zone("Europe/Berlin");
  request.set_group_by(v1::SLA_REPORT_GROUPING_REP);
  v1::SlaReport report = Report(request);

  // Monday 23 March 00:00 CET, 30 March and 6 April 00:00 CEST.
  const std::vector<absl::Time> weeks = {
      Utc(2026, 3, 22, 23), Utc(2026, 3, 29, 22), Utc(2026, 4, 5, 22)};
  EXPECT_THAT(RowStarts(report), testing::ElementsAreArray(weeks));
  for (const v1::SlaReportRow& row : report.rows()) {
    EXPECT_EQ(row.group(), "reps/ann");
    EXPECT_EQ(row.breaches(), 1);
    EXPECT_EQ(row.accepted_within_sla_share(), 0.0);
  }
  EXPECT_THAT(MqlStarts(report), testing::ElementsAreArray(weeks));
}

TEST_F(SlaReportTest, DayPeriodsOfAFullYearInUtc) {
  v1::GetSlaReportRequest request =
      Request(Utc(2028, 1, 1, 12), Utc(2028, 1, 1, 12) + absl::Hours(24 * 366));
  request.set_period(v1::SLA_REPORT_PERIOD_DAY);
  v1::SlaReport report = Report(request);
  // A partial first and last day around 365 whole ones.
  ASSERT_EQ(report.mql_delivery_size(), 367);
  EXPECT_EQ(FromProtoTime(report.mql_delivery(0).period_start()),
            Utc(2028, 1, 1));
  EXPECT_EQ(FromProtoTime(report.mql_delivery(366).period_start()),
            Utc(2029, 1, 1));
  EXPECT_EQ(report.rows_size(), 0);
}

TEST_F(SlaReportTest, TeamFilterKeepsThatTeamsRepsAndMqls) {
  const absl::Time t = Utc(2026, 3, 2, 10);
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/ann", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/bob", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_OFFERED, t, "reps/cho", "apac");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ESCALATED, t, "reps/max", "apac");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "emea");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "apac");
  Add(v1::ASSIGNMENT_EVENT_TYPE_ROUTED, t, "", "");

  v1::GetSlaReportRequest request = Request(Utc(2026, 3, 2), Utc(2026, 3, 3));
  request.set_group_by(v1::SLA_REPORT_GROUPING_REP);
  request.set_team("emea");
  v1::SlaReport report = Report(request);
  EXPECT_THAT(Groups(report), ElementsAre("reps/ann", "reps/bob"));
  EXPECT_THAT(Delivered(report), ElementsAre(1));

  request.set_team("apac");
  report = Report(request);
  EXPECT_THAT(Groups(report), ElementsAre("reps/cho", "reps/max"));
  EXPECT_EQ(report.rows(1).escalations(), 1);
  EXPECT_EQ(report.rows(1).offers(), 1);

  request.clear_team();
  EXPECT_THAT(Delivered(Report(request)), ElementsAre(3));
}

TEST_F(SlaReportTest, RejectsInvalidRequests) {
  const v1::GetSlaReportRequest valid =
      Request(Utc(2026, 3, 1), Utc(2026, 3, 8));
  struct Case {
    std::string field;
    std::function<void(v1::GetSlaReportRequest&)> edit;
  };
  const std::vector<Case> cases = {
      {"start_time", [](auto& r) { r.clear_start_time(); }},
      {"end_time", [](auto& r) { r.clear_end_time(); }},
      {"start_time", [](auto& r) { r.mutable_start_time()->set_nanos(-1); }},
      {"end_time", [](auto& r) { *r.mutable_end_time() = r.start_time(); }},
      {"end_time",
       [](auto& r) {
         *r.mutable_end_time() =
             ToProtoTime(Utc(2026, 3, 1) + absl::Hours(24 * 366 + 1));
       }},
      {"group_by",
       [](auto& r) { r.set_group_by(static_cast<v1::SlaReportGrouping>(9)); }},
      {"period",
       [](auto& r) { r.set_period(static_cast<v1::SlaReportPeriod>(9)); }},
      {"time_zone", [](auto& r) { r.set_time_zone("Mars/Olympus_Mons"); }},
      {"team", [](auto& r) { r.set_team("emea smb"); }},
      {"mql_target_per_period",
       [](auto& r) { r.set_mql_target_per_period(-1); }},
  };
  for (const Case& c : cases) {
    v1::GetSlaReportRequest request = valid;
    c.edit(request);
    absl::StatusOr<v1::SlaReport> report = reporter_->GetSlaReport(request);
    EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument)
        << c.field;
    EXPECT_THAT(std::string(report.status().message()), StartsWith(c.field));
  }
  // The longest span is allowed.
  v1::GetSlaReportRequest longest = valid;
  *longest.mutable_end_time() =
      ToProtoTime(Utc(2026, 3, 1) + absl::Hours(24 * 366));
  EXPECT_TRUE(reporter_->GetSlaReport(longest).ok());
}

}  // namespace
}  // namespace handoff::routing
