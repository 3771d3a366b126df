#include "common/storage/database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/storage/idempotency.h"
#include "handoff/persona/v1/persona.pb.h"
#include "tests/common/storage/stalled_committer.h"

namespace handoff {
namespace {

std::unique_ptr<Database> OpenMemory() {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open({":memory:"});
  EXPECT_TRUE(db.ok()) << db.status();
  return *std::move(db);
}

TEST(DatabaseTest, MigrationsApplyOnceAndInOrder) {
  auto db = OpenMemory();
  const std::vector<std::string> steps = {
      "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)",
      "ALTER TABLE t ADD COLUMN extra TEXT"};
  ASSERT_TRUE(db->Migrate("svc", {steps[0]}).ok());
  EXPECT_EQ(*db->SchemaVersion("svc"), 1);
  ASSERT_TRUE(db->Migrate("svc", steps).ok());
  ASSERT_TRUE(db->Migrate("svc", steps).ok());  // no-op the second time
  EXPECT_EQ(*db->SchemaVersion("svc"), 2);
  // A binary older than the schema refuses to run on it.
  EXPECT_EQ(db->Migrate("svc", {steps[0]}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DatabaseTest, FailedMigrationLeavesVersionUnchanged) {
  auto db = OpenMemory();
  EXPECT_FALSE(db->Migrate("svc", {"CREATE TABLE t (", "x"}).ok());
  EXPECT_EQ(*db->SchemaVersion("svc"), 0);
}

TEST(DatabaseTest, WriteCommitsOnOkAndRollsBackOnError) {
  auto db = OpenMemory();
  ASSERT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)"})
          .ok());
  bool committed_hook = false;
  ASSERT_TRUE(
      db->Write([&](Transaction& tx) -> absl::Status {
          tx.AfterCommit([&] { committed_hook = true; });
          return tx.Exec("INSERT INTO t VALUES (?, ?)", {"a", 1}).status();
        }).ok());
  EXPECT_TRUE(committed_hook);

  bool rolled_back_hook = false;
  absl::Status failed = db->Write([&](Transaction& tx) -> absl::Status {
    tx.AfterCommit([&] { rolled_back_hook = true; });
    EXPECT_TRUE(tx.Exec("INSERT INTO t VALUES (?, ?)", {"b", 2}).ok());
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(rolled_back_hook);

  ASSERT_TRUE(db->Read([&](Transaction& tx) -> absl::Status {
                  auto rows = tx.Query("SELECT id, n FROM t ORDER BY id");
                  EXPECT_TRUE(rows.ok());
                  EXPECT_EQ(rows->size(), 1u);
                  EXPECT_EQ(rows->at(0).Bytes(0), "a");
                  EXPECT_EQ(rows->at(0).Int(1), 1);
                  return absl::OkStatus();
                }).ok());
}

TEST(DatabaseTest, UniqueViolationIsAlreadyExistsAndChangesCountRows) {
  auto db = OpenMemory();
  ASSERT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)"})
          .ok());
  ASSERT_TRUE(
      db->Write([&](Transaction& tx) {
          return tx.Exec("INSERT INTO t VALUES ('a', 1), ('b', 1)").status();
        }).ok());
  absl::Status dup = db->Write([&](Transaction& tx) {
    return tx.Exec("INSERT INTO t VALUES ('a', 2)").status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(db->Write([&](Transaction& tx) -> absl::Status {
                  auto changed = tx.Exec("UPDATE t SET n = 2 WHERE n = ?", {1});
                  EXPECT_EQ(*changed, 2);
                  changed = tx.Exec("UPDATE t SET n = 3 WHERE n = ?", {1});
                  EXPECT_EQ(*changed, 0);
                  return absl::OkStatus();
                }).ok());
}

TEST(DatabaseTest, BlobsWithZeroBytesRoundTrip) {
  auto db = OpenMemory();
  ASSERT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB)"})
          .ok());
  const std::string bytes("a\0b\xff", 4);
  ASSERT_TRUE(
      db->Write([&](Transaction& tx) {
          return tx.Exec("INSERT INTO t VALUES (?, ?)", {"k", SqlBlob{bytes}})
              .status();
        }).ok());
  ASSERT_TRUE(db->Read([&](Transaction& tx) -> absl::Status {
                  auto row =
                      tx.QueryOne("SELECT body FROM t WHERE id = ?", {"k"});
                  EXPECT_TRUE(row.ok() && row->has_value());
                  EXPECT_EQ((*row)->Bytes(0), bytes);
                  auto none =
                      tx.QueryOne("SELECT body FROM t WHERE id = ?", {"x"});
                  EXPECT_FALSE(none->has_value());
                  return absl::OkStatus();
                }).ok());
}

TEST(DatabaseTest, AnEmptyStringViewBindsAsEmptyTextNotNull) {
  auto db = OpenMemory();
  ASSERT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY, k TEXT NOT "
                          "NULL)"})
          .ok());
  EXPECT_TRUE(db->Write([&](Transaction& tx) {
                  return tx
                      .Exec("INSERT INTO t VALUES (?, ?)",
                            {"a", std::string_view()})
                      .status();
                }).ok());
}

