#include "services/routing/round_robin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace handoff::routing {
namespace {

using testing::HasSubstr;

const std::vector<std::string> kReps = {"a", "b", "c"};

TEST(RoundRobinTest, StartsAtTheFirstRepWithoutAPointer) {
  std::optional<RoundRobinPick> pick = PickRoundRobin(kReps, "");
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->index, 0u);
  EXPECT_EQ(pick->pointer_after, "a");
  EXPECT_THAT(pick->explanation, HasSubstr("pointer before (none)"));
}

TEST(RoundRobinTest, PicksTheNextRepAfterThePointerAndWraps) {
  EXPECT_EQ(PickRoundRobin(kReps, "a")->pointer_after, "b");
  EXPECT_EQ(PickRoundRobin(kReps, "b")->pointer_after, "c");
  std::optional<RoundRobinPick> wrapped = PickRoundRobin(kReps, "c");
  EXPECT_EQ(wrapped->pointer_after, "a");
  EXPECT_THAT(wrapped->explanation, HasSubstr("wrapped"));
}

TEST(RoundRobinTest, APointerToARepNoLongerEligibleKeepsTheRotation) {
  // "b" went away after being picked: the rotation continues with "c", not
  // from the start.
  std::optional<RoundRobinPick> pick = PickRoundRobin({"a", "c"}, "b");
  EXPECT_EQ(pick->index, 1u);
  EXPECT_EQ(pick->pointer_after, "c");
  EXPECT_THAT(pick->explanation, HasSubstr("pointer before reps/b"));
  EXPECT_THAT(pick->explanation, HasSubstr("pointer after reps/c"));
}

TEST(RoundRobinTest, NobodyEligibleIsNoPick) {
  EXPECT_FALSE(PickRoundRobin({}, "a").has_value());
}

}  // namespace
}  // namespace handoff::routing
