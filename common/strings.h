#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace handoff {

// Debian's Abseil has its own absl::string_view (not std::string_view), so
// absl::StrCat and friends need this bridge for std::string_view arguments.
inline absl::string_view Sv(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace handoff
