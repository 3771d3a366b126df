#include "services/routing/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "common/ids.h"
#include "common/proto_time.h"
#include "tests/common/storage/stalled_committer.h"
#include "tests/services/routing/routing_fixture.h"

namespace handoff::routing {
namespace {

using campaign::v1::LEAD_EVENT_ACCEPTED;
using campaign::v1::LEAD_EVENT_RECYCLED;
using campaign::v1::LEAD_EVENT_REJECTED;
using testing::HasSubstr;
using testing::Not;

using RouterTest = RoutingFixture;

std::string_view IdOf(std::string_view name) {
  return name.substr(name.find('/') + 1);
}

constexpr absl::Duration kWindow = absl::Minutes(30);

TEST_F(RouterTest, RoundRobinRotatesThroughRepsInIdOrder) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const std::string c = AddRep("C");
  std::vector<std::string> picked;
  for (int i = 0; i < 4; ++i) {
    picked.push_back(Offer("leads/l" + std::to_string(i)).rep());
  }
  EXPECT_EQ(picked, (std::vector<std::string>{a, b, c, a}));
}

TEST_F(RouterTest, OfferCarriesItsSlaAndLeadSummary) {
  const std::string a = AddRep("A");
  const absl::Time now = clock_.Now();
  v1::Assignment offer = Offer("leads/l1");
  EXPECT_TRUE(offer.name().starts_with("assignments/"));
  EXPECT_EQ(offer.lead(), "leads/l1");
  EXPECT_EQ(offer.rep(), a);
  EXPECT_EQ(offer.team(), "emea");
  EXPECT_EQ(offer.state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_EQ(offer.attempt(), 1);
  EXPECT_EQ(FromProtoTime(offer.offer_time()), now);
  EXPECT_EQ(FromProtoTime(offer.accept_due_time()), now + kWindow);
  EXPECT_EQ(offer.lead_summary().score(), 80);
  EXPECT_EQ(GetRep(a).open_assignments(), 1);
  EXPECT_EQ(Get(offer.name()).SerializeAsString(), offer.SerializeAsString());
}

TEST_F(RouterTest, RoundRobinPointerSurvivesARestart) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  EXPECT_EQ(Offer("leads/l1").rep(), a);
  NewRouter();
  EXPECT_EQ(Offer("leads/l2").rep(), b);
  NewRouter();
  EXPECT_EQ(Offer("leads/l3").rep(), a);
}

// A pool's state is written when its group commit is; a rebuild after a
// write that failed in the same batch still starts from the picks before it.
TEST_F(RouterTest, ARebuildInsideABatchKeepsTheBatchsEarlierPicks) {
  const std::string dir =
      testing::TempDir() + "/router_batch_rebuild_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  Open(dir + "/routing.db");
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const std::string c = AddRep("C");
  auto exec = [&](const char* sql) {
    ASSERT_TRUE(
        db_->Write([&](Transaction& tx) { return tx.Exec(sql).status(); }).ok())
        << sql;
  };
  {
    StalledCommitter stalled(*db_);
    DeferredDurability batch;
    EXPECT_EQ(Offer("leads/l1").rep(), a);
    exec(
        "CREATE TEMP TRIGGER refuse_offers BEFORE INSERT ON main.assignments "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    absl::StatusOr<v1::RouteLeadResponse> failed = Route("leads/l2");
    EXPECT_THAT(failed.status().message(), HasSubstr("refused by the test"));
    exec("DROP TRIGGER refuse_offers");
    EXPECT_EQ(Offer("leads/l3").rep(), b);
    stalled.Release();
    absl::Notification durable;
    batch.Then([&] { durable.Notify(); });
    durable.WaitForNotification();
  }
  NewRouter();
  EXPECT_EQ(Offer("leads/l4").rep(), c);
  std::filesystem::remove_all(dir);
}

TEST_F(RouterTest, CapacityIsRespectedAndTheRestIsQueued) {
  const std::string a = AddRep("A", 1);
  const std::string b = AddRep("B", 2);
  EXPECT_EQ(Offer("leads/l1").rep(), a);
  EXPECT_EQ(Offer("leads/l2").rep(), b);
  EXPECT_EQ(Offer("leads/l3").rep(), b);
  absl::StatusOr<v1::RouteLeadResponse> fourth = Route("leads/l4");
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_TRUE(fourth->queued());
  EXPECT_EQ(fourth->queue_position(), 1);
  EXPECT_FALSE(fourth->has_assignment());
  EXPECT_EQ(GetRep(a).open_assignments(), 1);
  EXPECT_EQ(GetRep(b).open_assignments(), 2);
}

TEST_F(RouterTest, AwayRepsAreSkipped) {
  AddRep("A", 5, v1::REP_STATUS_AWAY);
  const std::string b = AddRep("B");
  EXPECT_EQ(Offer("leads/l1").rep(), b);
  EXPECT_EQ(Offer("leads/l2").rep(), b);
}

TEST_F(RouterTest, ExplanationListsCandidatesExclusionsAndPointer) {
  const std::string away = AddRep("Away", 1, v1::REP_STATUS_AWAY);
  const std::string full = AddRep("Full", 1);
  const std::string free = AddRep("Free", 3);
  EXPECT_EQ(Offer("leads/l1").rep(), full);
  v1::Assignment offer = Offer("leads/l2");
  EXPECT_EQ(offer.rep(), free);
  const std::string& why = offer.explanation();
  EXPECT_THAT(why, HasSubstr("rules/default (fallback) took the lead"));
  EXPECT_THAT(why, HasSubstr("strategy ROUND_ROBIN"));
  EXPECT_THAT(why, HasSubstr("3 considered, 1 eligible"));
  EXPECT_THAT(why, HasSubstr(away + ": AWAY"));
  EXPECT_THAT(why, HasSubstr(full + ": AT_CAPACITY, open 1/1"));
  EXPECT_THAT(why, HasSubstr(free + ": eligible, open 0/3, picked"));
  EXPECT_THAT(why, HasSubstr("round robin pointer " + full + " -> " + free));
  // The structured form says the same.
  const v1::RoutingExplanation& detail = offer.explanation_detail();
  EXPECT_EQ(detail.matched_rule(), "rules/default");
  EXPECT_EQ(detail.picked_rep(), free);
  EXPECT_EQ(detail.candidates_total(), 3);
  EXPECT_EQ(detail.candidates_eligible(), 1);
  EXPECT_EQ(detail.state_before().round_robin_pointer(), full);
  EXPECT_EQ(detail.state_after().round_robin_pointer(), free);
  EXPECT_EQ(offer.rule(), "rules/default");
  EXPECT_EQ(offer.rule_set_version(), 0);
}

TEST_F(RouterTest, RoutingTheSameLeadAgainReturnsTheSameAssignment) {
  AddRep("A");
  AddRep("B");
  v1::Assignment first = Offer("leads/l1");
  absl::StatusOr<v1::RouteLeadResponse> again = Route("leads/l1", "other-id");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->assignment().name(), first.name());
  ASSERT_TRUE(Accept(first.name(), first.rep()).ok());
  again = Route("leads/l1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->assignment().name(), first.name());
  EXPECT_EQ(again->assignment().state(), v1::ASSIGNMENT_STATE_ACCEPTED);
  EXPECT_EQ(CountAssignments(), 1);
}

TEST_F(RouterTest, BasicViewLeavesTheExplanationToGetAssignment) {
  AddRep("A");
  absl::StatusOr<v1::RouteLeadResponse> basic =
      Route("leads/l1", "mql-1", v1::ASSIGNMENT_VIEW_BASIC);
  ASSERT_TRUE(basic.ok()) << basic.status();
  const v1::Assignment& offer = basic->assignment();
  EXPECT_FALSE(offer.has_explanation_detail());
  EXPECT_TRUE(offer.explanation().empty());
  const v1::Assignment stored = Get(offer.name());
  EXPECT_EQ(stored.rep(), offer.rep());
  EXPECT_EQ(stored.explanation_detail().picked_rep(), offer.rep());
  EXPECT_THAT(stored.explanation(), HasSubstr("took the lead"));

  // A replay answers in the view it asks for.
  absl::StatusOr<v1::RouteLeadResponse> full =
      Route("leads/l1", "mql-1", v1::ASSIGNMENT_VIEW_FULL);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->assignment().SerializeAsString(), stored.SerializeAsString());
  absl::StatusOr<v1::RouteLeadResponse> again =
      Route("leads/l1", "mql-1", v1::ASSIGNMENT_VIEW_BASIC);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), basic->SerializeAsString());
  // So does a lead that already has its offer, and unset means FULL.
  absl::StatusOr<v1::RouteLeadResponse> current = Route("leads/l1");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->assignment().SerializeAsString(),
            stored.SerializeAsString());
  EXPECT_EQ(CountAssignments(), 1);
}

