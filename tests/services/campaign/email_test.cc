#include "services/campaign/email.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace handoff::campaign {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(NormalizeEmailTest, TrimsAndLowerCases) {
  absl::StatusOr<std::string> email =
      NormalizeEmail("email", "  Ann.Lee@Example.COM \t\n");
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_EQ(*email, "ann.lee@example.com");
}

TEST(NormalizeEmailTest, AcceptsCommonForms) {
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.co.uk",
                         "o'brien@x-y.io", "user_1@mail2.example.com"}) {
    EXPECT_TRUE(NormalizeEmail("email", ok).ok()) << ok;
  }
}

TEST(NormalizeEmailTest, RejectsMalformedAddressesNamingTheField) {
  const std::string long_local(65, 'a');
  const std::string long_address = std::string(250, 'a') + "@x.com";
  for (const std::string& bad : {std::string(""),
                                 std::string("   "),
                                 std::string("no-at.example.com"),
                                 std::string("a@@example.com"),
                                 std::string("a@b@example.com"),
                                 std::string("a b@example.com"),
                                 std::string(".a@example.com"),
                                 std::string("a.@example.com"),
                                 std::string("a..b@example.com"),
                                 std::string("@example.com"),
                                 std::string("a@example"),
                                 std::string("a@.example.com"),
                                 std::string("a@example..com"),
                                 std::string("a@-example.com"),
                                 std::string("a@ex_ample.com"),
                                 std::string("a@example.c"),
                                 std::string("a@example.123"),
                                 std::string("a<b>@example.com"),
                                 long_local + "@example.com",
                                 long_address}) {
    absl::StatusOr<std::string> email = NormalizeEmail("email", bad);
    ASSERT_FALSE(email.ok()) << bad;
    EXPECT_EQ(email.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Msg(email.status()), StartsWith("email: ")) << bad;
  }
}

TEST(NormalizeEmailTest, EmptyIsRequired) {
  EXPECT_THAT(NormalizeEmail("email", "").status().message(),
              HasSubstr("required"));
}

}  // namespace
}  // namespace handoff::campaign
