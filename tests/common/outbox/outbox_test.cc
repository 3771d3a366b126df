#include "common/outbox/outbox.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "handoff/persona/v1/persona.pb.h"

namespace handoff {
namespace {

class OutboxTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = *Database::Open({":memory:"});
    outbox_ =
        std::make_unique<Outbox>(*db_, clock_, OutboxOptions{}, &registry_);
  }

  absl::Status Send(std::string_view destination, std::string_view name,
                    std::string_view key = {}) {
    return db_->Write([&](Transaction& tx) {
      persona::v1::GetPersonaRequest request;
      request.set_name(std::string(name));
      return outbox_->Enqueue(tx, destination, "Get", request, key);
    });
  }

  static std::string NameOf(const OutboxMessage& m) {
    persona::v1::GetPersonaRequest request;
    EXPECT_TRUE(request.ParseFromString(m.payload));
    return request.name();
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, DeliversCommittedMessagesOnlyAndDeletesThem) {
  std::vector<std::string> received;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage& m) {
    persona::v1::GetPersonaRequest request;
    EXPECT_TRUE(request.ParseFromString(m.payload));
    received.push_back(request.name());
    EXPECT_FALSE(m.idempotency_key.empty());
    return absl::OkStatus();
  });
  ASSERT_TRUE(Send("persona", "personas/a").ok());
  absl::Status rolled_back = db_->Write([&](Transaction& tx) {
    persona::v1::GetPersonaRequest request;
    EXPECT_TRUE(outbox_->Enqueue(tx, "persona", "Get", request).ok());
    return absl::AbortedError("rolled back");
  });
  ASSERT_FALSE(rolled_back.ok());
  EXPECT_EQ(outbox_->Pending()->size(), 1u);
  EXPECT_EQ(*outbox_->DeliverPending(), 1);
  EXPECT_EQ(received, std::vector<std::string>{"personas/a"});
  EXPECT_TRUE(outbox_->Pending()->empty());
}

TEST_F(OutboxTest, RetriesUnavailableWithBackoffKeepingOrderPerDestination) {
  bool down = true;
  std::vector<std::string> received;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage& m) {
    if (down) return absl::UnavailableError("connection refused");
    persona::v1::GetPersonaRequest request;
    request.ParseFromString(m.payload);
    received.push_back(request.name());
    return absl::OkStatus();
  });
  ASSERT_TRUE(Send("persona", "personas/1").ok());
  ASSERT_TRUE(Send("persona", "personas/2").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 0);
  // Still in backoff: nothing is attempted before it elapses.
  down = false;
  EXPECT_EQ(*outbox_->DeliverPending(), 0);
  EXPECT_EQ(outbox_->Pending()->at(0).attempts, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*outbox_->DeliverPending(), 2);
  EXPECT_EQ(received, (std::vector<std::string>{"personas/1", "personas/2"}));
}

TEST_F(OutboxTest, OneDestinationDownDoesNotDelayAnother) {
  int persona_calls = 0;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage&) {
    ++persona_calls;
    return absl::UnavailableError("down");
  });
  int routing_calls = 0;
  outbox_->RegisterHandler("routing", "Get", [&](const OutboxMessage&) {
    ++routing_calls;
    return absl::OkStatus();
  });
  ASSERT_TRUE(Send("persona", "personas/1").ok());
  ASSERT_TRUE(Send("persona", "personas/2").ok());
  ASSERT_TRUE(Send("routing", "personas/3").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 1);
  EXPECT_EQ(persona_calls, 1);  // the second waits behind the first
  EXPECT_EQ(routing_calls, 1);
}

TEST_F(OutboxTest, PermanentErrorParksTheMessageAsDead) {
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage&) {
    return absl::InvalidArgumentError("name: malformed");
  });
  ASSERT_TRUE(Send("persona", "bad").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 0);
  EXPECT_TRUE(outbox_->Pending()->empty());
  EXPECT_EQ(*outbox_->DeadCount(), 1);
}

TEST_F(OutboxTest, WakeIgnoresBackoff) {
  bool down = true;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage&) {
    return down ? absl::UnavailableError("down") : absl::OkStatus();
  });
  ASSERT_TRUE(Send("persona", "personas/1").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 0);
  down = false;
  outbox_->Wake();
  EXPECT_EQ(*outbox_->DeliverPending(), 1);
}

