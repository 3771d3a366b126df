#include "services/deal/deal_book.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "common/strings.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"
#include "handoff/type/money.pb.h"
#include "services/deal/pipeline.h"

namespace handoff::deal {
namespace {

constexpr char kDeals[] = "deals";
constexpr size_t kMaxDisplayNameChars = 200;
constexpr size_t kMaxActorChars = 200;
constexpr size_t kMaxReasonChars = 64;

// Currencies that get their own label value on the won-amount counter.
constexpr const char* kLabelledCurrencies[] = {
    "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "INR",
    "JPY", "KRW", "MXN", "NOK", "NZD", "PLN", "SEK", "SGD", "USD", "ZAR"};

size_t Utf8Chars(std::string_view s) {
  size_t chars = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

bool IsReasonCode(std::string_view code) {
  if (code.empty()) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

absl::Status CheckMoney(std::string_view field, const type::Money& money) {
  const std::string& code = money.currency_code();
  if (code.empty()) {
    return InvalidField(absl::StrCat(Sv(field), ".currency_code"), "required");
  }
  if (code.size() != 3 || !absl::ascii_isupper(code[0]) ||
      !absl::ascii_isupper(code[1]) || !absl::ascii_isupper(code[2])) {
    return InvalidField(absl::StrCat(Sv(field), ".currency_code"),
                        "must be an ISO 4217 code of 3 upper-case letters, "
                        "e.g. USD");
  }
  if (money.minor_units() < 0) {
    return InvalidField(absl::StrCat(Sv(field), ".minor_units"),
                        "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status CheckActor(std::string_view actor) {
  if (Utf8Chars(actor) > kMaxActorChars) {
    return InvalidField(
        "actor", absl::StrCat("longer than ", kMaxActorChars, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckNewDeal(const v1::Deal& deal) {
  if (absl::StatusOr<std::string> lead =
          ParseResourceName("deal.lead", deal.lead(), "leads");
      !lead.ok()) {
    return lead.status();
  }
  if (Utf8Chars(deal.display_name()) > kMaxDisplayNameChars) {
    return InvalidField(
        "deal.display_name",
        absl::StrCat("longer than ", kMaxDisplayNameChars, " characters"));
  }
  if (!deal.has_amount()) return InvalidField("deal.amount", "required");
  if (absl::Status s = CheckMoney("deal.amount", deal.amount()); !s.ok()) {
    return s;
  }
  if (!deal.has_expected_close_time()) {
    return InvalidField("deal.expected_close_time", "required");
  }
  return ParseProtoTime("deal.expected_close_time", deal.expected_close_time())
      .status();
}

absl::Status CheckClose(const v1::CloseDealRequest& request) {
  if (absl::Status s =
          CheckEnum("outcome", request.outcome(), v1::DealOutcome_descriptor());
      !s.ok()) {
    return s;
  }
  const bool lost = request.outcome() == v1::DEAL_OUTCOME_LOST;
  if (request.reason().empty()) {
    if (lost) return InvalidField("reason", "required when the deal is lost");
  } else if (!IsReasonCode(request.reason()) ||
             request.reason().size() > kMaxReasonChars) {
    return InvalidField("reason",
                        absl::StrCat("must be an upper-case code of letters, "
                                     "digits and underscores (at most ",
                                     kMaxReasonChars, "), e.g. PRICE"));
  }
  if (request.has_amount()) {
    if (lost) {
      return InvalidField("amount", "only allowed when the deal is won");
    }
    if (absl::Status s = CheckMoney("amount", request.amount()); !s.ok()) {
      return s;
    }
  }
  return CheckActor(request.actor());
}

void AddHistory(v1::Deal& deal, v1::DealStage to, absl::Time now,
                std::string_view actor) {
  v1::DealStageChange* change = deal.add_history();
  change->set_from_stage(deal.stage());
  change->set_to_stage(to);
  *change->mutable_time() = ToProtoTime(now);
  change->set_actor(std::string(actor));
  deal.set_stage(to);
}

void Touch(v1::Deal& deal, absl::Time now) {
  *deal.mutable_update_time() = ToProtoTime(now);
  deal.set_etag(NewEtag());
}

std::string_view IdOf(const v1::Deal& deal) {
  constexpr std::string_view kPrefix = "deals/";
  return std::string_view(deal.name()).substr(kPrefix.size());
}

}  // namespace

DealBook::DealBook(DealStore& store, Outbox& outbox,
                   AcceptedLeads& accepted_leads, const Clock& clock,
                   Metrics& metrics)
    : store_(store),
      outbox_(outbox),
      accepted_leads_(accepted_leads),
      clock_(clock),
      created_(metrics.Counter("handoff_deals_created_total",
                               "Deals created from accepted leads.")),
      won_(metrics.Counter("handoff_deals_won_total", "Deals closed as won.")),
      lost_(metrics.Counter("handoff_deals_lost_total",
                            "Deals closed as lost.")) {
  constexpr char kWonAmountHelp[] =
      "Amount of won deals in minor units, by currency (\"other\" outside "
      "the common ISO 4217 codes).";
  for (const char* currency : kLabelledCurrencies) {
    won_minor_units_[currency] =
        &metrics.Counter("handoff_deals_won_minor_units_total", kWonAmountHelp,
                         {{"currency", currency}});
  }
  won_minor_units_other_ =
      &metrics.Counter("handoff_deals_won_minor_units_total", kWonAmountHelp,
                       {{"currency", "other"}});
  const google::protobuf::EnumDescriptor* stages = v1::DealStage_descriptor();
  for (int i = 0; i < stages->value_count(); ++i) {
    const auto stage = static_cast<v1::DealStage>(stages->value(i)->number());
    if (stage == v1::DEAL_STAGE_UNSPECIFIED) continue;
    stage_changes_[stage] = &metrics.Counter(
        "handoff_deal_stage_changes_total",
        "Deals entering a pipeline stage, including creation and closing.",
        {{"stage", std::string(StageName(stage))}});
  }
}

void DealBook::CountStageChange(Transaction& tx, v1::DealStage stage) {
  auto it = stage_changes_.find(stage);
  if (it == stage_changes_.end()) return;
  prometheus::Counter* counter = it->second;
  tx.AfterCommit([counter] { counter->Increment(); });
}

prometheus::Counter& DealBook::WonMinorUnits(std::string_view currency) {
  auto it = won_minor_units_.find(currency);
  return it == won_minor_units_.end() ? *won_minor_units_other_ : *it->second;
}

absl::StatusOr<v1::Deal> DealBook::Create(
    const v1::CreateDealRequest& request) {
  const v1::Deal& input = request.deal();
  if (absl::Status s = CheckNewDeal(input); !s.ok()) return s;
  const std::string& lead = input.lead();

  // A retry of a create that went through gets its deal back without asking
  // routing, which by then reports the assignment CONVERTED (or is down).
  if (!request.request_id().empty()) {
    v1::Deal earlier;
    absl::StatusOr<bool> seen = FindIdempotentResponse(
        store_.db(), "CreateDeal", request.request_id(), &earlier);
    if (!seen.ok()) return seen.status();
    if (*seen) return earlier;
  }

  // Asked before the write transaction so no database lock is held across
  // the network call.
  absl::StatusOr<std::string> owner = accepted_leads_.AcceptedRep(lead);
  if (absl::IsNotFound(owner.status())) {
    return WrongState("deal.lead",
                      absl::StrCat(lead, " has no accepted assignment"));
  }
  if (!owner.ok()) {
    return absl::UnavailableError(
        absl::StrCat("deal.lead: cannot ask routing whether ", lead,
                     " was accepted: ", owner.status().message()));
  }
  if (owner->empty()) {
    return absl::InternalError(absl::StrCat(
        "routing reported an accepted assignment of ", lead, " without a rep"));
  }

  return IdempotentWrite<v1::Deal>(
      store_.db(), "CreateDeal", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Deal> {
        absl::StatusOr<std::optional<v1::Deal>> active =
            store_.FindActiveForLead(tx, lead);
        if (!active.ok()) return active.status();
        if (active->has_value()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "deal.lead: ", lead, " already has deal ", (*active)->name(),
              " (", Sv(StageName((*active)->stage())), ")"));
        }

        const absl::Time now = clock_.Now();
        const std::string id = NewId(now);
        v1::Deal deal;
        deal.set_name(ResourceName(kDeals, id));
        deal.set_lead(lead);
        deal.set_owner(*owner);
        deal.set_display_name(input.display_name());
        *deal.mutable_amount() = input.amount();
        *deal.mutable_expected_close_time() = input.expected_close_time();
        AddHistory(deal, v1::DEAL_STAGE_QUALIFICATION, now, *owner);
        *deal.mutable_create_time() = ToProtoTime(now);
        Touch(deal, now);
        if (absl::Status s = store_.Insert(tx, id, deal); !s.ok()) return s;

        campaign::v1::UpdateLeadStageRequest converted;
        converted.set_lead(lead);
        converted.set_event(campaign::v1::LEAD_EVENT_CONVERTED);
        converted.set_deal(deal.name());
        *converted.mutable_event_time() = ToProtoTime(now);
        if (absl::Status s =
                outbox_.Enqueue(tx, kCampaignDestination,
                                kUpdateLeadStageMethod, converted, lead);
            !s.ok()) {
          return s;
        }
        routing::v1::RecordConversionRequest conversion;
        conversion.set_lead(lead);
        conversion.set_deal(deal.name());
        if (absl::Status s =
                outbox_.Enqueue(tx, kRoutingDestination,
                                kRecordConversionMethod, conversion, lead);
            !s.ok()) {
          return s;
        }

        prometheus::Counter* created = &created_;
        tx.AfterCommit([created] { created->Increment(); });
        CountStageChange(tx, deal.stage());
        return deal;
      });
}

absl::StatusOr<v1::Deal> DealBook::Get(const v1::GetDealRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), kDeals);
  if (!id.ok()) return id.status();
  std::optional<v1::Deal> deal;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Deal>> found = store_.Find(tx, *id);
    if (!found.ok()) return found.status();
    deal = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!deal.has_value()) return NotFound(request.name());
  return *std::move(deal);
}

absl::StatusOr<v1::ListDealsResponse> DealBook::List(
    const v1::ListDealsRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> filter =
      ParseFilter(request.filter(), {"stage", "owner", "lead"});
  if (!filter.ok()) return filter.status();

  DealQuery query;
  for (const auto& [key, value] : *filter) {
    if (key == "stage") {
      absl::StatusOr<int> stage = ParseEnumName(
          "filter", value, v1::DealStage_descriptor(), "DEAL_STAGE_");
      if (!stage.ok()) return stage.status();
      query.stage = static_cast<v1::DealStage>(*stage);
    } else if (key == "owner") {
      if (absl::StatusOr<std::string> rep =
              ParseResourceName("filter", value, "reps");
          !rep.ok()) {
        return rep.status();
      }
      query.owner = value;
    } else if (key == "lead") {
      if (absl::StatusOr<std::string> lead =
              ParseResourceName("filter", value, "leads");
          !lead.ok()) {
        return lead.status();
      }
      query.lead = value;
    }
  }
  query.after_id = page->after_key;
  // One extra row tells whether another page exists.
  query.limit = page->limit + 1;

  std::vector<v1::Deal> deals;
  absl::Status status = store_.db().Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<v1::Deal>> rows = store_.List(tx, query);
    if (!rows.ok()) return rows.status();
    deals = *std::move(rows);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  v1::ListDealsResponse response;
  const bool more = deals.size() > static_cast<size_t>(page->limit);
  if (more) deals.resize(page->limit);
  for (v1::Deal& deal : deals) *response.add_deals() = std::move(deal);
  if (more && response.deals_size() > 0) {
    response.set_next_page_token(
        MakePageToken(IdOf(response.deals(response.deals_size() - 1))));
  }
  return response;
}

absl::StatusOr<v1::Deal> DealBook::UpdateStage(
    const v1::UpdateDealStageRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), kDeals);
  if (!id.ok()) return id.status();
  if (absl::Status s = CheckRequestedStage(request.stage()); !s.ok()) return s;
  if (absl::Status s = CheckActor(request.actor()); !s.ok()) return s;

  v1::Deal deal;
  absl::Status status = store_.db().Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Deal>> found = store_.Find(tx, *id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return NotFound(request.name());
    deal = **std::move(found);
    if (!request.etag().empty() && request.etag() != deal.etag()) {
      return StaleEtag(request.name(), request.etag(), deal.etag());
    }
    if (absl::Status s =
            CheckStageMove(deal.name(), deal.stage(), request.stage());
        !s.ok()) {
      return s;
    }
    const absl::Time now = clock_.Now();
    AddHistory(deal, request.stage(), now,
               request.actor().empty() ? deal.owner() : request.actor());
    Touch(deal, now);
    if (absl::Status s = store_.Update(tx, *id, deal); !s.ok()) return s;
    CountStageChange(tx, deal.stage());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return deal;
}

absl::StatusOr<v1::Deal> DealBook::Close(const v1::CloseDealRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), kDeals);
  if (!id.ok()) return id.status();
  if (absl::Status s = CheckClose(request); !s.ok()) return s;
  const bool won = request.outcome() == v1::DEAL_OUTCOME_WON;

