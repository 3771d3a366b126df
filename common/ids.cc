#include "common/ids.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff {
namespace {

absl::BitGen& Generator() {
  thread_local absl::BitGen gen;
  return gen;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string IdTimePrefix(absl::Time t) {
  return absl::StrFormat("%013x", std::max<int64_t>(0, absl::ToUnixMicros(t)));
}

std::string NewId(absl::Time now) {
  const uint32_t random = absl::Uniform<uint32_t>(Generator(), 0, 1u << 28);
  return absl::StrCat(IdTimePrefix(now), absl::StrFormat("%07x", random));
}

std::string ResourceName(std::string_view collection, std::string_view id) {
  return absl::StrCat(Sv(collection), "/", Sv(id));
}

absl::StatusOr<std::string> ParseResourceName(std::string_view field,
                                              std::string_view name,
                                              std::string_view collection) {
  if (name.empty()) return InvalidField(field, "required");
  const std::string prefix = absl::StrCat(Sv(collection), "/");
  if (!name.starts_with(prefix) || !IsValidId(name.substr(prefix.size()))) {
    return InvalidField(field, absl::StrCat("\"", Sv(name), "\" is not a ",
                                            Sv(collection), "/{id} name"));
  }
  return std::string(name.substr(prefix.size()));
}

std::string NewEtag() {
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(Generator()));
}

}  // namespace handoff
