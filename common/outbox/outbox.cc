#include "common/outbox/outbox.h"

#include <google/protobuf/message_lite.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/strings.h"

namespace handoff {
namespace {

bool IsRetryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

// Live messages, oldest first, in the column order MessageFromRow reads.
constexpr char kSelectMessage[] =
    "SELECT id, destination, method, payload, idempotency_key, attempts, "
    "create_micros, next_attempt_micros FROM outbox WHERE dead = 0 ORDER BY id";
constexpr char kSelectDueBatch[] =
    "SELECT id, destination, method, payload, idempotency_key, attempts, "
    "create_micros, next_attempt_micros FROM outbox WHERE dead = 0 ORDER BY id "
    "LIMIT ?";

OutboxMessage MessageFromRow(const SqlRow& row) {
  OutboxMessage m;
  m.id = row.Int(0);
  m.destination = row.Bytes(1);
  m.method = row.Bytes(2);
  m.payload = row.Bytes(3);
  m.idempotency_key = row.Bytes(4);
  m.attempts = static_cast<int>(row.Int(5));
  m.create_time = absl::FromUnixMicros(row.Int(6));
  return m;
}

std::string HandlerKey(std::string_view destination, std::string_view method) {
  return absl::StrCat(Sv(destination), "/", Sv(method));
}

}  // namespace

Outbox::Outbox(Database& db, const Clock& clock, OutboxOptions options,
               prometheus::Registry* metrics)
    : db_(db), clock_(clock), options_(options) {
  if (metrics == nullptr) return;
  pending_gauge_ = &prometheus::BuildGauge()
                        .Name("handoff_outbox_pending_messages")
                        .Help(
                            "Messages recorded for another service and not "
                            "yet acknowledged by it.")
                        .Register(*metrics)
                        .Add({});
  oldest_age_gauge_ = &prometheus::BuildGauge()
                           .Name("handoff_outbox_oldest_message_age_seconds")
                           .Help("Age of the oldest undelivered message.")
                           .Register(*metrics)
                           .Add({});
  delivered_ = &prometheus::BuildCounter()
                    .Name("handoff_outbox_delivered_total")
                    .Help("Messages acknowledged by their receiver.")
                    .Register(*metrics)
                    .Add({});
  retries_ = &prometheus::BuildCounter()
                  .Name("handoff_outbox_retries_total")
                  .Help("Delivery attempts that failed and will be retried.")
                  .Register(*metrics)
                  .Add({});
  dead_ = &prometheus::BuildCounter()
               .Name("handoff_outbox_dead_letters_total")
               .Help(
                   "Messages the receiver refused for good; kept in the "
                   "outbox table for inspection.")
               .Register(*metrics)
               .Add({});
}

Outbox::~Outbox() { Stop(); }

void Outbox::RegisterHandler(std::string_view destination,
                             std::string_view method, OutboxHandler handler) {
  handlers_[HandlerKey(destination, method)] = std::move(handler);
}

absl::Status Outbox::Enqueue(Transaction& tx, std::string_view destination,
                             std::string_view method,
                             const google::protobuf::MessageLite& payload) {
  const std::string bytes = payload.SerializeAsString();
  const absl::Time now = clock_.Now();
  const std::string key = absl::StrCat("outbox-", NewId(now));
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO outbox (destination, method, payload, idempotency_key, "
      "create_micros, next_attempt_micros) VALUES (?, ?, ?, ?, ?, ?)",
      {destination, method, SqlBlob{bytes}, key, absl::ToUnixMicros(now),
       absl::ToUnixMicros(now)});
  if (!inserted.ok()) return inserted.status();
  tx.AfterCommit([this] {
    absl::MutexLock lock(&mu_);
    wake_ = true;
  });
  return absl::OkStatus();
}

void Outbox::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Outbox::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Outbox::Wake() {
  db_.Write([&](Transaction& tx) {
       return tx
           .Exec("UPDATE outbox SET next_attempt_micros = 0 WHERE dead = 0")
           .status();
     })
      .IgnoreError();
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void Outbox::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      wake_ = false;
    }
    absl::StatusOr<int> delivered = DeliverPending();
    if (!delivered.ok()) {
      Log(LogLevel::kWarning, "outbox_pass_failed",
          {{"error", std::string(delivered.status().message())}});
    }
    const absl::Time next_due = UpdateGauges();
    absl::MutexLock lock(&mu_);
    // Sleep until woken, stopped, the next retry is due, or the next poll
    // (which finds messages written by an earlier process).
    const absl::Time until =
        std::min(clock_.Now() + options_.poll_interval, next_due);
    auto woken = [this]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
    while (!woken() && clock_.Now() < until) {
      clock_.AwaitUntil(mu_, absl::Condition(&woken), until);
    }
  }
}

