#include "common/listing.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr std::string_view kTokenPrefix = "after:";

void SkipSpace(std::string_view& s) {
  while (!s.empty() && absl::ascii_isspace(s.front())) s.remove_prefix(1);
}

}  // namespace

absl::StatusOr<PageRequest> ParsePage(int32_t page_size,
                                      std::string_view page_token) {
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  PageRequest page;
  page.limit = page_size == 0 ? kDefaultPageSize
                              : std::min<int32_t>(page_size, kMaxPageSize);
  if (!page_token.empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(Sv(page_token), &decoded) ||
        !std::string_view(decoded).starts_with(kTokenPrefix)) {
      return InvalidField("page_token", "not a token from a previous response");
    }
    page.after_key = decoded.substr(kTokenPrefix.size());
  }
  return page;
}

std::string MakePageToken(std::string_view last_key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(Sv(kTokenPrefix), Sv(last_key)));
}

absl::StatusOr<std::map<std::string, std::string>> ParseFilter(
    std::string_view filter, std::initializer_list<std::string_view> allowed) {
  std::map<std::string, std::string> terms;
  std::string_view rest = filter;
  SkipSpace(rest);
  while (!rest.empty()) {
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) {
      return InvalidField("filter", "expected key=value terms joined by AND");
    }
    std::string key(absl::StripAsciiWhitespace(Sv(rest.substr(0, eq))));
    absl::AsciiStrToLower(&key);
    rest.remove_prefix(eq + 1);
    SkipSpace(rest);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) {
        return InvalidField("filter", "unterminated quoted value");
      }
      value = std::string(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
    } else {
      size_t end = 0;
      while (end < rest.size() && !absl::ascii_isspace(rest[end])) ++end;
      value = std::string(rest.substr(0, end));
      rest.remove_prefix(end);
    }
    if (key.empty() || value.empty()) {
      return InvalidField("filter", "empty key or value");
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (std::string_view name : allowed) {
        absl::StrAppend(&names, names.empty() ? "" : ", ", Sv(name));
      }
      return InvalidField("filter", absl::StrCat("unknown field \"", key,
                                                 "\"; allowed: ", names));
    }
    if (!terms.emplace(key, value).second) {
      return InvalidField("filter", absl::StrCat("\"", key, "\" given twice"));
    }
    SkipSpace(rest);
    if (rest.empty()) break;
    if (rest.size() < 4 ||
        !absl::EqualsIgnoreCase(Sv(rest.substr(0, 3)), "and") ||
        !absl::ascii_isspace(rest[3])) {
      return InvalidField("filter", "terms must be joined by AND");
    }
    rest.remove_prefix(3);
    SkipSpace(rest);
    if (rest.empty()) return InvalidField("filter", "dangling AND");
  }
  return terms;
}

}  // namespace handoff
