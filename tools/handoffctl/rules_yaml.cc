#include "tools/handoffctl/rules_yaml.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/strings.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {
namespace {

namespace pb = google::protobuf;
namespace v1 = routing::v1;
using pb::Descriptor;
using pb::FieldDescriptor;
using pb::Message;
using pb::Reflection;

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

// Employee bounds of the segments as RuleCondition writes them (0 is
// unbounded); the segment table is in services/routing/engine/regions.h.
struct SegmentBounds {
  v1::CompanySegment segment;
  int32_t min_employees;
  int32_t max_employees;
};
constexpr SegmentBounds kSegments[] = {
    {v1::COMPANY_SEGMENT_SMB, 0, 199},
    {v1::COMPANY_SEGMENT_MID_MARKET, 200, 999},
    {v1::COMPANY_SEGMENT_ENTERPRISE, 1000, 0},
};
constexpr int kSegmentCount = 3;

constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu",
                                     "fri", "sat", "sun"};
constexpr const char* kLongDayNames[] = {"monday",   "tuesday", "wednesday",
                                         "thursday", "friday",  "saturday",
                                         "sunday"};

// Protobuf's limit on a Duration, about 10,000 years.
constexpr int64_t kMaxDurationSeconds = 315576000000;

std::string Join(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return absl::StrCat(Sv(path), ".", Sv(name));
}

std::string Index(std::string_view path, size_t i) {
  return absl::StrCat(Sv(path), "[", i, "]");
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// ISO day of week 1..7 for "mon", "Monday" or "1".
std::optional<int> ParseDay(absl::string_view text) {
  std::string s = Lower(absl::StripAsciiWhitespace(text));
  for (int i = 0; i < 7; ++i) {
    if (s == kDayNames[i] || s == kLongDayNames[i]) return i + 1;
  }
  int n = 0;
  if (absl::SimpleAtoi(s, &n) && n >= 1 && n <= 7) return n;
  return std::nullopt;
}

// Minutes after midnight for "09:00" or "9:30"; "24:00" only as an end.
std::optional<int> ParseClock(absl::string_view text, bool end) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ':');
  if (parts.size() != 2 || parts[0].empty() || parts[0].size() > 2 ||
      parts[1].size() != 2) {
    return std::nullopt;
  }
  int h = 0, m = 0;
  if (!absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) ||
      h < 0 || m < 0 || m > 59) {
    return std::nullopt;
  }
  int minutes = h * 60 + m;
  if (h > 24 || minutes > 1440 || (minutes == 1440 && !end))
    return std::nullopt;
  return minutes;
}

std::string FormatClock(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

std::string EnumYamlName(const pb::EnumDescriptor* type, int value) {
  return Lower(EnumShortName(type, value));
}

pb::Duration ToDuration(absl::Duration d) {
  pb::Duration out;
  int64_t seconds = absl::ToInt64Seconds(d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(d - absl::Seconds(seconds))));
  return out;
}

