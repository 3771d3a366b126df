#include "common/storage/database.h"

#include <google/protobuf/message_lite.h>
#include <sqlite3.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace handoff {
namespace {

absl::Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  const std::string message = absl::StrCat(
      Sv(context), ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE ||
          rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(message);
      }
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

// Tables every service has: migration bookkeeping, request_id replay, outbox.
const std::vector<std::string>& CommonMigrations() {
  static const auto* steps = new std::vector<std::string>{
      R"sql(
        CREATE TABLE idempotency (
          method TEXT NOT NULL,
          request_id TEXT NOT NULL,
          response BLOB NOT NULL,
          PRIMARY KEY (method, request_id)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          destination TEXT NOT NULL,
          method TEXT NOT NULL,
          payload BLOB NOT NULL,
          idempotency_key TEXT NOT NULL UNIQUE,
          create_micros INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_micros INTEGER NOT NULL,
          last_error TEXT NOT NULL DEFAULT '',
          dead INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_live ON outbox (dead, id);
      )sql"};
  return *steps;
}

}  // namespace

bool SqlRow::IsNull(int col) const { return !columns_.at(col).has_value(); }

int64_t SqlRow::Int(int col) const {
  const auto& value = columns_.at(col);
  if (!value.has_value()) return 0;
  if (const int64_t* i = std::get_if<int64_t>(&*value)) return *i;
  return 0;
}

const std::string& SqlRow::Bytes(int col) const {
  static const std::string* empty = new std::string();
  const auto& value = columns_.at(col);
  if (!value.has_value()) return *empty;
  if (const std::string* s = std::get_if<std::string>(&*value)) return *s;
  return *empty;
}

absl::Status ParseStoredProto(std::string_view bytes,
                              google::protobuf::MessageLite* out) {
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("stored ", out->GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> Transaction::Prepare(
    std::string_view sql, std::initializer_list<SqlParam> params) {
  sqlite3_stmt* stmt = nullptr;
  for (auto& [text, cached] : db_->statements_) {
    if (text == sql) {
      stmt = cached;
      break;
    }
  }
  if (stmt == nullptr) {
    const int rc =
        sqlite3_prepare_v3(db_->db_, sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_->db_, rc, "prepare");
    db_->statements_.emplace_back(std::string(sql), stmt);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  int index = 1;
  for (const SqlParam& param : params) {
    int rc = SQLITE_OK;
    const auto& value = param.value();
    if (std::holds_alternative<std::monostate>(value)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt, index, *i);
    } else if (const std::string_view* s =
                   std::get_if<std::string_view>(&value)) {
      rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
    } else {
      const SqlBlob& blob = std::get<SqlBlob>(value);
      rc = sqlite3_bind_blob64(stmt, index, blob.bytes.data(),
                               blob.bytes.size(), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return SqliteError(db_->db_, rc, "bind");
    ++index;
  }
  return stmt;
}

absl::StatusOr<int64_t> Transaction::Exec(
    std::string_view sql, std::initializer_list<SqlParam> params) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql, params);
  if (!stmt.ok()) return stmt.status();
  absl::Cleanup reset = [&] { sqlite3_reset(*stmt); };
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqliteError(db_->db_, rc, "exec");
  return sqlite3_changes64(db_->db_);
}

absl::StatusOr<std::vector<SqlRow>> Transaction::Query(
    std::string_view sql, std::initializer_list<SqlParam> params) {
  absl::StatusOr<sqlite3_stmt*> stmt = Prepare(sql, params);
  if (!stmt.ok()) return stmt.status();
  absl::Cleanup reset = [&] { sqlite3_reset(*stmt); };
  std::vector<SqlRow> rows;
  const int columns = sqlite3_column_count(*stmt);
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    SqlRow& row = rows.emplace_back();
    row.columns_.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(*stmt, c)) {
        case SQLITE_NULL:
          row.columns_.emplace_back(std::nullopt);
          break;
        case SQLITE_INTEGER:
          row.columns_.emplace_back(
              static_cast<int64_t>(sqlite3_column_int64(*stmt, c)));
          break;
        default: {
          const void* data = sqlite3_column_blob(*stmt, c);
          const int size = sqlite3_column_bytes(*stmt, c);
          row.columns_.emplace_back(
              std::string(static_cast<const char*>(data),
                          data ? static_cast<size_t>(size) : 0));
        }
      }
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(db_->db_, rc, "query");
  return rows;
}

absl::StatusOr<std::optional<SqlRow>> Transaction::QueryOne(
    std::string_view sql, std::initializer_list<SqlParam> params) {
  absl::StatusOr<std::vector<SqlRow>> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<SqlRow>();
  return std::optional<SqlRow>(std::move(rows->front()));
}

int64_t Transaction::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_->db_);
}

