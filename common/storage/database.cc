#include "common/storage/database.h"

#include <fcntl.h>
#include <google/protobuf/message_lite.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"

namespace handoff {
namespace {
// WAL size (4 KiB pages) that starts a background checkpoint, and the size at
// which the committing transaction checkpoints itself.
constexpr int kWalPagesCheckpoint = 1000;
constexpr int kWalPagesForceInline = 16000;
// Least time between background passes. Back to back passes copied the
// pages that every batch rewrites (index leaves, the tables' last pages)
// once per pass and synced twice per pass: about 15 % of routing's CPU
// under RouteLead.
constexpr absl::Duration kCheckpointSpacing = absl::Milliseconds(100);

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
      )sql",
      // Lets deliveries for different leads run at once (see Outbox).
      "ALTER TABLE outbox ADD COLUMN ordering_key TEXT NOT NULL DEFAULT ''"};
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
  if (auto it =
          db_->statements_.find(absl::string_view(sql.data(), sql.size()));
      it != db_->statements_.end()) {
    stmt = it->second;
  } else {
    const int rc =
        sqlite3_prepare_v3(db_->db_, sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_->db_, rc, "prepare");
    db_->statements_.emplace(std::string(sql), stmt);
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
      // A default string_view has no data; SQLite would bind it as NULL.
      rc = sqlite3_bind_text64(stmt, index, s->data() ? s->data() : "",
                               s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
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

void Transaction::WriteAtCommit(std::string key, WriteAtCommitFn write) {
  writes_at_commit_.insert_or_assign(std::move(key), std::move(write));
}

absl::Status Transaction::FlushWritesAtCommit() {
  std::map<std::string, WriteAtCommitFn> pending;
  pending.swap(db_->batch_writes_);
  for (auto it = pending.begin(); it != pending.end();) {
    if (absl::Status s = it->second(*this); !s.ok()) {
      // What did not run stays pending.
      db_->batch_writes_.merge(pending);
      return s;
    }
    // Kept to be pending again should this transaction roll back.
    flushed_.insert_or_assign(it->first, std::move(it->second));
    it = pending.erase(it);
  }
  // This transaction's own go after the batch's: they are newer.
  for (auto& [key, write] : writes_at_commit_) {
    if (absl::Status s = write(*this); !s.ok()) return s;
  }
  writes_at_commit_.clear();
  return absl::OkStatus();
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
  // SQLite itself never syncs the WAL on commit (NORMAL); with
  // synchronous_full the batch's publisher does, outside the connection's
  // lock, so the next batch runs while this one reaches the disk. Checkpoints
  // still sync the WAL before copying it (NORMAL does that).
  for (const char* pragma :
       {in_memory ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY",
        // SQLite's default page cache (2 MB): with 64 MB every COMMIT spent
        // about 12 % of campaign's CPU in sqlite3BtreeCommitPhaseTwo.
        "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000",
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"}) {
    absl::Status status = db->ExecRaw(pragma);
    if (!status.ok()) return status;
  }
  absl::Status status = db->Migrate("common", CommonMigrations());
  if (!status.ok()) return status;
  if (!in_memory) {
    absl::Status started = db->StartCheckpointer(options.path);
    if (!started.ok()) return started;
  }
  if (!in_memory && options.synchronous_full) {
    // The migration above created the WAL; SQLite keeps that file (same
    // inode) while the connection is open, so this descriptor stays valid.
    const std::string wal = options.path + "-wal";
    db->wal_fd_ = open(wal.c_str(), O_RDWR | O_CLOEXEC);
    if (db->wal_fd_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("open ", wal, ": ", std::strerror(errno)));
    }
    const std::string dir =
        std::filesystem::path(options.path).parent_path().string();
    const int dir_fd =
        open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      // Makes the new WAL's directory entry durable too.
      fsync(dir_fd);
      close(dir_fd);
    }
  }
  return db;
}

Database::Database(sqlite3* db) : db_(db) {
  committer_ = std::thread([this] { CommitLoop(); });
}

Database::~Database() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  committer_.join();
  if (checkpointer_.joinable()) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpointer_.join();
    sqlite3_close_v2(checkpoint_db_);
  }
  if (wal_fd_ >= 0) close(wal_fd_);
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