absl::Duration FromDuration(const pb::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// The segments whose bounds are exactly [min, max], adjacent ones merged;
// empty when no run of segments has these bounds.
std::vector<int> SegmentsOf(int32_t min_employees, int32_t max_employees) {
  for (int lo = 0; lo < kSegmentCount; ++lo) {
    if (kSegments[lo].min_employees != min_employees) continue;
    for (int hi = lo; hi < kSegmentCount; ++hi) {
      if (kSegments[hi].max_employees != max_employees) continue;
      std::vector<int> out;
      for (int i = lo; i <= hi; ++i) out.push_back(i);
      return out;
    }
  }
  return {};
}

// ---- reading ---------------------------------------------------------------

class Reader {
 public:
  Reader(std::string_view source, RuleSetSourceMap* where)
      : source_(source), where_(where) {}

  absl::Status Fail(const YAML::Node& node, std::string_view path,
                    std::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Position(node), ": ", path.empty() ? "rule set" : Sv(path),
                     ": ", Sv(problem)));
  }

  absl::Status ReadMessage(const YAML::Node& node, const std::string& path,
                           Message* message) const;

 private:
  // "<source>:<line>:<column>" of the node; the source alone when unknown.
  std::string Position(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return source_;
    return absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1);
  }
  // Notes that the field at proto path `path` was given at `node`.
  void Record(const YAML::Node& node, const std::string& path) const {
    if (where_ != nullptr && recording_) where_->emplace(path, Position(node));
  }

  absl::Status ReadField(const YAML::Node& node, const std::string& path,
                         Message* message, const FieldDescriptor* field) const;
  // Sets the field, or adds to it when repeated.
  absl::Status ReadScalar(const YAML::Node& node, const std::string& path,
                          Message* message, const FieldDescriptor* field) const;
  absl::Status ReadSubmessage(const YAML::Node& node, const std::string& path,
                              Message* message) const;
  absl::Status ReadWorkingHours(const YAML::Node& node, const std::string& path,
                                v1::WorkingHours* hours) const;
  absl::Status ReadWindowShorthand(const YAML::Node& node,
                                   const std::string& path,
                                   v1::WorkingHours* hours) const;
  absl::Status ReadDays(const YAML::Node& node, const std::string& path,
                        std::vector<int>* days) const;
  absl::Status ReadSegments(const YAML::Node& node, const std::string& path,
                            v1::RuleCondition* condition) const;
  absl::Status ReadWarningAt(const YAML::Node& node, const std::string& path,
                             v1::SlaPolicy* policy) const;
  absl::StatusOr<int> ReadEnum(const YAML::Node& node, const std::string& path,
                               const pb::EnumDescriptor* type) const;

  std::string source_;
  RuleSetSourceMap* where_;
  // Off below shorthands whose elements land at other proto indexes.
  mutable bool recording_ = true;
};

const FieldDescriptor* FindField(const Descriptor* d, const std::string& key) {
  if (const FieldDescriptor* f = d->FindFieldByName(key)) return f;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == key) return d->field(i);
  }
  return nullptr;
}

std::string FieldChoices(const Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i)
    names.push_back(d->field(i)->name());
  if (d == v1::RuleCondition::descriptor()) names.push_back("segments");
  if (d == v1::SlaPolicy::descriptor()) names.push_back("warning_at");
  return absl::StrJoin(names, ", ");
}