// A handler that finds the engine taken leaves its lead to the holder, who
// routes it before letting go; the reply waits for the commit.
TEST_F(RouterTest, RouteLeadThenLeavesTheLeadToTheEngineHolder) {
  const std::string rep = AddRep("A");
  v1::RouteLeadRequest request;
  request.set_lead("leads/l1");
  request.set_request_id("mql-1");
  request.set_view(v1::ASSIGNMENT_VIEW_BASIC);
  request.mutable_lead_summary()->set_score(80);
  absl::Notification replied;
  absl::StatusOr<v1::RouteLeadResponse> reply;
  auto done = [&](absl::StatusOr<v1::RouteLeadResponse> r) {
    reply = std::move(r);
    replied.Notify();
  };
  ASSERT_TRUE(router_
                  ->WriteRep([&]() -> absl::StatusOr<std::string> {
                    router_->RouteLeadThen(request, done);
                    EXPECT_FALSE(replied.HasBeenNotified());
                    EXPECT_EQ(CountAssignments(), 0);
                    return rep;
                  })
                  .ok());
  replied.WaitForNotification();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->assignment().rep(), rep);
  EXPECT_FALSE(reply->assignment().has_explanation_detail());
  EXPECT_EQ(Get(reply->assignment().name()).explanation_detail().picked_rep(),
            rep);

  // The reply waits for the offer to be durable.
  StalledCommitter stalled(*db_);
  absl::Notification second_replied;
  request.set_lead("leads/l2");
  request.set_request_id("mql-2");
  router_->RouteLeadThen(request, [&](absl::StatusOr<v1::RouteLeadResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    second_replied.Notify();
  });
  EXPECT_FALSE(second_replied.HasBeenNotified());
  stalled.Release();
  second_replied.WaitForNotification();
  EXPECT_EQ(CountAssignments(), 2);

  // Bad input is answered at once and changes nothing.
  request.set_lead("l2");
  absl::StatusOr<v1::RouteLeadResponse> invalid;
  router_->RouteLeadThen(request, [&](absl::StatusOr<v1::RouteLeadResponse> r) {
    invalid = std::move(r);
  });
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("lead"));
  EXPECT_EQ(CountAssignments(), 2);
}