absl::Status Database::StartCheckpointer(const std::string& path) {
  const int rc =
      sqlite3_open_v2(path.c_str(), &checkpoint_db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(
        checkpoint_db_, rc, absl::StrCat("open ", path, " for checkpoints"));
    sqlite3_close_v2(checkpoint_db_);
    checkpoint_db_ = nullptr;
    return status;
  }
  // Until it has read the file, a connection does not know the database is
  // in WAL mode and its checkpoints do nothing.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=5000"}) {
    if (sqlite3_exec(checkpoint_db_, pragma, nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      absl::Status status =
          SqliteError(checkpoint_db_, sqlite3_errcode(checkpoint_db_), pragma);
      sqlite3_close_v2(checkpoint_db_);
      checkpoint_db_ = nullptr;
      return status;
    }
  }
  // Replaces SQLite's own auto-checkpoint, which would run inside COMMIT
  // while every transaction waits for the connection.
  sqlite3_wal_hook(
      db_,
      +[](void* self, sqlite3* db, const char* schema, int pages) -> int {
        auto* database = static_cast<Database*>(self);
        if (pages >= kWalPagesForceInline) {
          // The background pass is not keeping up: catch up here.
          sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE,
                                    nullptr, nullptr);
        } else if (pages >= kWalPagesCheckpoint) {
          absl::MutexLock lock(&database->checkpoint_mu_);
          database->checkpoint_wanted_ = true;
        }
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  return absl::OkStatus();
}

void Database::CheckpointLoop() {
  while (true) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_mu_.Await(absl::Condition(
          +[](Database* db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db->checkpoint_mu_) {
            return db->checkpoint_wanted_ || db->checkpoint_stop_;
          },
          this));
      if (checkpoint_stop_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE on its own connection: copies what no reader needs without
    // taking the write lock, so commits go on meanwhile.
    sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr,
                              SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // The WAL grows meanwhile; the next pass copies each page once.
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Database* db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                 db->checkpoint_mu_) { return db->checkpoint_stop_; },
            this),
        kCheckpointSpacing);
  }
}

absl::Status Database::ExecCached(std::string_view sql) {
  Transaction tx(this);
  return tx.Exec(sql).status();
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
    // DDL runs as a plain Write: a failed step rolls back to its savepoint.
    absl::Status status = Write([&](Transaction& tx) -> absl::Status {
      absl::Status step = ExecRaw(steps[version - 1].c_str());
      if (!step.ok()) return step;
      return tx
          .Exec(
              "INSERT INTO schema_migrations (component, version) VALUES (?, "
              "?) ON CONFLICT (component) DO UPDATE SET version = "
              "excluded.version",
              {component, version})
          .status();
    });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("migration ", Sv(component), " v",
                                       version, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

namespace {

// Everything in a batch has already answered its caller; a batch that cannot
// commit leaves the process nothing consistent to serve from.
[[noreturn]] void DieOnLostBatch(const absl::Status& status) {
  Log(LogLevel::kError, "database_commit_failed",
      {{"error", std::string(status.message())}});
  std::fprintf(stderr, "fatal: database commit failed: %s\n",
               std::string(status.message()).c_str());
  std::abort();
}

thread_local bool in_after_commit_hook = false;

}  // namespace

Database::Committed Database::CommitLocked() {
  Committed committed;
  if (!batch_open_) return committed;
  if (!batch_writes_.empty()) {
    Transaction tx(this);
    for (auto& [key, write] : batch_writes_) {
      if (absl::Status s = write(tx); !s.ok()) {
        DieOnLostBatch(absl::Status(
            s.code(),
            absl::StrCat("write at commit ", key, ": ", s.message())));
      }
    }
    batch_writes_.clear();
  }
  absl::Status status = ExecCached("COMMIT");
  if (!status.ok()) DieOnLostBatch(status);
  batch_open_ = false;
  commit_wanted_ = false;
  written_batch_.store(open_batch_);
  committed.batch = open_batch_;
  committed.hooks.swap(batch_hooks_);
  return committed;
}

void Database::SyncWal(uint64_t batch) {
  if (wal_fd_ < 0) return;
  // One fdatasync at a time: whoever waited here is usually covered by the
  // one that just finished.
  absl::MutexLock lock(&sync_mu_);
  if (synced_batch_ >= batch) return;
  const uint64_t written = written_batch_.load();
  if (fdatasync(wal_fd_) != 0) {
    DieOnLostBatch(absl::UnavailableError(
        absl::StrCat("fdatasync of the WAL: ", std::strerror(errno))));
  }
  synced_batch_ = written;
}

void Database::Publish(Committed committed) {
  if (committed.batch == 0) return;
  const uint64_t batch = committed.batch;
  SyncWal(batch);
  {
    absl::MutexLock lock(&publish_mu_);
    while (publishing_ || durable_batch_ + 1 != batch) {
      publish_cv_.Wait(&publish_mu_);
    }
    publishing_ = true;
  }
  in_after_commit_hook = true;
  for (auto& hook : committed.hooks) hook();
  in_after_commit_hook = false;
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&publish_mu_);
    durable_batch_ = batch;
    publishing_ = false;
    auto end = waiters_.upper_bound(batch);
    for (auto it = waiters_.begin(); it != end; ++it) {
      ready.push_back(std::move(it->second));
    }
    waiters_.erase(waiters_.begin(), end);
  }
  publish_cv_.SignalAll();
  for (auto& fn : ready) fn();
}

uint64_t Database::durable_batch() const {
  absl::MutexLock lock(&publish_mu_);
  return durable_batch_;
}

void Database::WhenDurable(uint64_t batch, std::function<void()> fn) {
  {
    absl::MutexLock lock(&publish_mu_);
    if (durable_batch_ < batch) {
      waiters_.emplace(batch, std::move(fn));
      return;
    }
  }
  fn();
}

