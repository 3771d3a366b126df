#include "services/routing/engine/regions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace handoff::routing::engine {
namespace {

using ::testing::HasSubstr;

google::protobuf::RepeatedPtrField<std::string> Strings(
    std::initializer_list<const char*> values) {
  google::protobuf::RepeatedPtrField<std::string> out;
  for (const char* v : values) out.Add(v);
  return out;
}

TEST(RegionsTest, CountryCodesAreCaseInsensitiveAndMustBeAssigned) {
  ASSERT_TRUE(ParseCountry("de").has_value());
  EXPECT_EQ(CountryString(*ParseCountry("de")), "DE");
  EXPECT_EQ(ParseCountry("DE"), ParseCountry("de"));
  EXPECT_FALSE(ParseCountry("ZZ").has_value());
  EXPECT_FALSE(ParseCountry("UK").has_value());
  EXPECT_FALSE(ParseCountry("DEU").has_value());
  EXPECT_FALSE(ParseCountry("").has_value());
  // NA is Namibia, not North America.
  EXPECT_TRUE(ParseCountry("NA").has_value());
}

TEST(RegionsTest, RegionsExpandToTheirCountries) {
  absl::StatusOr<std::vector<CountryCode>> dach =
      ExpandTerritories("t", Strings({"dach"}));
  ASSERT_TRUE(dach.ok()) << dach.status();
  std::vector<std::string> names;
  for (CountryCode c : *dach) names.push_back(CountryString(c));
  EXPECT_THAT(names, ::testing::ElementsAre("AT", "CH", "DE"));

  const std::vector<CountryCode>* emea = RegionCountries("EMEA");
  ASSERT_NE(emea, nullptr);
  for (const char* code : {"DE", "GB", "AE", "ZA", "TR", "NG"}) {
    EXPECT_TRUE(
        std::binary_search(emea->begin(), emea->end(), *ParseCountry(code)))
        << code;
  }
  EXPECT_FALSE(
      std::binary_search(emea->begin(), emea->end(), *ParseCountry("US")));
  const std::vector<CountryCode>* amer = RegionCountries("AMER");
  ASSERT_NE(amer, nullptr);
  for (const char* code : {"US", "CA", "MX", "BR"}) {
    EXPECT_TRUE(
        std::binary_search(amer->begin(), amer->end(), *ParseCountry(code)))
        << code;
  }
  EXPECT_EQ(RegionCountries("MARS"), nullptr);
  for (const std::string& name : RegionNames()) {
    EXPECT_GT(name.size(), 2u) << "region names must not shadow a country";
  }
}

TEST(RegionsTest, MixedTerritoriesAreSortedAndUnique) {
  absl::StatusOr<std::vector<CountryCode>> codes =
      ExpandTerritories("t", Strings({"DE", "DACH", "fr"}));
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(codes->size(), 4u);
  EXPECT_TRUE(std::is_sorted(codes->begin(), codes->end()));
}

TEST(RegionsTest, AnUnknownTerritoryNamesTheEntry) {
  absl::StatusOr<std::vector<CountryCode>> codes =
      ExpandTerritories("rep.territories", Strings({"DE", "UK"}));
  ASSERT_EQ(codes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(codes.status().message(), HasSubstr("rep.territories[1]"));
  EXPECT_THAT(codes.status().message(), HasSubstr("use GB"));
}

TEST(RegionsTest, SegmentsByEmployeeCount) {
  EXPECT_EQ(SegmentOf(0), v1::COMPANY_SEGMENT_UNSPECIFIED);
  EXPECT_EQ(SegmentOf(-5), v1::COMPANY_SEGMENT_UNSPECIFIED);
  EXPECT_EQ(SegmentOf(1), v1::COMPANY_SEGMENT_SMB);
  EXPECT_EQ(SegmentOf(199), v1::COMPANY_SEGMENT_SMB);
  EXPECT_EQ(SegmentOf(200), v1::COMPANY_SEGMENT_MID_MARKET);
  EXPECT_EQ(SegmentOf(999), v1::COMPANY_SEGMENT_MID_MARKET);
  EXPECT_EQ(SegmentOf(1000), v1::COMPANY_SEGMENT_ENTERPRISE);
}

}  // namespace
}  // namespace handoff::routing::engine