TEST_F(RouterTest, RouteLeadThenFromManyThreadsRoutesEachLeadOnce) {
  AddRep("A", 1000);
  AddRep("B", 1000);
  constexpr int kThreads = 4;
  constexpr int kLeadsEach = 50;
  std::vector<v1::RouteLeadRequest> requests(kThreads * kLeadsEach);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].set_lead(absl::StrCat("leads/l", i));
    requests[i].set_request_id(absl::StrCat("mql-", i));
    requests[i].mutable_lead_summary()->set_score(80);
  }
  std::vector<absl::StatusOr<v1::RouteLeadResponse>> replies(requests.size());
  std::vector<std::atomic<int>> calls(requests.size());
  absl::BlockingCounter all_replied(static_cast<int>(requests.size()));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kLeadsEach; i < (t + 1) * kLeadsEach; ++i) {
        router_->RouteLeadThen(requests[i],
                               [&, i](absl::StatusOr<v1::RouteLeadResponse> r) {
                                 replies[i] = std::move(r);
                                 if (calls[i].fetch_add(1) == 0)
                                   all_replied.DecrementCount();
                               });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  all_replied.Wait();
  std::set<std::string> names;
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(calls[i].load(), 1) << i;
    ASSERT_TRUE(replies[i].ok()) << replies[i].status();
    EXPECT_EQ(replies[i]->assignment().lead(), requests[i].lead());
    names.insert(replies[i]->assignment().name());
  }
  EXPECT_EQ(names.size(), requests.size());
  EXPECT_EQ(CountAssignments(), static_cast<int>(requests.size()));
}

TEST_F(RouterTest, RequestIdReplaysTheFirstResultAndANewOneStartsANewRound) {
  AddRep("A");
  absl::StatusOr<v1::RouteLeadResponse> first = Route("leads/l1", "mql-1");
  ASSERT_TRUE(first.ok()) << first.status();
  const v1::Assignment offer = first->assignment();
  ASSERT_TRUE(
      Reject(offer.name(), offer.rep(), v1::REJECT_REASON_NO_BUDGET).ok());

  // A retry of the first call: the stored result, no new round.
  absl::StatusOr<v1::RouteLeadResponse> retry = Route("leads/l1", "mql-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  // The record leaves the explanation to the assignment row.
  int64_t stored_bytes = 0;
  ASSERT_TRUE(db_->Read([&](Transaction& tx) -> absl::Status {
                   absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
                       "SELECT length(response) FROM idempotency"
                       " WHERE method = 'RouteLead' AND request_id = 'mql-1'");
                   if (!row.ok()) return row.status();
                   stored_bytes = (*row)->Int(0);
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_GT(stored_bytes, 0);
  EXPECT_LT(stored_bytes,
            static_cast<int64_t>(first->ByteSizeLong() -
                                 offer.explanation_detail().ByteSizeLong()));
  // Without a request id the ended round is reported.
  absl::StatusOr<v1::RouteLeadResponse> anonymous = Route("leads/l1");
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_TRUE(anonymous->recycled());
  EXPECT_EQ(anonymous->assignment().state(), v1::ASSIGNMENT_STATE_REJECTED);
  EXPECT_EQ(CountAssignments(), 1);

  // Marketing re-qualified the lead: a new request starts a new round.
  absl::StatusOr<v1::RouteLeadResponse> requalified =
      Route("leads/l1", "mql-2");
  ASSERT_TRUE(requalified.ok()) << requalified.status();
  EXPECT_NE(requalified->assignment().name(), offer.name());
  EXPECT_EQ(requalified->assignment().state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_EQ(requalified->assignment().attempt(), 1);
  EXPECT_EQ(CountAssignments(), 2);
}

// Positions come from the queue's length (kept by triggers) less the
// entries behind the lead, so they must stay exact when leads leave from
// the middle and after a restart.
TEST_F(RouterTest, QueuePositionsStayExactWhenLeadsLeaveFromTheMiddle) {
  auto enqueue = [&](const std::string& lead) {
    QueuedLead entry;
    entry.lead_id = lead;
    entry.request.set_lead("leads/" + lead);
    entry.enqueue_time = clock_.Now();
    return db_->Write(
        [&](Transaction& tx) { return store_->Enqueue(tx, entry); });
  };
  auto position = [&](const std::string& lead) {
    int out = -1;
    EXPECT_TRUE(db_->Read([&](Transaction& tx) -> absl::Status {
                     absl::StatusOr<int> p = store_->QueuePosition(tx, lead);
                     if (!p.ok()) return p.status();
                     out = *p;
                     return absl::OkStatus();
                   })
                    .ok());
    return out;
  };
  for (const char* lead : {"a", "b", "c", "d"}) ASSERT_TRUE(enqueue(lead).ok());
  EXPECT_EQ(position("a"), 1);
  EXPECT_EQ(position("d"), 4);
  ASSERT_TRUE(
      db_->Write([&](Transaction& tx) { return store_->Dequeue(tx, "b"); })
          .ok());
  EXPECT_EQ(position("a"), 1);
  EXPECT_EQ(position("c"), 2);
  EXPECT_EQ(position("d"), 3);
  EXPECT_EQ(position("b"), 0) << "not queued";
  // A rolled-back enqueue leaves the count as it was.
  EXPECT_FALSE(db_->Write([&](Transaction& tx) -> absl::Status {
                    QueuedLead entry;
                    entry.lead_id = "e";
                    entry.request.set_lead("leads/e");
                    if (absl::Status s = store_->Enqueue(tx, entry); !s.ok()) {
                      return s;
                    }
                    return absl::AbortedError("rolled back");
                  })
                   .ok());
  ASSERT_TRUE(enqueue("f").ok());
  EXPECT_EQ(position("f"), 4);
  NewRouter();
  EXPECT_EQ(position("f"), 4);
}

TEST_F(RouterTest, QueuedLeadsWaitInOrderAndDrainWhenARepBecomesAvailable) {
  const std::string a = AddRep("A", 1, v1::REP_STATUS_AWAY);
  absl::StatusOr<v1::RouteLeadResponse> l1 = Route("leads/l1");
  absl::StatusOr<v1::RouteLeadResponse> l2 = Route("leads/l2");
  ASSERT_TRUE(l1.ok() && l2.ok());
  EXPECT_TRUE(l1->queued());
  EXPECT_EQ(l1->queue_position(), 1);
  EXPECT_EQ(l2->queue_position(), 2);
  // Routing a queued lead again reports its place and adds nothing.
  absl::StatusOr<v1::RouteLeadResponse> again = Route("leads/l2");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->queued());
  EXPECT_EQ(again->queue_position(), 2);

  ASSERT_TRUE(UpdateRep(a, 1, v1::REP_STATUS_AVAILABLE).ok());
  ASSERT_EQ(AssignmentsOf("leads/l1").size(), 1u);
  EXPECT_EQ(AssignmentsOf("leads/l1")[0].rep(), a);
  EXPECT_TRUE(AssignmentsOf("leads/l2").empty());
  absl::StatusOr<v1::RouteLeadResponse> still = Route("leads/l2");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->queue_position(), 1);

  // More capacity takes the next one.
  ASSERT_TRUE(UpdateRep(a, 2, v1::REP_STATUS_AVAILABLE).ok());
  EXPECT_EQ(AssignmentsOf("leads/l2").size(), 1u);
  EXPECT_EQ(GetRep(a).open_assignments(), 2);
}

TEST_F(RouterTest, ANewRepDrainsTheQueue) {
  EXPECT_TRUE(Route("leads/l1")->queued());
  const std::string a = AddRep("A");
  ASSERT_EQ(AssignmentsOf("leads/l1").size(), 1u);
  EXPECT_EQ(AssignmentsOf("leads/l1")[0].rep(), a);
}

TEST_F(RouterTest, AcceptByTheOfferedRepNotifiesCampaign) {
  AddRep("A");
  const v1::Assignment offer = Offer("leads/l1");
  clock_.Advance(absl::Minutes(7));
  absl::StatusOr<v1::Assignment> accepted = Accept(offer.name(), offer.rep());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->state(), v1::ASSIGNMENT_STATE_ACCEPTED);
  EXPECT_EQ(FromProtoTime(accepted->accept_time()), clock_.Now());
  EXPECT_NE(accepted->etag(), offer.etag());
  EXPECT_EQ(Get(offer.name()).state(), v1::ASSIGNMENT_STATE_ACCEPTED);

  std::vector<SentMessage> sent = Outgoing();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].destination, "campaign");
  EXPECT_EQ(sent[0].method, "UpdateLeadStage");
  EXPECT_EQ(sent[0].request.lead(), "leads/l1");
  EXPECT_EQ(sent[0].request.event(), LEAD_EVENT_ACCEPTED);
  EXPECT_EQ(sent[0].request.rep(), offer.rep());
  EXPECT_EQ(FromProtoTime(sent[0].request.event_time()), clock_.Now());
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("handoff_routing_time_to_accept_seconds_count 1"));
}

