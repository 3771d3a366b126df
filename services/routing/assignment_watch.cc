#include "services/routing/assignment_watch.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/server/grpc_status.h"
#include "services/routing/engine/validation.h"

namespace handoff::routing {

WatchHub::WatchHub(const Clock& clock, WatchHubOptions options)
    : clock_(clock), options_(options) {}

WatchHub::~WatchHub() {
  Stop();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* streams) { return *streams == 0; }, &streams_));
}

void WatchHub::Notify() {
  // Waiters' conditions are evaluated as the lock is released.
  absl::MutexLock lock(&mu_);
  ++generation_;
}

void WatchHub::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

int WatchHub::active_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_;
}

absl::StatusOr<std::unique_ptr<WatchHub::Subscription>> WatchHub::Subscribe() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::UnavailableError("routing service shutting down");
  if (streams_ >= options_.max_streams) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", options_.max_streams,
                     " WatchAssignments streams at once; retry later"));
  }
  ++streams_;
  return std::unique_ptr<Subscription>(new Subscription(*this, generation_));
}

WatchHub::Subscription::~Subscription() {
  absl::MutexLock lock(&hub_.mu_);
  --hub_.streams_;
}

bool WatchHub::Subscription::Ready() const {
  return hub_.stopped_ || cancelled_ || hub_.generation_ != seen_;
}

WatchHub::Wake WatchHub::Subscription::Wait() {
  absl::MutexLock lock(&hub_.mu_);
  const absl::Time deadline =
      hub_.clock_.Now() + hub_.options_.recheck_interval;
  const absl::Condition ready(this, &Subscription::Ready);
  while (!Ready() && hub_.clock_.Now() < deadline) {
    hub_.clock_.AwaitUntil(hub_.mu_, ready, deadline);
  }
  seen_ = hub_.generation_;
  if (hub_.stopped_) return Wake::kStopped;
  if (cancelled_) return Wake::kCancelled;
  return Wake::kCheck;
}

WatchHub::Wake WatchHub::Subscription::Poll() {
  absl::MutexLock lock(&hub_.mu_);
  seen_ = hub_.generation_;
  if (hub_.stopped_) return Wake::kStopped;
  if (cancelled_) return Wake::kCancelled;
  return Wake::kCheck;
}

void WatchHub::Subscription::Cancel() {
  absl::MutexLock lock(&hub_.mu_);
  cancelled_ = true;
}

