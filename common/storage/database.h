#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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
  // Runs after a successful commit (not on rollback), outside the lock.
  void AfterCommit(std::function<void()> fn);

 private:
  friend class Database;
  explicit Transaction(Database* db) : db_(db) {}
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql,
                                        std::initializer_list<SqlParam> params);
  Database* db_;
  std::vector<std::function<void()>> after_commit_;
};

// An embedded SQLite database: one connection, WAL journal, transactions
// serialized by a mutex. Do not call Write/Read from inside another.
class Database {
 public:
  struct Options {
    // File path, or ":memory:" for tests.
    std::string path;
    // FULL syncs the WAL on every commit, so an acknowledged write survives
    // power loss; NORMAL survives only a process crash.
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
  // BEGIN IMMEDIATE; commits when `fn` returns OK, rolls back otherwise.
  absl::Status Write(absl::FunctionRef<absl::Status(Transaction&)> fn);
  // A consistent read; `fn` must not write.
  absl::Status Read(absl::FunctionRef<absl::Status(Transaction&)> fn);

  // The schema version of `component` (0 when none applied).
  absl::StatusOr<int> SchemaVersion(std::string_view component);

 private:
  friend class Transaction;
  explicit Database(sqlite3* db) : db_(db) {}
  absl::Status Run(bool write,
                   absl::FunctionRef<absl::Status(Transaction&)> fn);
  absl::Status ExecRaw(const char* sql);

  absl::Mutex mu_;
  sqlite3* db_;
  std::vector<std::pair<std::string, sqlite3_stmt*>> statements_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace handoff
