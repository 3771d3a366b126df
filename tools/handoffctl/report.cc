#include "tools/handoffctl/report.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {
namespace {

using campaign::v1::CampaignReport;
using routing::v1::Assignment;

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// "1234567" -> "1,234,567" for a non-negative digit string.
std::string GroupThousands(const std::string& digits) {
  std::string out;
  int lead = static_cast<int>(digits.size() % 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (static_cast<int>(i) - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// |value| scaled down by 10^decimals, grouped, with a fixed number of
// decimals; the caller adds the sign.
std::string FixedPoint(uint64_t magnitude, int decimals) {
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string whole = GroupThousands(absl::StrCat(magnitude / scale));
  if (decimals == 0) return whole;
  return absl::StrCat(whole, ".",
                      absl::StrFormat("%0*d", decimals, magnitude % scale));
}

uint64_t Magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

std::string Bar(int64_t count, int64_t full) {
  constexpr int kWidth = 30;
  if (count <= 0 || full <= 0) return "";
  int64_t n = std::clamp<int64_t>(count * kWidth / full, 1, kWidth);
  return std::string(n, '#');
}

std::string ChannelName(int channel) {
  return EnumShortName(campaign::v1::Channel_descriptor(), channel);
}

}  // namespace

int MinorDigits(std::string_view currency_code) {
  static const std::set<std::string, std::less<>> kNone = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
      "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"};
  static const std::set<std::string, std::less<>> kThree = {
      "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  if (kNone.count(currency_code) > 0) return 0;
  if (kThree.count(currency_code) > 0) return 3;
  return 2;
}

std::string FormatMoney(const type::Money& money) {
  const std::string& code = money.currency_code();
  std::string sign = money.minor_units() < 0 ? "-" : "";
  std::string amount =
      FixedPoint(Magnitude(money.minor_units()), MinorDigits(code));
  if (code == "USD") return absl::StrCat(sign, "$", amount);
  if (code.empty()) return absl::StrCat(sign, amount);
  return absl::StrCat(sign, amount, " ", code);
}

std::string FormatMoneyPer(const type::Money& money, int64_t divisor) {
  return divisor == 0 ? "n/a" : FormatMoney(money);
}

std::string FormatCount(int64_t n) {
  return absl::StrCat(n < 0 ? "-" : "",
                      GroupThousands(absl::StrCat(Magnitude(n))));
}

std::string FormatBasisPoints(int64_t bp) {
  return absl::StrCat(bp < 0 ? "-" : "", FixedPoint(Magnitude(bp), 2), "%");
}

std::string FormatRatio(int64_t bp, int64_t divisor) {
  return divisor == 0 ? "n/a" : FormatBasisPoints(bp);
}

std::string FormatPercent(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return "n/a";
  // Rounded half away from zero to whole basis points.
  int64_t scaled = numerator * 10000;
  int64_t bp = (scaled + (scaled >= 0 ? denominator / 2 : -denominator / 2)) /
               denominator;
  return FormatBasisPoints(bp);
}

absl::StatusOr<type::Money> ParseMoney(std::string_view option,
                                       std::string_view text,
                                       std::string_view currency_code) {
  std::string code = absl::AsciiStrToUpper(Sv(currency_code));
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(option), ": \"", Sv(text), "\" is not an amount (", Sv(why), ")"));
  };
  if (code.size() != 3 ||
      !std::all_of(code.begin(), code.end(), absl::ascii_isupper)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(option), ": currency \"", Sv(currency_code),
                     "\" is not an ISO 4217 code"));
  }
  absl::string_view s = absl::StripAsciiWhitespace(Sv(text));
  bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  int decimals = MinorDigits(code);
  uint64_t whole = 0;
  uint64_t fraction = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  bool seen_digit = false;
  for (char c : s) {
    if (c == ',' && !seen_point) continue;
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!absl::ascii_isdigit(c)) return bad("unexpected character");
    seen_digit = true;
    if (seen_point) {
      if (++fraction_digits > decimals) {
        return bad(absl::StrCat(code, " has ", decimals, " decimals"));
      }
      fraction = fraction * 10 + (c - '0');
    } else {
      if (whole > 100'000'000'000'000ULL) return bad("too large");
      whole = whole * 10 + (c - '0');
    }
  }
  if (!seen_digit) return bad("no digits");
  for (int i = fraction_digits; i < decimals; ++i) fraction *= 10;
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  int64_t minor = static_cast<int64_t>(whole * scale + fraction);
  type::Money money;
  money.set_currency_code(code);
  money.set_minor_units(negative ? -minor : minor);
  return money;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", ToTime(ts),
                          absl::UTCTimeZone());
}

