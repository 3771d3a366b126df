#include "common/storage/database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/storage/idempotency.h"
#include "handoff/persona/v1/persona.pb.h"

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

TEST(DatabaseTest, CommittedDataSurvivesReopen) {
  const std::string dir =
      testing::TempDir() + "/db_reopen_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/x.db";
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
  std::filesystem::remove_all(dir);
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
