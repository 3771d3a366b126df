// The SLA timers of the routing module: restarts over the same database
// file, and accepts racing the timer, with the module's own threads running.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics/metrics.h"
#include "common/proto_time.h"
#include "services/routing/routing_server.h"

namespace handoff::routing {
namespace {

using testing::HasSubstr;

constexpr absl::Duration kWindow = absl::Minutes(30);
// Real time allowed for the module's threads to act; waits end as soon as
// they have.
constexpr absl::Duration kEventTimeout = absl::Seconds(30);

class RoutingTimersTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/routing_timers_" + NewId(absl::Now());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    module_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A new process over the same database file: whatever the previous one
  // held in memory (its timers) is gone.
  void StartProcess() {
    module_.reset();
    metrics_ = std::make_unique<Metrics>("routing");
    RoutingServerOptions options;
    options.db_path = dir_ + "/routing.db";
    options.db_sync_full = false;
    options.accept_window = kWindow;
    options.max_attempts = 3;
    absl::StatusOr<std::unique_ptr<RoutingServer>> module =
        RoutingServer::Create(options, clock_, *metrics_);
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = *std::move(module);
    module_->StartBackground();
    ASSERT_TRUE(module_->timers().AwaitLoaded(kEventTimeout));
  }

  std::string AddRep(const std::string& display_name, int capacity) {
    clock_.Advance(absl::Milliseconds(1));
    v1::CreateRepRequest request;
    request.mutable_rep()->set_display_name(display_name);
    request.mutable_rep()->set_team("emea");
    request.mutable_rep()->set_capacity(capacity);
    absl::StatusOr<v1::Rep> rep = module_->reps().CreateRep(request);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep.ok() ? rep->name() : "";
  }

  v1::Assignment Offer(const std::string& lead) {
    v1::RouteLeadRequest request;
    request.set_lead(lead);
    request.set_request_id("route-" + lead);
    absl::StatusOr<v1::RouteLeadResponse> response =
        module_->router().RouteLead(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    EXPECT_FALSE(response->queued()) << lead;
    return response->assignment();
  }

  absl::Status Accept(const v1::Assignment& offer) {
    v1::AcceptAssignmentRequest request;
    request.set_name(offer.name());
    request.set_rep(offer.rep());
    return module_->router().AcceptAssignment(request).status();
  }

  v1::Assignment Get(const std::string& name) {
    v1::GetAssignmentRequest request;
    request.set_name(name);
    absl::StatusOr<v1::Assignment> a = module_->router().GetAssignment(request);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : v1::Assignment();
  }

  // The lead's offers by attempt.
  std::vector<v1::Assignment> Chain(const std::string& lead) {
    v1::ListAssignmentsRequest request;
    request.set_filter("lead=" + lead);
    request.set_page_size(100);
    absl::StatusOr<v1::ListAssignmentsResponse> response =
        module_->router().ListAssignments(request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<v1::Assignment> chain;
    if (!response.ok()) return chain;
    chain.assign(response->assignments().begin(),
                 response->assignments().end());
    std::sort(chain.begin(), chain.end(), [](const auto& a, const auto& b) {
      return a.attempt() < b.attempt();
    });
    return chain;
  }

  // Waits (real time) until `done` holds; returns whether it did.
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time give_up = absl::Now() + kEventTimeout;
    while (!done()) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return true;
  }

  bool AllClosed(const std::vector<v1::Assignment>& offers) {
    return std::none_of(offers.begin(), offers.end(), [&](const auto& offer) {
      return Get(offer.name()).state() == v1::ASSIGNMENT_STATE_PENDING;
    });
  }

  // Until the timers' handler has returned for `n` timers in all.
  bool AwaitFired(int64_t n) {
    return Eventually([&] { return module_->timers().stats().fired >= n; });
  }

  FakeClock clock_;
  std::string dir_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RoutingServer> module_;
};

TEST_F(RoutingTimersTest, DeadlinesThatPassedWhileDownFireOnceAtStartUp) {
  StartProcess();
  AddRep("A", 10);
  AddRep("B", 10);
  AddRep("C", 10);
  std::vector<v1::Assignment> lapsing;
  for (int i = 0; i < 5; ++i) {
    lapsing.push_back(Offer("leads/lapsing" + std::to_string(i)));
  }
  const v1::Assignment accepted = Offer("leads/accepted");
  ASSERT_TRUE(Accept(accepted).ok());
  ASSERT_EQ(module_->timers().pending(), 5u);

  // The process dies; its in-memory timers with it. Two hours pass.
  module_.reset();
  clock_.Advance(absl::Hours(2));
  const absl::Time restarted = clock_.Now();
  StartProcess();
  EXPECT_EQ(module_->timers().stats().loaded, 5);
  ASSERT_TRUE(AwaitFired(5));
  EXPECT_EQ(module_->timers().stats().fired, 5);

  for (const v1::Assignment& offer : lapsing) {
    std::vector<v1::Assignment> chain = Chain(offer.lead());
    ASSERT_EQ(chain.size(), 2u) << offer.lead();
    EXPECT_EQ(chain[0].name(), offer.name());
    EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
    EXPECT_EQ(FromProtoTime(chain[0].close_time()), restarted);
    EXPECT_EQ(chain[1].attempt(), 2);
    EXPECT_EQ(chain[1].previous_assignment(), offer.name());
    EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_PENDING);
    EXPECT_EQ(FromProtoTime(chain[1].accept_due_time()), restarted + kWindow);
  }
  EXPECT_EQ(Chain("leads/accepted").size(), 1u);
  // The reoffers' timers run; the lapsed ones are gone.
  EXPECT_EQ(module_->timers().pending(), 5u);
  EXPECT_EQ(module_->timers().Earliest(), restarted + kWindow);
  const std::string rendered = metrics_->Render();
  EXPECT_THAT(rendered,
              HasSubstr("handoff_routing_timer_lateness_seconds_count 5"));
  EXPECT_THAT(rendered, HasSubstr("handoff_routing_sla_breaches_total{policy="
                                  "\"default\",team=\"emea\"} 5"));

