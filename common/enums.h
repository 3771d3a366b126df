#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace handoff {

// Resolves a filter value such as "MQL" or "LEAD_STAGE_MQL" to a value of
// `type`, whose names share `prefix` (e.g. "LEAD_STAGE_").
absl::StatusOr<int> ParseEnumName(std::string_view field,
                                  std::string_view value,
                                  const google::protobuf::EnumDescriptor* type,
                                  std::string_view prefix);

// INVALID_ARGUMENT naming `field` unless `value` is a defined value of `type`
// (and not the zero value, unless `allow_unspecified`).
absl::Status CheckEnum(std::string_view field, int value,
                       const google::protobuf::EnumDescriptor* type,
                       bool allow_unspecified = false);

// "MQL" for LEAD_STAGE_MQL given prefix "LEAD_STAGE_"; for labels and output.
std::string ShortEnumName(int value,
                          const google::protobuf::EnumDescriptor* type,
                          std::string_view prefix);

}  // namespace handoff