TEST_F(RouterTest, AcceptByAnotherRepOrWhenNotPendingIsFailedPrecondition) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment offer = Offer("leads/l1");
  ASSERT_EQ(offer.rep(), a);

  absl::Status wrong_rep = Accept(offer.name(), b).status();
  EXPECT_TRUE(FailsNaming(wrong_rep, absl::StatusCode::kFailedPrecondition,
                          offer.name() + ": offered to " + a));
  EXPECT_EQ(Get(offer.name()).state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_TRUE(Outgoing().empty());

  ASSERT_TRUE(Accept(offer.name(), a).ok());
  EXPECT_TRUE(FailsNaming(Accept(offer.name(), a).status(),
                          absl::StatusCode::kFailedPrecondition,
                          "is ACCEPTED, not PENDING"));
  EXPECT_TRUE(
      FailsNaming(Reject(offer.name(), a, v1::REJECT_REASON_NOT_A_FIT).status(),
                  absl::StatusCode::kFailedPrecondition, "not PENDING"));
  EXPECT_EQ(Outgoing().size(), 1u);

  v1::AcceptAssignmentRequest unknown;
  unknown.set_name("assignments/nope");
  unknown.set_rep(a);
  EXPECT_EQ(router_->AcceptAssignment(unknown).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RouterTest, AcceptAfterTheDueTimeBreachesAndMovesTheLeadOn) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment offer = Offer("leads/l1");
  clock_.Advance(kWindow);
  EXPECT_TRUE(FailsNaming(Accept(offer.name(), a).status(),
                          absl::StatusCode::kFailedPrecondition,
                          "accept_due_time has passed"));
  EXPECT_EQ(Get(offer.name()).state(), v1::ASSIGNMENT_STATE_BREACHED);
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].rep(), b);
  EXPECT_EQ(chain[1].attempt(), 2);
  EXPECT_EQ(chain[1].previous_assignment(), offer.name());
  // The timer finds nothing left to do.
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  EXPECT_TRUE(Outgoing().empty());
}

TEST_F(RouterTest, RejectAfterTheDueTimeIsTooLateAndTheLeadMovesOn) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment offer = Offer("leads/l1");
  clock_.Advance(kWindow + absl::Minutes(1));
  EXPECT_TRUE(FailsNaming(
      Reject(offer.name(), a, v1::REJECT_REASON_NOT_A_FIT).status(),
      absl::StatusCode::kFailedPrecondition, "accept_due_time has passed"));
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
  EXPECT_EQ(chain[1].rep(), b);
  EXPECT_TRUE(Outgoing().empty()) << "no rejection reaches campaign";
}

