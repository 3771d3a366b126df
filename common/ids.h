#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace handoff {

// A new resource id: 13 hex digits of microseconds since the epoch and 7
// random hex digits, so ids sort by creation time (keyset pagination relies
// on that) and do not collide.
std::string NewId(absl::Time now);

// The time part of NewId(t): an id made at or after `t` compares >= it, one
// made before compares less.
std::string IdTimePrefix(absl::Time t);

// "<collection>/<id>".
std::string ResourceName(std::string_view collection, std::string_view id);

// Checks that `name` (the value of request field `field`) is
// "<collection>/<id>" with a well-formed id and returns the id; otherwise
// INVALID_ARGUMENT naming the field.
absl::StatusOr<std::string> ParseResourceName(std::string_view field,
                                              std::string_view name,
                                              std::string_view collection);

// A new etag for a resource version.
std::string NewEtag();

}  // namespace handoff