void Transaction::AfterCommit(std::function<void()> fn) {
  after_commit_.push_back(std::move(fn));
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const Options& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      options.path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status =
        SqliteError(raw, rc, absl::StrCat("open ", options.path));
    sqlite3_close_v2(raw);
    return status;
  }
  // Tells UNIQUE violations (ALREADY_EXISTS) from other constraint failures.
  sqlite3_extended_result_codes(raw, 1);
  std::unique_ptr<Database> db(new Database(raw));
  const bool in_memory = options.path == ":memory:" || options.path.empty();
  for (const char* pragma :
       {in_memory ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL",
        options.synchronous_full ? "PRAGMA synchronous=FULL"
                                 : "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000",
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"}) {
    absl::Status status = db->ExecRaw(pragma);
    if (!status.ok()) return status;
  }
  absl::Status status = db->Migrate("common", CommonMigrations());
  if (!status.ok()) return status;
  return db;
}

Database::~Database() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Database::ExecRaw(const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db_, rc, error ? error : sql);
    sqlite3_free(error);
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Database::SchemaVersion(std::string_view component) {
  int version = 0;
  absl::Status status = Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<SqlRow>> row =
        tx.QueryOne("SELECT version FROM schema_migrations WHERE component = ?",
                    {component});
    if (!row.ok()) return row.status();
    if (row->has_value()) version = static_cast<int>((*row)->Int(0));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return version;
}

absl::Status Database::Migrate(std::string_view component,
                               const std::vector<std::string>& steps) {
  absl::StatusOr<int> current = SchemaVersion(component);
  if (!current.ok()) return current.status();
  if (*current > static_cast<int>(steps.size())) {
    return absl::FailedPreconditionError(
        absl::StrCat("schema of ", Sv(component), " is at version ", *current,
                     ", newer than this binary knows (", steps.size(), ")"));
  }
  for (int version = *current + 1; version <= static_cast<int>(steps.size());
       ++version) {
    absl::MutexLock lock(&mu_);
    absl::Status status = ExecRaw("BEGIN IMMEDIATE");
    if (!status.ok()) return status;
    status = ExecRaw(steps[version - 1].c_str());
    if (status.ok()) {
      Transaction tx(this);
      absl::StatusOr<int64_t> done = tx.Exec(
          "INSERT INTO schema_migrations (component, version) VALUES (?, ?) "
          "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
          {component, version});
      status = done.status();
    }
    if (status.ok()) status = ExecRaw("COMMIT");
    if (!status.ok()) {
      ExecRaw("ROLLBACK").IgnoreError();
      return absl::Status(status.code(),
                          absl::StrCat("migration ", Sv(component), " v",
                                       version, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Database::Run(bool write,
                           absl::FunctionRef<absl::Status(Transaction&)> fn) {
  Transaction tx(this);
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = ExecRaw(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (!status.ok()) return status;
    status = fn(tx);
    if (status.ok()) {
      status = ExecRaw("COMMIT");
    }
    if (!status.ok()) {
      // A failed COMMIT may already have rolled back; ROLLBACK then just errs.
      ExecRaw("ROLLBACK").IgnoreError();
      return status;
    }
  }
  for (auto& fn : tx.after_commit_) fn();
  return absl::OkStatus();
}

absl::Status Database::Write(absl::FunctionRef<absl::Status(Transaction&)> fn) {
  return Run(true, fn);
}

absl::Status Database::Read(absl::FunctionRef<absl::Status(Transaction&)> fn) {
  return Run(false, fn);
}

}  // namespace handoff