absl::Status Reader::ReadMessage(const YAML::Node& node,
                                 const std::string& path,
                                 Message* message) const {
  if (!node.IsMap()) return Fail(node, path, "expected a mapping of fields");
  const Descriptor* d = message->GetDescriptor();
  // Proto field -> the key that set it, so a field given twice (directly or
  // through a shorthand) is an error rather than a silent override.
  std::map<std::string, std::string> given;
  auto claim = [&](const YAML::Node& key, const std::string& key_path,
                   const std::string& field,
                   const std::string& by) -> absl::Status {
    auto [it, inserted] = given.emplace(field, by);
    if (inserted) return absl::OkStatus();
    return Fail(key, key_path,
                it->second == by ? std::string("given twice")
                                 : absl::StrCat("conflicts with ", it->second));
  };
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    const YAML::Node& value = item.second;
    if (!key.IsScalar()) return Fail(key, path, "field names must be text");
    const std::string& name = key.Scalar();
    std::string field_path = Join(path, name);
    if (d == v1::RuleCondition::descriptor() && name == "segments") {
      RETURN_IF_ERROR(claim(key, field_path, "min_employees", name));
      RETURN_IF_ERROR(claim(key, field_path, "max_employees", name));
      Record(key, Join(path, "min_employees"));
      Record(key, Join(path, "max_employees"));
      if (value.IsNull()) continue;
      RETURN_IF_ERROR(ReadSegments(value, field_path,
                                   static_cast<v1::RuleCondition*>(message)));
      continue;
    }
    if (d == v1::SlaPolicy::descriptor() && name == "warning_at") {
      RETURN_IF_ERROR(claim(key, field_path, "warning_fraction_bp", name));
      Record(key, Join(path, "warning_fraction_bp"));
      if (value.IsNull()) continue;
      RETURN_IF_ERROR(ReadWarningAt(value, field_path,
                                    static_cast<v1::SlaPolicy*>(message)));
      continue;
    }
    const FieldDescriptor* field = FindField(d, name);
    if (field == nullptr) {
      return Fail(key, field_path,
                  absl::StrCat("unknown field; one of ", FieldChoices(d)));
    }
    // Below here paths name proto fields, as the server's errors do.
    field_path = Join(path, field->name());
    RETURN_IF_ERROR(claim(key, field_path, field->name(), name));
    Record(key, field_path);
    if (const pb::OneofDescriptor* oneof = field->containing_oneof()) {
      std::vector<std::string> members;
      for (int i = 0; i < oneof->field_count(); ++i)
        members.push_back(oneof->field(i)->name());
      for (int i = 0; i < oneof->field_count(); ++i) {
        const FieldDescriptor* other = oneof->field(i);
        if (other != field && given.count(other->name()) > 0) {
          return Fail(key, field_path,
                      absl::StrCat("conflicts with ", other->name(),
                                   "; give only one of ",
                                   absl::StrJoin(members, ", ")));
        }
      }
    }
    if (value.IsNull()) continue;
    RETURN_IF_ERROR(ReadField(value, field_path, message, field));
  }
  if (d == v1::RoutingRule::descriptor()) {
    auto* rule = static_cast<v1::RoutingRule*>(message);
    if (!rule->name().empty())
      rule->set_name(QualifyName("rules", rule->name()));
  } else if (d == v1::RepPool::descriptor()) {
    for (std::string& rep : *static_cast<v1::RepPool*>(message)->mutable_reps())
      rep = QualifyName("reps", rep);
  } else if (d == v1::RuleCondition::descriptor()) {
    for (std::string& persona :
         *static_cast<v1::RuleCondition*>(message)->mutable_personas())
      persona = QualifyName("personas", persona);
  }
  return absl::OkStatus();
}

