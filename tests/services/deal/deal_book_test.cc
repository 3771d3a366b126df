#include "services/deal/deal_book.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/proto_time.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/routing/v1/routing.pb.h"
#include "services/deal/deal_store.h"
#include "tests/services/deal/test_util.h"

namespace handoff::deal {
namespace {

using ::handoff::deal::testing::CounterValue;
using ::handoff::deal::testing::NewDealRequest;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

class FakeAcceptedLeads final : public AcceptedLeads {
 public:
  absl::StatusOr<std::string> AcceptedRep(std::string_view lead) override {
    ++calls;
    if (!failure.ok()) return failure;
    auto it = accepted.find(std::string(lead));
    if (it == accepted.end())
      return absl::NotFoundError("no accepted assignment");
    return it->second;
  }

  // lead -> rep.
  std::map<std::string, std::string> accepted;
  // Returned for every lead when not OK, as when routing is down.
  absl::Status failure;
  int calls = 0;
};

class DealBookTest : public ::testing::Test {
 protected:
  DealBookTest()
      : db_(*Database::Open({.path = ":memory:"})),
        store_(*db_),
        outbox_(*db_, clock_, OutboxOptions(), nullptr),
        metrics_("deal") {
    EXPECT_TRUE(store_.Migrate().ok());
    book_ =
        std::make_unique<DealBook>(store_, outbox_, leads_, clock_, metrics_);
    leads_.accepted["leads/l1"] = "reps/ann";
    leads_.accepted["leads/l2"] = "reps/bob";
    leads_.accepted["leads/l3"] = "reps/ann";
  }

  v1::Deal MustCreate(const std::string& lead,
                      const std::string& request_id = "") {
    absl::StatusOr<v1::Deal> deal =
        book_->Create(NewDealRequest(lead, clock_.Now(), request_id));
    EXPECT_TRUE(deal.ok()) << deal.status();
    // Distinct creation times keep id order equal to creation order.
    clock_.Advance(absl::Seconds(1));
    return deal.ok() ? *deal : v1::Deal();
  }

  absl::StatusOr<v1::Deal> Move(const std::string& name, v1::DealStage stage,
                                const std::string& etag = "",
                                const std::string& actor = "") {
    v1::UpdateDealStageRequest request;
    request.set_name(name);
    request.set_stage(stage);
    request.set_etag(etag);
    request.set_actor(actor);
    return book_->UpdateStage(request);
  }

  absl::StatusOr<v1::Deal> Win(const std::string& name,
                               const std::string& request_id = "") {
    v1::CloseDealRequest request;
    request.set_name(name);
    request.set_outcome(v1::DEAL_OUTCOME_WON);
    request.set_request_id(request_id);
    return book_->Close(request);
  }

  absl::StatusOr<v1::Deal> Lose(const std::string& name,
                                const std::string& reason = "PRICE") {
    v1::CloseDealRequest request;
    request.set_name(name);
    request.set_outcome(v1::DEAL_OUTCOME_LOST);
    request.set_reason(reason);
    return book_->Close(request);
  }

  std::vector<v1::Deal> ListAll(const std::string& filter = "") {
    v1::ListDealsRequest request;
    request.set_filter(filter);
    request.set_page_size(1000);
    absl::StatusOr<v1::ListDealsResponse> response = book_->List(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->deals().begin(), response->deals().end()};
  }

  std::vector<OutboxMessage> Pending() {
    absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_.Pending();
    EXPECT_TRUE(pending.ok()) << pending.status();
    return pending.ok() ? *pending : std::vector<OutboxMessage>();
  }

  FakeClock clock_;
  std::unique_ptr<Database> db_;
  DealStore store_;
  Outbox outbox_;
  FakeAcceptedLeads leads_;
  Metrics metrics_;
  std::unique_ptr<DealBook> book_;
};

TEST_F(DealBookTest, CreateOpensDealForTheAcceptingRep) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<v1::Deal> deal =
      book_->Create(NewDealRequest("leads/l1", now));
  ASSERT_TRUE(deal.ok()) << deal.status();

