#include "services/routing/assignment_watch.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/storage/database.h"
#include "handoff/routing/v1/routing.grpc.pb.h"
#include "services/routing/routing_store.h"

namespace handoff::routing {
namespace {

using testing::ElementsAre;
using testing::ElementsAreArray;
using testing::HasSubstr;

TEST(WatchHubTest, NotifyBeforeWaitIsNotLost) {
  FakeClock clock;
  WatchHub hub(clock);
  absl::StatusOr<std::unique_ptr<WatchHub::Subscription>> sub = hub.Subscribe();
  ASSERT_TRUE(sub.ok()) << sub.status();
  hub.Notify();
  EXPECT_EQ((*sub)->Wait(), WatchHub::Wake::kCheck);
}

TEST(WatchHubTest, WaitWakesOnNotify) {
  FakeClock clock;
  WatchHub hub(clock);
  std::unique_ptr<WatchHub::Subscription> sub = *hub.Subscribe();
  WatchHub::Wake wake = WatchHub::Wake::kStopped;
  std::thread waiter([&] { wake = sub->Wait(); });
  hub.Notify();
  waiter.join();
  EXPECT_EQ(wake, WatchHub::Wake::kCheck);
}

TEST(WatchHubTest, WaitRechecksAfterIntervalWithoutNotify) {
  FakeClock clock;
  WatchHub hub(clock, {.recheck_interval = absl::Seconds(1)});
  std::unique_ptr<WatchHub::Subscription> sub = *hub.Subscribe();
  WatchHub::Wake wake = WatchHub::Wake::kStopped;
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    wake = sub->Wait();
    woke = true;
  });
  // The waiter's interval starts when it begins waiting: drive fake time
  // until it notices.
  while (!woke) {
    clock.Advance(absl::Seconds(1));
    std::this_thread::yield();
  }
  waiter.join();
  EXPECT_EQ(wake, WatchHub::Wake::kCheck);
}

TEST(WatchHubTest, CancelAndStopEndWaits) {
  FakeClock clock;
  WatchHub hub(clock);
  std::unique_ptr<WatchHub::Subscription> first = *hub.Subscribe();
  std::unique_ptr<WatchHub::Subscription> second = *hub.Subscribe();
  EXPECT_EQ(first->Poll(), WatchHub::Wake::kCheck);
  WatchHub::Wake wake = WatchHub::Wake::kCheck;
  std::thread waiter([&] { wake = first->Wait(); });
  first->Cancel();
  waiter.join();
  EXPECT_EQ(wake, WatchHub::Wake::kCancelled);
  EXPECT_EQ(second->Poll(), WatchHub::Wake::kCheck);

  hub.Stop();
  EXPECT_EQ(second->Wait(), WatchHub::Wake::kStopped);
  EXPECT_EQ(hub.Subscribe().status().code(), absl::StatusCode::kUnavailable);
}

TEST(WatchHubTest, CapsSubscriptions) {
  FakeClock clock;
  WatchHub hub(clock, {.max_streams = 2});
  std::unique_ptr<WatchHub::Subscription> a = *hub.Subscribe();
  std::unique_ptr<WatchHub::Subscription> b = *hub.Subscribe();
  EXPECT_EQ(hub.active_streams(), 2);
  EXPECT_EQ(hub.Subscribe().status().code(),
            absl::StatusCode::kResourceExhausted);
  a.reset();
  EXPECT_EQ(hub.active_streams(), 1);
  EXPECT_TRUE(hub.Subscribe().ok());
}

// Only WatchAssignments, straight to the factory under test.
class WatchOnlyService final : public v1::LeadRoutingService::CallbackService {
 public:
  WatchOnlyService(RoutingStore& store, WatchHub& hub)
      : store_(store), hub_(hub) {}

  grpc::ServerWriteReactor<v1::AssignmentEvent>* WatchAssignments(
      grpc::CallbackServerContext* ctx,
      const v1::WatchAssignmentsRequest* request) override {
    return StartAssignmentWatch(ctx, request, store_, hub_);
  }

 private:
  RoutingStore& store_;
  WatchHub& hub_;
};

// A client stream; every read gives up at the call deadline rather than
// hanging the test.
struct ClientWatch {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<v1::AssignmentEvent>> reader;

  // Up to n events; fewer when the stream ends.
  std::vector<v1::AssignmentEvent> Read(int n) {
    std::vector<v1::AssignmentEvent> out;
    v1::AssignmentEvent event;
    while (static_cast<int>(out.size()) < n && reader->Read(&event)) {
      out.push_back(event);
    }
    return out;
  }

  grpc::Status Cancel() {
    ctx.TryCancel();
    v1::AssignmentEvent ignored;
    while (reader->Read(&ignored)) {
    }
    return reader->Finish();
  }

  grpc::Status Finish() {
    v1::AssignmentEvent ignored;
    while (reader->Read(&ignored)) {
    }
    return reader->Finish();
  }
};