absl::Status Reader::ReadField(const YAML::Node& node, const std::string& path,
                               Message* message,
                               const FieldDescriptor* field) const {
  const Reflection* r = message->GetReflection();
  bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!field->is_repeated()) {
    if (is_message)
      return ReadSubmessage(node, path, r->MutableMessage(message, field));
    return ReadScalar(node, path, message, field);
  }
  // A single value stands for a list of one: `territories: DE`.
  if (node.IsScalar() && !is_message) {
    Record(node, Index(path, 0));
    return ReadScalar(node, Index(path, 0), message, field);
  }
  if (!node.IsSequence()) return Fail(node, path, "expected a list");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& element = node[i];
    Record(element, Index(path, i));
    if (is_message) {
      RETURN_IF_ERROR(ReadSubmessage(element, Index(path, i),
                                     r->AddMessage(message, field)));
    } else {
      RETURN_IF_ERROR(ReadScalar(element, Index(path, i), message, field));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Reader::ReadEnum(const YAML::Node& node,
                                     const std::string& path,
                                     const pb::EnumDescriptor* type) const {
  std::string upper = absl::AsciiStrToUpper(node.Scalar());
  std::vector<std::string> choices;
  for (int i = 0; i < type->value_count(); ++i) {
    const pb::EnumValueDescriptor* v = type->value(i);
    if (v->number() == 0) continue;
    std::string short_name = EnumShortName(type, v->number());
    if (upper == v->name() || upper == short_name) return v->number();
    choices.push_back(Lower(short_name));
  }
  return Fail(node, path,
              absl::StrCat("unknown value \"", node.Scalar(), "\"; one of ",
                           absl::StrJoin(choices, ", ")));
}

absl::Status Reader::ReadScalar(const YAML::Node& node, const std::string& path,
                                Message* message,
                                const FieldDescriptor* field) const {
  if (!node.IsScalar()) return Fail(node, path, "expected a single value");
  const Reflection* r = message->GetReflection();
  const std::string& text = node.Scalar();
  bool add = field->is_repeated();
  auto not_a = [&](std::string_view what) {
    return Fail(node, path, absl::StrCat("\"", text, "\" is not ", Sv(what)));
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return not_a("an integer");
      add ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return not_a("an integer");
      add ? r->AddInt64(message, field, v) : r->SetInt64(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return not_a("a non-negative integer");
      add ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return not_a("a non-negative integer");
      add ? r->AddUInt64(message, field, v) : r->SetUInt64(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = 0;
      if (!absl::SimpleAtod(text, &v)) return not_a("a number");
      add ? r->AddDouble(message, field, v) : r->SetDouble(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float v = 0;
      if (!absl::SimpleAtof(text, &v)) return not_a("a number");
      add ? r->AddFloat(message, field, v) : r->SetFloat(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      std::string s = Lower(text);
      bool v;
      if (s == "true" || s == "yes" || s == "on") {
        v = true;
      } else if (s == "false" || s == "no" || s == "off") {
        v = false;
      } else {
        return not_a("true or false");
      }
      add ? r->AddBool(message, field, v) : r->SetBool(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      auto v = ReadEnum(node, path, field->enum_type());
      if (!v.ok()) return v.status();
      add ? r->AddEnumValue(message, field, *v)
          : r->SetEnumValue(message, field, *v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING:
      add ? r->AddString(message, field, text)
          : r->SetString(message, field, text);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return Fail(node, path, "unsupported field type");
}

absl::Status Reader::ReadSubmessage(const YAML::Node& node,
                                    const std::string& path,
                                    Message* message) const {
  const Descriptor* d = message->GetDescriptor();
  if (d == pb::Duration::descriptor()) {
    if (!node.IsScalar()) return Fail(node, path, "expected a duration");
    absl::Duration value;
    if (!absl::ParseDuration(node.Scalar(), &value) ||
        value == absl::InfiniteDuration() ||
        value == -absl::InfiniteDuration() ||
        absl::AbsDuration(value) > absl::Seconds(kMaxDurationSeconds)) {
      return Fail(node, path,
                  absl::StrCat("\"", node.Scalar(),
                               "\" is not a duration; write it with units, "
                               "e.g. 90s, 5m, 2h, 1h30m"));
    }
    static_cast<pb::Duration*>(message)->CopyFrom(ToDuration(value));
    return absl::OkStatus();
  }
  if (d == pb::Timestamp::descriptor()) {
    if (!node.IsScalar()) return Fail(node, path, "expected a time");
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, node.Scalar(), &t, &error)) {
      return Fail(node, path,
                  absl::StrCat("\"", node.Scalar(),
                               "\" is not an RFC 3339 time, e.g. "
                               "2026-03-02T09:00:00Z"));
    }
    auto* ts = static_cast<pb::Timestamp*>(message);
    ts->set_seconds(absl::ToUnixSeconds(t));
    ts->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(ts->seconds()))));
    return absl::OkStatus();
  }
  if (d == v1::WorkingHours::descriptor()) {
    return ReadWorkingHours(node, path,
                            static_cast<v1::WorkingHours*>(message));
  }
  if (d == v1::RepPool::descriptor() && node.IsSequence()) {
    auto* pool = static_cast<v1::RepPool*>(message);
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar())
        return Fail(node[i], Index(path, i), "expected a rep name");
      pool->add_reps(QualifyName("reps", node[i].Scalar()));
    }
    return absl::OkStatus();
  }
  return ReadMessage(node, path, message);
}

absl::Status Reader::ReadWorkingHours(const YAML::Node& node,
                                      const std::string& path,
                                      v1::WorkingHours* hours) const {
  YAML::Node list = node;
  std::string list_path = path;
  if (node.IsMap()) {
    for (const auto& item : node) {
      if (!item.first.IsScalar() || item.first.Scalar() != "windows") {
        return Fail(item.first, path,
                    "expected a list of windows (or windows: [...])");
      }
    }
    list = node["windows"];
    list_path = Join(path, "windows");
    if (!list || list.IsNull()) return absl::OkStatus();
  }
  if (!list.IsSequence()) {
    return Fail(list, list_path,
                "expected a list of windows, e.g. "
                "{days: [mon-fri], start: \"09:00\", end: \"17:00\"}");
  }
  // The windows are sorted (and shorthands expanded) below, so a window's
  // index in the file is not its index in the message.
  recording_ = false;
  absl::Cleanup record_again = [this] { recording_ = true; };
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& entry = list[i];
    if (entry.IsMap() && entry["days"]) {
      RETURN_IF_ERROR(ReadWindowShorthand(entry, Index(list_path, i), hours));
    } else {
      RETURN_IF_ERROR(
          ReadMessage(entry, Index(list_path, i), hours->add_windows()));
    }
  }
  // Order carries no meaning; a canonical one makes YAML round trips exact.
  std::sort(hours->mutable_windows()->begin(), hours->mutable_windows()->end(),
            [](const v1::WeeklyWindow& a, const v1::WeeklyWindow& b) {
              return std::make_tuple(a.day_of_week(), a.start_minute(),
                                     a.end_minute()) <
                     std::make_tuple(b.day_of_week(), b.start_minute(),
                                     b.end_minute());
            });
  return absl::OkStatus();
}

