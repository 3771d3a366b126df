#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/outbox/outbox.h"
#include "common/storage/database.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "services/routing/deadline_scheduler.h"
#include "services/routing/rep_directory.h"
#include "services/routing/router.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {

// Store, outbox (not started), SLA timers and warnings (not started),
// router and rep directory over an in-memory database, wired like the
// module: the timers' handlers are Router::BreachDue and Router::WarnDue.
class RoutingFixture : public testing::Test {
 protected:
  void SetUp() override { Open(":memory:"); }

  void Open(const std::string& path) {
    reps_.reset();
    router_.reset();
    timers_.reset();
    outbox_.reset();
    store_.reset();
    db_.reset();
    db_ = *Database::Open({.path = path, .synchronous_full = false});
    store_ = *RoutingStore::Open(*db_);
    outbox_ = std::make_unique<Outbox>(*db_, clock_, OutboxOptions{}, nullptr);
    NewRouter();
  }

  // A fresh Router (and empty timers) over the same store, as after a
  // restart.
  void NewRouter() {
    reps_.reset();
    router_.reset();
    first_touches_.reset();
    warnings_.reset();
    timers_.reset();
    metrics_ = std::make_unique<Metrics>("routing");
    timers_ = std::make_unique<DeadlineScheduler>(
        DeadlineScheduler::Options{},
        [this](DeadlineScheduler::Sink add) {
          return store_->LoadPendingDeadlines(add);
        },
        [this](const std::vector<DueTimer>& due) {
          return router_->BreachDue(TimerIds(due)).status();
        },
        clock_, metrics_.get());
    warnings_ = NewSideTimerScheduler(SlaTimer::kWarning, &Router::WarnDue,
                                      store_, router_, clock_);
    first_touches_ = NewSideTimerScheduler(
        SlaTimer::kFirstTouch, &Router::FirstTouchDue, store_, router_, clock_);
    router_ =
        std::make_unique<Router>(*store_, *outbox_, clock_, *metrics_, options_,
                                 *timers_, *warnings_, *first_touches_);
    ASSERT_TRUE(router_->Load().ok());
    reps_ = std::make_unique<RepDirectory>(*store_, clock_, *router_);
  }

  // Reps created a millisecond apart, so their ids (and the round-robin
  // order) follow creation order.
  std::string AddRep(const std::string& display_name, int capacity = 5,
                     v1::RepStatus status = v1::REP_STATUS_AVAILABLE,
                     const std::string& team = "emea") {
    clock_.Advance(absl::Milliseconds(1));
    v1::CreateRepRequest request;
    request.mutable_rep()->set_display_name(display_name);
    request.mutable_rep()->set_team(team);
    request.mutable_rep()->set_capacity(capacity);
    request.mutable_rep()->set_status(status);
    absl::StatusOr<v1::Rep> rep = reps_->CreateRep(request);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep.ok() ? rep->name() : "";
  }

  absl::Status UpdateRep(const std::string& name, int capacity,
                         v1::RepStatus status) {
    v1::UpdateRepRequest request;
    request.mutable_rep()->set_name(name);
    request.mutable_rep()->set_capacity(capacity);
    request.mutable_rep()->set_status(status);
    request.mutable_update_mask()->add_paths("capacity");
    request.mutable_update_mask()->add_paths("status");
    return reps_->UpdateRep(request).status();
  }

  v1::Rep GetRep(const std::string& name) {
    v1::GetRepRequest request;
    request.set_name(name);
    absl::StatusOr<v1::Rep> rep = reps_->GetRep(request);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep.ok() ? *rep : v1::Rep();
  }

  absl::StatusOr<v1::RouteLeadResponse> Route(
      const std::string& lead, const std::string& request_id = "",
      v1::AssignmentView view = v1::ASSIGNMENT_VIEW_UNSPECIFIED) {
    v1::RouteLeadRequest request;
    request.set_lead(lead);
    request.set_request_id(request_id);
    request.set_view(view);
    request.mutable_lead_summary()->set_score(80);
    request.mutable_lead_summary()->set_mql_reason("SCORE_THRESHOLD");
    return router_->RouteLead(request);
  }

