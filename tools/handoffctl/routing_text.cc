#include "tools/handoffctl/routing_text.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings.h"
#include "tools/handoffctl/report.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {
namespace {

namespace v1 = routing::v1;

std::string TimeOrDash(bool has, const google::protobuf::Timestamp& ts) {
  return has ? FormatTimestamp(ts) : "-";
}

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Every line of `text` indented, blank ones kept empty, ending in a newline.
std::string Indent(std::string_view text, int n) {
  std::string pad(n, ' ');
  std::string out;
  absl::string_view body = absl::StripTrailingAsciiWhitespace(Sv(text));
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    absl::StrAppend(&out, line.empty() ? "" : pad, line, "\n");
  }
  return out;
}

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? Sv(one) : Sv(many));
}

std::string Short(const google::protobuf::EnumDescriptor* type, int value) {
  return EnumShortName(type, value);
}

std::string StateSummary(const v1::PoolStrategyState& s) {
  std::vector<std::string> parts;
  if (!s.round_robin_pointer().empty())
    parts.push_back(
        absl::StrCat("round robin pointer ", s.round_robin_pointer()));
  if (!s.tie_break_pointer().empty())
    parts.push_back(absl::StrCat("tie-break pointer ", s.tie_break_pointer()));
  parts.push_back(Plural(s.assignments(), "pick", "picks"));
  std::vector<std::string> weights;
  for (const auto& r : s.reps()) {
    if (r.current_weight() != 0)
      weights.push_back(absl::StrCat(r.rep(), " ", r.current_weight()));
  }
  if (!weights.empty())
    parts.push_back(
        absl::StrCat("current weights ", absl::StrJoin(weights, ", ")));
  return absl::StrJoin(parts, "; ");
}

