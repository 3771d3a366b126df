#include "services/routing/routing_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace handoff::routing {
namespace {

int Position(RoutingStore& store, const std::string& lead) {
  int position = -1;
  EXPECT_TRUE(store.db()
                  .Read([&](Transaction& tx) -> absl::Status {
                    absl::StatusOr<int> found = store.QueuePosition(tx, lead);
                    if (!found.ok()) return found.status();
                    position = *found;
                    return absl::OkStatus();
                  })
                  .ok());
  return position;
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

}  // namespace
}  // namespace handoff::routing