TEST_F(RouterTest, SlaBreachChainSkipsLapsedRepsAndRecyclesAfterMaxAttempts) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const std::string c = AddRep("C");
  const v1::Assignment first = Offer("leads/l1");
  ASSERT_EQ(first.rep(), a);

  // Nothing is due before the window ends.
  clock_.Advance(kWindow - absl::Seconds(1));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);

  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
  EXPECT_EQ(FromProtoTime(chain[0].close_time()), clock_.Now());
  EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_EQ(chain[1].rep(), b);
  EXPECT_EQ(chain[1].attempt(), 2);
  EXPECT_EQ(chain[1].previous_assignment(), first.name());

  // Another lead moves the pointer to C, so plain rotation would next pick A.
  const v1::Assignment other = Offer("leads/l2");
  ASSERT_EQ(other.rep(), c);
  ASSERT_TRUE(Accept(other.name(), c).ok());

  clock_.Advance(kWindow);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[2].rep(), c) << "A and B let this lead lapse";
  EXPECT_EQ(chain[2].attempt(), 3);
  EXPECT_EQ(chain[2].previous_assignment(), chain[1].name());
  EXPECT_THAT(chain[2].explanation(), HasSubstr(a + ": LAPSED"));
  EXPECT_THAT(chain[2].explanation(), HasSubstr(b + ": LAPSED"));
  EXPECT_TRUE(Outgoing().size() == 1u);  // only l2's acceptance so far

  clock_.Advance(kWindow);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 3u) << "no fourth offer after max_attempts";
  EXPECT_EQ(chain[2].state(), v1::ASSIGNMENT_STATE_BREACHED);

  std::vector<SentMessage> recycled;
  for (const SentMessage& m : Outgoing()) {
    if (m.request.lead() == "leads/l1") recycled.push_back(m);
  }
  ASSERT_EQ(recycled.size(), 1u);
  EXPECT_EQ(recycled[0].destination, "campaign");
  EXPECT_EQ(recycled[0].method, "UpdateLeadStage");
  EXPECT_EQ(recycled[0].request.event(), LEAD_EVENT_RECYCLED);
  EXPECT_EQ(recycled[0].request.reason(), "SLA_EXHAUSTED");
  EXPECT_EQ(FromProtoTime(recycled[0].request.event_time()), clock_.Now());

  absl::StatusOr<v1::RouteLeadResponse> after = Route("leads/l1");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->recycled());
  EXPECT_EQ(after->assignment().name(), chain[2].name());
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);

  const std::string rendered = metrics_->Render();
  EXPECT_THAT(
      rendered,
      HasSubstr("handoff_routing_recycled_total{reason=\"SLA_EXHAUSTED\"} 1"));
  EXPECT_THAT(rendered, HasSubstr("handoff_routing_sla_breaches_total{policy="
                                  "\"default\",team=\"emea\"} 3"));
  EXPECT_EQ(timers_->pending(), 0u) << "no timer outlives the round";
}

TEST_F(RouterTest, WhenOnlyLapsedRepsHaveRoomTheLeadWaitsWithItsExclusions) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment first = Offer("leads/l1");
  clock_.Advance(kWindow);
  ASSERT_EQ(*router_->ProcessDueDeadlines(), 1);
  clock_.Advance(kWindow);
  ASSERT_EQ(*router_->ProcessDueDeadlines(), 1);

  // Both reps let it lapse: queued for attempt 3, never offered back to them.
  std::vector<v1::Assignment> chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 2u);
  absl::StatusOr<v1::RouteLeadResponse> state = Route("leads/l1");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->queued());
  EXPECT_EQ(*router_->DrainQueue(), 0);
  // Another lead is not blocked behind it.
  EXPECT_FALSE(Route("leads/l2")->queued());

  const std::string c = AddRep("C");
  chain = AssignmentsOf("leads/l1");
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[2].rep(), c);
  EXPECT_EQ(chain[2].attempt(), 3);
  EXPECT_EQ(chain[2].previous_assignment(), chain[1].name());
  EXPECT_TRUE(Outgoing().empty());
}

TEST_F(RouterTest, FiringTheSameDeadlineTwiceReassignsOnce) {
  AddRep("A");
  AddRep("B");
  AddRep("C");
  Offer("leads/l1");
  clock_.Advance(kWindow);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 1);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 2u);

  // Concurrent passes over the same due offer.
  clock_.Advance(kWindow);
  std::atomic<int> breached{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { breached += *router_->ProcessDueDeadlines(); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(breached.load(), 1);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 3u);
}

TEST_F(RouterTest, DeadlinesThatPassedWhileDownFireOnceAfterARestart) {
  const std::string dir =
      testing::TempDir() + "/routing_restart_" + NewId(absl::Now());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/routing.db";
  Open(path);
  AddRep("A");
  AddRep("B");
  AddRep("C");
  Offer("leads/l1");
  Offer("leads/l2");
  EXPECT_EQ(timers_->Earliest(), clock_.Now() + kWindow);

  // "Down" for two hours, then a new process over the same file.
  clock_.Advance(absl::Hours(2));
  Open(path);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 2);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  Open(path);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  for (const std::string lead : {"leads/l1", "leads/l2"}) {
    std::vector<v1::Assignment> chain = AssignmentsOf(lead);
    ASSERT_EQ(chain.size(), 2u) << lead;
    EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
    EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_PENDING);
  }
  Open(":memory:");
  std::filesystem::remove_all(dir);
}

TEST_F(RouterTest, EveryOfferStartsItsSlaTimerAndClosingItStopsIt) {
  const std::string a = AddRep("A", 3);
  const std::string b = AddRep("B", 3);
  const v1::Assignment accepted = Offer("leads/l1");
  EXPECT_EQ(timers_->pending(), 1u);
  EXPECT_EQ(timers_->Earliest(), clock_.Now() + kWindow);
  ASSERT_TRUE(Accept(accepted.name(), accepted.rep()).ok());
  EXPECT_EQ(timers_->pending(), 0u);

  const v1::Assignment rejected = Offer("leads/l2");
  EXPECT_EQ(timers_->pending(), 1u);
  ASSERT_TRUE(
      Reject(rejected.name(), rejected.rep(), v1::REJECT_REASON_DUPLICATE)
          .ok());
  EXPECT_EQ(timers_->pending(), 0u);

  // A breach stops the lapsed offer's timer and starts the next offer's.
  const v1::Assignment lapsed = Offer("leads/l3");
  clock_.Advance(kWindow);
  ASSERT_EQ(*router_->ProcessDueDeadlines(), 1);
  EXPECT_EQ(timers_->pending(), 1u);
  EXPECT_EQ(timers_->Earliest(), clock_.Now() + kWindow);
  const v1::Assignment next = AssignmentsOf("leads/l3").back();
  ASSERT_EQ(next.attempt(), 2);
  ASSERT_TRUE(Accept(next.name(), next.rep()).ok());
  EXPECT_EQ(timers_->pending(), 0u);

  // Converting leaves none behind; a queued lead has none.
  ASSERT_TRUE(Convert("leads/l1", "deals/d1").ok());
  ASSERT_TRUE(UpdateRep(a, 3, v1::REP_STATUS_AWAY).ok());
  ASSERT_TRUE(UpdateRep(b, 3, v1::REP_STATUS_AWAY).ok());
  EXPECT_TRUE(Route("leads/l4")->queued());
  EXPECT_EQ(timers_->pending(), 0u);
  EXPECT_THAT(metrics_->Render(),
              HasSubstr("handoff_routing_sla_timers_pending 0"));
}