void Database::AwaitDurable(uint64_t batch) {
  Committed committed;
  {
    absl::MutexLock lock(&mu_);
    if (batch > open_batch_) return;  // never opened: nothing to wait for
    if (batch_open_ && open_batch_ == batch) committed = CommitLocked();
  }
  Publish(std::move(committed));
  absl::MutexLock lock(&publish_mu_);
  while (durable_batch_ < batch) publish_cv_.Wait(&publish_mu_);
}

void Database::CommitLoop() {
  while (true) {
    Committed committed;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Database* db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db->mu_) {
            return db->commit_wanted_ || db->stopping_;
          },
          this));
      committed = CommitLocked();
      if (committed.batch == 0 && stopping_) return;
    }
    Publish(std::move(committed));
  }
}

absl::Status Database::RunInBatch(
    Transaction& tx, absl::FunctionRef<absl::Status(Transaction&)> fn) {
  if (!batch_open_) {
    absl::Status begun = ExecCached("BEGIN IMMEDIATE");
    if (!begun.ok()) return begun;
    batch_open_ = true;
    ++open_batch_;
  }
  absl::Status status = ExecCached("SAVEPOINT handoff_tx");
  if (!status.ok()) DieOnLostBatch(status);
  status = fn(tx);
  if (status.ok()) {
    absl::Status released = ExecCached("RELEASE handoff_tx");
    if (!released.ok()) DieOnLostBatch(released);
    for (auto& hook : tx.after_commit_) batch_hooks_.push_back(std::move(hook));
    for (auto& [key, write] : tx.writes_at_commit_) {
      batch_writes_.insert_or_assign(key, std::move(write));
    }
    return status;
  }
  for (auto& [key, write] : tx.flushed_) {
    batch_writes_.try_emplace(key, std::move(write));
  }
  // Some errors (I/O, full disk) roll back the whole batch by themselves.
  if (sqlite3_get_autocommit(db_)) DieOnLostBatch(status);
  absl::Status undone = ExecCached("ROLLBACK TO handoff_tx");
  if (undone.ok()) undone = ExecCached("RELEASE handoff_tx");
  if (!undone.ok()) DieOnLostBatch(undone);
  return status;
}

absl::Status Database::Run(bool write,
                           absl::FunctionRef<absl::Status(Transaction&)> fn) {
  if (in_after_commit_hook) {
    return absl::InternalError("a transaction opened from an AfterCommit hook");
  }
  DeferredDurability* deferred = DeferredDurability::Current();
  Transaction tx(this);
  absl::Status status;
  uint64_t batch = 0;
  Committed committed;
  {
    absl::MutexLock lock(&mu_);
    if (!batch_open_ && !write) {
      // Nothing uncommitted to see: a plain read transaction. The last batch
      // may still be on its way to the disk, so the read waits for it.
      status = ExecCached("BEGIN DEFERRED");
      if (!status.ok()) return status;
      status = fn(tx);
      absl::Status end = ExecCached(status.ok() ? "COMMIT" : "ROLLBACK");
      if (status.ok()) status = end;
      batch = open_batch_;
    } else {
      status = RunInBatch(tx, fn);
      batch = open_batch_;
      if (deferred == nullptr) {
        committed = CommitLocked();
      } else {
        commit_wanted_ = true;
      }
    }
  }
  if (deferred != nullptr) {
    // Even a failure may have been decided on rows not yet durable.
    deferred->Add(this, batch);
    return status;
  }
  Publish(std::move(committed));
  AwaitDurable(batch);
  return status;
}

absl::Status Database::Write(absl::FunctionRef<absl::Status(Transaction&)> fn) {
  return Run(true, fn);
}

absl::Status Database::Read(absl::FunctionRef<absl::Status(Transaction&)> fn) {
  return Run(false, fn);
}

namespace {
thread_local DeferredDurability* current_scope = nullptr;
}  // namespace

DeferredDurability::DeferredDurability() : previous_(current_scope) {
  current_scope = this;
}

DeferredDurability::~DeferredDurability() {
  current_scope = previous_;
  // A scope left without Then (an exception-free early return) still must
  // not leave work uncommitted forever.
  for (auto& [db, batch] : pending_) db->AwaitDurable(batch);
}

DeferredDurability* DeferredDurability::Current() { return current_scope; }

void DeferredDurability::AwaitCurrent() {
  DeferredDurability* scope = current_scope;
  if (scope == nullptr) return;
  for (auto& [db, batch] : scope->pending_) db->AwaitDurable(batch);
  scope->pending_.clear();
}

void DeferredDurability::Add(Database* db, uint64_t batch) {
  for (auto& [known, highest] : pending_) {
    if (known == db) {
      highest = std::max(highest, batch);
      return;
    }
  }
  pending_.emplace_back(db, batch);
}

void DeferredDurability::Then(std::function<void()> fn) {
  std::vector<std::pair<Database*, uint64_t>> pending;
  pending.swap(pending_);
  // Chains the databases one after another; usually there is one.
  std::function<void()> chain = std::move(fn);
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
    chain = [db = it->first, batch = it->second,
             next = std::move(chain)]() mutable {
      db->WhenDurable(batch, std::move(next));
    };
  }
  chain();
}

}  // namespace handoff