  EXPECT_THAT(deal->name(), StartsWith("deals/"));
  EXPECT_EQ(deal->lead(), "leads/l1");
  EXPECT_EQ(deal->owner(), "reps/ann");
  EXPECT_EQ(deal->display_name(), "Acme renewal");
  EXPECT_EQ(deal->amount().currency_code(), "USD");
  EXPECT_EQ(deal->amount().minor_units(), 500000);
  EXPECT_EQ(deal->stage(), v1::DEAL_STAGE_QUALIFICATION);
  EXPECT_EQ(FromProtoTime(deal->create_time()), now);
  EXPECT_EQ(FromProtoTime(deal->update_time()), now);
  EXPECT_FALSE(deal->etag().empty());
  EXPECT_FALSE(deal->has_close_time());
  ASSERT_THAT(deal->history(), SizeIs(1));
  EXPECT_EQ(deal->history(0).from_stage(), v1::DEAL_STAGE_UNSPECIFIED);
  EXPECT_EQ(deal->history(0).to_stage(), v1::DEAL_STAGE_QUALIFICATION);
  EXPECT_EQ(deal->history(0).actor(), "reps/ann");
  EXPECT_EQ(FromProtoTime(deal->history(0).time()), now);

  v1::GetDealRequest get;
  get.set_name(deal->name());
  absl::StatusOr<v1::Deal> stored = book_->Get(get);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->SerializeAsString(), deal->SerializeAsString());

  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_created_total"), 1);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deal_stage_changes_total",
                         {{"stage", "QUALIFICATION"}}),
            1);
}

TEST_F(DealBookTest, CreateIgnoresOutputOnlyFields) {
  v1::CreateDealRequest request = NewDealRequest("leads/l1", clock_.Now());
  request.mutable_deal()->set_name("deals/chosen");
  request.mutable_deal()->set_owner("reps/someone-else");
  request.mutable_deal()->set_stage(v1::DEAL_STAGE_NEGOTIATION);
  absl::StatusOr<v1::Deal> deal = book_->Create(request);
  ASSERT_TRUE(deal.ok()) << deal.status();
  EXPECT_NE(deal->name(), "deals/chosen");
  EXPECT_EQ(deal->owner(), "reps/ann");
  EXPECT_EQ(deal->stage(), v1::DEAL_STAGE_QUALIFICATION);
}

TEST_F(DealBookTest, CreateEnqueuesConversionForCampaignAndRouting) {
  const absl::Time now = clock_.Now();
  v1::Deal deal = MustCreate("leads/l1");

  std::vector<OutboxMessage> pending = Pending();
  ASSERT_THAT(pending, SizeIs(2));

  EXPECT_EQ(pending[0].destination, "campaign");
  EXPECT_EQ(pending[0].method, "UpdateLeadStage");
  campaign::v1::UpdateLeadStageRequest converted;
  ASSERT_TRUE(converted.ParseFromString(pending[0].payload));
  EXPECT_EQ(converted.lead(), "leads/l1");
  EXPECT_EQ(converted.event(), campaign::v1::LEAD_EVENT_CONVERTED);
  EXPECT_EQ(converted.deal(), deal.name());
  EXPECT_EQ(FromProtoTime(converted.event_time()), now);

  EXPECT_EQ(pending[1].destination, "routing");
  EXPECT_EQ(pending[1].method, "RecordConversion");
  routing::v1::RecordConversionRequest conversion;
  ASSERT_TRUE(conversion.ParseFromString(pending[1].payload));
  EXPECT_EQ(conversion.lead(), "leads/l1");
  EXPECT_EQ(conversion.deal(), deal.name());

  EXPECT_NE(pending[0].idempotency_key, pending[1].idempotency_key);
}

struct InvalidCreateCase {
  std::string label;
  std::function<void(v1::Deal&)> mutate;
  std::string message_prefix;
};

