#pragma once

#include <string_view>

#include "absl/status/status.h"

// Canonical errors whose message names the field or resource, so a caller
// knows what to fix. Domain code uses these; the RPC edge converts them.
namespace handoff {

// INVALID_ARGUMENT "<field>: <problem>".
absl::Status InvalidField(std::string_view field, std::string_view problem);
// NOT_FOUND "<name> not found".
absl::Status NotFound(std::string_view name);
// FAILED_PRECONDITION "<name>: <problem>".
absl::Status WrongState(std::string_view name, std::string_view problem);
// ABORTED "<name>: etag ... does not match ...".
absl::Status StaleEtag(std::string_view name, std::string_view given,
                       std::string_view current);

}  // namespace handoff