  return IdempotentWrite<v1::Deal>(
      store_.db(), "CloseDeal", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Deal> {
        absl::StatusOr<std::optional<v1::Deal>> found = store_.Find(tx, *id);
        if (!found.ok()) return found.status();
        if (!found->has_value()) return NotFound(request.name());
        v1::Deal deal = **std::move(found);
        if (absl::Status s = CheckCanClose(deal.name(), deal.stage());
            !s.ok()) {
          return s;
        }
        if (request.has_amount() &&
            request.amount().currency_code() != deal.amount().currency_code()) {
          return InvalidField(
              "amount.currency_code",
              absl::StrCat("must be ", deal.amount().currency_code(),
                           ", the currency of ", deal.name()));
        }

        const absl::Time now = clock_.Now();
        if (won && request.has_amount())
          *deal.mutable_amount() = request.amount();
        AddHistory(deal, ClosedStageFor(request.outcome()), now,
                   request.actor().empty() ? deal.owner() : request.actor());
        *deal.mutable_close_time() = ToProtoTime(now);
        deal.set_close_reason(request.reason());
        Touch(deal, now);
        if (absl::Status s = store_.Update(tx, *id, deal); !s.ok()) return s;

        campaign::v1::UpdateLeadStageRequest outcome;
        outcome.set_lead(deal.lead());
        outcome.set_deal(deal.name());
        *outcome.mutable_event_time() = ToProtoTime(now);
        if (won) {
          outcome.set_event(campaign::v1::LEAD_EVENT_WON);
          *outcome.mutable_amount() = deal.amount();
        } else {
          outcome.set_event(campaign::v1::LEAD_EVENT_LOST);
          outcome.set_reason(deal.close_reason());
        }
        if (absl::Status s =
                outbox_.Enqueue(tx, kCampaignDestination,
                                kUpdateLeadStageMethod, outcome, deal.lead());
            !s.ok()) {
          return s;
        }

        if (won) {
          prometheus::Counter* deals = &won_;
          prometheus::Counter* amount =
              &WonMinorUnits(deal.amount().currency_code());
          const double minor_units =
              static_cast<double>(deal.amount().minor_units());
          tx.AfterCommit([deals, amount, minor_units] {
            deals->Increment();
            amount->Increment(minor_units);
          });
        } else {
          prometheus::Counter* deals = &lost_;
          tx.AfterCommit([deals] { deals->Increment(); });
        }
        CountStageChange(tx, deal.stage());
        return deal;
      });
}

}  // namespace handoff::deal
