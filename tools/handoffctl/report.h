#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"
#include "handoff/type/money.pb.h"

// Pure formatting of what the services report: no calls, no clocks, so every
// number on the demo's screen is traceable to a response and unit-testable.
namespace handoff::ctl {

// Digits after the decimal point for an ISO 4217 code (JPY 0, KWD 3, else 2).
int MinorDigits(std::string_view currency_code);

// "$1,234.56" for USD, "1,234.56 EUR" for other codes, "1,234.56" without one;
// negative amounts get a leading "-".
std::string FormatMoney(const type::Money& money);

// FormatMoney, or "n/a" when `divisor` (the count the amount is per) is 0.
std::string FormatMoneyPer(const type::Money& money, int64_t divisor);

// "12,345".
std::string FormatCount(int64_t n);

// 3690 -> "36.90%", -4520 -> "-45.20%".
std::string FormatBasisPoints(int64_t bp);

// FormatBasisPoints(bp), or "n/a" when `divisor` is 0 (the service reports 0
// then, which would read as a real 0%).
std::string FormatRatio(int64_t bp, int64_t divisor);

// numerator/denominator as a percentage with two decimals, "n/a" for 0/0.
std::string FormatPercent(int64_t numerator, int64_t denominator);

// "12500", "12,500.5" or "12500.50" in `currency_code` to minor units.
// INVALID_ARGUMENT naming `option` when malformed or too precise.
absl::StatusOr<type::Money> ParseMoney(std::string_view option,
                                       std::string_view text,
                                       std::string_view currency_code);

// "2026-01-05T09:00:00Z" (whole seconds, UTC).
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

// One campaign's funnel: stage counts with bars and stage-to-stage conversion
// as the service computed it, then spend, cost per lead/MQL, revenue, ROI.
std::string FormatCampaignFunnel(const campaign::v1::CampaignReport& report);

// One row per campaign for comparing them side by side.
std::string FormatCampaignTable(
    const std::vector<campaign::v1::CampaignReport>& reports);

struct RepSla {
  int64_t offers = 0;
  int64_t accepted = 0;
  int64_t breached = 0;
  int64_t rejected = 0;
  int64_t pending = 0;
};

// What happened to a set of offers (assignments), as the SLA between
// marketing and sales sees it.
struct SlaSummary {
  int64_t offers = 0;
  int64_t leads = 0;
  int64_t pending = 0;
  // Accepted before accept_due_time (includes those since converted).
  int64_t accepted_in_time = 0;
  int64_t accepted_late = 0;
  int64_t converted = 0;
  int64_t breached = 0;
  int64_t rejected = 0;
  // Offers that followed a breach (attempt > 1).
  int64_t reoffers = 0;
  // Leads whose offers all ended rejected or breached: back with marketing.
  int64_t recycled_leads = 0;
  // Short reject reason name -> count.
  std::map<std::string, int64_t> reject_reasons;
  // Offer to accept, sorted ascending.
  std::vector<absl::Duration> time_to_accept;
  // Most common accept_due_time - offer_time.
  absl::Duration accept_window = absl::ZeroDuration();
  // Keyed by rep resource name.
  std::map<std::string, RepSla> reps;
};

SlaSummary SummarizeSla(
    const std::vector<routing::v1::Assignment>& assignments);

// `rep_names` maps reps/{id} to a display name; unknown reps show their id.
std::string FormatSlaSummary(
    const SlaSummary& summary,
    const std::map<std::string, std::string>& rep_names);

// "0.42s", "1m05s", "2h00m".
std::string FormatDurationShort(absl::Duration d);

}  // namespace handoff::ctl