std::string FormatCampaignFunnel(const CampaignReport& r) {
  std::string out =
      absl::StrCat(r.display_name().empty() ? r.campaign() : r.display_name(),
                   "  [", ChannelName(r.channel()), "]  ", r.campaign(), "\n");
  struct Stage {
    std::string_view label;
    int64_t count;
    std::string conversion;
    std::string_view of;
  };
  const Stage stages[] = {
      {"leads", r.leads(), "", ""},
      {"MQL", r.mqls(), FormatRatio(r.lead_to_mql_bp(), r.leads()), "of leads"},
      {"accepted", r.accepted(), FormatRatio(r.mql_to_accepted_bp(), r.mqls()),
       "of MQL"},
      {"deals", r.deals(), FormatRatio(r.accepted_to_deal_bp(), r.accepted()),
       "of accepted"},
      {"won", r.won(), FormatRatio(r.deal_to_won_bp(), r.deals()), "of deals"},
  };
  Table funnel({"", "", "", "", ""});
  funnel.AlignRight(1);
  funnel.AlignRight(3);
  for (const Stage& stage : stages) {
    funnel.AddRow({absl::StrCat("  ", Sv(stage.label)),
                   FormatCount(stage.count), Bar(stage.count, r.leads()),
                   stage.conversion, std::string(stage.of)});
  }
  absl::StrAppend(&out, funnel.Render(/*with_header=*/false));
  absl::StrAppend(&out, "  lost ", FormatCount(r.lost()), ", now recycled ",
                  FormatCount(r.recycled()), ", disqualified ",
                  FormatCount(r.disqualified()), "\n");
  Table money({"", "", "", ""});
  money.AlignRight(1);
  money.AlignRight(3);
  money.AddRow({"  spend", FormatMoney(r.spend()), "cost per lead",
                FormatMoneyPer(r.cost_per_lead(), r.leads())});
  money.AddRow({"  revenue", FormatMoney(r.attributed_revenue()),
                "cost per MQL", FormatMoneyPer(r.cost_per_mql(), r.mqls())});
  money.AddRow({"  ROI",
                r.spend().minor_units() == 0
                    ? "n/a"
                    : FormatBasisPoints(r.roi_basis_points()),
                "", ""});
  absl::StrAppend(&out, money.Render(/*with_header=*/false));
  return out;
}

std::string FormatCampaignTable(const std::vector<CampaignReport>& reports) {
  Table table({"campaign", "channel", "leads", "MQL", "accepted", "deals",
               "won", "spend", "revenue", "cost/MQL", "ROI"});
  for (size_t col = 2; col <= 10; ++col) table.AlignRight(col);
  for (const CampaignReport& r : reports) {
    table.AddRow({r.display_name(), ChannelName(r.channel()),
                  FormatCount(r.leads()), FormatCount(r.mqls()),
                  FormatCount(r.accepted()), FormatCount(r.deals()),
                  FormatCount(r.won()), FormatMoney(r.spend()),
                  FormatMoney(r.attributed_revenue()),
                  FormatMoneyPer(r.cost_per_mql(), r.mqls()),
                  r.spend().minor_units() == 0
                      ? "n/a"
                      : FormatBasisPoints(r.roi_basis_points())});
  }
  return table.Render();
}

SlaSummary SummarizeSla(const std::vector<Assignment>& assignments) {
  SlaSummary s;
  struct LeadOutcome {
    bool open_or_accepted = false;
    bool ended = false;
  };
  std::map<std::string, LeadOutcome> leads;
  std::map<int64_t, int64_t> windows;  // seconds -> offers with that window
  for (const Assignment& a : assignments) {
    ++s.offers;
    RepSla& rep = s.reps[a.rep()];
    ++rep.offers;
    LeadOutcome& lead = leads[a.lead()];
    if (a.attempt() > 1 || !a.previous_assignment().empty()) ++s.reoffers;
    if (a.has_offer_time() && a.has_accept_due_time()) {
      absl::Duration window =
          ToTime(a.accept_due_time()) - ToTime(a.offer_time());
      ++windows[absl::ToInt64Milliseconds(window)];
    }
    switch (a.state()) {
      case routing::v1::ASSIGNMENT_STATE_PENDING:
        ++s.pending;
        ++rep.pending;
        lead.open_or_accepted = true;
        break;
      case routing::v1::ASSIGNMENT_STATE_ACCEPTED:
      case routing::v1::ASSIGNMENT_STATE_CONVERTED: {
        ++rep.accepted;
        lead.open_or_accepted = true;
        if (a.state() == routing::v1::ASSIGNMENT_STATE_CONVERTED) ++s.converted;
        bool late = a.has_accept_time() && a.has_accept_due_time() &&
                    ToTime(a.accept_time()) > ToTime(a.accept_due_time());
        ++(late ? s.accepted_late : s.accepted_in_time);
        if (a.has_accept_time() && a.has_offer_time()) {
          s.time_to_accept.push_back(ToTime(a.accept_time()) -
                                     ToTime(a.offer_time()));
        }
        break;
      }
      case routing::v1::ASSIGNMENT_STATE_BREACHED:
        ++s.breached;
        ++rep.breached;
        lead.ended = true;
        break;
      case routing::v1::ASSIGNMENT_STATE_REJECTED:
        ++s.rejected;
        ++rep.rejected;
        lead.ended = true;
        ++s.reject_reasons[EnumShortName(routing::v1::RejectReason_descriptor(),
                                         a.reject_reason())];
        break;
      default:
        break;
    }
  }
  s.leads = static_cast<int64_t>(leads.size());
  for (const auto& [name, lead] : leads) {
    if (lead.ended && !lead.open_or_accepted) ++s.recycled_leads;
  }
  std::sort(s.time_to_accept.begin(), s.time_to_accept.end());
  int64_t most = 0;
  for (const auto& [millis, count] : windows) {
    if (count > most) {
      most = count;
      s.accept_window = absl::Milliseconds(millis);
    }
  }
  return s;
}

