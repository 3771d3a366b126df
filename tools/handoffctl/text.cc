#include "tools/handoffctl/text.h"

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/strings.h"
#include "handoff/type/money.pb.h"
#include "tools/handoffctl/report.h"

namespace handoff::ctl {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string EnumPrefix(const EnumDescriptor* type) {
  const auto* zero = type->FindValueByNumber(0);
  if (zero == nullptr) return "";
  absl::string_view name = zero->name();
  constexpr absl::string_view kUnspecified = "UNSPECIFIED";
  if (!absl::EndsWith(name, kUnspecified)) return "";
  return std::string(name.substr(0, name.size() - kUnspecified.size()));
}

// A message that reads best as one value rather than as a block of fields.
bool RenderInline(const Message& message, std::string* out) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    *out = FormatTimestamp(
        static_cast<const google::protobuf::Timestamp&>(message));
    return true;
  }
  if (type == "google.protobuf.Duration") {
    *out = google::protobuf::util::TimeUtil::ToString(
        static_cast<const google::protobuf::Duration&>(message));
    return true;
  }
  if (type == "google.protobuf.FieldMask") {
    const auto& mask = static_cast<const google::protobuf::FieldMask&>(message);
    *out = absl::StrJoin(mask.paths(), ",");
    return true;
  }
  if (type == "handoff.type.Money") {
    *out = FormatMoney(static_cast<const type::Money&>(message));
    return true;
  }
  return false;
}

std::string ScalarText(const Message& message, const FieldDescriptor* field,
                       int index) {
  const Reflection* r = message.GetReflection();
  bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? r->GetRepeatedInt32(message, field, index)
                                   : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? r->GetRepeatedInt64(message, field, index)
                                   : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(repeated ? r->GetRepeatedUInt32(message, field, index)
                                   : r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(repeated ? r->GetRepeatedUInt64(message, field, index)
                                   : r->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(repeated ? r->GetRepeatedDouble(message, field, index)
                                   : r->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(repeated ? r->GetRepeatedFloat(message, field, index)
                                   : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r->GetRepeatedBool(message, field, index)
                       : r->GetBool(message, field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumShortName(field->enum_type(),
                           repeated
                               ? r->GetRepeatedEnumValue(message, field, index)
                               : r->GetEnumValue(message, field));
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? r->GetRepeatedString(message, field, index)
                      : r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

void Render(const Message& message, int indent, std::string* out);

void RenderField(const Message& message, const FieldDescriptor* field,
                 int indent, std::string* out) {
  const Reflection* r = message.GetReflection();
  std::string pad(indent, ' ');
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!field->is_repeated()) {
      absl::StrAppend(out, pad, field->name(), ": ",
                      ScalarText(message, field, 0), "\n");
      return;
    }
    std::vector<std::string> items;
    for (int i = 0; i < r->FieldSize(message, field); ++i) {
      items.push_back(ScalarText(message, field, i));
    }
    absl::StrAppend(out, pad, field->name(), ": ", absl::StrJoin(items, ", "),
                    "\n");
    return;
  }
  if (!field->is_repeated()) {
    const Message& sub = r->GetMessage(message, field);
    std::string inline_text;
    if (RenderInline(sub, &inline_text)) {
      absl::StrAppend(out, pad, field->name(), ": ", inline_text, "\n");
      return;
    }
    absl::StrAppend(out, pad, field->name(), ":\n");
    Render(sub, indent + 2, out);
    return;
  }
  absl::StrAppend(out, pad, field->name(), ":\n");
  for (int i = 0; i < r->FieldSize(message, field); ++i) {
    const Message& sub = r->GetRepeatedMessage(message, field, i);
    std::string inline_text;
    if (RenderInline(sub, &inline_text)) {
      absl::StrAppend(out, pad, "  - ", inline_text, "\n");
      continue;
    }
    // "- " marks where each element starts; its fields align after it.
    std::string element;
    Render(sub, indent + 4, &element);
    if (element.size() >= static_cast<size_t>(indent + 4)) {
      element.replace(indent + 2, 2, "- ");
    }
    absl::StrAppend(out, element);
  }
}

void Render(const Message& message, int indent, std::string* out) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    RenderField(message, field, indent, out);
  }
}

}  // namespace

std::string EnumShortName(const EnumDescriptor* type, int value) {
  const auto* v = type->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  std::string prefix = EnumPrefix(type);
  absl::string_view name = v->name();
  if (!prefix.empty() && absl::StartsWith(name, prefix))
    name.remove_prefix(prefix.size());
  return std::string(name);
}

absl::StatusOr<int> ParseEnumOption(std::string_view option,
                                    std::string_view text,
                                    const EnumDescriptor* type) {
  std::string upper = absl::AsciiStrToUpper(Sv(text));
  std::string prefix = EnumPrefix(type);
  std::vector<std::string> choices;
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (v->number() == 0) continue;
    std::string short_name = EnumShortName(type, v->number());
    if (upper == v->name() || upper == short_name) return v->number();
    choices.push_back(short_name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(Sv(option), ": unknown value \"", Sv(text), "\"; one of ",
                   absl::StrJoin(choices, ", ")));
}

absl::StatusOr<absl::Time> ParseTimeOption(std::string_view option,
                                           std::string_view text,
                                           absl::Time now) {
  absl::string_view s = absl::StripAsciiWhitespace(Sv(text));
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    absl::string_view number = s.substr(1);
    absl::Duration unit;
    if (absl::EndsWith(number, "d")) {
      unit = absl::Hours(24);
    } else if (absl::EndsWith(number, "h")) {
      unit = absl::Hours(1);
    } else if (absl::EndsWith(number, "m")) {
      unit = absl::Minutes(1);
    } else if (absl::EndsWith(number, "s")) {
      unit = absl::Seconds(1);
    }
    int64_t count = 0;
    if (unit != absl::ZeroDuration() &&
        absl::SimpleAtoi(number.substr(0, number.size() - 1), &count) &&
        count >= 0) {
      return s.front() == '+' ? now + count * unit : now - count * unit;
    }
  } else {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, s, &t, &error)) return t;
    if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &error))
      return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      Sv(option), ": \"", Sv(text),
      "\" is not a time (use 2026-03-31, RFC 3339 or +30d/+12h/+90m)"));
}

std::string QualifyName(std::string_view collection,
                        std::string_view name_or_id) {
  if (name_or_id.find('/') != std::string_view::npos)
    return std::string(name_or_id);
  return absl::StrCat(Sv(collection), "/", Sv(name_or_id));
}

std::string RenderMessage(const Message& message) {
  std::string out;
  Render(message, 0, &out);
  return out;
}

std::string RenderJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string out;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok())
    return absl::StrCat("{\"error\": \"", status.ToString(), "\"}\n");
  return out;
}

void Table::AlignRight(size_t column) {
  if (right_.size() <= column) right_.resize(column + 1, false);
  right_[column] = true;
}

std::string Table::Render(bool with_header) const {
  size_t first = with_header ? 0 : 1;
  std::vector<size_t> widths;
  for (size_t r = first; r < rows_.size(); ++r) {
    const auto& row = rows_[r];
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = first; r < rows_.size(); ++r) {
    const auto& row = rows_[r];
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string padding(widths[i] - row[i].size(), ' ');
      bool right = i < right_.size() && right_[i];
      if (i > 0) line += "  ";
      line += right ? padding + row[i] : row[i] + padding;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace handoff::ctl
