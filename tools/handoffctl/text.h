#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

// Plain-text rendering shared by the resource commands and the demo.
namespace handoff::ctl {

// "MQL" for LEAD_STAGE_MQL: the value name without the prefix its
// *_UNSPECIFIED value shows. Unknown numbers render as the number.
std::string EnumShortName(const google::protobuf::EnumDescriptor* type,
                          int value);

// Accepts "mql", "MQL" or "LEAD_STAGE_MQL"; INVALID_ARGUMENT naming `option`
// (and listing the choices) otherwise. The zero value is never accepted.
absl::StatusOr<int> ParseEnumOption(
    std::string_view option, std::string_view text,
    const google::protobuf::EnumDescriptor* type);

// "2026-03-31" (midnight UTC), RFC 3339, or relative to `now` as "+30d",
// "+12h", "-90m"; INVALID_ARGUMENT naming `option` otherwise.
absl::StatusOr<absl::Time> ParseTimeOption(std::string_view option,
                                           std::string_view text,
                                           absl::Time now);

// "abc" -> "leads/abc", so commands take ids as well as resource names.
std::string QualifyName(std::string_view collection,
                        std::string_view name_or_id);

// Every field that is set, one "name: value" line each, nested messages
// indented; timestamps as RFC 3339, money as FormatMoney, enums short.
std::string RenderMessage(const google::protobuf::Message& message);

// Protobuf JSON (lowerCamelCase field names, as the proto3 JSON mapping asks).
std::string RenderJson(const google::protobuf::Message& message);

// Columns separated by two spaces, sized to their widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) {
    rows_.push_back(std::move(header));
  }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Numbers read best right-aligned.
  void AlignRight(size_t column);
  size_t size() const { return rows_.size() - 1; }
  std::string Render(bool with_header = true) const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

}  // namespace handoff::ctl
