#include "common/ids.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace handoff {
namespace {

// Range queries over ids (a rep's offers since midnight) rely on this.
TEST(IdTimePrefixTest, IdsMadeFromThatTimeOnCompareAtLeastThePrefix) {
  const absl::Time t = absl::FromUnixMicros(1795910400123456);
  const std::string prefix = IdTimePrefix(t);
  EXPECT_EQ(prefix.size(), 13u);
  for (int i = 0; i < 100; ++i) {
    const std::string at = NewId(t);
    EXPECT_TRUE(absl::StartsWith(at, prefix)) << at;
    EXPECT_GE(at, prefix);
    EXPECT_LT(NewId(t - absl::Microseconds(1)), prefix);
    EXPECT_GE(NewId(t + absl::Microseconds(1)), prefix);
  }
  // Times before the epoch all share the smallest prefix.
  EXPECT_EQ(IdTimePrefix(absl::UnixEpoch() - absl::Hours(1)),
            IdTimePrefix(absl::UnixEpoch()));
}

}  // namespace
}  // namespace handoff
