#include "common/enums.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff {

absl::StatusOr<int> ParseEnumName(std::string_view field,
                                  std::string_view value,
                                  const google::protobuf::EnumDescriptor* type,
                                  std::string_view prefix) {
  std::string upper = absl::AsciiStrToUpper(Sv(value));
  if (!absl::StartsWith(upper, Sv(prefix)))
    upper = absl::StrCat(Sv(prefix), upper);
  const google::protobuf::EnumValueDescriptor* found =
      type->FindValueByName(upper);
  if (found == nullptr || found->number() == 0) {
    return InvalidField(field,
                        absl::StrCat("unknown value \"", Sv(value), "\""));
  }
  return found->number();
}

absl::Status CheckEnum(std::string_view field, int value,
                       const google::protobuf::EnumDescriptor* type,
                       bool allow_unspecified) {
  if (value == 0) {
    return allow_unspecified ? absl::OkStatus()
                             : InvalidField(field, "required");
  }
  if (type->FindValueByNumber(value) == nullptr) {
    return InvalidField(field, absl::StrCat("unknown value ", value));
  }
  return absl::OkStatus();
}

std::string ShortEnumName(int value,
                          const google::protobuf::EnumDescriptor* type,
                          std::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* found =
      type->FindValueByNumber(value);
  if (found == nullptr) return absl::StrCat(value);
  absl::string_view name = found->name();
  if (absl::StartsWith(name, Sv(prefix))) name.remove_prefix(prefix.size());
  return std::string(name);
}

}  // namespace handoff