TEST_F(DealBookTest, CreateRejectsInvalidDealsNamingTheField) {
  const std::vector<InvalidCreateCase> cases = {
      {"no lead", [](v1::Deal& d) { d.clear_lead(); }, "deal.lead: "},
      {"not a lead name", [](v1::Deal& d) { d.set_lead("campaigns/c1"); },
       "deal.lead: "},
      {"lead without id", [](v1::Deal& d) { d.set_lead("leads/"); },
       "deal.lead: "},
      {"no amount", [](v1::Deal& d) { d.clear_amount(); }, "deal.amount: "},
      {"no currency",
       [](v1::Deal& d) { d.mutable_amount()->clear_currency_code(); },
       "deal.amount.currency_code: "},
      {"lower-case currency",
       [](v1::Deal& d) { d.mutable_amount()->set_currency_code("usd"); },
       "deal.amount.currency_code: "},
      {"short currency",
       [](v1::Deal& d) { d.mutable_amount()->set_currency_code("US"); },
       "deal.amount.currency_code: "},
      {"long currency",
       [](v1::Deal& d) { d.mutable_amount()->set_currency_code("USDX"); },
       "deal.amount.currency_code: "},
      {"negative amount",
       [](v1::Deal& d) { d.mutable_amount()->set_minor_units(-1); },
       "deal.amount.minor_units: must not be negative"},
      {"no expected close", [](v1::Deal& d) { d.clear_expected_close_time(); },
       "deal.expected_close_time: "},
      {"expected close out of range",
       [](v1::Deal& d) {
         d.mutable_expected_close_time()->set_seconds(253402300800);
       },
       "deal.expected_close_time: "},
      {"long display name",
       [](v1::Deal& d) { d.set_display_name(std::string(201, 'x')); },
       "deal.display_name: "},
  };
  for (const InvalidCreateCase& c : cases) {
    SCOPED_TRACE(c.label);
    v1::CreateDealRequest request = NewDealRequest("leads/l1", clock_.Now());
    c.mutate(*request.mutable_deal());
    absl::StatusOr<v1::Deal> deal = book_->Create(request);
    EXPECT_EQ(deal.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(deal.status().message()),
                StartsWith(c.message_prefix));
  }
  EXPECT_THAT(ListAll(), SizeIs(0));
  EXPECT_THAT(Pending(), SizeIs(0));
  // Rejected before routing is asked.
  EXPECT_EQ(leads_.calls, 0);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_created_total"), 0);
}

TEST_F(DealBookTest, CreateAcceptsBoundaryValues) {
  v1::CreateDealRequest request = NewDealRequest("leads/l1", clock_.Now());
  request.mutable_deal()->mutable_amount()->set_minor_units(0);
  request.mutable_deal()->clear_display_name();
  EXPECT_TRUE(book_->Create(request).ok());

  // 200 characters of two bytes each.
  request = NewDealRequest("leads/l2", clock_.Now());
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";
  request.mutable_deal()->set_display_name(name);
  EXPECT_TRUE(book_->Create(request).ok());
}

