#include "services/routing/sla_report.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/strings.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing {
namespace {

// Events per read transaction, so a year-long scan never holds the
// database for long.
constexpr int kPageSize = 1000;
constexpr int kMaxSpanDays = 366;

struct ReportSpec {
  absl::Time start;
  absl::Time end;
  absl::TimeZone zone;
  bool by_rep = false;
  v1::SlaReportPeriod period = v1::SLA_REPORT_PERIOD_UNSPECIFIED;
  std::string team;
  int64_t mql_target = 0;
};

absl::StatusOr<ReportSpec> Validate(const v1::GetSlaReportRequest& request) {
  ReportSpec spec;
  if (!request.has_start_time()) return InvalidField("start_time", "required");
  if (!request.has_end_time()) return InvalidField("end_time", "required");
  absl::StatusOr<absl::Time> start =
      ParseProtoTime("start_time", request.start_time());
  if (!start.ok()) return start.status();
  absl::StatusOr<absl::Time> end =
      ParseProtoTime("end_time", request.end_time());
  if (!end.ok()) return end.status();
  if (*end <= *start)
    return InvalidField("end_time", "must be after start_time");
  if (*end - *start > absl::Hours(24 * kMaxSpanDays)) {
    return InvalidField("end_time", absl::StrCat("at most ", kMaxSpanDays,
                                                 " days after start_time"));
  }
  spec.start = *start;
  spec.end = *end;
  if (absl::Status s =
          CheckEnum("group_by", request.group_by(),
                    v1::SlaReportGrouping_descriptor(), /*allow_unspecified=*/
                    true);
      !s.ok()) {
    return s;
  }
  spec.by_rep = request.group_by() == v1::SLA_REPORT_GROUPING_REP;
  if (absl::Status s =
          CheckEnum("period", request.period(),
                    v1::SlaReportPeriod_descriptor(), /*allow_unspecified=*/
                    true);
      !s.ok()) {
    return s;
  }
  spec.period = request.period();
  spec.zone = absl::UTCTimeZone();
  if (!request.time_zone().empty() &&
      !absl::LoadTimeZone(Sv(request.time_zone()), &spec.zone)) {
    return InvalidField(
        "time_zone",
        absl::StrCat("\"", request.time_zone(), "\" is not an IANA time zone"));
  }
  if (!request.team().empty()) {
    if (absl::Status s = engine::CheckShortName(request.team(), "team");
        !s.ok()) {
      return s;
    }
  }
  spec.team = request.team();
  if (request.mql_target_per_period() < 0) {
    return InvalidField("mql_target_per_period", "must not be negative");
  }
  spec.mql_target = request.mql_target_per_period();
  return spec;
}

// The first instant of a local day: a midnight skipped by a DST jump
// starts the day when the clocks jump; a repeated one at its first
// occurrence.
absl::Time LocalMidnight(absl::CivilDay day, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(day));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

// Starts of the periods covering [start, end), ascending; the first is at
// or before start.
std::vector<absl::Time> PeriodStarts(const ReportSpec& spec) {
  if (spec.period == v1::SLA_REPORT_PERIOD_UNSPECIFIED) return {spec.start};
  absl::CivilDay day = absl::ToCivilDay(spec.start, spec.zone);
  int step = 1;
  if (spec.period == v1::SLA_REPORT_PERIOD_WEEK) {
    // absl::Weekday counts from Monday = 0.
    day -= static_cast<int>(absl::GetWeekday(day));
    step = 7;
  }
  std::vector<absl::Time> starts;
  for (absl::Time t = LocalMidnight(day, spec.zone); t < spec.end;
       day += step, t = LocalMidnight(day, spec.zone)) {
    starts.push_back(t);
  }
  return starts;
}

struct RowTotals {
  int64_t offers = 0;
  int64_t accepted = 0;
  int64_t breaches = 0;
  int64_t recycled = 0;
  int64_t escalations = 0;
  std::map<int, int64_t> rejections;
  std::vector<absl::Duration> accept_times;
};

// Nearest rank over ascending, non-empty `sorted`.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted,
                          int percent) {
  size_t rank = (sorted.size() * percent + 99) / 100;
  return sorted[std::max<size_t>(rank, 1) - 1];
}

class Aggregator {
 public:
  explicit Aggregator(const ReportSpec& spec)
      : spec_(spec),
        starts_(PeriodStarts(spec)),
        delivered_(starts_.size(), 0) {}

