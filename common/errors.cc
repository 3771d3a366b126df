#include "common/errors.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace handoff {

absl::Status InvalidField(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": ", Sv(problem)));
}

absl::Status NotFound(std::string_view name) {
  return absl::NotFoundError(absl::StrCat(Sv(name), " not found"));
}

absl::Status WrongState(std::string_view name, std::string_view problem) {
  return absl::FailedPreconditionError(
      absl::StrCat(Sv(name), ": ", Sv(problem)));
}

absl::Status StaleEtag(std::string_view name, std::string_view given,
                       std::string_view current) {
  return absl::AbortedError(absl::StrCat(Sv(name), ": etag \"", Sv(given),
                                         "\" does not match current etag \"",
                                         Sv(current), "\"; re-read and retry"));
}

}  // namespace handoff