namespace {

// Events read per log query; a stream catching up reads page after page
// without waiting.
constexpr int kPageSize = 100;

// A watch refused before it started.
class FinishedWatch final
    : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  explicit FinishedWatch(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// One WatchAssignments stream. The worker thread owns the stream's progress
// (reads, one write at a time, Finish); gRPC callbacks only record what
// happened and never block. The reactor is deleted by whichever of the
// worker (after Finish) and OnDone comes last, so neither touches freed
// memory whichever thread gRPC runs OnDone on.
class WatchReactor final
    : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  WatchReactor(RoutingStore& store,
               std::unique_ptr<WatchHub::Subscription> subscription,
               EventFilter filter, std::optional<int64_t> after_seq)
      : store_(store),
        subscription_(std::move(subscription)),
        filter_(std::move(filter)),
        after_seq_(after_seq) {
    std::thread([this] { Run(); }).detach();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_ok_ = ok;
    write_done_ = true;
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (subscription_ != nullptr) subscription_->Cancel();
  }

  void OnDone() override { Unref(); }

 private:
  void Run() {
    grpc::Status status = Stream();
    // Released before Finish: once the call is done, the hub may go away.
    std::unique_ptr<WatchHub::Subscription> released;
    {
      absl::MutexLock lock(&mu_);
      released = std::move(subscription_);
    }
    released.reset();
    Finish(std::move(status));
    Unref();
  }

  grpc::Status Stream() {
    int64_t last = 0;
    absl::Status read = store_.db().Read([&](Transaction& tx) {
      absl::StatusOr<int64_t> seq = store_.LastEventSeq(tx);
      if (!seq.ok()) return seq.status();
      last = *seq;
      return absl::OkStatus();
    });
    if (!read.ok()) return ToGrpcStatus(read);
    // A cursor from the future would silently skip the events up to it.
    if (after_seq_.has_value() && *after_seq_ > last) {
      return ToGrpcStatus(
          InvalidField("after_cursor", "is after the last event"));
    }
    int64_t after = after_seq_.value_or(last);
    StartSendInitialMetadata();

    while (true) {
      std::vector<v1::AssignmentEvent> page;
      read = store_.db().Read([&](Transaction& tx) {
        absl::StatusOr<std::vector<v1::AssignmentEvent>> events =
            store_.EventsAfter(tx, after, filter_, kPageSize);
        if (!events.ok()) return events.status();
        page = *std::move(events);
        return absl::OkStatus();
      });
      if (!read.ok()) return ToGrpcStatus(read);
      for (v1::AssignmentEvent& event : page) {
        absl::StatusOr<int64_t> seq = ParseEventCursor(event.cursor());
        if (!seq.ok())
          return ToGrpcStatus(absl::InternalError(seq.status().message()));
        if (!Send(std::move(event))) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "stream closed");
        }
        after = *seq;
      }
      // A full page may have more behind it: read on without waiting, but
      // still end promptly on Stop or cancellation.
      WatchHub::Wake wake = page.size() == static_cast<size_t>(kPageSize)
                                ? subscription_->Poll()
                                : subscription_->Wait();
      switch (wake) {
        case WatchHub::Wake::kCheck:
          break;
        case WatchHub::Wake::kCancelled:
          return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
        case WatchHub::Wake::kStopped:
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "routing service shutting down; resume with "
                              "after_cursor of the last event received");
      }
    }
  }

  // Writes one event and waits for its OnWriteDone, which gRPC delivers
  // (with ok false) even when the call is cancelled. False: the stream is
  // gone.
  bool Send(v1::AssignmentEvent event) {
    {
      absl::MutexLock lock(&mu_);
      write_done_ = false;
    }
    current_ = std::move(event);
    StartWrite(&current_);
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&write_done_));
    return write_ok_;
  }

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  RoutingStore& store_;
  absl::Mutex mu_;
  // Reset by the worker only (under mu_); OnCancel reads it under mu_.
  std::unique_ptr<WatchHub::Subscription> subscription_;
  const EventFilter filter_;
  const std::optional<int64_t> after_seq_;
  // The message in flight; gRPC reads it until OnWriteDone.
  v1::AssignmentEvent current_;
  bool write_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = false;
  // The worker and OnDone.
  std::atomic<int> refs_{2};
};

absl::Status ValidateWatch(const v1::WatchAssignmentsRequest& request,
                           EventFilter& filter,
                           std::optional<int64_t>& after_seq) {
  if (!request.rep().empty() && !request.team().empty()) {
    return InvalidField("team", "set at most one of rep and team");
  }
  if (!request.rep().empty()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("rep", request.rep(), "reps");
    if (!id.ok()) return id.status();
    filter.rep = request.rep();
  }
  if (!request.team().empty()) {
    if (absl::Status s = engine::CheckShortName(request.team(), "team");
        !s.ok()) {
      return s;
    }
    filter.team = request.team();
  }
  if (!request.after_cursor().empty()) {
    absl::StatusOr<int64_t> seq = ParseEventCursor(request.after_cursor());
    if (!seq.ok()) return seq.status();
    after_seq = *seq;
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerWriteReactor<v1::AssignmentEvent>* StartAssignmentWatch(
    grpc::CallbackServerContext* /*ctx*/,
    const v1::WatchAssignmentsRequest* request, RoutingStore& store,
    WatchHub& hub) {
  EventFilter filter;
  std::optional<int64_t> after_seq;
  if (absl::Status s = ValidateWatch(*request, filter, after_seq); !s.ok()) {
    return new FinishedWatch(ToGrpcStatus(s));
  }
  absl::StatusOr<std::unique_ptr<WatchHub::Subscription>> subscription =
      hub.Subscribe();
  if (!subscription.ok()) {
    return new FinishedWatch(ToGrpcStatus(subscription.status()));
  }
  return new WatchReactor(store, *std::move(subscription), std::move(filter),
                          after_seq);
}

}  // namespace handoff::routing