std::string LeadSummaryText(const v1::LeadSummary& s) {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("score ", s.score()));
  const auto& p = s.profile();
  if (!p.country().empty()) parts.push_back(p.country());
  if (p.employee_count() > 0)
    parts.push_back(
        absl::StrCat(FormatCount(p.employee_count()), " employees"));
  if (!p.industry().empty()) parts.push_back(p.industry());
  if (!s.mql_reason().empty())
    parts.push_back(absl::StrCat("MQL by ", s.mql_reason()));
  if (!s.persona().empty()) parts.push_back(s.persona());
  if (!s.campaign().empty()) {
    parts.push_back(
        s.campaign_channel().empty()
            ? s.campaign()
            : absl::StrCat(s.campaign(), " (", s.campaign_channel(), ")"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string Percent(double fraction) {
  return absl::StrFormat("%.1f%%", fraction * 100);
}

}  // namespace

std::string FormatApplyResult(const v1::RuleSet& result, bool dry_run,
                              int64_t expected_version) {
  std::string counts =
      absl::StrCat(Plural(result.rules_size(), "rule", "rules"), ", ",
                   Plural(result.sla_policies_size(), "policy", "policies"));
  if (dry_run) {
    return absl::StrCat("dry run: rule set is valid (", counts,
                        "); nothing applied, version ", expected_version,
                        " stays current\n");
  }
  return absl::StrCat("rule set version ", result.version(), " applied (",
                      counts, ")\n");
}

std::string FormatSimulation(const v1::SimulateRoutingResponse& r, bool draft,
                             bool explain) {
  std::string out = absl::StrCat(
      "simulated ", Plural(r.assignments_size(), "lead", "leads"), " against ",
      draft ? std::string("the draft rule set")
            : absl::StrCat("rule set version ", r.rule_set_version()),
      ": ", r.assignments_size() - r.queued(), " offered, ", r.queued(),
      " queued\n\n");
  Table leads({"LEAD", "RULE", "REP", "POLICY", "PRIORITY", "DUE"});
  for (const auto& a : r.assignments()) {
    leads.AddRow({a.lead(), a.rule(), a.queued() ? "QUEUED" : a.rep(),
                  a.sla_policy(), a.priority() ? "yes" : "no",
                  TimeOrDash(a.has_accept_due_time(), a.accept_due_time())});
  }
  absl::StrAppend(&out, leads.Render());

  absl::StrAppend(&out, "\nprojected load\n");
  Table loads(
      {"REP", "TEAM", "CAPACITY", "OPEN NOW", "+SIMULATED", "PROJECTED", ""});
  for (size_t c = 2; c <= 5; ++c) loads.AlignRight(c);
  for (const auto& l : r.loads()) {
    loads.AddRow({l.rep(), l.team(), absl::StrCat(l.capacity()),
                  absl::StrCat(l.open_assignments()),
                  absl::StrCat("+", l.simulated_offers()),
                  absl::StrCat(l.projected_open()),
                  l.projected_open() > l.capacity() ? "over capacity" : ""});
  }
  absl::StrAppend(
      &out, loads.size() == 0 ? "  (no rep gets a lead)\n" : loads.Render());

  if (explain) {
    absl::StrAppend(&out, "\nexplanations\n");
    for (const auto& a : r.assignments()) {
      absl::StrAppend(&out, a.lead(), ":\n",
                      a.explanation_text().empty()
                          ? "  (no explanation)\n"
                          : Indent(a.explanation_text(), 2));
    }
  }
  return out;
}

std::string FormatRoutingExplanation(const v1::RoutingExplanation& e,
                                     int indent) {
  Table t({"", ""});
  t.AddRow({"matched rule",
            absl::StrCat(e.matched_rule(), e.fallback() ? " (fallback)" : "",
                         " in rule set version ", e.rule_set_version())});
  for (int i = 0; i < e.rules_size(); ++i) {
    const auto& rule = e.rules(i);
    std::string verdict =
        rule.matched()
            ? "matched"
            : absl::StrCat("no: ", rule.condition(),
                           rule.reason().empty()
                               ? ""
                               : absl::StrCat(" (", rule.reason(), ")"));
    t.AddRow({i == 0 ? "rules evaluated" : "",
              absl::StrCat(rule.rule(), " ", verdict)});
  }
  if (e.rules_skipped_by_territory() > 0 || e.rules_not_listed() > 0) {
    t.AddRow({e.rules_size() == 0 ? "rules evaluated" : "",
              absl::StrCat("(", e.rules_skipped_by_territory(),
                           " skipped by territory, ", e.rules_not_listed(),
                           " not listed)")});
  }
  t.AddRow({"pool", absl::StrCat(e.pool(), ", strategy ",
                                 Short(v1::RoutingStrategy_descriptor(),
                                       e.strategy()))});
  t.AddRow(
      {"candidates",
       absl::StrCat(
           e.candidates_eligible(), " eligible of ", e.candidates_total(),
           e.candidates_not_listed() > 0
               ? absl::StrCat(" (", e.candidates_not_listed(), " not listed)")
               : "")});
  std::vector<std::string> exclusions;
  for (const auto& c : e.exclusion_counts()) {
    exclusions.push_back(absl::StrCat(
        Short(v1::ExclusionReason_descriptor(), c.reason()), " ", c.count()));
  }
  t.AddRow({"excluded",
            exclusions.empty() ? "none" : absl::StrJoin(exclusions, ", ")});
  for (int i = 0; i < e.candidates_size(); ++i) {
    const auto& c = e.candidates(i);
    std::string verdict = c.eligible() ? "eligible"
                                       : Short(v1::ExclusionReason_descriptor(),
                                               c.exclusion_reason());
    std::string text =
        absl::StrCat(c.rep(), " ", verdict, ", ", c.open_assignments(), "/",
                     c.capacity(), " open");
    if (!c.detail().empty()) absl::StrAppend(&text, " (", c.detail(), ")");
    t.AddRow({i == 0 ? "candidate list" : "", text});
  }
  t.AddRow({"picked", e.picked_rep().empty()
                          ? std::string("nobody (the lead queues)")
                          : absl::StrCat(e.picked_rep(),
                                         e.pick_reason().empty() ? "" : ": ",
                                         e.pick_reason())});
  if (e.outside_working_hours())
    t.AddRow({"outside hours", "yes: nobody eligible was in working hours"});
  if (!e.sla_policy().empty()) {
    t.AddRow({"sla policy",
              absl::StrCat(e.sla_policy(), e.priority() ? " (priority)" : "")});
  }
  if (e.has_state_before())
    t.AddRow({"state before", StateSummary(e.state_before())});
  if (e.has_state_after())
    t.AddRow({"state after", StateSummary(e.state_after())});
  return Indent(t.Render(false), indent);
}

std::string FormatAssignmentDescription(const v1::Assignment& a) {
  Table t({"", ""});
  t.AddRow({"lead", a.lead()});
  t.AddRow({"rep", a.rep().empty() ? "-" : a.rep()});
  t.AddRow({"team", a.team().empty() ? "-" : a.team()});
  t.AddRow({"state", Short(v1::AssignmentState_descriptor(), a.state())});
  t.AddRow({"attempt", a.previous_assignment().empty()
                           ? absl::StrCat(a.attempt())
                           : absl::StrCat(a.attempt(), " (after ",
                                          a.previous_assignment(), ")")});
  t.AddRow({"offered", TimeOrDash(a.has_offer_time(), a.offer_time())});
  t.AddRow(
      {"accept due", TimeOrDash(a.has_accept_due_time(), a.accept_due_time())});
  if (a.has_warning_time())
    t.AddRow({"warning", FormatTimestamp(a.warning_time())});
  t.AddRow({"accepted",
            a.has_accept_time()
                ? absl::StrCat(FormatTimestamp(a.accept_time()),
                               a.has_time_to_accept()
                                   ? absl::StrCat(" (",
                                                  FormatDurationShort(ToAbsl(
                                                      a.time_to_accept())),
                                                  " business time)")
                                   : "")
                : "-"});
  if (a.has_first_touch_due_time()) {
    t.AddRow({"first touch due",
              absl::StrCat(FormatTimestamp(a.first_touch_due_time()),
                           a.first_touch_breached() ? " (missed)" : "")});
  }
  if (a.has_first_touch_time()) {
    t.AddRow({"first touch",
              absl::StrCat(FormatTimestamp(a.first_touch_time()), " (",
                           FormatDurationShort(ToAbsl(a.time_to_first_touch())),
                           " business time after accept)")});
  }
  if (a.has_close_time()) t.AddRow({"closed", FormatTimestamp(a.close_time())});
  if (a.reject_reason() != v1::REJECT_REASON_UNSPECIFIED) {
    t.AddRow(
        {"rejected",
         absl::StrCat(Short(v1::RejectReason_descriptor(), a.reject_reason()),
                      a.reject_note().empty() ? "" : ": ", a.reject_note())});
  }
  if (!a.deal().empty()) t.AddRow({"deal", a.deal()});
  t.AddRow({"rule", a.rule().empty() ? "-" : a.rule()});
  t.AddRow({"rule set version", absl::StrCat(a.rule_set_version())});
  t.AddRow({"sla policy", a.sla_policy().empty() ? "-" : a.sla_policy()});
  t.AddRow({"priority", a.priority() ? "yes" : "no"});
  t.AddRow({"escalated", a.escalated() ? "yes" : "no"});
  if (a.has_lead_summary())
    t.AddRow({"lead summary", LeadSummaryText(a.lead_summary())});

  std::string out = absl::StrCat(a.name(), "\n", Indent(t.Render(false), 2));
  absl::StrAppend(&out, "\nSLA ladder\n");
  if (a.sla_steps_size() == 0) absl::StrAppend(&out, "  (no steps)\n");
  Table steps({"", "", ""});
  for (const auto& s : a.sla_steps()) {
    steps.AddRow({TimeOrDash(s.has_time(), s.time()),
                  Short(v1::SlaStepType_descriptor(), s.type()), s.detail()});
  }
  if (steps.size() > 0) absl::StrAppend(&out, Indent(steps.Render(false), 2));
  absl::StrAppend(
      &out, "\nexplanation\n",
      a.explanation().empty() ? "  (none)\n" : Indent(a.explanation(), 2));
  if (a.has_explanation_detail()) {
    absl::StrAppend(&out, "\ndecision\n",
                    FormatRoutingExplanation(a.explanation_detail(), 2));
  }
  return out;
}

absl::StatusOr<absl::Time> ParseReportTime(std::string_view option,
                                           std::string_view text,
                                           absl::TimeZone zone) {
  absl::string_view s = absl::StripAsciiWhitespace(Sv(text));
  absl::Time t;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", s, zone, &t, &error)) return t;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &error)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat(Sv(option), ": \"", s,
                   "\" is not a date (2026-03-01) or an RFC 3339 time"));
}