absl::Status Reader::ReadDays(const YAML::Node& node, const std::string& path,
                              std::vector<int>* days) const {
  auto read_one = [&](const YAML::Node& item,
                      const std::string& item_path) -> absl::Status {
    if (!item.IsScalar()) return Fail(item, item_path, "expected a day");
    std::vector<absl::string_view> range = absl::StrSplit(item.Scalar(), '-');
    std::optional<int> first =
        range.size() <= 2 ? ParseDay(range[0]) : std::nullopt;
    std::optional<int> last = range.size() == 2 ? ParseDay(range[1]) : first;
    if (!first || !last || *first > *last) {
      return Fail(item, item_path,
                  absl::StrCat("\"", item.Scalar(),
                               "\" is not a day (mon..sun, 1..7) or a range "
                               "of days (mon-fri)"));
    }
    for (int d = *first; d <= *last; ++d) days->push_back(d);
    return absl::OkStatus();
  };
  if (node.IsScalar()) return read_one(node, path);
  if (!node.IsSequence()) return Fail(node, path, "expected a list of days");
  for (size_t i = 0; i < node.size(); ++i)
    RETURN_IF_ERROR(read_one(node[i], Index(path, i)));
  if (days->empty()) return Fail(node, path, "no days given");
  return absl::OkStatus();
}

absl::Status Reader::ReadWindowShorthand(const YAML::Node& node,
                                         const std::string& path,
                                         v1::WorkingHours* hours) const {
  std::vector<int> days;
  std::optional<int> start, end;
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    const YAML::Node& value = item.second;
    std::string name = key.IsScalar() ? key.Scalar() : "";
    std::string field_path = Join(path, name);
    if (name == "days") {
      RETURN_IF_ERROR(ReadDays(value, field_path, &days));
    } else if (name == "start" || name == "end") {
      bool is_end = name == "end";
      std::optional<int> minutes;
      if (value.IsScalar()) minutes = ParseClock(value.Scalar(), is_end);
      if (!minutes) {
        return Fail(value, field_path,
                    absl::StrCat("expected a time of day HH:MM, e.g. \"",
                                 is_end ? "17:00" : "09:00", "\"",
                                 is_end ? " (24:00 for midnight)" : ""));
      }
      (is_end ? end : start) = minutes;
    } else {
      return Fail(key, field_path,
                  "unknown field; a window takes days, start and end");
    }
  }
  if (!start) return Fail(node, Join(path, "start"), "missing");
  if (!end) return Fail(node, Join(path, "end"), "missing");
  if (*start >= *end) {
    return Fail(node["end"], Join(path, "end"),
                absl::StrCat(FormatClock(*end), " is not after start ",
                             FormatClock(*start)));
  }
  for (int day : days) {
    v1::WeeklyWindow* w = hours->add_windows();
    w->set_day_of_week(day);
    w->set_start_minute(*start);
    w->set_end_minute(*end);
  }
  return absl::OkStatus();
}