// A directory of its own for a file-backed database, removed when the test
// ends (after the databases declared later are closed).
class TestDir {
 public:
  explicit TestDir(const std::string& name)
      : dir_(testing::TempDir() + "/" + name + "_" + std::to_string(getpid())) {
    std::filesystem::create_directories(dir_);
  }
  ~TestDir() { std::filesystem::remove_all(dir_); }
  std::string DbPath() const { return dir_ + "/x.db"; }

 private:
  std::string dir_;
};

TEST(DatabaseTest, CommittedDataSurvivesReopen) {
  const TestDir dir("db_reopen");
  const std::string path = dir.DbPath();
  {
    auto db = *Database::Open({path});
    ASSERT_TRUE(
        db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY)"}).ok());
    ASSERT_TRUE(db->Write([&](Transaction& tx) {
                    return tx.Exec("INSERT INTO t VALUES ('kept')").status();
                  }).ok());
  }
  auto db = *Database::Open({path});
  ASSERT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY)"}).ok());
  ASSERT_TRUE(db->Read([&](Transaction& tx) -> absl::Status {
                  auto row = tx.QueryOne("SELECT COUNT(*) FROM t");
                  EXPECT_EQ((*row)->Int(0), 1);
                  return absl::OkStatus();
                }).ok());
}

std::unique_ptr<Database> OpenWithTable(const std::string& path) {
  auto db = *Database::Open({path});
  EXPECT_TRUE(
      db->Migrate("svc", {"CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB)"})
          .ok());
  return db;
}

absl::Status Insert(Database& db, const std::string& id,
                    std::function<void()> hook = nullptr) {
  return db.Write([&](Transaction& tx) -> absl::Status {
    if (hook) tx.AfterCommit(hook);
    return tx.Exec("INSERT INTO t (id) VALUES (?)", {id}).status();
  });
}

int64_t CountRows(Database& db) {
  int64_t count = -1;
  EXPECT_TRUE(db.Read([&](Transaction& tx) -> absl::Status {
                  auto row = tx.QueryOne("SELECT COUNT(*) FROM t");
                  if (!row.ok()) return row.status();
                  count = (*row)->Int(0);
                  return absl::OkStatus();
                }).ok());
  return count;
}

// A deferred caller's reply and a plain reader both wait for the group commit
// of what they saw: nothing leaves before it is durable, in commit order.
TEST(GroupCommitTest, RepliesAndReadersWaitForTheirBatchAndHooksRunInOrder) {
  auto db = OpenWithTable(":memory:");
  absl::Notification first_hook_entered, release_first_hook;
  absl::Mutex mu;
  int replies = 0;
  std::vector<std::string> hooks;
  auto record_hook = [&](std::string name) {
    absl::MutexLock lock(&mu);
    hooks.push_back(std::move(name));
  };
  auto reply = [&] {
    absl::MutexLock lock(&mu);
    ++replies;
  };
  const uint64_t base = db->durable_batch();  // the migrations' batches

  // The first batch commits, then its publication stalls in its hook.
  std::thread first([&] {
    DeferredDurability scope;
    ASSERT_TRUE(Insert(*db, "a", [&] {
                  first_hook_entered.Notify();
                  release_first_hook.WaitForNotification();
                  record_hook("a");
                }).ok());
    scope.Then(reply);
  });
  first_hook_entered.WaitForNotification();
  EXPECT_EQ(db->durable_batch(), base);

  // The second batch queues behind it: no reply and no hook yet.
  {
    DeferredDurability scope;
    ASSERT_TRUE(Insert(*db, "b", [&] { record_hook("b"); }).ok());
    scope.Then(reply);
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(replies, 0);
    EXPECT_TRUE(hooks.empty());
  }

  // A plain reader sees both rows and returns only once both are durable.
  std::thread reader([&] {
    EXPECT_EQ(CountRows(*db), 2);
    EXPECT_GE(db->durable_batch(), base + 2);
  });
  release_first_hook.Notify();
  reader.join();
  first.join();
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](int* n) { return *n == 2; }, &replies));
  EXPECT_EQ(hooks, (std::vector<std::string>{"a", "b"}));
}