TEST_F(RouterTest, BreachDueActsOnlyOnDueOffersThatAreStillPending) {
  AddRep("A");
  AddRep("B");
  const v1::Assignment due = Offer("leads/l1");
  const v1::Assignment accepted = Offer("leads/l2");
  ASSERT_TRUE(Accept(accepted.name(), accepted.rep()).ok());
  clock_.Advance(kWindow - absl::Minutes(1));
  const v1::Assignment later = Offer("leads/l3");
  clock_.Advance(absl::Minutes(1));
  // The timer of `later` fired early (it cannot, but the store decides).
  ASSERT_TRUE(timers_->Cancel(std::string(IdOf(later.name()))));

  const std::vector<std::string> fired = {
      std::string(IdOf(due.name())), std::string(IdOf(accepted.name())),
      "00000000000000000000", std::string(IdOf(later.name()))};
  EXPECT_EQ(*router_->BreachDue(fired), 1);
  EXPECT_EQ(Get(due.name()).state(), v1::ASSIGNMENT_STATE_BREACHED);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 2u);
  EXPECT_EQ(Get(accepted.name()).state(), v1::ASSIGNMENT_STATE_ACCEPTED);
  EXPECT_EQ(Get(later.name()).state(), v1::ASSIGNMENT_STATE_PENDING);
  // `later` is back on the timers at its own due time, next to l1's new
  // offer.
  EXPECT_EQ(timers_->pending(), 2u);
  EXPECT_EQ(timers_->Earliest(), FromProtoTime(later.accept_due_time()));

  // The same firing again changes nothing.
  EXPECT_EQ(*router_->BreachDue(fired), 0);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 2u);
  EXPECT_EQ(CountAssignments(), 4);
}

TEST_F(RouterTest, BreachDueSkipsAnOfferItCannotReadAndFiresTheRest) {
  AddRep("A");
  AddRep("B");
  const v1::Assignment corrupt = Offer("leads/l1");
  const v1::Assignment fine = Offer("leads/l2");
  ASSERT_TRUE(db_->Write([&](Transaction& tx) {
                   return tx
                       .Exec("UPDATE assignments SET body = ? WHERE id = ?",
                             {SqlBlob{"\xff\xff\xff"}, IdOf(corrupt.name())})
                       .status();
                 })
                  .ok());
  clock_.Advance(kWindow);
  // Retrying could never help: logged and skipped, not an error that would
  // hold back every timer.
  EXPECT_EQ(*router_->BreachDue({std::string(IdOf(corrupt.name())),
                                 std::string(IdOf(fine.name()))}),
            1);
  EXPECT_EQ(Get(fine.name()).state(), v1::ASSIGNMENT_STATE_BREACHED);
  EXPECT_EQ(AssignmentsOf("leads/l2").size(), 2u);
}

TEST_F(RouterTest, BreachDueFailsWhileTheStoreCannotWriteAndChangesNothing) {
  AddRep("A");
  AddRep("B");
  const v1::Assignment offer = Offer("leads/l1");
  clock_.Advance(kWindow);
  auto set_query_only = [&](bool on) {
    return db_->Read([&](Transaction& tx) {
      return tx.Exec(on ? "PRAGMA query_only = ON" : "PRAGMA query_only = OFF")
          .status();
    });
  };
  ASSERT_TRUE(set_query_only(true).ok());
  const std::vector<std::string> fired = {std::string(IdOf(offer.name()))};
  absl::StatusOr<int> failed = router_->BreachDue(fired);
  EXPECT_FALSE(failed.ok()) << "an error, so the scheduler retries";
  ASSERT_TRUE(set_query_only(false).ok());
  EXPECT_EQ(Get(offer.name()).state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 1u);
  // The retry.
  EXPECT_EQ(*router_->BreachDue(fired), 1);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 2u);
}

TEST_F(RouterTest, LateAcceptsRacingTheTimerReassignEachLeadOnce) {
  AddRep("A", 100);
  AddRep("B", 100);
  constexpr int kLeads = 40;
  std::vector<v1::Assignment> offers;
  for (int i = 0; i < kLeads; ++i) {
    offers.push_back(Offer("leads/l" + std::to_string(i)));
  }
  // Exactly at the due time: both the accept (too late) and the timer
  // breach, each in its own transaction.
  clock_.Advance(kWindow);
  std::atomic<int> accepted{0};
  std::atomic<int> breached{0};
  std::thread accepter([&] {
    for (const v1::Assignment& offer : offers) {
      if (Accept(offer.name(), offer.rep()).ok()) ++accepted;
    }
  });
  std::thread timer([&] {
    for (const v1::Assignment& offer : offers) {
      breached += *router_->BreachDue({std::string(IdOf(offer.name()))});
    }
  });
  accepter.join();
  timer.join();
  EXPECT_EQ(accepted.load(), 0);
  EXPECT_LE(breached.load(), kLeads);
  for (int i = 0; i < kLeads; ++i) {
    std::vector<v1::Assignment> chain =
        AssignmentsOf("leads/l" + std::to_string(i));
    ASSERT_EQ(chain.size(), 2u) << i;
    EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
    EXPECT_EQ(chain[1].attempt(), 2);
    EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_PENDING);
  }
  EXPECT_EQ(timers_->pending(), static_cast<size_t>(kLeads));
}

