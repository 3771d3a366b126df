#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/storage/database.h"

namespace google::protobuf {
class MessageLite;
}
namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace handoff {

struct OutboxMessage {
  int64_t id = 0;
  // Receiving service, e.g. "routing".
  std::string destination;
  // Messages to one destination with the same key are delivered one at a
  // time, in order; different keys (e.g. different leads) go at once.
  // Messages without a key share the empty one.
  std::string ordering_key;
  // e.g. "RouteLead"; selects the handler.
  std::string method;
  // Serialized request.
  std::string payload;
  // Unique per message; handlers send it as the request_id so the receiver
  // drops repeats.
  std::string idempotency_key;
  int attempts = 0;
  absl::Time create_time;
};

// Delivers one message. OK means the receiver acknowledged. UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL and UNKNOWN are
// retried with backoff; any other error parks the message as dead (kept in
// the table, counted, logged) so it cannot block the ones behind it.
using OutboxHandler = std::function<absl::Status(const OutboxMessage&)>;

struct OutboxOptions {
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // Re-scan even when nobody called Wake (messages written by a previous
  // process).
  absl::Duration poll_interval = absl::Seconds(1);
  // A whole number of waves: a short last wave costs a full round trip.
  int batch_size = 192;
  // Deliveries in flight at once, each with a different destination and key
  // (on BlockingPool threads). A wave lasts as long as its slowest call, so
  // at 1,000 leads/s 16 fell seconds behind; 96 was worse than 48.
  int max_in_flight = 48;
};

// Transactional outbox: Enqueue writes the message in the caller's
// transaction; the dispatcher thread delivers committed messages with
// retries until acknowledged, then deletes them.
class Outbox {
 public:
  // `metrics` may be null. The outbox tables come with Database::Open.
  Outbox(Database& db, const Clock& clock, OutboxOptions options,
         prometheus::Registry* metrics);
  ~Outbox();

  void RegisterHandler(std::string_view destination, std::string_view method,
                       OutboxHandler handler);

  // Records `payload` for delivery once `tx` commits; wakes the dispatcher
  // then. See OutboxMessage::ordering_key.
  absl::Status Enqueue(Transaction& tx, std::string_view destination,
                       std::string_view method,
                       const google::protobuf::MessageLite& payload,
                       std::string_view ordering_key = {});

  void Start();
  // Stops the dispatcher; undelivered messages stay stored.
  void Stop();
  // Delivers what is due now, ignoring backoff when `ignore_backoff`.
  // Returns how many were acknowledged. Used by the dispatcher and by tests.
  absl::StatusOr<int> DeliverPending(bool ignore_backoff = false);
  // Makes everything due now and wakes the dispatcher.
  void Wake();

  // Messages waiting for delivery (not dead), oldest first.
  absl::StatusOr<std::vector<OutboxMessage>> Pending();
  absl::StatusOr<int64_t> DeadCount();

 private:
  void Run();
  // Delivers `wave` (distinct keys) at once; results in the same order.
  std::vector<absl::Status> DeliverWave(const std::vector<OutboxMessage>& wave);
  // Records a wave's outcome in one transaction: acknowledged messages are
  // deleted, failed ones get their backoff or are parked as dead.
  absl::Status RecordWave(const std::vector<OutboxMessage>& wave,
                          const std::vector<absl::Status>& results);
  // Refreshes the gauges; returns when the next message is due.
  absl::Time UpdateGauges();

  Database& db_;
  const Clock& clock_;
  const OutboxOptions options_;
  std::map<std::string, OutboxHandler> handlers_;  // "destination/method"
  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  prometheus::Gauge* pending_gauge_ = nullptr;
  prometheus::Gauge* oldest_age_gauge_ = nullptr;
  prometheus::Counter* delivered_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Counter* dead_ = nullptr;
};

}  // namespace handoff
