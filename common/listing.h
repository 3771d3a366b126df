#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// Paging and filtering shared by every List method.
namespace handoff {

struct PageRequest {
  // Rows to return; one more is fetched to know whether a next page exists.
  int limit = 50;
  // Return rows whose key sorts after this; empty for the first page.
  std::string after_key;
};

// page_size 0 means 50; negative is INVALID_ARGUMENT; above 1000 is capped.
// A token that was not made by MakePageToken is INVALID_ARGUMENT.
absl::StatusOr<PageRequest> ParsePage(int32_t page_size,
                                      std::string_view page_token);
// Opaque token that resumes after `last_key`.
std::string MakePageToken(std::string_view last_key);

// Parses `key=value` terms joined by AND (case-insensitive), e.g.
// `stage=MQL AND campaign="campaigns/x"`. A key not in `allowed`, a repeated
// key or a malformed term is INVALID_ARGUMENT naming `filter`.
absl::StatusOr<std::map<std::string, std::string>> ParseFilter(
    std::string_view filter, std::initializer_list<std::string_view> allowed);

}  // namespace handoff
