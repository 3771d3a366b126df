#include "tools/handoffctl/leads_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace handoff::ctl {
namespace {

using ::testing::HasSubstr;

std::string ParseError(const std::string& csv) {
  auto leads = ParseLeadsCsv(csv, "leads.csv");
  EXPECT_FALSE(leads.ok());
  if (leads.ok()) return "";
  EXPECT_EQ(leads.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(leads.status().message());
}

TEST(LeadsCsvTest, ExampleFileParses) {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) +
                   "/tools/handoffctl/examples/leads.csv");
  std::ostringstream text;
  text << in.rdbuf();
  auto leads = ParseLeadsCsv(text.str(), "leads.csv");
  ASSERT_TRUE(leads.ok()) << leads.status();
  ASSERT_EQ(leads->size(), 6u);

  const auto& first = (*leads)[0];
  EXPECT_EQ(first.lead(), "berlin-demo");
  const auto& s = first.lead_summary();
  EXPECT_EQ(s.profile().country(), "DE");
  EXPECT_EQ(s.profile().employee_count(), 2400);
  EXPECT_EQ(s.profile().industry(), "logistics");
  EXPECT_EQ(s.profile().job_title(), "Head of Operations");
  EXPECT_EQ(s.profile().seniority(), persona::v1::SENIORITY_DIRECTOR);
  EXPECT_EQ(s.score(), 86);
  EXPECT_EQ(s.campaign(), "campaigns/spring-webinar");
  EXPECT_EQ(s.campaign_channel(), "WEBINAR");
  EXPECT_EQ(s.mql_reason(), "DEMO_REQUEST");

  EXPECT_EQ((*leads)[1].lead_summary().profile().job_title(),
            "VP, Finance Systems");
  EXPECT_EQ((*leads)[4].lead_summary().profile().job_title(),
            "Responsable \"Digital\"");
  // Empty cells stay unset.
  EXPECT_EQ((*leads)[5].lead_summary().profile().employee_count(), 0);
  EXPECT_EQ((*leads)[5].lead_summary().profile().seniority(),
            persona::v1::SENIORITY_UNSPECIFIED);
}

TEST(LeadsCsvTest, LabelsFallBackToEmailThenRow) {
  auto leads = ParseLeadsCsv(
      "Email , Country,Persona,Lead\r\n"
      "a@x.example,de,cfo,\r\n"
      "\r\n"
      ",fr,personas/cto,\r\n"
      "b@x.example,,,mine\r\n");
  ASSERT_TRUE(leads.ok()) << leads.status();
  ASSERT_EQ(leads->size(), 3u);
  EXPECT_EQ((*leads)[0].lead(), "a@x.example");
  EXPECT_EQ((*leads)[0].lead_summary().profile().country(), "DE");
  EXPECT_EQ((*leads)[0].lead_summary().persona(), "personas/cfo");
  EXPECT_EQ((*leads)[1].lead(), "row 2");
  EXPECT_EQ((*leads)[1].lead_summary().persona(), "personas/cto");
  EXPECT_EQ((*leads)[2].lead(), "mine");
}

TEST(LeadsCsvTest, QuotedFieldsMaySpanLines) {
  auto leads = ParseLeadsCsv(
      "lead,job_title,score\n"
      "\"x, y\",\"Head of\nSales\",\"12\"\n"
      "z,plain,3\n");
  ASSERT_TRUE(leads.ok()) << leads.status();
  ASSERT_EQ(leads->size(), 2u);
  EXPECT_EQ((*leads)[0].lead(), "x, y");
  EXPECT_EQ((*leads)[0].lead_summary().profile().job_title(), "Head of\nSales");
  EXPECT_EQ((*leads)[0].lead_summary().score(), 12);
  EXPECT_EQ((*leads)[1].lead_summary().score(), 3);
}

TEST(LeadsCsvTest, ErrorsNameLineAndColumn) {
  EXPECT_THAT(ParseError("lead,region\nx,EMEA\n"),
              HasSubstr("leads.csv:1: unknown column \"region\"; columns are "
                        "lead,email,country"));
  EXPECT_THAT(ParseError("lead,score\nx,1\ny,high\n"),
              HasSubstr("leads.csv:3: score: \"high\" is not an integer"));
  EXPECT_THAT(ParseError("lead,employee_count\nx,-5\n"),
              HasSubstr("leads.csv:2: employee_count: \"-5\" is not a "
                        "non-negative integer"));
  EXPECT_THAT(ParseError("lead,seniority\nx,intern\n"),
              HasSubstr("leads.csv:2: seniority: unknown value \"intern\""));
  EXPECT_THAT(ParseError("lead,score\nx,1,2\n"),
              HasSubstr("leads.csv:2: 3 fields, but the header names 2"));
  EXPECT_THAT(ParseError("lead,score\n\"x,1\n"),
              HasSubstr("leads.csv:2: quoted field never closed"));
  EXPECT_THAT(ParseError("lead,score\nab\"c,1\n"),
              HasSubstr("leads.csv:2: a quote inside an unquoted field"));
  EXPECT_THAT(ParseError("lead,Lead\n"), HasSubstr("given twice"));
  EXPECT_THAT(ParseError(""), HasSubstr("no header row"));
}

}  // namespace
}  // namespace handoff::ctl