TEST_F(OutboxTest, DispatcherThreadDeliversAfterCommit) {
  absl::Mutex mu;
  int received = 0;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage&) {
    absl::MutexLock lock(&mu);
    ++received;
    return absl::OkStatus();
  });
  outbox_->Start();
  ASSERT_TRUE(Send("persona", "personas/1").ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](int* n) { return *n == 1; }, &received),
                            absl::Seconds(10)));
  }
  outbox_->Stop();
}

TEST_F(OutboxTest, DifferentKeysAreDeliveredAtOnce) {
  // Each delivery waits until the other has started: only concurrent
  // delivery gets both through (the bound only stops a hang).
  absl::Mutex mu;
  int started = 0;
  outbox_->RegisterHandler("routing", "Get", [&](const OutboxMessage&) {
    absl::MutexLock lock(&mu);
    ++started;
    const bool both =
        mu.AwaitWithTimeout(absl::Condition(
                                +[](int* n) { return *n >= 2; }, &started),
                            absl::Seconds(10));
    return both ? absl::OkStatus() : absl::InternalError("delivered alone");
  });
  ASSERT_TRUE(Send("routing", "leads/1", "leads/1").ok());
  ASSERT_TRUE(Send("routing", "leads/2", "leads/2").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 2);
  EXPECT_TRUE(outbox_->Pending()->empty());
}

TEST_F(OutboxTest, AFailureHoldsBackOnlyLaterMessagesWithItsKey) {
  absl::Mutex mu;
  std::vector<std::string> received;
  bool fail_first = true;
  outbox_->RegisterHandler("campaign", "Get", [&](const OutboxMessage& m) {
    absl::MutexLock lock(&mu);
    if (NameOf(m) == "a1" && fail_first) {
      return absl::InternalError("try again");
    }
    received.push_back(NameOf(m));
    return absl::OkStatus();
  });
  ASSERT_TRUE(Send("campaign", "a1", "leads/a").ok());
  ASSERT_TRUE(Send("campaign", "b1", "leads/b").ok());
  ASSERT_TRUE(Send("campaign", "a2", "leads/a").ok());
  ASSERT_TRUE(Send("campaign", "b2", "leads/b").ok());
  EXPECT_EQ(*outbox_->DeliverPending(), 2);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(received, (std::vector<std::string>{"b1", "b2"}));
    fail_first = false;
  }
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*outbox_->DeliverPending(), 2);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(received, (std::vector<std::string>{"b1", "b2", "a1", "a2"}));
}

TEST_F(OutboxTest, AnUnavailableDestinationIsNotTriedAgainInThePass) {
  Outbox one_at_a_time(*db_, clock_, OutboxOptions{.max_in_flight = 1},
                       nullptr);
  int calls = 0;
  one_at_a_time.RegisterHandler("routing", "Get", [&](const OutboxMessage&) {
    ++calls;
    return absl::UnavailableError("connection refused");
  });
  for (const char* lead : {"leads/1", "leads/2", "leads/3"}) {
    ASSERT_TRUE(db_->Write([&](Transaction& tx) {
                     persona::v1::GetPersonaRequest request;
                     return one_at_a_time.Enqueue(tx, "routing", "Get", request,
                                                  lead);
                   })
                    .ok());
  }
  EXPECT_EQ(*one_at_a_time.DeliverPending(), 0);
  EXPECT_EQ(calls, 1);
}

// Stop() returns while messages keep coming, and every message is either
// delivered or still stored: none is lost.
TEST_F(OutboxTest, StopDuringABusyPassLosesNothing) {
  absl::Mutex mu;
  int delivered = 0;
  outbox_->RegisterHandler("persona", "Get", [&](const OutboxMessage&) {
    absl::MutexLock lock(&mu);
    ++delivered;
    return absl::OkStatus();
  });
  outbox_->Start();
  constexpr int kSent = 300;
  std::thread producer([&] {
    for (int i = 0; i < kSent; ++i) {
      ASSERT_TRUE(Send("persona", "p", absl::StrCat("k", i % 37)).ok());
    }
  });
  {
    absl::MutexLock lock(&mu);
    auto some = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return delivered > 0; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&some), absl::Seconds(30)));
  }
  outbox_->Stop();
  producer.join();
  absl::StatusOr<std::vector<OutboxMessage>> left = outbox_->Pending();
  ASSERT_TRUE(left.ok());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(delivered + static_cast<int>(left->size()), kSent);
}

}  // namespace
}  // namespace handoff