TEST_F(RouterTest, RejectWithReasonEndsTheRoundAndFlowsToCampaign) {
  const std::string a = AddRep("A", 1);
  const v1::Assignment offer = Offer("leads/l1");
  EXPECT_TRUE(Route("leads/l2")->queued());

  absl::StatusOr<v1::Assignment> rejected =
      Reject(offer.name(), a, v1::REJECT_REASON_NOT_A_FIT, "wrong industry");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->state(), v1::ASSIGNMENT_STATE_REJECTED);
  EXPECT_EQ(rejected->reject_reason(), v1::REJECT_REASON_NOT_A_FIT);
  EXPECT_EQ(rejected->reject_note(), "wrong industry");
  EXPECT_TRUE(rejected->has_close_time());

  std::vector<SentMessage> sent = Outgoing();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "UpdateLeadStage");
  EXPECT_EQ(sent[0].request.lead(), "leads/l1");
  EXPECT_EQ(sent[0].request.event(), LEAD_EVENT_REJECTED);
  EXPECT_EQ(sent[0].request.reason(), "NOT_A_FIT");
  EXPECT_EQ(sent[0].request.note(), "wrong industry");

  // The freed capacity went to the queued lead; the rejected one is not
  // re-offered.
  ASSERT_EQ(AssignmentsOf("leads/l2").size(), 1u);
  EXPECT_EQ(AssignmentsOf("leads/l1").size(), 1u);
  EXPECT_EQ(*router_->ProcessDueDeadlines(), 0);
  EXPECT_THAT(
      metrics_->Render(),
      HasSubstr("handoff_routing_rejections_total{reason=\"NOT_A_FIT\"} 1"));
}

TEST_F(RouterTest, RejectValidationNamesTheFieldAndChangesNothing) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment offer = Offer("leads/l1");
  EXPECT_TRUE(FailsNaming(
      Reject(offer.name(), a, v1::REJECT_REASON_UNSPECIFIED).status(),
      absl::StatusCode::kInvalidArgument, "reason"));
  EXPECT_TRUE(FailsNaming(
      Reject(offer.name(), a, static_cast<v1::RejectReason>(42)).status(),
      absl::StatusCode::kInvalidArgument, "reason"));
  EXPECT_TRUE(
      FailsNaming(Reject(offer.name(), a, v1::REJECT_REASON_OTHER).status(),
                  absl::StatusCode::kInvalidArgument, "note"));
  EXPECT_TRUE(FailsNaming(
      Reject(offer.name(), "", v1::REJECT_REASON_DUPLICATE).status(),
      absl::StatusCode::kInvalidArgument, "rep"));
  EXPECT_TRUE(
      FailsNaming(Reject(offer.name(), b, v1::REJECT_REASON_DUPLICATE).status(),
                  absl::StatusCode::kFailedPrecondition, "offered to " + a));
  EXPECT_EQ(Get(offer.name()).state(), v1::ASSIGNMENT_STATE_PENDING);
  EXPECT_TRUE(Outgoing().empty());

  absl::StatusOr<v1::Assignment> other =
      Reject(offer.name(), a, v1::REJECT_REASON_OTHER, "student project");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Outgoing()[0].request.reason(), "OTHER");
}

TEST_F(RouterTest, RecordConversionFreesCapacityAndIsIdempotent) {
  const std::string a = AddRep("A", 1);
  const v1::Assignment offer = Offer("leads/l1");
  EXPECT_TRUE(Route("leads/l2")->queued());

  // Not accepted yet.
  EXPECT_TRUE(FailsNaming(Convert("leads/l1", "deals/d1").status(),
                          absl::StatusCode::kFailedPrecondition, "leads/l1"));
  ASSERT_TRUE(Accept(offer.name(), a).ok());
  EXPECT_TRUE(AssignmentsOf("leads/l2").empty());

  absl::StatusOr<v1::Assignment> converted =
      Convert("leads/l1", "deals/d1", "deal-msg-1");
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->state(), v1::ASSIGNMENT_STATE_CONVERTED);
  EXPECT_EQ(converted->deal(), "deals/d1");
  EXPECT_EQ(converted->name(), offer.name());

  // Capacity freed: the queued lead got the rep.
  ASSERT_EQ(AssignmentsOf("leads/l2").size(), 1u);
  EXPECT_EQ(AssignmentsOf("leads/l2")[0].rep(), a);
  EXPECT_EQ(GetRep(a).open_assignments(), 1);

  // Repeats: same request id, or the same deal again.
  absl::StatusOr<v1::Assignment> replay =
      Convert("leads/l1", "deals/d1", "deal-msg-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->etag(), converted->etag());
  absl::StatusOr<v1::Assignment> same_deal = Convert("leads/l1", "deals/d1");
  ASSERT_TRUE(same_deal.ok()) << same_deal.status();
  EXPECT_EQ(same_deal->etag(), converted->etag());
  EXPECT_TRUE(FailsNaming(Convert("leads/l1", "deals/d2").status(),
                          absl::StatusCode::kFailedPrecondition,
                          "already converted with deals/d1"));
  EXPECT_TRUE(FailsNaming(Convert("leads/never", "deals/d3").status(),
                          absl::StatusCode::kFailedPrecondition,
                          "has no accepted assignment"));
  EXPECT_TRUE(FailsNaming(Convert("leads/l1", "").status(),
                          absl::StatusCode::kInvalidArgument, "deal"));
}