std::string FormatReportPeriod(const google::protobuf::Timestamp& start,
                               v1::SlaReportPeriod period,
                               absl::TimeZone zone) {
  absl::Time t = absl::FromUnixSeconds(start.seconds());
  absl::CivilDay day = absl::ToCivilDay(t, zone);
  switch (period) {
    case v1::SLA_REPORT_PERIOD_DAY:
      return absl::FormatCivilTime(day);
    case v1::SLA_REPORT_PERIOD_WEEK: {
      // ISO weeks belong to the year of their Thursday.
      int from_monday = (static_cast<int>(absl::GetWeekday(day)) + 7 -
                         static_cast<int>(absl::Weekday::monday)) %
                        7;
      absl::CivilDay thursday = day - from_monday + 3;
      absl::CivilDay jan1(thursday.year(), 1, 1);
      int64_t week = (thursday - jan1) / 7 + 1;
      return absl::StrFormat("%04d-W%02d", thursday.year(), week);
    }
    default:
      return "all";
  }
}

std::string FormatSlaReport(const v1::SlaReport& report,
                            v1::SlaReportPeriod period, absl::TimeZone zone) {
  std::string out;
  if (report.rows_size() == 0) {
    absl::StrAppend(&out, "no offers in this range\n");
  } else {
    Table t({"GROUP", "PERIOD", "OFFERS", "IN SLA", "SHARE", "MEDIAN", "P90",
             "BREACHES", "REJECTED", "RECYCLED", "ESCALATED",
             "REJECT REASONS"});
    for (size_t c = 2; c <= 10; ++c) t.AlignRight(c);
    for (const auto& r : report.rows()) {
      int64_t rejected = 0;
      std::vector<std::string> reasons;
      for (const auto& c : r.rejections()) {
        rejected += c.count();
        reasons.push_back(absl::StrCat(
            Short(v1::RejectReason_descriptor(), c.reason()), " ", c.count()));
      }
      bool judged = r.accepted_within_sla() + r.breaches() > 0;
      t.AddRow({r.group(), FormatReportPeriod(r.period_start(), period, zone),
                FormatCount(r.offers()), FormatCount(r.accepted_within_sla()),
                judged ? Percent(r.accepted_within_sla_share()) : "n/a",
                r.has_median_time_to_accept()
                    ? FormatDurationShort(ToAbsl(r.median_time_to_accept()))
                    : "-",
                r.has_p90_time_to_accept()
                    ? FormatDurationShort(ToAbsl(r.p90_time_to_accept()))
                    : "-",
                FormatCount(r.breaches()), FormatCount(rejected),
                FormatCount(r.recycled()), FormatCount(r.escalations()),
                absl::StrJoin(reasons, ", ")});
    }
    absl::StrAppend(&out, t.Render());
  }
  if (report.mql_delivery_size() > 0) {
    absl::StrAppend(&out, "\nMQL delivery\n");
    Table m({"PERIOD", "DELIVERED", "TARGET", "ATTAINMENT"});
    for (size_t c = 1; c <= 3; ++c) m.AlignRight(c);
    for (const auto& d : report.mql_delivery()) {
      m.AddRow({FormatReportPeriod(d.period_start(), period, zone),
                FormatCount(d.mqls_delivered()),
                d.target() > 0 ? FormatCount(d.target()) : "-",
                d.target() > 0 ? Percent(d.attainment()) : "-"});
    }
    absl::StrAppend(&out, m.Render());
  }
  return out;
}

