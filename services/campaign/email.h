#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace handoff::campaign {

// The dedupe key of a lead: the address trimmed and lower-cased, or
// INVALID_ARGUMENT "<field>: ..." when it is not a plausible address
// (local@domain.tld, no spaces, at most 254 characters).
//
// The whole address is lower-cased although local parts are case-sensitive
// in theory: no mail provider in use treats them so, and two leads for
// "Ann@x.com" and "ann@x.com" would be the duplicate dedupe exists to avoid.
absl::StatusOr<std::string> NormalizeEmail(std::string_view field,
                                           std::string_view email);

}  // namespace handoff::campaign
