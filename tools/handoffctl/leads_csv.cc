#include "tools/handoffctl/leads_csv.h"

#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/strings.h"
#include "tools/handoffctl/text.h"

namespace handoff::ctl {
namespace {

namespace v1 = routing::v1;

struct Row {
  // 1-based line the row starts on.
  int line = 0;
  std::vector<std::string> cells;
};

// Splits RFC 4180 text into rows; a quoted field may span lines.
absl::StatusOr<std::vector<Row>> SplitCsv(std::string_view text,
                                          std::string_view source) {
  std::vector<Row> rows;
  Row row;
  std::string cell;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current cell was quoted
  int line = 1;
  int quote_line = 0;
  row.line = 1;
  auto end_cell = [&] {
    row.cells.push_back(
        was_quoted ? cell : std::string(absl::StripAsciiWhitespace(cell)));
    cell.clear();
    was_quoted = false;
  };
  auto end_row = [&] {
    end_cell();
    bool blank = row.cells.size() == 1 && row.cells[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row = Row();
    row.line = line + 1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      if (!absl::StripAsciiWhitespace(cell).empty() || was_quoted) {
        return absl::InvalidArgumentError(absl::StrCat(
            Sv(source), ":", line,
            ": a quote inside an unquoted field; quote the whole field and "
            "double the quote (\"\")"));
      }
      cell.clear();
      quoted = true;
      was_quoted = true;
      quote_line = line;
    } else if (c == ',') {
      end_cell();
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c == '\r') {
      // CRLF line ends: the \n ends the row.
    } else if (was_quoted) {
      if (!absl::ascii_isspace(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(
            absl::StrCat(Sv(source), ":", line,
                         ": text after the closing quote of a field"));
      }
    } else {
      cell += c;
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(source), ":", quote_line, ": quoted field never closed"));
  }
  if (!cell.empty() || was_quoted || !row.cells.empty()) end_row();
  return rows;
}

using Setter = std::function<absl::Status(const std::string& value,
                                          v1::SimulatedLead* lead)>;

absl::Status ParseInt(const std::string& value, int32_t* out, int32_t min) {
  if (!absl::SimpleAtoi(value, out) || *out < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", value, "\" is not ",
                     min == 0 ? "a non-negative integer" : "an integer"));
  }
  return absl::OkStatus();
}

const std::vector<std::pair<std::string, Setter>>& Columns() {
  static const auto* columns = new std::vector<std::pair<std::string, Setter>>{
      {"lead",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->set_lead(v);
         return absl::OkStatus();
       }},
      // Only a default label; SimulatedLead has no email.
      {"email",
       [](const std::string& v, v1::SimulatedLead* l) {
         if (l->lead().empty()) l->set_lead(v);
         return absl::OkStatus();
       }},
      {"country",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->mutable_profile()->set_country(
             absl::AsciiStrToUpper(v));
         return absl::OkStatus();
       }},
      {"employee_count",
       [](const std::string& v, v1::SimulatedLead* l) {
         int32_t n = 0;
         absl::Status s = ParseInt(v, &n, 0);
         l->mutable_lead_summary()->mutable_profile()->set_employee_count(n);
         return s;
       }},
      {"industry",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->mutable_profile()->set_industry(v);
         return absl::OkStatus();
       }},
      {"job_title",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->mutable_profile()->set_job_title(v);
         return absl::OkStatus();
       }},
      {"seniority",
       [](const std::string& v, v1::SimulatedLead* l) -> absl::Status {
         auto s =
             ParseEnumOption("value", v, persona::v1::Seniority_descriptor());
         if (!s.ok()) {
           return absl::InvalidArgumentError(
               absl::StripPrefix(s.status().message(), "value: "));
         }
         l->mutable_lead_summary()->mutable_profile()->set_seniority(
             static_cast<persona::v1::Seniority>(*s));
         return absl::OkStatus();
       }},
      {"persona",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->set_persona(QualifyName("personas", v));
         return absl::OkStatus();
       }},
      {"score",
       [](const std::string& v, v1::SimulatedLead* l) {
         int32_t n = 0;
         absl::Status s = ParseInt(v, &n, INT32_MIN);
         l->mutable_lead_summary()->set_score(n);
         return s;
       }},
      {"campaign",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->set_campaign(QualifyName("campaigns", v));
         return absl::OkStatus();
       }},
      {"campaign_channel",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->set_campaign_channel(
             absl::AsciiStrToUpper(v));
         return absl::OkStatus();
       }},
      {"mql_reason",
       [](const std::string& v, v1::SimulatedLead* l) {
         l->mutable_lead_summary()->set_mql_reason(absl::AsciiStrToUpper(v));
         return absl::OkStatus();
       }},
  };
  return *columns;
}

}  // namespace

std::vector<std::string> LeadCsvColumns() {
  std::vector<std::string> names;
  for (const auto& [name, setter] : Columns()) names.push_back(name);
  return names;
}

absl::StatusOr<std::vector<routing::v1::SimulatedLead>> ParseLeadsCsv(
    std::string_view csv, std::string_view source) {
  auto rows = SplitCsv(csv, source);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(source), ": no header row; name the columns among ",
                     absl::StrJoin(LeadCsvColumns(), ",")));
  }
  const Row& header = rows->front();
  std::vector<const std::pair<std::string, Setter>*> setters;
  std::map<std::string, int> seen;
  for (const std::string& raw : header.cells) {
    std::string name = absl::AsciiStrToLower(raw);
    const std::pair<std::string, Setter>* column = nullptr;
    for (const auto& c : Columns()) {
      if (c.first == name) column = &c;
    }
    if (column == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          Sv(source), ":", header.line, ": unknown column \"", raw,
          "\"; columns are ", absl::StrJoin(LeadCsvColumns(), ",")));
    }
    if (seen[name]++ > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          Sv(source), ":", header.line, ": column \"", raw, "\" given twice"));
    }
    setters.push_back(column);
  }
  // "email" only labels leads without a lead column; apply it last.
  std::vector<size_t> order;
  for (size_t i = 0; i < setters.size(); ++i) {
    if (setters[i]->first != "email") order.push_back(i);
  }
  for (size_t i = 0; i < setters.size(); ++i) {
    if (setters[i]->first == "email") order.push_back(i);
  }

  std::vector<routing::v1::SimulatedLead> leads;
  for (size_t r = 1; r < rows->size(); ++r) {
    const Row& row = (*rows)[r];
    if (row.cells.size() != setters.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Sv(source), ":", row.line, ": ", row.cells.size(),
          " fields, but the header names ", setters.size(), " columns"));
    }
    routing::v1::SimulatedLead lead;
    for (size_t i : order) {
      const std::string& value = row.cells[i];
      if (value.empty()) continue;
      absl::Status status = setters[i]->second(value, &lead);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Sv(source), ":", row.line, ": ", setters[i]->first,
                         ": ", status.message()));
      }
    }
    if (lead.lead().empty()) lead.set_lead(absl::StrCat("row ", r));
    leads.push_back(std::move(lead));
  }
  return leads;
}

}  // namespace handoff::ctl