TEST_F(DealBookTest, CreateNeedsAnAcceptedAssignment) {
  absl::StatusOr<v1::Deal> deal =
      book_->Create(NewDealRequest("leads/unaccepted", clock_.Now()));
  EXPECT_EQ(deal.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(deal.status().message(),
            "deal.lead: leads/unaccepted has no accepted assignment");
  EXPECT_THAT(ListAll(), SizeIs(0));
  EXPECT_THAT(Pending(), SizeIs(0));
}

TEST_F(DealBookTest, CreateIsUnavailableWhileRoutingIs) {
  leads_.failure = absl::UnavailableError("connection refused");
  absl::StatusOr<v1::Deal> deal =
      book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-1"));
  EXPECT_EQ(deal.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(deal.status().message()), HasSubstr("leads/l1"));
  EXPECT_THAT(ListAll(), SizeIs(0));
  EXPECT_THAT(Pending(), SizeIs(0));

  // The failed attempt left no idempotency record: the retry creates.
  leads_.failure = absl::OkStatus();
  EXPECT_TRUE(
      book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-1")).ok());
  EXPECT_THAT(ListAll(), SizeIs(1));
}

TEST_F(DealBookTest, RoutingDeadlineIsReportedUnavailable) {
  leads_.failure = absl::DeadlineExceededError("deadline");
  absl::StatusOr<v1::Deal> deal =
      book_->Create(NewDealRequest("leads/l1", clock_.Now()));
  EXPECT_EQ(deal.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(ListAll(), SizeIs(0));
}

TEST_F(DealBookTest, CreateIsIdempotentByRequestId) {
  v1::Deal first = MustCreate("leads/l1", "req-1");
  absl::StatusOr<v1::Deal> again =
      book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first.name());
  EXPECT_EQ(again->etag(), first.etag());
  EXPECT_THAT(ListAll(), SizeIs(1));
  EXPECT_THAT(Pending(), SizeIs(2));
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_created_total"), 1);
}

TEST_F(DealBookTest, CreateRetryDoesNotNeedRouting) {
  v1::Deal first = MustCreate("leads/l1", "req-1");
  const int calls = leads_.calls;
  // Once converted, routing no longer reports the assignment accepted.
  leads_.accepted.erase("leads/l1");
  leads_.failure = absl::UnavailableError("down");
  absl::StatusOr<v1::Deal> again =
      book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first.name());
  EXPECT_EQ(leads_.calls, calls);
}

TEST_F(DealBookTest, OneActiveDealPerLead) {
  v1::Deal first = MustCreate("leads/l1", "req-1");
  absl::StatusOr<v1::Deal> second =
      book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()),
              StartsWith("deal.lead: "));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(first.name()));
  EXPECT_THAT(ListAll(), SizeIs(1));
  EXPECT_THAT(Pending(), SizeIs(2));

  // A won deal blocks as well.
  ASSERT_TRUE(Win(first.name()).ok());
  second = book_->Create(NewDealRequest("leads/l1", clock_.Now(), "req-3"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(DealBookTest, LostDealLeavesRoomForANewOne) {
  v1::Deal first = MustCreate("leads/l1");
  ASSERT_TRUE(Lose(first.name()).ok());
  v1::Deal second = MustCreate("leads/l1");
  EXPECT_NE(second.name(), first.name());
  EXPECT_THAT(ListAll("lead=leads/l1"), SizeIs(2));

  // ... but only one.
  absl::StatusOr<v1::Deal> third =
      book_->Create(NewDealRequest("leads/l1", clock_.Now()));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(third.status().message()), HasSubstr(second.name()));
}

TEST_F(DealBookTest, UpdateStageMovesForwardAndRecordsHistory) {
  v1::Deal deal = MustCreate("leads/l1");
  const absl::Time moved_at = clock_.Now();
  absl::StatusOr<v1::Deal> discovery =
      Move(deal.name(), v1::DEAL_STAGE_DISCOVERY, deal.etag(), "reps/lead-sdr");
  ASSERT_TRUE(discovery.ok()) << discovery.status();
  EXPECT_EQ(discovery->stage(), v1::DEAL_STAGE_DISCOVERY);
  EXPECT_NE(discovery->etag(), deal.etag());
  EXPECT_EQ(FromProtoTime(discovery->update_time()), moved_at);
  ASSERT_THAT(discovery->history(), SizeIs(2));
  const v1::DealStageChange& change = discovery->history(1);
  EXPECT_EQ(change.from_stage(), v1::DEAL_STAGE_QUALIFICATION);
  EXPECT_EQ(change.to_stage(), v1::DEAL_STAGE_DISCOVERY);
  EXPECT_EQ(FromProtoTime(change.time()), moved_at);
  EXPECT_EQ(change.actor(), "reps/lead-sdr");

  // Skipping a stage is allowed; without an actor the owner is recorded.
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::Deal> negotiation =
      Move(deal.name(), v1::DEAL_STAGE_NEGOTIATION);
  ASSERT_TRUE(negotiation.ok()) << negotiation.status();
  ASSERT_THAT(negotiation->history(), SizeIs(3));
  EXPECT_EQ(negotiation->history(2).from_stage(), v1::DEAL_STAGE_DISCOVERY);
  EXPECT_EQ(negotiation->history(2).actor(), "reps/ann");

  v1::GetDealRequest get;
  get.set_name(deal.name());
  absl::StatusOr<v1::Deal> stored = book_->Get(get);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->SerializeAsString(), negotiation->SerializeAsString());
  EXPECT_EQ(CounterValue(metrics_, "handoff_deal_stage_changes_total",
                         {{"stage", "DISCOVERY"}}),
            1);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deal_stage_changes_total",
                         {{"stage", "NEGOTIATION"}}),
            1);
}

TEST_F(DealBookTest, UpdateStageRefusesToGoBack) {
  v1::Deal deal = MustCreate("leads/l1");
  ASSERT_TRUE(Move(deal.name(), v1::DEAL_STAGE_PROPOSAL).ok());

  absl::StatusOr<v1::Deal> back = Move(deal.name(), v1::DEAL_STAGE_DISCOVERY);
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.status().message(), "stage: cannot move " + deal.name() +
                                         " from PROPOSAL back to DISCOVERY");
  absl::StatusOr<v1::Deal> same = Move(deal.name(), v1::DEAL_STAGE_PROPOSAL);
  EXPECT_EQ(same.status().code(), absl::StatusCode::kFailedPrecondition);

  v1::GetDealRequest get;
  get.set_name(deal.name());
  absl::StatusOr<v1::Deal> stored = book_->Get(get);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->stage(), v1::DEAL_STAGE_PROPOSAL);
  EXPECT_THAT(stored->history(), SizeIs(2));
}