  // Routes `lead` and returns its offer (failing the test if it was queued).
  v1::Assignment Offer(const std::string& lead) {
    absl::StatusOr<v1::RouteLeadResponse> response = Route(lead);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    EXPECT_FALSE(response->queued()) << lead;
    return response->assignment();
  }

  v1::Assignment Get(const std::string& name) {
    v1::GetAssignmentRequest request;
    request.set_name(name);
    absl::StatusOr<v1::Assignment> a = router_->GetAssignment(request);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : v1::Assignment();
  }

  absl::StatusOr<v1::Assignment> Accept(const std::string& name,
                                        const std::string& rep) {
    v1::AcceptAssignmentRequest request;
    request.set_name(name);
    request.set_rep(rep);
    return router_->AcceptAssignment(request);
  }

  absl::StatusOr<v1::Assignment> Reject(const std::string& name,
                                        const std::string& rep,
                                        v1::RejectReason reason,
                                        const std::string& note = "") {
    v1::RejectAssignmentRequest request;
    request.set_name(name);
    request.set_rep(rep);
    request.set_reason(reason);
    request.set_note(note);
    return router_->RejectAssignment(request);
  }

  absl::StatusOr<v1::Assignment> Convert(const std::string& lead,
                                         const std::string& deal,
                                         const std::string& request_id = "") {
    v1::RecordConversionRequest request;
    request.set_lead(lead);
    request.set_deal(deal);
    request.set_request_id(request_id);
    return router_->RecordConversion(request);
  }

  // Assignments of `lead`, in creation order (attempt order within a round).
  std::vector<v1::Assignment> AssignmentsOf(const std::string& lead) {
    v1::ListAssignmentsRequest request;
    request.set_filter("lead=" + lead);
    request.set_page_size(1000);
    absl::StatusOr<v1::ListAssignmentsResponse> response =
        router_->ListAssignments(request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<v1::Assignment> out;
    if (!response.ok()) return out;
    out.assign(response->assignments().begin(), response->assignments().end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::make_tuple(a.offer_time().seconds(), a.offer_time().nanos(),
                             a.attempt()) <
             std::make_tuple(b.offer_time().seconds(), b.offer_time().nanos(),
                             b.attempt());
    });
    return out;
  }

  int CountAssignments() {
    v1::ListAssignmentsRequest request;
    request.set_page_size(1000);
    absl::StatusOr<v1::ListAssignmentsResponse> response =
        router_->ListAssignments(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->assignments_size() : -1;
  }

  struct SentMessage {
    std::string destination;
    std::string method;
    campaign::v1::UpdateLeadStageRequest request;
  };
  std::vector<SentMessage> Outgoing() {
    std::vector<SentMessage> out;
    absl::StatusOr<std::vector<OutboxMessage>> pending = outbox_->Pending();
    EXPECT_TRUE(pending.ok()) << pending.status();
    if (!pending.ok()) return out;
    for (const OutboxMessage& m : *pending) {
      SentMessage& sent = out.emplace_back();
      sent.destination = m.destination;
      sent.method = m.method;
      EXPECT_TRUE(sent.request.ParseFromString(m.payload));
    }
    return out;
  }

  FakeClock clock_;
  RouterOptions options_{.accept_window = absl::Minutes(30), .max_attempts = 3};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RoutingStore> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<DeadlineScheduler> timers_;
  std::unique_ptr<DeadlineScheduler> warnings_;
  std::unique_ptr<DeadlineScheduler> first_touches_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RepDirectory> reps_;
};

// The status failed with `code` and its message names `field`.
inline testing::AssertionResult FailsNaming(const absl::Status& status,
                                            absl::StatusCode code,
                                            const std::string& field) {
  if (status.code() == code && absl::StrContains(status.message(), field)) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure()
         << "expected " << absl::StatusCodeToString(code) << " naming \""
         << field << "\", got " << status;
}

}  // namespace handoff::routing
