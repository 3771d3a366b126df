#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "handoff/routing/v1/routing.pb.h"

// Lead profiles in CSV for `handoffctl simulate`.
namespace handoff::ctl {

// The CSV column names ParseLeadsCsv takes, in the order of the help text.
std::vector<std::string> LeadCsvColumns();

// A header row naming some of LeadCsvColumns() (any case, any order), then
// one lead per row. RFC 4180 quoting: fields in double quotes may hold
// commas, line breaks and "" for a quote. Columns map to SimulatedLead:
//   lead                 SimulatedLead.lead (default: email, else "row N")
//   email                only as the default label
//   country, industry, job_title, employee_count, seniority
//                        LeadSummary.profile
//   score, mql_reason, campaign_channel
//                        LeadSummary fields of the same name
//   persona, campaign    LeadSummary fields; "personas/" / "campaigns/" added
//                        to bare ids
// Empty cells leave the field unset; blank lines are skipped. Errors are
// INVALID_ARGUMENT "<source>:<line>: <column>: <problem>"; an unknown column
// is an error naming it.
absl::StatusOr<std::vector<routing::v1::SimulatedLead>> ParseLeadsCsv(
    std::string_view csv, std::string_view source = "<csv>");

}  // namespace handoff::ctl