TEST_F(DealBookTest, UpdateStageCannotClose) {
  v1::Deal deal = MustCreate("leads/l1");
  absl::StatusOr<v1::Deal> won = Move(deal.name(), v1::DEAL_STAGE_CLOSED_WON);
  EXPECT_EQ(won.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(won.status().message()), HasSubstr("CloseDeal"));
  absl::StatusOr<v1::Deal> none = Move(deal.name(), v1::DEAL_STAGE_UNSPECIFIED);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none.status().message()), StartsWith("stage: "));
}

TEST_F(DealBookTest, UpdateStageOnClosedDealFails) {
  v1::Deal deal = MustCreate("leads/l1");
  ASSERT_TRUE(Lose(deal.name()).ok());
  absl::StatusOr<v1::Deal> moved =
      Move(deal.name(), v1::DEAL_STAGE_NEGOTIATION);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(moved.status().message()), HasSubstr("closed"));
}

TEST_F(DealBookTest, UpdateStageHonoursEtag) {
  v1::Deal deal = MustCreate("leads/l1");
  ASSERT_TRUE(Move(deal.name(), v1::DEAL_STAGE_DISCOVERY).ok());
  // `deal.etag()` is from before the move.
  absl::StatusOr<v1::Deal> stale =
      Move(deal.name(), v1::DEAL_STAGE_PROPOSAL, deal.etag());
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr(deal.name()));

  v1::GetDealRequest get;
  get.set_name(deal.name());
  absl::StatusOr<v1::Deal> current = book_->Get(get);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->stage(), v1::DEAL_STAGE_DISCOVERY);
  EXPECT_TRUE(Move(deal.name(), v1::DEAL_STAGE_PROPOSAL, current->etag()).ok());
}

TEST_F(DealBookTest, UnknownOrMalformedNames) {
  absl::StatusOr<v1::Deal> moved =
      Move("deals/does-not-exist", v1::DEAL_STAGE_DISCOVERY);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(moved.status().message()),
              HasSubstr("deals/does-not-exist"));
  EXPECT_EQ(Win("deals/does-not-exist").status().code(),
            absl::StatusCode::kNotFound);

  v1::GetDealRequest get;
  get.set_name("deals/does-not-exist");
  EXPECT_EQ(book_->Get(get).status().code(), absl::StatusCode::kNotFound);
  get.set_name("leads/l1");
  absl::StatusOr<v1::Deal> bad = book_->Get(get);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), StartsWith("name: "));
  EXPECT_EQ(Move("", v1::DEAL_STAGE_DISCOVERY).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DealBookTest, WinDefaultsToTheDealAmount) {
  v1::Deal deal = MustCreate("leads/l1");
  const absl::Time closed_at = clock_.Now();
  absl::StatusOr<v1::Deal> won = Win(deal.name());
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_EQ(won->stage(), v1::DEAL_STAGE_CLOSED_WON);
  EXPECT_EQ(FromProtoTime(won->close_time()), closed_at);
  EXPECT_EQ(won->amount().minor_units(), 500000);
  ASSERT_THAT(won->history(), SizeIs(2));
  EXPECT_EQ(won->history(1).from_stage(), v1::DEAL_STAGE_QUALIFICATION);
  EXPECT_EQ(won->history(1).to_stage(), v1::DEAL_STAGE_CLOSED_WON);
  EXPECT_EQ(won->history(1).actor(), "reps/ann");

  std::vector<OutboxMessage> pending = Pending();
  ASSERT_THAT(pending, SizeIs(3));
  EXPECT_EQ(pending[2].destination, "campaign");
  EXPECT_EQ(pending[2].method, "UpdateLeadStage");
  campaign::v1::UpdateLeadStageRequest outcome;
  ASSERT_TRUE(outcome.ParseFromString(pending[2].payload));
  EXPECT_EQ(outcome.lead(), "leads/l1");
  EXPECT_EQ(outcome.event(), campaign::v1::LEAD_EVENT_WON);
  EXPECT_EQ(outcome.deal(), deal.name());
  EXPECT_EQ(outcome.amount().currency_code(), "USD");
  EXPECT_EQ(outcome.amount().minor_units(), 500000);

  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_total"), 1);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_minor_units_total",
                         {{"currency", "USD"}}),
            500000);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deal_stage_changes_total",
                         {{"stage", "CLOSED_WON"}}),
            1);
}

