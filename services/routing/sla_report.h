#pragma once

#include "absl/status/statusor.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

// GetSlaReport: SLA figures aggregated from the assignment event log.
//
// - Events count when event_time is in [start_time, end_time). Periods are
//   local calendar days, or ISO weeks from Monday 00:00, in time_zone (DST
//   aware: a period runs from one local midnight to the next, whatever its
//   length); period_start is that local midnight, so the first period may
//   begin before start_time. Without a period, the whole range is one period
//   starting at start_time.
// - Rows count, for event.rep (group_by REP) or event.team (TEAM, the
//   default): offers (OFFERED, REASSIGNED and ESCALATED), accepts,
//   breaches, rejections by reason, recycles and escalations. Events without
//   the group's key (a lead recycled before any offer) belong to no row, and
//   only periods with such events have rows.
// - Median and p90 time to accept are nearest-rank over the period's accepts
//   (the smallest time at least that share of accepts did not exceed, no
//   interpolation: the median of 4 accepts is the 2nd fastest); unset
//   without accepts.
// - mql_delivery lists every period in the range with its ROUTED events.
//   With a team filter only ROUTED events of that team count: a lead routed
//   before a team was known counts in the unfiltered report only, so
//   per-team figures add up to at most the total instead of counting it for
//   every team.
class SlaReporter {
 public:
  explicit SlaReporter(RoutingStore& store) : store_(store) {}

  // INVALID_ARGUMENT naming the field for a bad request.
  absl::StatusOr<v1::SlaReport> GetSlaReport(
      const v1::GetSlaReportRequest& request);

 private:
  RoutingStore& store_;
};

}  // namespace handoff::routing