  void Add(const v1::AssignmentEvent& event) {
    const absl::Time t = FromProtoTime(event.event_time());
    if (t < spec_.start || t >= spec_.end) return;
    const size_t period = std::upper_bound(starts_.begin(), starts_.end(), t) -
                          starts_.begin() - 1;
    if (!spec_.team.empty() && event.team() != spec_.team) return;
    if (event.round_start() ||
        event.type() == v1::ASSIGNMENT_EVENT_TYPE_ROUTED) {
      ++delivered_[period];
    }
    const std::string& group = spec_.by_rep ? event.rep() : event.team();
    if (group.empty()) return;
    auto row = [&]() -> RowTotals& { return rows_[{group, period}]; };
    switch (event.type()) {
      case v1::ASSIGNMENT_EVENT_TYPE_OFFERED:
      case v1::ASSIGNMENT_EVENT_TYPE_REASSIGNED:
        ++row().offers;
        break;
      case v1::ASSIGNMENT_EVENT_TYPE_ESCALATED:
        ++row().offers;
        ++row().escalations;
        break;
      case v1::ASSIGNMENT_EVENT_TYPE_ACCEPTED:
        ++row().accepted;
        row().accept_times.push_back(
            FromProtoDuration(event.assignment().time_to_accept()));
        break;
      case v1::ASSIGNMENT_EVENT_TYPE_BREACHED:
        ++row().breaches;
        break;
      case v1::ASSIGNMENT_EVENT_TYPE_REJECTED:
        ++row().rejections[event.assignment().reject_reason()];
        break;
      case v1::ASSIGNMENT_EVENT_TYPE_RECYCLED:
        ++row().recycled;
        break;
      default:
        // WARNED, QUEUED, CONVERTED and ROUTED carry no report figure.
        break;
    }
  }

  v1::SlaReport Report() {
    v1::SlaReport report;
    for (auto& [key, totals] : rows_) {
      v1::SlaReportRow* row = report.add_rows();
      row->set_group(key.first);
      *row->mutable_period_start() = ToProtoTime(starts_[key.second]);
      row->set_offers(totals.offers);
      row->set_accepted_within_sla(totals.accepted);
      if (totals.accepted + totals.breaches > 0) {
        row->set_accepted_within_sla_share(
            static_cast<double>(totals.accepted) /
            static_cast<double>(totals.accepted + totals.breaches));
      }
      if (!totals.accept_times.empty()) {
        std::sort(totals.accept_times.begin(), totals.accept_times.end());
        *row->mutable_median_time_to_accept() =
            ToProtoDuration(Percentile(totals.accept_times, 50));
        *row->mutable_p90_time_to_accept() =
            ToProtoDuration(Percentile(totals.accept_times, 90));
      }
      row->set_breaches(totals.breaches);
      for (const auto& [reason, count] : totals.rejections) {
        v1::RejectionCount* rejection = row->add_rejections();
        rejection->set_reason(static_cast<v1::RejectReason>(reason));
        rejection->set_count(count);
      }
      row->set_recycled(totals.recycled);
      row->set_escalations(totals.escalations);
    }
    for (size_t i = 0; i < starts_.size(); ++i) {
      v1::MqlDelivery* delivery = report.add_mql_delivery();
      *delivery->mutable_period_start() = ToProtoTime(starts_[i]);
      delivery->set_mqls_delivered(delivered_[i]);
      delivery->set_target(spec_.mql_target);
      if (spec_.mql_target > 0) {
        delivery->set_attainment(static_cast<double>(delivered_[i]) /
                                 static_cast<double>(spec_.mql_target));
      }
    }
    return report;
  }

 private:
  const ReportSpec& spec_;
  const std::vector<absl::Time> starts_;
  std::vector<int64_t> delivered_;
  // By group, then period index (periods ascend with the index).
  std::map<std::pair<std::string, size_t>, RowTotals> rows_;
};

}  // namespace

absl::StatusOr<v1::SlaReport> SlaReporter::GetSlaReport(
    const v1::GetSlaReportRequest& request) {
  absl::StatusOr<ReportSpec> spec = Validate(request);
  if (!spec.ok()) return spec.status();
  Aggregator aggregator(*spec);
  int64_t after = 0;
  while (true) {
    std::vector<v1::AssignmentEvent> page;
    absl::Status read = store_.db().Read([&](Transaction& tx) {
      absl::StatusOr<std::vector<v1::AssignmentEvent>> events =
          store_.EventsBetween(tx, spec->start, spec->end, after, kPageSize);
      if (!events.ok()) return events.status();
      page = *std::move(events);
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    for (const v1::AssignmentEvent& event : page) aggregator.Add(event);
    if (page.size() < static_cast<size_t>(kPageSize)) break;
    absl::StatusOr<int64_t> last = ParseEventCursor(page.back().cursor());
    if (!last.ok()) return absl::InternalError(last.status().message());
    after = *last;
  }
  return aggregator.Report();
}

}  // namespace handoff::routing