absl::Status Reader::ReadSegments(const YAML::Node& node,
                                  const std::string& path,
                                  v1::RuleCondition* condition) const {
  std::vector<int> picked;
  auto read_one = [&](const YAML::Node& item,
                      const std::string& item_path) -> absl::Status {
    if (!item.IsScalar()) return Fail(item, item_path, "expected a segment");
    auto v = ReadEnum(item, item_path, v1::CompanySegment_descriptor());
    if (!v.ok()) return v.status();
    for (int i = 0; i < kSegmentCount; ++i) {
      if (kSegments[i].segment == *v) picked.push_back(i);
    }
    return absl::OkStatus();
  };
  if (node.IsScalar()) {
    RETURN_IF_ERROR(read_one(node, path));
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      RETURN_IF_ERROR(read_one(node[i], Index(path, i)));
  } else {
    return Fail(node, path, "expected a list of segments");
  }
  if (picked.empty()) return absl::OkStatus();
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  if (picked.back() - picked.front() + 1 != static_cast<int>(picked.size())) {
    return Fail(node, path,
                "segments must be adjacent (smb, mid_market, enterprise): "
                "a rule holds one employee range");
  }
  condition->set_min_employees(kSegments[picked.front()].min_employees);
  condition->set_max_employees(kSegments[picked.back()].max_employees);
  return absl::OkStatus();
}

absl::Status Reader::ReadWarningAt(const YAML::Node& node,
                                   const std::string& path,
                                   v1::SlaPolicy* policy) const {
  double percent = -1;
  if (node.IsScalar()) {
    absl::string_view text = absl::StripAsciiWhitespace(node.Scalar());
    absl::ConsumeSuffix(&text, "%");
    if (!absl::SimpleAtod(text, &percent)) percent = -1;
  }
  double bp = std::round(percent * 100);
  if (percent < 0 || percent > 100 || std::abs(percent * 100 - bp) > 1e-6) {
    return Fail(node, path,
                "expected a percentage of the accept window with at most two "
                "decimals, e.g. 75%");
  }
  policy->set_warning_fraction_bp(static_cast<int32_t>(bp));
  return absl::OkStatus();
}

// ---- writing ---------------------------------------------------------------

// Plain text that YAML 1.1 readers would take for a number, date, boolean
// or null ("NO" is Norway, "2026-12-25" a holiday), or that YAML needs
// quoted anyway.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  if (absl::ascii_isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' ||
      s[0] == '+' || s[0] == '.')
    return true;
  static const char* const kReserved[] = {"y",   "n", "yes",  "no",    "on",
                                          "off", "~", "true", "false", "null"};
  std::string lower = Lower(s);
  for (const char* word : kReserved) {
    if (lower == word) return true;
  }
  return false;
}

void EmitString(YAML::Emitter& out, const std::string& s) {
  if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
  out << s;
}

void EmitMessage(YAML::Emitter& out, const Message& message);

