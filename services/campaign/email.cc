#include "services/campaign/email.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"

namespace handoff::campaign {
namespace {

constexpr size_t kMaxEmail = 254;
constexpr size_t kMaxLocalPart = 64;
constexpr size_t kMaxLabel = 63;

bool IsLocalChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) !=
         std::string_view::npos;
}

bool IsLabelChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(std::string_view field,
                                           std::string_view email) {
  std::string normalized = absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      absl::string_view(email.data(), email.size())));
  if (normalized.empty()) return InvalidField(field, "required");
  if (normalized.size() > kMaxEmail) {
    return InvalidField(field, "longer than 254 characters");
  }
  const size_t at = normalized.find('@');
  if (at == std::string::npos ||
      normalized.find('@', at + 1) != std::string::npos) {
    return InvalidField(field, "must contain exactly one '@'");
  }
  std::string_view local = std::string_view(normalized).substr(0, at);
  std::string_view domain = std::string_view(normalized).substr(at + 1);
  if (local.empty() || local.size() > kMaxLocalPart) {
    return InvalidField(field, "part before '@' must be 1-64 characters");
  }
  for (char c : local) {
    if (!IsLocalChar(c)) {
      return InvalidField(field, "part before '@' has a character not allowed");
    }
  }
  if (local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return InvalidField(field, "part before '@' has a misplaced '.'");
  }
  std::vector<std::string> labels =
      absl::StrSplit(absl::string_view(domain.data(), domain.size()), '.');
  if (labels.size() < 2) {
    return InvalidField(field, "domain must have at least two labels");
  }
  for (std::string_view label : labels) {
    if (label.empty() || label.size() > kMaxLabel) {
      return InvalidField(field, "domain label must be 1-63 characters");
    }
    for (char c : label) {
      if (!IsLabelChar(c)) {
        return InvalidField(field, "domain has a character not allowed");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return InvalidField(field, "domain label starts or ends with '-'");
    }
  }
  const std::string& tld = labels.back();
  if (tld.size() < 2 ||
      absl::ascii_isdigit(static_cast<unsigned char>(tld[0]))) {
    return InvalidField(field, "top-level domain is not valid");
  }
  return normalized;
}

}  // namespace handoff::campaign
