#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;
struct sqlite3_stmt;

namespace google::protobuf {
class MessageLite;
}

namespace handoff {

// Bytes bound as a BLOB (a std::string binds as TEXT).
struct SqlBlob {
  std::string_view bytes;
};

// One bound parameter of a statement ("?" placeholders, in order).
class SqlParam {
 public:
  SqlParam(std::nullptr_t) : value_(std::monostate{}) {}
  SqlParam(int64_t v) : value_(v) {}
  SqlParam(int v) : value_(static_cast<int64_t>(v)) {}
  SqlParam(bool v) : value_(static_cast<int64_t>(v)) {}
  SqlParam(std::string_view v) : value_(v) {}
  SqlParam(const std::string& v) : value_(std::string_view(v)) {}
  SqlParam(const char* v) : value_(std::string_view(v)) {}
  SqlParam(SqlBlob v) : value_(v) {}

  const std::variant<std::monostate, int64_t, std::string_view, SqlBlob>&
  value() const {
    return value_;
  }

 private:
  std::variant<std::monostate, int64_t, std::string_view, SqlBlob> value_;
};

// A result row; columns by position as selected.
class SqlRow {
 public:
  bool IsNull(int col) const;
  int64_t Int(int col) const;
  // TEXT or BLOB bytes.
  const std::string& Bytes(int col) const;

 private:
  friend class Transaction;
  std::vector<std::optional<std::variant<int64_t, std::string>>> columns_;
};

// Parses a stored protobuf; DATA_LOSS when the bytes are corrupt.
absl::Status ParseStoredProto(std::string_view bytes,
                              google::protobuf::MessageLite* out);

class Database;

// Valid only inside Database::Write/Read. Statements are prepared once per
// SQL text and cached.
class Transaction {
 public:
  // Returns the number of rows changed (so conditional updates can tell
  // whether they applied). A UNIQUE violation is ALREADY_EXISTS.
  absl::StatusOr<int64_t> Exec(std::string_view sql,
                               std::initializer_list<SqlParam> params = {});
  absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, std::initializer_list<SqlParam> params = {});
  absl::StatusOr<std::optional<SqlRow>> QueryOne(
      std::string_view sql, std::initializer_list<SqlParam> params = {});
  int64_t LastInsertRowId() const;
  // Runs once the commit carrying this transaction is durable (not on
  // rollback), in commit order, outside the lock; must not open a
  // transaction itself.
  void AfterCommit(std::function<void()> fn);

  // A write of state where only the latest version matters (Write only):
  // `write` runs once, just before the COMMIT of the batch carrying this
  // transaction, and a later call with the same `key` in the same batch
  // replaces it, so state changed by every transaction of a batch is written
  // once per batch. Discarded when this transaction rolls back. `write` must
  // only write through the Transaction it gets, and must not capture what
  // may be gone by then (the batch can commit after its caller returned).
  using WriteAtCommitFn = std::function<absl::Status(Transaction&)>;
  void WriteAtCommit(std::string key, WriteAtCommitFn write);
  // Runs the batch's pending WriteAtCommit writes (and this transaction's)
  // now, inside this transaction, so that it reads them; when this
  // transaction rolls back they are pending again. Allowed in a Read: it
  // writes only what the open batch already owes.
  absl::Status FlushWritesAtCommit();

 private:
  friend class Database;
  explicit Transaction(Database* db) : db_(db) {}
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql,
                                        std::initializer_list<SqlParam> params);
  Database* db_;
  std::vector<std::function<void()>> after_commit_;
  std::map<std::string, WriteAtCommitFn> writes_at_commit_;
  // Pending writes of the batch this transaction ran early.
  std::map<std::string, WriteAtCommitFn> flushed_;
};