TEST_F(DealBookTest, WinWithFinalAmount) {
  v1::Deal deal = MustCreate("leads/l1");
  v1::CloseDealRequest request;
  request.set_name(deal.name());
  request.set_outcome(v1::DEAL_OUTCOME_WON);
  request.set_actor("reps/manager");
  request.mutable_amount()->set_currency_code("USD");
  request.mutable_amount()->set_minor_units(450000);
  absl::StatusOr<v1::Deal> won = book_->Close(request);
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_EQ(won->amount().minor_units(), 450000);
  EXPECT_EQ(won->history(1).actor(), "reps/manager");

  std::vector<OutboxMessage> pending = Pending();
  ASSERT_THAT(pending, SizeIs(3));
  campaign::v1::UpdateLeadStageRequest outcome;
  ASSERT_TRUE(outcome.ParseFromString(pending[2].payload));
  EXPECT_EQ(outcome.amount().minor_units(), 450000);
}

TEST_F(DealBookTest, CurrencyOutsideTheKnownSetIsLabelledOther) {
  v1::CreateDealRequest request = NewDealRequest("leads/l1", clock_.Now());
  request.mutable_deal()->mutable_amount()->set_currency_code("XAU");
  absl::StatusOr<v1::Deal> deal = book_->Create(request);
  ASSERT_TRUE(deal.ok()) << deal.status();
  ASSERT_TRUE(Win(deal->name()).ok());
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_minor_units_total",
                         {{"currency", "other"}}),
            500000);
}

TEST_F(DealBookTest, CloseRejectsInvalidRequests) {
  v1::Deal deal = MustCreate("leads/l1");
  struct Case {
    std::string label;
    std::function<void(v1::CloseDealRequest&)> mutate;
    std::string message_prefix;
  };
  const std::vector<Case> cases = {
      {"no outcome", [](v1::CloseDealRequest& r) { r.clear_outcome(); },
       "outcome: "},
      {"unknown outcome",
       [](v1::CloseDealRequest& r) {
         r.set_outcome(static_cast<v1::DealOutcome>(9));
       },
       "outcome: "},
      {"lost without reason",
       [](v1::CloseDealRequest& r) {
         r.set_outcome(v1::DEAL_OUTCOME_LOST);
         r.clear_reason();
       },
       "reason: "},
      {"lower-case reason",
       [](v1::CloseDealRequest& r) {
         r.set_outcome(v1::DEAL_OUTCOME_LOST);
         r.set_reason("price");
       },
       "reason: "},
      {"reason with spaces",
       [](v1::CloseDealRequest& r) {
         r.set_outcome(v1::DEAL_OUTCOME_LOST);
         r.set_reason("NO DECISION");
       },
       "reason: "},
      {"lost with amount",
       [](v1::CloseDealRequest& r) {
         r.set_outcome(v1::DEAL_OUTCOME_LOST);
         r.set_reason("PRICE");
         r.mutable_amount()->set_currency_code("USD");
       },
       "amount: "},
      {"negative won amount",
       [](v1::CloseDealRequest& r) {
         r.mutable_amount()->set_currency_code("USD");
         r.mutable_amount()->set_minor_units(-5);
       },
       "amount.minor_units: must not be negative"},
      {"malformed won currency",
       [](v1::CloseDealRequest& r) {
         r.mutable_amount()->set_currency_code("usd");
       },
       "amount.currency_code: "},
      {"other currency than the deal's",
       [](v1::CloseDealRequest& r) {
         r.mutable_amount()->set_currency_code("EUR");
         r.mutable_amount()->set_minor_units(100);
       },
       "amount.currency_code: must be USD"},
      {"bad name", [](v1::CloseDealRequest& r) { r.set_name("deal/x"); },
       "name: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    v1::CloseDealRequest request;
    request.set_name(deal.name());
    request.set_outcome(v1::DEAL_OUTCOME_WON);
    c.mutate(request);
    absl::StatusOr<v1::Deal> closed = book_->Close(request);
    EXPECT_EQ(closed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(closed.status().message()),
                StartsWith(c.message_prefix));
  }
  v1::GetDealRequest get;
  get.set_name(deal.name());
  absl::StatusOr<v1::Deal> stored = book_->Get(get);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->SerializeAsString(), deal.SerializeAsString());
  EXPECT_THAT(Pending(), SizeIs(2));
}