std::string FormatDurationShort(absl::Duration d) {
  if (d < absl::Minutes(1))
    return absl::StrFormat("%.2fs", absl::ToDoubleSeconds(d));
  int64_t seconds = absl::ToInt64Seconds(d);
  if (d < absl::Hours(1))
    return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  return absl::StrFormat("%dh%02dm", seconds / 3600, (seconds / 60) % 60);
}

std::string FormatSlaSummary(
    const SlaSummary& s, const std::map<std::string, std::string>& rep_names) {
  std::string out =
      absl::StrCat("SLA summary: ", FormatCount(s.offers), " offers for ",
                   FormatCount(s.leads), " leads");
  if (s.offers > 0)
    absl::StrAppend(&out, ", accept window ",
                    FormatDurationShort(s.accept_window));
  absl::StrAppend(&out, "\n");

  std::vector<std::string> reasons;
  for (const auto& [reason, count] : s.reject_reasons) {
    reasons.push_back(absl::StrCat(reason, " ", count));
  }
  Table table({"", "", "", ""});
  table.AlignRight(1);
  table.AlignRight(2);
  table.AddRow({"  accepted in time", FormatCount(s.accepted_in_time),
                FormatPercent(s.accepted_in_time, s.offers),
                absl::StrCat("of offers; ", FormatCount(s.converted),
                             " since converted to deals")});
  if (s.accepted_late > 0) {
    table.AddRow({"  accepted late", FormatCount(s.accepted_late),
                  FormatPercent(s.accepted_late, s.offers), "of offers"});
  }
  table.AddRow({"  breached", FormatCount(s.breached),
                FormatPercent(s.breached, s.offers),
                absl::StrCat("of offers; ", FormatCount(s.reoffers),
                             " offers followed a breach")});
  table.AddRow({"  rejected", FormatCount(s.rejected),
                FormatPercent(s.rejected, s.offers),
                reasons.empty() ? "of offers"
                                : absl::StrCat("of offers: ",
                                               absl::StrJoin(reasons, ", "))});
  table.AddRow({"  still pending", FormatCount(s.pending),
                FormatPercent(s.pending, s.offers), "of offers"});
  table.AddRow(
      {"  recycled", FormatCount(s.recycled_leads),
       FormatPercent(s.recycled_leads, s.leads),
       "of leads: every offer rejected or breached, back with marketing"});
  absl::StrAppend(&out, table.Render(/*with_header=*/false));

  if (!s.time_to_accept.empty()) {
    size_t n = s.time_to_accept.size();
    absl::StrAppend(
        &out, "  speed to lead (offer to accept): median ",
        FormatDurationShort(s.time_to_accept[(n - 1) / 2]), ", p90 ",
        FormatDurationShort(s.time_to_accept[(n * 9 + 9) / 10 - 1]), ", max ",
        FormatDurationShort(s.time_to_accept.back()), "\n");
  }
  if (!s.reps.empty()) {
    Table reps(
        {"  rep", "offers", "accepted", "breached", "rejected", "pending"});
    for (size_t col = 1; col <= 5; ++col) reps.AlignRight(col);
    for (const auto& [name, rep] : s.reps) {
      auto it = rep_names.find(name);
      reps.AddRow(
          {absl::StrCat("  ", it == rep_names.end() ? name : it->second),
           FormatCount(rep.offers), FormatCount(rep.accepted),
           FormatCount(rep.breached), FormatCount(rep.rejected),
           FormatCount(rep.pending)});
    }
    absl::StrAppend(&out, reps.Render());
  }
  return out;
}

}  // namespace handoff::ctl