void EmitScalar(YAML::Emitter& out, const Message& message,
                const FieldDescriptor* field, int index) {
  const Reflection* r = message.GetReflection();
  bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out << absl::StrCat(rep ? r->GetRepeatedInt32(message, field, index)
                              : r->GetInt32(message, field));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      out << absl::StrCat(rep ? r->GetRepeatedInt64(message, field, index)
                              : r->GetInt64(message, field));
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << absl::StrCat(rep ? r->GetRepeatedUInt32(message, field, index)
                              : r->GetUInt32(message, field));
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << absl::StrCat(rep ? r->GetRepeatedUInt64(message, field, index)
                              : r->GetUInt64(message, field));
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << absl::StrCat(rep ? r->GetRepeatedDouble(message, field, index)
                              : r->GetDouble(message, field));
      return;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << absl::StrCat(rep ? r->GetRepeatedFloat(message, field, index)
                              : r->GetFloat(message, field));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << ((rep ? r->GetRepeatedBool(message, field, index)
                   : r->GetBool(message, field))
                  ? "true"
                  : "false");
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << EnumYamlName(field->enum_type(),
                          rep ? r->GetRepeatedEnumValue(message, field, index)
                              : r->GetEnumValue(message, field));
      return;
    case FieldDescriptor::CPPTYPE_STRING:
      EmitString(out, rep ? r->GetRepeatedString(message, field, index)
                          : r->GetString(message, field));
      return;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return;
  }
}

bool ValidWindow(const v1::WeeklyWindow& w) {
  return w.day_of_week() >= 1 && w.day_of_week() <= 7 &&
         w.start_minute() >= 0 && w.start_minute() < w.end_minute() &&
         w.end_minute() <= 1440;
}

// One {days, start, end} entry per distinct start/end, in the order the
// windows sort; windows the shorthand cannot express stay WeeklyWindows.
void EmitWorkingHours(YAML::Emitter& out, const v1::WorkingHours& hours) {
  std::vector<v1::WeeklyWindow> windows(hours.windows().begin(),
                                        hours.windows().end());
  std::sort(windows.begin(), windows.end(),
            [](const v1::WeeklyWindow& a, const v1::WeeklyWindow& b) {
              return std::make_tuple(a.day_of_week(), a.start_minute(),
                                     a.end_minute()) <
                     std::make_tuple(b.day_of_week(), b.start_minute(),
                                     b.end_minute());
            });
  struct Group {
    int start;
    int end;
    std::vector<int> days;
  };
  std::vector<Group> groups;
  std::vector<v1::WeeklyWindow> raw;
  for (const auto& w : windows) {
    if (!ValidWindow(w)) {
      raw.push_back(w);
      continue;
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.start == w.start_minute() && g.end == w.end_minute();
    });
    if (it == groups.end()) {
      groups.push_back({w.start_minute(), w.end_minute(), {}});
      it = groups.end() - 1;
    }
    it->days.push_back(w.day_of_week());
  }
  out << YAML::BeginSeq;
  for (const Group& g : groups) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "days" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int d : g.days) out << kDayNames[d - 1];
    out << YAML::EndSeq;
    out << YAML::Key << "start" << YAML::Value << YAML::DoubleQuoted
        << FormatClock(g.start);
    out << YAML::Key << "end" << YAML::Value << YAML::DoubleQuoted
        << FormatClock(g.end);
    out << YAML::EndMap;
  }
  for (const auto& w : raw) {
    out << YAML::Flow;
    EmitMessage(out, w);
  }
  out << YAML::EndSeq;
}

void EmitValue(YAML::Emitter& out, const Message& message) {
  const Descriptor* d = message.GetDescriptor();
  if (d == pb::Duration::descriptor()) {
    out << absl::FormatDuration(
        FromDuration(static_cast<const pb::Duration&>(message)));
    return;
  }
  if (d == pb::Timestamp::descriptor()) {
    const auto& ts = static_cast<const pb::Timestamp&>(message);
    out << absl::FormatTime(
        absl::RFC3339_full,
        absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
        absl::UTCTimeZone());
    return;
  }
  if (d == v1::WorkingHours::descriptor()) {
    EmitWorkingHours(out, static_cast<const v1::WorkingHours&>(message));
    return;
  }
  EmitMessage(out, message);
}

