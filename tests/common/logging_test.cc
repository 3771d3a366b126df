#include "common/logging.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace handoff {
namespace {

// Logs at `level` and returns what reached stderr.
std::string Capture(LogLevel level, std::string_view event,
                    std::initializer_list<LogField> fields) {
  testing::internal::CaptureStderr();
  Log(level, event, fields);
  return testing::internal::GetCapturedStderr();
}

class LoggingTest : public testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(InitLogging("", "text", "info")); }
};

TEST_F(LoggingTest, JsonLineHasFixedKeysThenFields) {
  ASSERT_TRUE(InitLogging("campaign", "json", "info"));
  const std::string line =
      Capture(LogLevel::kInfo, "started", {{"port", "50052"}});
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per event";
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find("Z\",\"level\":\"info\",\"service\":\"campaign\","
                      "\"event\":\"started\",\"port\":\"50052\"}\n"),
            std::string::npos)
      << line;
}

TEST_F(LoggingTest, JsonEscapesQuotesBackslashesAndControlCharacters) {
  ASSERT_TRUE(InitLogging("persona", "json", "info"));
  const std::string line = Capture(
      LogLevel::kWarning, "rpc",
      {{"error", std::string("a\"b\\c\nd\te\r\x01\x1f", 12)}, {"k\"ey", "v"}});
  EXPECT_NE(line.find("\"level\":\"warning\""), std::string::npos);
  EXPECT_NE(line.find("\"error\":\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u001f\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"k\\\"ey\":\"v\""), std::string::npos) << line;
}

TEST_F(LoggingTest, JsonKeepsUtf8AndReplacesMalformedBytes) {
  ASSERT_TRUE(InitLogging("deal", "json", "info"));
  const std::string line = Capture(LogLevel::kInfo, "e",
                                   {{"ok", "caf\xc3\xa9 \xe2\x82\xac"},
                                    {"bad", "x\xff\xc3(\xed\xa0\x80y"},
                                    {"cut", "z\xe2\x82"}});
  EXPECT_NE(line.find("\"ok\":\"caf\xc3\xa9 \xe2\x82\xac\""), std::string::npos)
      << line;
  // 0xff; 0xc3 not followed by a continuation; an encoded surrogate (3 bytes).
  EXPECT_NE(line.find("\"bad\":\"x\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffdy\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"cut\":\"z\\ufffd\\ufffd\""), std::string::npos)
      << line;
}

TEST_F(LoggingTest, TextLineQuotesOnlyAmbiguousValues) {
  ASSERT_TRUE(InitLogging("routing", "text", "info"));
  const std::string line =
      Capture(LogLevel::kError, "rpc",
              {{"method", "/a.B/C"}, {"error", "two words"}, {"empty", ""}});
  EXPECT_NE(line.find(" ERROR routing rpc method=/a.B/C error=\"two words\" "
                      "empty=\"\"\n"),
            std::string::npos)
      << line;
}

TEST_F(LoggingTest, LevelFiltersLowerEvents) {
  ASSERT_TRUE(InitLogging("campaign", "text", "warning"));
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarning));
  EXPECT_EQ(Capture(LogLevel::kInfo, "quiet", {}), "");
  EXPECT_NE(Capture(LogLevel::kError, "loud", {}), "");
  ASSERT_TRUE(InitLogging("campaign", "text", "debug"));
  EXPECT_TRUE(LogEnabled(LogLevel::kDebug));
}

TEST_F(LoggingTest, UnknownFormatOrLevelKeepsSettings) {
  ASSERT_TRUE(InitLogging("campaign", "json", "info"));
  EXPECT_FALSE(InitLogging("other", "xml", "info"));
  EXPECT_FALSE(InitLogging("other", "text", "loud"));
  const std::string line = Capture(LogLevel::kInfo, "still", {});
  EXPECT_NE(line.find("\"service\":\"campaign\""), std::string::npos) << line;
}

TEST_F(LoggingTest, ConcurrentLinesDoNotInterleave) {
  ASSERT_TRUE(InitLogging("campaign", "json", "info"));
  testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        Log(LogLevel::kInfo, "tick",
            {{"thread", std::to_string(t)}, {"pad", std::string(100, 'x')}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string out = testing::internal::GetCapturedStderr();
  int lines = 0;
  size_t start = 0;
  for (size_t end; (end = out.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string line = out.substr(start, end - start);
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    ++lines;
  }
  EXPECT_EQ(lines, 800);
}

}  // namespace
}  // namespace handoff
