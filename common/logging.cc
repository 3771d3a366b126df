#include "common/logging.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace handoff {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{false};

ABSL_CONST_INIT absl::Mutex g_service_mu(absl::kConstInit);
std::string* g_service ABSL_GUARDED_BY(g_service_mu) = nullptr;

spdlog::logger& Logger() {
  // Never destroyed: threads may log during static destruction.
  static spdlog::logger* const logger = [] {
    auto* l = new spdlog::logger(
        "handoff", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // The line is formatted here; spdlog only serializes the writes.
    l->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%v", spdlog::pattern_time_type::utc));
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool ParseLevel(std::string_view name, LogLevel* level) {
  if (name == "debug") {
    *level = LogLevel::kDebug;
  } else if (name == "info") {
    *level = LogLevel::kInfo;
  } else if (name == "warning" || name == "warn") {
    *level = LogLevel::kWarning;
  } else if (name == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 when malformed.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t len;
  unsigned min_second = 0x80, max_second = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) min_second = 0xA0;  // overlong
    if (c == 0xED) max_second = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) min_second = 0x90;  // overlong
    if (c == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Appends `s` as a JSON string literal; malformed UTF-8 becomes U+FFFD so
// every line stays valid JSON whatever a client sent.
void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

// Text values are quoted (JSON-style) only when a bare value would be
// ambiguous, so a line stays one line and splits on spaces.
void AppendTextValue(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) {
    if (c <= 0x20 || c == '"' || c == '=' || c == 0x7F || c >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.append(s);
  } else {
    AppendJsonString(out, s);
  }
}

std::string Service() {
  absl::MutexLock lock(&g_service_mu);
  return g_service != nullptr ? *g_service : std::string();
}

}  // namespace

bool InitLogging(std::string_view service, std::string_view format,
                 std::string_view level) {
  LogLevel parsed;
  if (!ParseLevel(level, &parsed)) return false;
  if (format != "json" && format != "text") return false;
  {
    absl::MutexLock lock(&g_service_mu);
    delete g_service;
    g_service = new std::string(service);
  }
  g_json.store(format == "json", std::memory_order_relaxed);
  g_min_level.store(static_cast<int>(parsed), std::memory_order_relaxed);
  return true;
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, std::string_view event,
         std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const absl::Time now = absl::Now();
  const std::string service = Service();
  std::string line;
  line.reserve(128);
  if (g_json.load(std::memory_order_relaxed)) {
    line.append("{\"ts\":\"");
    line.append(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", now, absl::UTCTimeZone()));
    line.append("\",\"level\":\"");
    line.append(LevelName(level));
    line.append("\",\"service\":");
    AppendJsonString(line, service);
    line.append(",\"event\":");
    AppendJsonString(line, event);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendJsonString(line, field.first);
      line.push_back(':');
      AppendJsonString(line, field.second);
    }
    line.push_back('}');
  } else {
    line.append(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", now, absl::UTCTimeZone()));
    line.push_back(' ');
    line.append(absl::AsciiStrToUpper(LevelName(level)));
    if (!service.empty()) {
      line.push_back(' ');
      line.append(service);
    }
    line.push_back(' ');
    AppendTextValue(line, event);
    for (const LogField& field : fields) {
      line.push_back(' ');
      line.append(field.first);
      line.push_back('=');
      AppendTextValue(line, field.second);
    }
  }
  Logger().log(SpdLevel(level), spdlog::string_view_t(line));
}

}  // namespace handoff