// An embedded SQLite database: one connection, WAL journal, group commit.
//
// Transactions run one at a time on the connection, each inside a SAVEPOINT
// of a shared "batch" transaction; one COMMIT (one fsync) makes a whole batch
// durable. A transaction that sees uncommitted rows of others therefore waits
// for the same commit before anything of it leaves the process. Write/Read
// return once their batch is durable, except on a thread inside a
// DeferredDurability scope (an RPC handler): there they return at once and
// the scope holds back the reply until the batch is durable. A COMMIT that
// fails aborts the process: transactions in the batch have already answered
// to their callers, and the store is the truth they restart from.
//
// Do not call Write/Read from inside another or from an AfterCommit hook.
class Database {
 public:
  struct Options {
    // File path, or ":memory:" for tests.
    std::string path;
    // true: a batch's WAL frames reach the disk (fdatasync) before any of
    // its transactions answers, so an acknowledged write survives power
    // loss; false: it survives a process crash only.
    bool synchronous_full = true;
  };

  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies the steps of `component` not applied yet, in order; step i is
  // schema version i + 1. Each step runs in its own transaction.
  absl::Status Migrate(std::string_view component,
                       const std::vector<std::string>& steps);
  // Commits when `fn` returns OK, rolls back what `fn` did otherwise.
  absl::Status Write(absl::FunctionRef<absl::Status(Transaction&)> fn);
  // A consistent read; `fn` must not write.
  absl::Status Read(absl::FunctionRef<absl::Status(Transaction&)> fn);

  // The schema version of `component` (0 when none applied).
  absl::StatusOr<int> SchemaVersion(std::string_view component);

  // Batches are numbered from 1; every batch up to durable_batch() is on
  // disk and its AfterCommit hooks have run.
  uint64_t durable_batch() const;
  // Runs `fn` once batch `batch` is durable: at once when it already is,
  // else on the thread that commits it.
  void WhenDurable(uint64_t batch, std::function<void()> fn);
  // Commits batch `batch` now if it is still open; returns once durable.
  void AwaitDurable(uint64_t batch);

 private:
  friend class Transaction;
  struct Committed {
    uint64_t batch = 0;
    std::vector<std::function<void()>> hooks;
  };

  explicit Database(sqlite3* db);
  absl::Status Run(bool write,
                   absl::FunctionRef<absl::Status(Transaction&)> fn);
  // Runs `fn` in a savepoint of the open batch (opening one if needed).
  absl::Status RunInBatch(Transaction& tx,
                          absl::FunctionRef<absl::Status(Transaction&)> fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ExecRaw(const char* sql);
  absl::Status ExecCached(std::string_view sql)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Committed CommitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes batches up to `batch` durable on disk (fdatasync of the WAL).
  void SyncWal(uint64_t batch);
  // Syncs a committed batch, runs its hooks in batch order, then its waiters.
  void Publish(Committed committed);
  void CommitLoop();
  absl::Status StartCheckpointer(const std::string& path);
  void CheckpointLoop();

  absl::Mutex mu_;
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_
      ABSL_GUARDED_BY(mu_);
  bool batch_open_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t open_batch_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::function<void()>> batch_hooks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Transaction::WriteAtCommitFn> batch_writes_
      ABSL_GUARDED_BY(mu_);
  bool commit_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  mutable absl::Mutex publish_mu_;
  uint64_t durable_batch_ ABSL_GUARDED_BY(publish_mu_) = 0;
  bool publishing_ ABSL_GUARDED_BY(publish_mu_) = false;
  absl::CondVar publish_cv_;
  std::multimap<uint64_t, std::function<void()>> waiters_
      ABSL_GUARDED_BY(publish_mu_);

  // -1 for in-memory databases and synchronous_full = false.
  int wal_fd_ = -1;
  std::atomic<uint64_t> written_batch_{0};
  absl::Mutex sync_mu_;
  uint64_t synced_batch_ ABSL_GUARDED_BY(sync_mu_) = 0;

  std::thread committer_;

  // A second connection that checkpoints the WAL off the commit path.
  sqlite3* checkpoint_db_ = nullptr;
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stop_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::thread checkpointer_;
};

// While one is alive on a thread, Write/Read on that thread do not wait for
// their group commit; they leave the batch numbers here. An RPC handler
// answers through Then, so no reply reveals what is not yet durable.
class DeferredDurability {
 public:
  DeferredDurability();
  ~DeferredDurability();
  DeferredDurability(const DeferredDurability&) = delete;
  DeferredDurability& operator=(const DeferredDurability&) = delete;

  // The scope active on this thread, or nullptr.
  static DeferredDurability* Current();
  // Blocks until what this thread's scope has seen is durable; for effects
  // that leave the process before the reply does (an outgoing call).
  static void AwaitCurrent();

  void Add(Database* db, uint64_t batch);
  // Runs `fn` once every batch added is durable (at once when none is
  // pending); the scope is empty afterwards.
  void Then(std::function<void()> fn);

 private:
  DeferredDurability* previous_;
  std::vector<std::pair<Database*, uint64_t>> pending_;
};

}  // namespace handoff