// The clock never advances, so events arrive only through Notify.
class AssignmentWatchTest : public testing::Test {
 protected:
  void SetUp() override { Start(WatchHubOptions{}); }

  void Start(WatchHubOptions options) {
    db_ = *Database::Open({.path = ":memory:", .synchronous_full = false});
    store_ = *RoutingStore::Open(*db_);
    hub_ = std::make_unique<WatchHub>(clock_, options);
    service_ = std::make_unique<WatchOnlyService>(*store_, *hub_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::LeadRoutingService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { Shutdown(); }

  void Shutdown() {
    if (server_ == nullptr) return;
    hub_->Stop();
    server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    hub_.reset();
  }

  std::unique_ptr<ClientWatch> Open(const std::string& rep,
                                    const std::string& team,
                                    const std::string& after_cursor) {
    v1::WatchAssignmentsRequest request;
    request.set_rep(rep);
    request.set_team(team);
    request.set_after_cursor(after_cursor);
    auto watch = std::make_unique<ClientWatch>();
    watch->ctx.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(30));
    watch->reader = stub_->WatchAssignments(&watch->ctx, request);
    return watch;
  }

  // Opens a watch and waits until its start position is fixed.
  std::unique_ptr<ClientWatch> OpenLive(const std::string& rep,
                                        const std::string& team,
                                        const std::string& after_cursor) {
    std::unique_ptr<ClientWatch> watch = Open(rep, team, after_cursor);
    watch->reader->WaitForInitialMetadata();
    return watch;
  }

  // Appends one event per lead, in one commit, and notifies.
  std::vector<std::string> Append(const std::vector<std::string>& leads,
                                  const std::string& rep = "reps/ann",
                                  const std::string& team = "emea") {
    std::vector<std::string> cursors;
    absl::Status s = db_->Write([&](Transaction& tx) {
      for (const std::string& lead : leads) {
        v1::AssignmentEvent event;
        event.set_type(v1::ASSIGNMENT_EVENT_TYPE_OFFERED);
        *event.mutable_event_time() = ToProtoTime(clock_.Now());
        event.set_lead(lead);
        event.set_rep(rep);
        event.set_team(team);
        if (absl::Status a = store_->AppendEvent(tx, event); !a.ok()) return a;
        cursors.push_back(event.cursor());
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    hub_->Notify();
    return cursors;
  }

  std::string LastCursor() {
    int64_t seq = 0;
    EXPECT_TRUE(db_->Read([&](Transaction& tx) {
                     absl::StatusOr<int64_t> last = store_->LastEventSeq(tx);
                     if (!last.ok()) return last.status();
                     seq = *last;
                     return absl::OkStatus();
                   })
                    .ok());
    return EventCursor(seq);
  }

  static std::vector<std::string> Leads(
      const std::vector<v1::AssignmentEvent>& events) {
    std::vector<std::string> leads;
    for (const v1::AssignmentEvent& event : events) {
      leads.push_back(event.lead());
    }
    return leads;
  }

  FakeClock clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RoutingStore> store_;
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<WatchOnlyService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::LeadRoutingService::Stub> stub_;
};

TEST_F(AssignmentWatchTest, WithoutCursorStartsWithTheNextCommit) {
  Append({"leads/before"});
  std::unique_ptr<ClientWatch> watch = OpenLive("", "", "");
  std::vector<std::string> cursors = Append({"leads/l1", "leads/l2"});
  std::vector<v1::AssignmentEvent> events = watch->Read(2);
  EXPECT_THAT(Leads(events), ElementsAre("leads/l1", "leads/l2"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].cursor(), cursors[0]);
  EXPECT_EQ(events[1].cursor(), cursors[1]);
  EXPECT_EQ(events[0].rep(), "reps/ann");
  EXPECT_EQ(events[0].type(), v1::ASSIGNMENT_EVENT_TYPE_OFFERED);
}

TEST_F(AssignmentWatchTest, FiltersByRepAndByTeamInOrder) {
  const std::string start = LastCursor();
  std::unique_ptr<ClientWatch> by_rep = OpenLive("reps/ann", "", start);
  std::unique_ptr<ClientWatch> by_team = OpenLive("", "emea", start);
  std::unique_ptr<ClientWatch> all = OpenLive("", "", start);
  Append({"leads/a1"}, "reps/ann", "emea");
  Append({"leads/b1"}, "reps/bob", "apac");
  Append({"leads/c1", "leads/c2"}, "reps/cat", "emea");
  Append({"leads/a2"}, "reps/ann", "emea");
  Append({"leads/b2"}, "reps/bob", "apac");
  // A lead-level event: no rep, no team.
  Append({"leads/q1"}, "", "");
  Append({"leads/a3"}, "reps/ann", "emea");

  EXPECT_THAT(Leads(by_rep->Read(3)),
              ElementsAre("leads/a1", "leads/a2", "leads/a3"));
  EXPECT_THAT(
      Leads(by_team->Read(5)),
      ElementsAre("leads/a1", "leads/c1", "leads/c2", "leads/a2", "leads/a3"));
  EXPECT_THAT(Leads(all->Read(8)),
              ElementsAre("leads/a1", "leads/b1", "leads/c1", "leads/c2",
                          "leads/a2", "leads/b2", "leads/q1", "leads/a3"));
}

TEST_F(AssignmentWatchTest, ResumesFromCursorExactlyOnce) {
  const std::string start = LastCursor();
  std::unique_ptr<ClientWatch> watch = OpenLive("reps/ann", "", start);
  Append({"leads/1", "leads/2", "leads/3"});
  Append({"leads/x"}, "reps/bob", "emea");
  Append({"leads/4", "leads/5"});
  std::vector<v1::AssignmentEvent> seen = watch->Read(3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(watch->Cancel().error_code(), grpc::StatusCode::CANCELLED);

  // Committed while the client was away.
  Append({"leads/6"});
  Append({"leads/y"}, "reps/bob", "emea");
  Append({"leads/7"});

  std::unique_ptr<ClientWatch> resumed =
      OpenLive("reps/ann", "", seen.back().cursor());
  Append({"leads/8"});
  std::vector<v1::AssignmentEvent> rest = resumed->Read(5);
  EXPECT_THAT(Leads(rest), ElementsAre("leads/4", "leads/5", "leads/6",
                                       "leads/7", "leads/8"));
  // Nothing repeated or left over: the next event after a new commit is
  // that commit's.
  Append({"leads/9"});
  EXPECT_THAT(Leads(resumed->Read(1)), ElementsAre("leads/9"));
}

TEST_F(AssignmentWatchTest, CatchesUpOnABacklogLongerThanAPage) {
  const std::string start = LastCursor();
  std::vector<std::string> leads;
  for (int i = 0; i < 250; ++i) leads.push_back(absl::StrCat("leads/", i));
  Append(leads, "reps/ann", "emea");
  Append({"leads/other"}, "reps/bob", "apac");
  Append({"leads/250"}, "reps/ann", "emea");
  leads.push_back("leads/250");

  std::unique_ptr<ClientWatch> watch = Open("", "emea", start);
  std::vector<v1::AssignmentEvent> events = watch->Read(251);
  EXPECT_THAT(Leads(events), ElementsAreArray(leads));
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(*ParseEventCursor(events[i - 1].cursor()),
              *ParseEventCursor(events[i].cursor()));
  }
}

TEST_F(AssignmentWatchTest, RechecksTheLogWithoutNotify) {
  std::unique_ptr<ClientWatch> watch = OpenLive("", "", "");
  absl::Status s = db_->Write([&](Transaction& tx) {
    v1::AssignmentEvent event;
    event.set_type(v1::ASSIGNMENT_EVENT_TYPE_QUEUED);
    event.set_lead("leads/quiet");
    return store_->AppendEvent(tx, event);
  });
  ASSERT_TRUE(s.ok()) << s;
  std::atomic<bool> read{false};
  std::thread ticker([&] {
    while (!read) {
      clock_.Advance(absl::Seconds(1));
      std::this_thread::yield();
    }
  });
  std::vector<v1::AssignmentEvent> events = watch->Read(1);
  read = true;
  ticker.join();
  EXPECT_THAT(Leads(events), ElementsAre("leads/quiet"));
}

TEST_F(AssignmentWatchTest, RejectsInvalidRequests) {
  Append({"leads/1"});
  struct Case {
    std::string rep, team, cursor, field;
  };
  for (const Case& c : std::vector<Case>{
           {"reps/ann", "emea", "", "team"},
           {"ann", "", "", "rep"},
           {"reps/", "", "", "rep"},
           {"", "bad team!", "", "team"},
           {"", "", "abc", "after_cursor"},
           {"", "", "-1", "after_cursor"},
           // After the last event: it would skip events silently.
           {"", "", "99", "after_cursor"},
       }) {
    grpc::Status status = Open(c.rep, c.team, c.cursor)->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.rep << " " << c.team << " " << c.cursor;
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
}

TEST_F(AssignmentWatchTest, StopEndsOpenStreamsWithUnavailable) {
  std::unique_ptr<ClientWatch> first = OpenLive("", "", "");
  std::unique_ptr<ClientWatch> second = OpenLive("reps/ann", "", "");
  Append({"leads/1"});
  EXPECT_THAT(Leads(first->Read(1)), ElementsAre("leads/1"));
  hub_->Stop();
  grpc::Status ended = first->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(ended.error_message(), HasSubstr("shutting down"));
  // Ends too, whether or not its event was written yet.
  EXPECT_EQ(second->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Open("", "", "")->Finish().error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(AssignmentWatchTest, RefusesStreamsBeyondTheCap) {
  Shutdown();
  Start({.max_streams = 1});
  std::unique_ptr<ClientWatch> open = OpenLive("", "", "");
  EXPECT_EQ(Open("", "", "")->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  Append({"leads/1"});
  EXPECT_THAT(Leads(open->Read(1)), ElementsAre("leads/1"));
}

}  // namespace
}  // namespace handoff::routing
