#include "services/routing/routing_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "common/ids.h"
#include "common/proto_time.h"

namespace handoff::routing {
namespace {

// Runs `read` in a read transaction; -1 when it fails.
int ReadInt(RoutingStore& store,
            absl::FunctionRef<absl::StatusOr<int>(Transaction&)> read) {
  int value = -1;
  EXPECT_TRUE(store.db()
                  .Read([&](Transaction& tx) -> absl::Status {
                    absl::StatusOr<int> found = read(tx);
                    if (!found.ok()) return found.status();
                    value = *found;
                    return absl::OkStatus();
                  })
                  .ok());
  return value;
}

int Position(RoutingStore& store, const std::string& lead) {
  return ReadInt(
      store, [&](Transaction& tx) { return store.QueuePosition(tx, lead); });
}

// A database that already has queued leads when the queue's length starts
// being kept: the migration counts them, so positions stay right.
TEST(RoutingStoreTest, TheQueueLengthMigrationCountsLeadsAlreadyQueued) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open({":memory:"});
  ASSERT_TRUE(db.ok()) << db.status();
  const std::vector<std::string>& steps = RoutingMigrations();
  const auto queue_size_step =
      std::find_if(steps.begin(), steps.end(), [](const std::string& step) {
        return absl::StartsWith(step, "CREATE TABLE routing_queue_size");
      });
  ASSERT_NE(queue_size_step, steps.end());
  ASSERT_TRUE((*db)->Migrate("routing", {steps.begin(), queue_size_step}).ok());

  for (const char* lead : {"l1", "l2", "l3"}) {
    ASSERT_TRUE((*db)
                    ->Write([&](Transaction& tx) -> absl::Status {
                      return tx
                          .Exec(
                              "INSERT INTO routing_queue (lead, body,"
                              " enqueue_time, seq, round, attempt,"
                              " previous_assignment, rule) VALUES (?, x'',"
                              " 0, (SELECT COALESCE(MAX(seq), 0) + 1 FROM"
                              " routing_queue), 1, 1, '', 'rules/r')",
                              {lead})
                          .status();
                    })
                    .ok());
  }

  absl::StatusOr<std::unique_ptr<RoutingStore>> store =
      RoutingStore::Open(**db);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Position(**store, "l1"), 1);
  EXPECT_EQ(Position(**store, "l3"), 3);

  // The triggers keep it from there on.
  QueuedLead next;
  next.lead_id = "l4";
  next.rule = "rules/r";
  ASSERT_TRUE((*store)
                  ->db()
                  .Write([&](Transaction& tx) {
                    if (absl::Status s = (*store)->Dequeue(tx, "l1"); !s.ok()) {
                      return s;
                    }
                    return (*store)->Enqueue(tx, next);
                  })
                  .ok());
  EXPECT_EQ(Position(**store, "l2"), 1);
  EXPECT_EQ(Position(**store, "l4"), 3);
}

// The daily cap's count: offers to the rep at or after `since`, whatever
// state they are in now, and none of another rep's.
TEST(RoutingStoreTest, OffersSinceCountsTheRepsOffersFromThatTimeInAnyState) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open({":memory:"});
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::unique_ptr<RoutingStore>> store =
      RoutingStore::Open(**db);
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Time midnight = absl::FromUnixSeconds(1795910400);
  struct Offer {
    std::string rep;
    absl::Time time;
    v1::AssignmentState state;
  };
  const std::vector<Offer> offers = {
      {"ann", midnight - absl::Microseconds(1), v1::ASSIGNMENT_STATE_ACCEPTED},
      {"ann", midnight, v1::ASSIGNMENT_STATE_PENDING},
      {"ann", midnight + absl::Hours(1), v1::ASSIGNMENT_STATE_BREACHED},
      {"ann", midnight + absl::Hours(2), v1::ASSIGNMENT_STATE_REJECTED},
      {"ann", midnight + absl::Hours(3), v1::ASSIGNMENT_STATE_CONVERTED},
      {"bob", midnight + absl::Hours(1), v1::ASSIGNMENT_STATE_PENDING},
  };
  ASSERT_TRUE((*store)
                  ->db()
                  .Write([&](Transaction& tx) -> absl::Status {
                    for (const Offer& offer : offers) {
                      const std::string id = NewId(offer.time);
                      v1::Assignment a;
                      a.set_name("assignments/" + id);
                      a.set_lead("leads/" + id);
                      a.set_rep("reps/" + offer.rep);
                      a.set_state(offer.state);
                      *a.mutable_offer_time() = ToProtoTime(offer.time);
                      *a.mutable_accept_due_time() =
                          ToProtoTime(offer.time + absl::Hours(1));
                      if (absl::Status s = (*store)->InsertAssignment(
                              tx, id, a, /*round=*/1);
                          !s.ok()) {
                        return s;
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());

  auto count = [&](const std::string& rep, absl::Time since) {
    return ReadInt(**store, [&](Transaction& tx) {
      return (*store)->OffersSince(tx, rep, since);
    });
  };
  EXPECT_EQ(count("ann", midnight), 4);
  EXPECT_EQ(count("ann", midnight - absl::Microseconds(1)), 5);
  EXPECT_EQ(count("ann", midnight + absl::Hours(1)), 3);
  EXPECT_EQ(count("ann", midnight + absl::Hours(4)), 0);
  EXPECT_EQ(count("bob", midnight), 1);
  EXPECT_EQ(count("cy", midnight), 0);
}

}  // namespace
}  // namespace handoff::routing
