#include "common/clients/deadline.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/clients/clients.h"

namespace handoff {
namespace {

absl::Time ContextDeadline(const grpc::ClientContext& ctx) {
  return absl::FromChrono(ctx.deadline());
}

TEST(ScopedCallDeadlineTest, InfiniteOutsideAnyCall) {
  EXPECT_EQ(ScopedCallDeadline::Current(), absl::InfiniteFuture());
}

TEST(ScopedCallDeadlineTest, NestsAndRestores) {
  const absl::Time outer = absl::FromUnixSeconds(2'000'000'000);
  const absl::Time inner = absl::FromUnixSeconds(2'000'000'100);
  {
    ScopedCallDeadline a(absl::ToChronoTime(outer));
    EXPECT_EQ(ScopedCallDeadline::Current(), outer);
    {
      ScopedCallDeadline b(absl::ToChronoTime(inner));
      EXPECT_EQ(ScopedCallDeadline::Current(), inner);
    }
    EXPECT_EQ(ScopedCallDeadline::Current(), outer);
  }
  EXPECT_EQ(ScopedCallDeadline::Current(), absl::InfiniteFuture());
}

TEST(ScopedCallDeadlineTest, GrpcInfiniteDeadlineIsInfiniteFuture) {
  // What CallbackServerContext::deadline() returns for a call without one.
  ScopedCallDeadline scope(std::chrono::system_clock::time_point::max());
  EXPECT_EQ(ScopedCallDeadline::Current(), absl::InfiniteFuture());
}

TEST(ScopedCallDeadlineTest, IsPerThread) {
  ScopedCallDeadline scope(absl::ToChronoTime(absl::FromUnixSeconds(42)));
  absl::Time seen;
  std::thread([&] { seen = ScopedCallDeadline::Current(); }).join();
  EXPECT_EQ(seen, absl::InfiniteFuture());
}

TEST(SetCallDeadlineTest, UsesTimeoutWithoutServedCall) {
  grpc::ClientContext ctx;
  const absl::Time before = absl::Now();
  SetCallDeadline(&ctx, absl::Seconds(2));
  const absl::Time after = absl::Now();
  EXPECT_GE(ContextDeadline(ctx), before + absl::Seconds(2));
  EXPECT_LE(ContextDeadline(ctx), after + absl::Seconds(2));
}

TEST(SetCallDeadlineTest, ServedCallDeadlineWinsWhenSooner) {
  const absl::Time served = absl::Now() + absl::Milliseconds(300);
  ScopedCallDeadline scope(absl::ToChronoTime(served));
  grpc::ClientContext ctx;
  SetCallDeadline(&ctx, absl::Seconds(2));
  EXPECT_EQ(ContextDeadline(ctx), served);
}

TEST(SetCallDeadlineTest, TimeoutWinsWhenSooner) {
  const absl::Time served = absl::Now() + absl::Hours(1);
  ScopedCallDeadline scope(absl::ToChronoTime(served));
  grpc::ClientContext ctx;
  const absl::Time before = absl::Now();
  SetCallDeadline(&ctx, absl::Seconds(2));
  EXPECT_GE(ContextDeadline(ctx), before + absl::Seconds(2));
  EXPECT_LT(ContextDeadline(ctx), served);
}

}  // namespace
}  // namespace handoff