TEST_F(RouterTest, ValidationErrorsNameTheFieldAndChangeNothing) {
  AddRep("A");
  v1::RouteLeadRequest route;
  EXPECT_TRUE(FailsNaming(router_->RouteLead(route).status(),
                          absl::StatusCode::kInvalidArgument, "lead"));
  route.set_lead("campaigns/x");
  EXPECT_TRUE(FailsNaming(router_->RouteLead(route).status(),
                          absl::StatusCode::kInvalidArgument, "lead"));
  route.set_lead("leads/l1");
  route.mutable_lead_summary()->set_campaign("not a name");
  EXPECT_TRUE(FailsNaming(router_->RouteLead(route).status(),
                          absl::StatusCode::kInvalidArgument,
                          "lead_summary.campaign"));
  route.mutable_lead_summary()->clear_campaign();
  route.mutable_lead_summary()->set_score(-1);
  EXPECT_TRUE(FailsNaming(router_->RouteLead(route).status(),
                          absl::StatusCode::kInvalidArgument,
                          "lead_summary.score"));
  route.mutable_lead_summary()->set_score(10);
  route.set_view(static_cast<v1::AssignmentView>(7));
  EXPECT_TRUE(FailsNaming(router_->RouteLead(route).status(),
                          absl::StatusCode::kInvalidArgument, "view"));
  EXPECT_EQ(CountAssignments(), 0);

  v1::AcceptAssignmentRequest accept;
  accept.set_name("assignment-1");
  accept.set_rep("reps/a");
  EXPECT_TRUE(FailsNaming(router_->AcceptAssignment(accept).status(),
                          absl::StatusCode::kInvalidArgument, "name"));
  accept.set_name("assignments/a1");
  accept.clear_rep();
  EXPECT_TRUE(FailsNaming(router_->AcceptAssignment(accept).status(),
                          absl::StatusCode::kInvalidArgument, "rep"));

  v1::GetAssignmentRequest get;
  get.set_name("assignments/missing");
  EXPECT_EQ(router_->GetAssignment(get).status().code(),
            absl::StatusCode::kNotFound);

  v1::ListAssignmentsRequest list;
  list.set_filter("state=LOST");
  EXPECT_TRUE(FailsNaming(router_->ListAssignments(list).status(),
                          absl::StatusCode::kInvalidArgument, "filter"));
  list.set_filter("rep=leads/x");
  EXPECT_TRUE(FailsNaming(router_->ListAssignments(list).status(),
                          absl::StatusCode::kInvalidArgument, "filter"));
  list.set_filter("owner=me");
  EXPECT_TRUE(FailsNaming(router_->ListAssignments(list).status(),
                          absl::StatusCode::kInvalidArgument, "filter"));
  list.clear_filter();
  list.set_page_size(-1);
  EXPECT_TRUE(FailsNaming(router_->ListAssignments(list).status(),
                          absl::StatusCode::kInvalidArgument, "page_size"));
  EXPECT_EQ(CountAssignments(), 0);
  EXPECT_TRUE(Outgoing().empty());
}

TEST_F(RouterTest, ListAssignmentsFiltersAndPages) {
  const std::string a = AddRep("A");
  const std::string b = AddRep("B");
  const v1::Assignment l1 = Offer("leads/l1");  // a
  Offer("leads/l2");                            // b
  const v1::Assignment l3 = Offer("leads/l3");  // a
  ASSERT_TRUE(Accept(l3.name(), a).ok());

  auto names = [&](const std::string& filter) {
    v1::ListAssignmentsRequest request;
    request.set_filter(filter);
    std::vector<std::string> out;
    absl::StatusOr<v1::ListAssignmentsResponse> response =
        router_->ListAssignments(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return out;
    for (const v1::Assignment& x : response->assignments()) {
      out.push_back(x.name());
    }
    std::sort(out.begin(), out.end());
    return out;
  };

  std::vector<std::string> of_a = {l1.name(), l3.name()};
  std::sort(of_a.begin(), of_a.end());
  EXPECT_EQ(names("rep=" + a), of_a);
  EXPECT_EQ(names("rep=" + a + " AND state=ACCEPTED"),
            std::vector<std::string>{l3.name()});
  EXPECT_EQ(names("state=ASSIGNMENT_STATE_PENDING").size(), 2u);
  EXPECT_EQ(names("lead=leads/l1"), std::vector<std::string>{l1.name()});
  EXPECT_EQ(names("rep=" + b + " AND lead=leads/l1").size(), 0u);

  std::vector<std::string> paged;
  v1::ListAssignmentsRequest page;
  page.set_page_size(1);
  do {
    absl::StatusOr<v1::ListAssignmentsResponse> response =
        router_->ListAssignments(page);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_LE(response->assignments_size(), 1);
    for (const v1::Assignment& x : response->assignments())
      paged.push_back(x.name());
    page.set_page_token(response->next_page_token());
  } while (!page.page_token().empty());
  EXPECT_EQ(paged.size(), 3u);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));
}

TEST_F(RouterTest, GaugesReportQueueAndPendingTimers) {
  const std::string a = AddRep("A", 1);
  Offer("leads/l1");
  EXPECT_TRUE(Route("leads/l2")->queued());
  clock_.Advance(absl::Seconds(90));
  EXPECT_TRUE(Route("leads/l3")->queued());
  ASSERT_TRUE(router_->RefreshGauges().ok());
  const std::string rendered = metrics_->Render();
  EXPECT_THAT(
      rendered,
      HasSubstr("handoff_routing_queue_depth{rule=\"rules/default\"} 2"));
  EXPECT_THAT(rendered,
              HasSubstr("handoff_routing_queue_oldest_age_seconds 90"));
  EXPECT_THAT(rendered, HasSubstr("handoff_routing_sla_timers_pending 1"));
  EXPECT_THAT(rendered,
              HasSubstr("handoff_routing_assignments_total{outcome=\"queued\","
                        "rule=\"rules/default\",strategy=\"round_robin\"} 2"));
  EXPECT_THAT(rendered,
              HasSubstr("handoff_routing_assignments_total{outcome=\"offered\","
                        "rule=\"rules/default\",strategy=\"round_robin\"} 1"));
  EXPECT_THAT(rendered, Not(HasSubstr("leads/")));
}

}  // namespace
}  // namespace handoff::routing