  // Another crash and restart: only the reoffers are pending, none due, so
  // nothing fires a second time.
  module_.reset();
  StartProcess();
  EXPECT_EQ(module_->timers().stats().loaded, 5);
  EXPECT_EQ(module_->timers().Earliest(), restarted + kWindow);
  for (const v1::Assignment& offer : lapsing) {
    EXPECT_EQ(Chain(offer.lead()).size(), 2u) << offer.lead();
  }

  // And the reoffers' own deadlines still fire after it.
  clock_.Advance(kWindow);
  std::vector<v1::Assignment> reoffers;
  for (const v1::Assignment& offer : lapsing) {
    reoffers.push_back(Chain(offer.lead())[1]);
  }
  ASSERT_TRUE(AwaitFired(5));
  EXPECT_TRUE(AllClosed(reoffers));
  for (const v1::Assignment& offer : lapsing) {
    std::vector<v1::Assignment> chain = Chain(offer.lead());
    ASSERT_EQ(chain.size(), 3u) << offer.lead();
    EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_BREACHED);
    EXPECT_EQ(chain[2].attempt(), 3);
  }
}

TEST_F(RoutingTimersTest, AcceptsRacingTheTimerNeverReassignTwice) {
  StartProcess();
  AddRep("A", 1000);
  AddRep("B", 1000);
  constexpr int kLeads = 60;
  std::vector<v1::Assignment> offers;
  for (int i = 0; i < kLeads; ++i) {
    offers.push_back(Offer("leads/l" + std::to_string(i)));
  }

  // Reps accept one offer after another while the window runs out under
  // them and the timer breaches the rest.
  std::map<std::string, absl::Status> accepts;
  std::atomic<int> attempted{0};
  std::thread reps([&] {
    for (const v1::Assignment& offer : offers) {
      absl::Status status = Accept(offer);
      accepts[offer.name()] = status;
      ++attempted;
    }
  });
  while (attempted.load() < kLeads / 3) absl::SleepFor(absl::Microseconds(50));
  clock_.Advance(kWindow);
  reps.join();
  ASSERT_TRUE(Eventually([&] { return AllClosed(offers); }));

  int accepted = 0;
  int breached = 0;
  for (const v1::Assignment& offer : offers) {
    const absl::Status& accept = accepts[offer.name()];
    std::vector<v1::Assignment> chain = Chain(offer.lead());
    if (accept.ok()) {
      ++accepted;
      ASSERT_EQ(chain.size(), 1u) << offer.lead();
      EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_ACCEPTED);
    } else {
      ++breached;
      EXPECT_EQ(accept.code(), absl::StatusCode::kFailedPrecondition) << accept;
      ASSERT_EQ(chain.size(), 2u) << offer.lead();
      EXPECT_EQ(chain[0].state(), v1::ASSIGNMENT_STATE_BREACHED);
      EXPECT_EQ(chain[1].attempt(), 2);
      EXPECT_EQ(chain[1].state(), v1::ASSIGNMENT_STATE_PENDING);
    }
  }
  RecordProperty("accepted", accepted);
  RecordProperty("breached", breached);
  EXPECT_GE(accepted, kLeads / 3);
  EXPECT_EQ(accepted + breached, kLeads);
  // Each reoffer has its timer (added once the breach commits).
  EXPECT_TRUE(Eventually([&] {
    return module_->timers().pending() == static_cast<size_t>(breached);
  })) << module_->timers().pending()
      << " timers for " << breached << " reoffers";
}

}  // namespace
}  // namespace handoff::routing