std::string FormatWarningAt(int32_t bp) {
  if (bp % 100 == 0) return absl::StrCat(bp / 100, "%");
  std::string s = absl::StrFormat("%.2f", bp / 100.0);
  if (absl::EndsWith(s, "0")) s.pop_back();
  return absl::StrCat(s, "%");
}

void EmitMessage(YAML::Emitter& out, const Message& message) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  std::vector<int> segments;
  if (d == v1::RuleCondition::descriptor()) {
    const auto& c = static_cast<const v1::RuleCondition&>(message);
    if (c.min_employees() != 0 || c.max_employees() != 0)
      segments = SegmentsOf(c.min_employees(), c.max_employees());
  }
  bool segments_written = false;
  out << YAML::BeginMap;
  for (const FieldDescriptor* field : fields) {
    if (!segments.empty() && (field->name() == "min_employees" ||
                              field->name() == "max_employees")) {
      if (segments_written) continue;
      segments_written = true;
      out << YAML::Key << "segments" << YAML::Value << YAML::Flow
          << YAML::BeginSeq;
      for (int i : segments) {
        out << EnumYamlName(v1::CompanySegment_descriptor(),
                            kSegments[i].segment);
      }
      out << YAML::EndSeq;
      continue;
    }
    if (d == v1::SlaPolicy::descriptor() &&
        field->name() == "warning_fraction_bp") {
      out << YAML::Key << "warning_at" << YAML::Value
          << FormatWarningAt(r->GetInt32(message, field));
      continue;
    }
    out << YAML::Key << field->name() << YAML::Value;
    bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!field->is_repeated()) {
      if (is_message) {
        EmitValue(out, r->GetMessage(message, field));
      } else {
        EmitScalar(out, message, field, 0);
      }
      continue;
    }
    int n = r->FieldSize(message, field);
    if (is_message) {
      out << YAML::BeginSeq;
      for (int i = 0; i < n; ++i)
        EmitValue(out, r->GetRepeatedMessage(message, field, i));
    } else {
      out << YAML::Flow << YAML::BeginSeq;
      for (int i = 0; i < n; ++i) EmitScalar(out, message, field, i);
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

}  // namespace

absl::StatusOr<routing::v1::RuleSet> ParseRuleSetYaml(std::string_view yaml,
                                                      std::string_view source,
                                                      RuleSetSourceMap* where) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source), ":", e.mark.line + 1, ":", e.mark.column + 1,
                     ": not valid YAML: ", e.msg));
  }
  if (!root || root.IsNull()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source), ": holds no rule set"));
  }
  v1::RuleSet rule_set;
  Reader reader(source, where);
  try {
    RETURN_IF_ERROR(reader.ReadMessage(root, "", &rule_set));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(source), ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return rule_set;
}

absl::Status LocateRuleSetError(const absl::Status& status,
                                std::string_view root,
                                const RuleSetSourceMap& where) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  const std::string_view message(status.message().data(),
                                 status.message().size());
  const std::string prefix = absl::StrCat(Sv(root), ".");
  const size_t end = message.find(": ");
  if (!message.starts_with(prefix) || end == std::string_view::npos) {
    return status;
  }
  std::string path(message.substr(prefix.size(), end - prefix.size()));
  while (!path.empty()) {
    if (auto it = where.find(path); it != where.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->second, ": ", Sv(message)));
    }
    // Up one level: "a.b[2]" -> "a.b" -> "a".
    const size_t cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
  return status;
}

std::string FormatRuleSetYaml(const routing::v1::RuleSet& rule_set) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  EmitMessage(out, rule_set);
  std::string text = out.c_str();
  if (text == "{}") return "{}\n";
  return absl::StrCat(text, "\n");
}

}  // namespace handoff::ctl
