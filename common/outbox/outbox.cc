#include "common/outbox/outbox.h"

#include <google/protobuf/message_lite.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/blocking_pool.h"
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
    "create_micros, next_attempt_micros, ordering_key FROM outbox "
    "WHERE dead = 0 ORDER BY id";
constexpr char kSelectDueBatch[] =
    "SELECT id, destination, method, payload, idempotency_key, attempts, "
    "create_micros, next_attempt_micros, ordering_key FROM outbox "
    "WHERE dead = 0 ORDER BY id LIMIT ?";

OutboxMessage MessageFromRow(const SqlRow& row) {
  OutboxMessage m;
  m.id = row.Int(0);
  m.destination = row.Bytes(1);
  m.method = row.Bytes(2);
  m.payload = row.Bytes(3);
  m.idempotency_key = row.Bytes(4);
  m.attempts = static_cast<int>(row.Int(5));
  m.create_time = absl::FromUnixMicros(row.Int(6));
  m.ordering_key = row.Bytes(8);
  return m;
}

// Messages with equal values are delivered one at a time, in order.
std::string OrderingKey(const OutboxMessage& m) {
  return absl::StrCat(m.destination, "\n", m.ordering_key);
}

// The receiver or the path to it is down, not this one message.
bool DestinationDown(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded;
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
                             const google::protobuf::MessageLite& payload,
                             std::string_view ordering_key) {
  const std::string bytes = payload.SerializeAsString();
  const absl::Time now = clock_.Now();
  const std::string key = absl::StrCat("outbox-", NewId(now));
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO outbox (destination, method, payload, idempotency_key, "
      "create_micros, next_attempt_micros, ordering_key) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {destination, method, SqlBlob{bytes}, key, absl::ToUnixMicros(now),
       absl::ToUnixMicros(now), ordering_key});
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
  // A key whose oldest message is not due yet (or failed in this pass)
  // blocks its later messages, so each key receives its messages in order.
  std::set<std::string> blocked;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<SqlRow>> rows =
        tx.Query(kSelectDueBatch, {options_.batch_size});
    if (!rows.ok()) return rows.status();
    for (const SqlRow& row : *rows) {
      OutboxMessage m = MessageFromRow(row);
      const std::string key = OrderingKey(m);
      if (blocked.contains(key)) continue;
      if (!ignore_backoff && row.Int(7) > now_micros) {
        blocked.insert(key);
        continue;
      }
      due.push_back(std::move(m));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  int delivered = 0;
  std::set<std::string> down_destinations;
  while (!due.empty()) {
    // A wave: the oldest message of each key not blocked, up to the limit.
    std::vector<OutboxMessage> wave, later;
    std::set<std::string> in_wave;
    for (OutboxMessage& m : due) {
      const std::string key = OrderingKey(m);
      if (down_destinations.contains(m.destination) || blocked.contains(key)) {
        continue;
      }
      if (in_wave.contains(key) || static_cast<int>(wave.size()) >=
                                       std::max(1, options_.max_in_flight)) {
        later.push_back(std::move(m));
        continue;
      }
      in_wave.insert(key);
      wave.push_back(std::move(m));
    }
    if (wave.empty()) break;
    const std::vector<absl::Status> results = DeliverWave(wave);
    if (absl::Status s = RecordWave(wave, results); !s.ok()) return s;
    for (size_t i = 0; i < wave.size(); ++i) {
      if (results[i].ok()) {
        ++delivered;
        continue;
      }
      blocked.insert(OrderingKey(wave[i]));
      if (DestinationDown(results[i].code())) {
        down_destinations.insert(wave[i].destination);
      }
    }
    due = std::move(later);
  }
  return delivered;
}

std::vector<absl::Status> Outbox::DeliverWave(
    const std::vector<OutboxMessage>& wave) {
  std::vector<absl::Status> results(wave.size());
  auto deliver = [&](int i) {
    const OutboxMessage& m = wave[i];
    auto handler = handlers_.find(HandlerKey(m.destination, m.method));
    results[i] =
        handler == handlers_.end()
            ? absl::FailedPreconditionError(absl::StrCat(
                  "no handler for ", HandlerKey(m.destination, m.method)))
            : handler->second(m);
  };
  // Handlers block on the receiver; the dispatcher takes part in the wave.
  BlockingPool::Shared().ForEach(static_cast<int>(wave.size()), deliver);
  return results;
}

absl::Status Outbox::RecordWave(const std::vector<OutboxMessage>& wave,
                                const std::vector<absl::Status>& results) {
  const absl::Time now = clock_.Now();
  absl::Status status = db_.Write([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < wave.size(); ++i) {
      const OutboxMessage& m = wave[i];
      if (results[i].ok()) {
        absl::StatusOr<int64_t> deleted =
            tx.Exec("DELETE FROM outbox WHERE id = ?", {m.id});
        if (!deleted.ok()) return deleted.status();
        continue;
      }
      const bool retry = IsRetryable(results[i].code());
      const int attempts = m.attempts + 1;
      absl::Duration backoff = options_.initial_backoff;
      for (int n = 1; n < attempts && backoff < options_.max_backoff; ++n) {
        backoff *= 2;
      }
      backoff = std::min(backoff, options_.max_backoff);
      absl::StatusOr<int64_t> updated = tx.Exec(
          "UPDATE outbox SET attempts = ?, last_error = ?, "
          "next_attempt_micros = ?, dead = ? WHERE id = ?",
          {attempts, results[i].ToString(), absl::ToUnixMicros(now + backoff),
           retry ? 0 : 1, m.id});
      if (!updated.ok()) return updated.status();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  for (size_t i = 0; i < wave.size(); ++i) {
    const OutboxMessage& m = wave[i];
    if (results[i].ok()) {
      if (delivered_) delivered_->Increment();
      continue;
    }
    const int attempts = m.attempts + 1;
    const std::string error(results[i].ToString());
    if (IsRetryable(results[i].code())) {
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
  return absl::OkStatus();
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