absl::StatusOr<int> Outbox::DeliverPending(bool ignore_backoff) {
  std::vector<OutboxMessage> due;
  const int64_t now_micros = absl::ToUnixMicros(clock_.Now());
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<SqlRow>> rows =
        tx.Query(kSelectDueBatch, {options_.batch_size});
    if (!rows.ok()) return rows.status();
    // A destination whose oldest message is not due yet blocks its later
    // messages too, so each destination receives its messages in order.
    std::set<std::string> blocked;
    for (const SqlRow& row : *rows) {
      const std::string& destination = row.Bytes(1);
      if (blocked.contains(destination)) continue;
      if (!ignore_backoff && row.Int(7) > now_micros) {
        blocked.insert(destination);
        continue;
      }
      due.push_back(MessageFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  int delivered = 0;
  std::set<std::string> failed_destinations;
  for (const OutboxMessage& m : due) {
    if (failed_destinations.contains(m.destination)) continue;
    auto handler = handlers_.find(HandlerKey(m.destination, m.method));
    absl::Status result =
        handler == handlers_.end()
            ? absl::FailedPreconditionError(absl::StrCat(
                  "no handler for ", HandlerKey(m.destination, m.method)))
            : handler->second(m);
    if (result.ok()) {
      status = db_.Write([&](Transaction& tx) {
        return tx.Exec("DELETE FROM outbox WHERE id = ?", {m.id}).status();
      });
      if (!status.ok()) return status;
      ++delivered;
      if (delivered_) delivered_->Increment();
      continue;
    }
    const bool retry = IsRetryable(result.code());
    const int attempts = m.attempts + 1;
    absl::Duration backoff = options_.initial_backoff;
    for (int i = 1; i < attempts && backoff < options_.max_backoff; ++i) {
      backoff *= 2;
    }
    backoff = std::min(backoff, options_.max_backoff);
    const std::string error(result.ToString());
    status = db_.Write([&](Transaction& tx) {
      return tx
          .Exec(
              "UPDATE outbox SET attempts = ?, last_error = ?, "
              "next_attempt_micros = ?, dead = ? WHERE id = ?",
              {attempts, error, absl::ToUnixMicros(clock_.Now() + backoff),
               retry ? 0 : 1, m.id})
          .status();
    });
    if (!status.ok()) return status;
    if (retry) {
      failed_destinations.insert(m.destination);
      if (retries_) retries_->Increment();
      if (attempts == 1 || attempts % 10 == 0) {
        Log(LogLevel::kWarning, "outbox_delivery_retry",
            {{"destination", m.destination},
             {"method", m.method},
             {"attempts", absl::StrCat(attempts)},
             {"error", error}});
      }
    } else {
      if (dead_) dead_->Increment();
      Log(LogLevel::kError, "outbox_dead_letter",
          {{"destination", m.destination},
           {"method", m.method},
           {"id", absl::StrCat(m.id)},
           {"error", error}});
    }
  }
  return delivered;
}

absl::Time Outbox::UpdateGauges() {
  absl::Time next_due = absl::InfiniteFuture();
  db_.Read([&](Transaction& tx) -> absl::Status {
       absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
           "SELECT COUNT(*), MIN(create_micros), MIN(next_attempt_micros) "
           "FROM outbox WHERE dead = 0");
       if (!row.ok()) return row.status();
       const int64_t count = (*row)->Int(0);
       if (count > 0) next_due = absl::FromUnixMicros((*row)->Int(2));
       if (pending_gauge_ == nullptr) return absl::OkStatus();
       pending_gauge_->Set(static_cast<double>(count));
       oldest_age_gauge_->Set(
           count == 0
               ? 0.0
               : absl::ToDoubleSeconds(clock_.Now() -
                                       absl::FromUnixMicros((*row)->Int(1))));
       return absl::OkStatus();
     })
      .IgnoreError();
  return next_due;
}

absl::StatusOr<std::vector<OutboxMessage>> Outbox::Pending() {
  std::vector<OutboxMessage> messages;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<SqlRow>> rows = tx.Query(kSelectMessage);
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) messages.push_back(MessageFromRow(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return messages;
}

absl::StatusOr<int64_t> Outbox::DeadCount() {
  int64_t count = 0;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<SqlRow>> row =
        tx.QueryOne("SELECT COUNT(*) FROM outbox WHERE dead = 1");
    if (!row.ok()) return row.status();
    count = (*row)->Int(0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return count;
}

}  // namespace handoff