TEST_F(DealBookTest, LoseRecordsReasonAndTellsCampaign) {
  v1::Deal deal = MustCreate("leads/l1");
  absl::StatusOr<v1::Deal> lost = Lose(deal.name(), "NO_DECISION");
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->stage(), v1::DEAL_STAGE_CLOSED_LOST);
  EXPECT_EQ(lost->close_reason(), "NO_DECISION");
  EXPECT_TRUE(lost->has_close_time());

  std::vector<OutboxMessage> pending = Pending();
  ASSERT_THAT(pending, SizeIs(3));
  campaign::v1::UpdateLeadStageRequest outcome;
  ASSERT_TRUE(outcome.ParseFromString(pending[2].payload));
  EXPECT_EQ(outcome.event(), campaign::v1::LEAD_EVENT_LOST);
  EXPECT_EQ(outcome.reason(), "NO_DECISION");
  EXPECT_EQ(outcome.deal(), deal.name());
  EXPECT_FALSE(outcome.has_amount());

  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_lost_total"), 1);
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_total"), 0);
}

TEST_F(DealBookTest, ClosingAClosedDealFails) {
  v1::Deal deal = MustCreate("leads/l1");
  ASSERT_TRUE(Win(deal.name()).ok());
  absl::StatusOr<v1::Deal> again = Win(deal.name());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr(deal.name()));
  absl::StatusOr<v1::Deal> lost = Lose(deal.name());
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Pending(), SizeIs(3));
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_total"), 1);
}

TEST_F(DealBookTest, CloseIsIdempotentByRequestId) {
  v1::Deal deal = MustCreate("leads/l1");
  absl::StatusOr<v1::Deal> first = Win(deal.name(), "close-1");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::Deal> retry = Win(deal.name(), "close-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->etag(), first->etag());
  EXPECT_THAT(Pending(), SizeIs(3));
  EXPECT_EQ(CounterValue(metrics_, "handoff_deals_won_total"), 1);
}

TEST_F(DealBookTest, ListPagesInCreationOrder) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    const std::string lead = "leads/p" + std::to_string(i);
    leads_.accepted[lead] = "reps/ann";
    created.push_back(MustCreate(lead).name());
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListDealsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    absl::StatusOr<v1::ListDealsResponse> page = book_->List(request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->deals_size(), 2);
    for (const v1::Deal& deal : page->deals()) seen.push_back(deal.name());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);

  v1::ListDealsRequest bad;
  bad.set_page_token("not-a-token");
  EXPECT_EQ(book_->List(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DealBookTest, ListFilters) {
  v1::Deal ann1 = MustCreate("leads/l1");
  v1::Deal bob = MustCreate("leads/l2");
  v1::Deal ann3 = MustCreate("leads/l3");
  ASSERT_TRUE(Move(bob.name(), v1::DEAL_STAGE_PROPOSAL).ok());
  ASSERT_TRUE(Move(ann3.name(), v1::DEAL_STAGE_PROPOSAL).ok());
  ASSERT_TRUE(Lose(ann1.name()).ok());

  auto names = [&](const std::string& filter) {
    std::vector<std::string> out;
    for (const v1::Deal& deal : ListAll(filter)) out.push_back(deal.name());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(""), (V{ann1.name(), bob.name(), ann3.name()}));
  EXPECT_EQ(names("stage=PROPOSAL"), (V{bob.name(), ann3.name()}));
  EXPECT_EQ(names("stage=DEAL_STAGE_CLOSED_LOST"), (V{ann1.name()}));
  EXPECT_EQ(names("owner=reps/ann"), (V{ann1.name(), ann3.name()}));
  EXPECT_EQ(names("lead=leads/l2"), (V{bob.name()}));
  EXPECT_EQ(names("owner=reps/ann AND stage=PROPOSAL"), (V{ann3.name()}));
  EXPECT_EQ(names("lead=leads/l1 AND stage=PROPOSAL"), V{});
  EXPECT_EQ(names("stage=NEGOTIATION"), V{});

  for (const char* filter :
       {"stage=WON", "colour=red", "owner=leads/l1", "lead=reps/ann"}) {
    SCOPED_TRACE(filter);
    v1::ListDealsRequest request;
    request.set_filter(filter);
    absl::StatusOr<v1::ListDealsResponse> response = book_->List(request);
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(response.status().message()), StartsWith("filter"));
  }
}

}  // namespace
}  // namespace handoff::deal
