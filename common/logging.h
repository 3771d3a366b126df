#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

// Structured logs: one line per event, JSON or text. Never put an email
// address or other personal data in a field at info level or above.
namespace handoff {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// format: "json" or "text"; level: "debug", "info", "warning", "error".
// Returns false (and keeps the defaults) on an unknown value.
bool InitLogging(std::string_view service, std::string_view format,
                 std::string_view level);

using LogField = std::pair<std::string_view, std::string>;

bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view event,
         std::initializer_list<LogField> fields = {});

}  // namespace handoff