TEST(GroupCommitTest, AFailedTransactionUndoesOnlyItsOwnChanges) {
  auto db = OpenWithTable(":memory:");
  DeferredDurability scope;
  ASSERT_TRUE(Insert(*db, "kept").ok());
  absl::Status failed = db->Write([&](Transaction& tx) -> absl::Status {
    EXPECT_TRUE(tx.Exec("INSERT INTO t (id) VALUES ('undone')").ok());
    return absl::AbortedError("no");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  // The unique key of the kept row still holds within the same batch.
  EXPECT_EQ(Insert(*db, "kept").code(), absl::StatusCode::kAlreadyExists);
  absl::Notification replied;
  scope.Then([&] { replied.Notify(); });
  replied.WaitForNotification();
  EXPECT_EQ(CountRows(*db), 1);
}

TEST(GroupCommitTest, AHookThatOpensATransactionIsRefusedNotDeadlocked) {
  auto db = OpenWithTable(":memory:");
  absl::Status from_hook;
  ASSERT_TRUE(Insert(*db, "a", [&] { from_hook = Insert(*db, "b"); }).ok());
  EXPECT_EQ(from_hook.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(CountRows(*db), 1);
}

TEST(GroupCommitTest, DeferredWritesAreCommittedByCloseAndSurviveReopen) {
  const TestDir dir("db_group");
  const std::string path = dir.DbPath();
  int replies = 0;
  {
    auto db = OpenWithTable(path);
    for (int i = 0; i < 50; ++i) {
      DeferredDurability scope;
      ASSERT_TRUE(Insert(*db, "row" + std::to_string(i)).ok());
      scope.Then([&] { ++replies; });
    }
  }
  EXPECT_EQ(replies, 50);
  auto db = OpenWithTable(path);
  EXPECT_EQ(CountRows(*db), 50);
}

// State every transaction of a batch changes (a routing pool's strategy
// state) is written once per batch, as the batch's last transaction left it.
void SetAtCommit(Transaction& tx, const std::string& key, std::string body,
                 int* runs) {
  tx.WriteAtCommit(key, [key, body, runs](Transaction& at) -> absl::Status {
    ++*runs;
    return at
        .Exec(
            "INSERT INTO t (id, body) VALUES (?, ?) ON CONFLICT (id) DO "
            "UPDATE SET body = excluded.body",
            {key, body})
        .status();
  });
}

// A transaction that only registers that write.
absl::Status WriteState(Database& db, const std::string& key, std::string body,
                        int* runs) {
  return db.Write([&](Transaction& tx) {
    SetAtCommit(tx, key, std::move(body), runs);
    return absl::OkStatus();
  });
}

std::string BodyOf(Database& db, const std::string& id) {
  std::string body = "<none>";
  EXPECT_TRUE(db.Read([&](Transaction& tx) -> absl::Status {
                  auto row =
                      tx.QueryOne("SELECT body FROM t WHERE id = ?", {id});
                  if (!row.ok()) return row.status();
                  if (row->has_value()) body = (*row)->Bytes(0);
                  return absl::OkStatus();
                }).ok());
  return body;
}

TEST(GroupCommitTest, WritesAtCommitRunOncePerBatchWithTheLatestVersion) {
  const TestDir dir("db_at_commit");
  const std::string path = dir.DbPath();
  int runs = 0;
  {
    auto db = OpenWithTable(path);
    {
      StalledCommitter stalled(*db);
      DeferredDurability scope;
      for (const char* body : {"v1", "v2", "v3"}) {
        ASSERT_TRUE(WriteState(*db, "pool", body, &runs).ok());
      }
      ASSERT_TRUE(WriteState(*db, "other", "w1", &runs).ok());
      // A transaction that fails takes its version with it.
      absl::Status failed = db->Write([&](Transaction& tx) -> absl::Status {
        SetAtCommit(tx, "pool", "undone", &runs);
        return absl::AbortedError("no");
      });
      ASSERT_EQ(failed.code(), absl::StatusCode::kAborted);
      EXPECT_EQ(runs, 0);
      stalled.Release();
      absl::Notification durable;
      scope.Then([&] { durable.Notify(); });
      durable.WaitForNotification();
      EXPECT_EQ(runs, 2);
      EXPECT_EQ(BodyOf(*db, "pool"), "v3");
      EXPECT_EQ(BodyOf(*db, "other"), "w1");
    }
    // The next batch writes again.
    ASSERT_TRUE(WriteState(*db, "pool", "v4", &runs).ok());
    EXPECT_EQ(runs, 3);
    // Left for the committer (or the close) to commit.
    DeferredDurability last;
    ASSERT_TRUE(WriteState(*db, "pool", "v5", &runs).ok());
    last.Then([] {});
  }
  EXPECT_EQ(runs, 4);
  auto db = OpenWithTable(path);
  EXPECT_EQ(BodyOf(*db, "pool"), "v5");
}

// A transaction that must read the state (a rebuild after a failure) writes
// what is pending first; if it then rolls back, the writes are pending again.
TEST(GroupCommitTest, AFlushMakesPendingWritesReadableAndARollbackKeepsThem) {
  auto db = OpenWithTable(":memory:");
  int runs = 0;
  StalledCommitter stalled(*db);
  DeferredDurability scope;
  ASSERT_TRUE(WriteState(*db, "pool", "v1", &runs).ok());
  absl::Status failed = db->Write([&](Transaction& tx) -> absl::Status {
    SetAtCommit(tx, "pool", "mine", &runs);
    if (absl::Status s = tx.FlushWritesAtCommit(); !s.ok()) return s;
    auto row = tx.QueryOne("SELECT body FROM t WHERE id = 'pool'");
    EXPECT_TRUE(row.ok() && row->has_value());
    // The transaction's own version is newer than the batch's.
    if (row.ok() && row->has_value()) {
      EXPECT_EQ((*row)->Bytes(0), "mine");
    }
    return absl::AbortedError("no");
  });
  ASSERT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(runs, 2);
  // Flushed inside a transaction that commits: not written a second time.
  std::string seen;
  ASSERT_TRUE(db->Write([&](Transaction& tx) -> absl::Status {
                  if (absl::Status s = tx.FlushWritesAtCommit(); !s.ok()) {
                    return s;
                  }
                  auto row =
                      tx.QueryOne("SELECT body FROM t WHERE id = 'pool'");
                  if (!row.ok()) return row.status();
                  seen = (*row)->Bytes(0);
                  return absl::OkStatus();
                }).ok());
  EXPECT_EQ(seen, "v1");
  EXPECT_EQ(runs, 3);
  stalled.Release();
  absl::Notification durable;
  scope.Then([&] { durable.Notify(); });
  durable.WaitForNotification();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(BodyOf(*db, "pool"), "v1");
}

// SQLite's own auto-checkpoint is replaced by a background one; without it
// the WAL would only grow and the main file would stay empty.
TEST(GroupCommitTest, TheWalIsCheckpointedInTheBackground) {
  const TestDir dir("db_checkpoint");
  const std::string path = dir.DbPath();
  auto db = OpenWithTable(path);
  const std::string body(16 * 1024, 'x');
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(db->Write([&](Transaction& tx) {
                    return tx
                        .Exec("INSERT INTO t VALUES (?, ?)",
                              {std::to_string(i), SqlBlob{body}})
                        .status();
                  }).ok());
  }
  // 600 x 16 KiB is over 2,000 pages: at least one background pass ran.
  // Waits for that thread, with a bound, not for time to pass.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (std::filesystem::file_size(path) < 4u * 1024 * 1024 &&
         absl::Now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_GE(std::filesystem::file_size(path), 4u * 1024 * 1024);
}

TEST(IdempotentWriteTest, SameRequestIdReturnsFirstResultWithoutRunningAgain) {
  auto db = OpenMemory();
  int runs = 0;
  auto create = [&](std::string display_name) {
    return IdempotentWrite<persona::v1::Persona>(
        *db, "CreatePersona", "req-1",
        [&](Transaction&) -> absl::StatusOr<persona::v1::Persona> {
          ++runs;
          persona::v1::Persona p;
          p.set_display_name(display_name);
          return p;
        });
  };
  EXPECT_EQ(create("first")->display_name(), "first");
  EXPECT_EQ(create("second")->display_name(), "first");
  EXPECT_EQ(runs, 1);
}

TEST(IdempotentWriteTest, FailureIsNotRememberedAndEmptyIdAlwaysRuns) {
  auto db = OpenMemory();
  int runs = 0;
  auto attempt = [&](std::string_view request_id, bool fail) {
    return IdempotentWrite<persona::v1::Persona>(
        *db, "CreatePersona", request_id,
        [&](Transaction&) -> absl::StatusOr<persona::v1::Persona> {
          ++runs;
          if (fail) return absl::UnavailableError("try later");
          return persona::v1::Persona();
        });
  };
  EXPECT_FALSE(attempt("r", true).ok());
  EXPECT_TRUE(attempt("r", false).ok());
  EXPECT_TRUE(attempt("r", false).ok());
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(attempt("", false).ok());
  EXPECT_TRUE(attempt("", false).ok());
  EXPECT_EQ(runs, 4);
}

}  // namespace
}  // namespace handoff