std::string FormatAssignmentEvent(const v1::AssignmentEvent& e) {
  std::string out = absl::StrFormat(
      "%s  %-10s", TimeOrDash(e.has_event_time(), e.event_time()),
      Short(v1::AssignmentEventType_descriptor(), e.type()));
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    bool quote = value.find(' ') != std::string::npos;
    absl::StrAppend(&out, " ", Sv(key), "=", quote ? "\"" : "", value,
                    quote ? "\"" : "");
  };
  add("lead", e.lead());
  add("rep", e.rep());
  add("team", e.team());
  add("rule", e.rule());
  if (e.has_assignment()) {
    add("assignment", e.assignment().name());
    if (e.assignment().attempt() > 0)
      add("attempt", absl::StrCat(e.assignment().attempt()));
  }
  add("policy", e.sla_policy());
  add("detail", e.detail());
  if (e.round_start()) add("round_start", "true");
  add("cursor", e.cursor());
  return out;
}

std::string FormatPoolFairness(const v1::PoolFairness& f) {
  std::string out =
      absl::StrCat(f.pool(), ": ",
                   Plural(f.assignments(), "assignment", "assignments"), "\n");
  Table t(
      {"REP", "WEIGHT", "ASSIGNMENTS", "SHARE", "TARGET", "EXPECTED", "DIFF"});
  for (size_t c = 1; c <= 6; ++c) t.AlignRight(c);
  for (const auto& r : f.reps()) {
    t.AddRow(
        {r.rep(), absl::StrCat(r.weight()), FormatCount(r.assignments()),
         Percent(r.share()), Percent(r.target_share()),
         absl::StrFormat("%.1f", r.expected_assignments()),
         absl::StrFormat("%+.1f", r.assignments() - r.expected_assignments())});
  }
  absl::StrAppend(&out, t.size() == 0 ? "  (no reps)\n" : t.Render());
  return out;
}

}  // namespace handoff::ctl
