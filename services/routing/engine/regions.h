#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "handoff/routing/v1/routing.pb.h"

// Territories and company segments as routing compares them.
//
// A territory is an ISO 3166-1 alpha-2 country code ("DE", case-insensitive)
// or one of these fixed region names (case-insensitive):
//   DACH     DE AT CH
//   BENELUX  BE NL LU
//   NORDICS  DK FI IS NO SE
//   UKI      GB IE
//   EMEA     Europe (incl. Russia, Turkey, the Caucasus), the Middle East
//            and Africa
//   NAMER    US CA
//   LATAM    Mexico, Central and South America, the Caribbean
//   AMER     NAMER and LATAM
//   APAC     East, South-East and South Asia, Australia, New Zealand, the
//            Pacific islands
//   ANZ      AU NZ
// Region names are never two letters, so they cannot shadow a country code
// ("NA" is Namibia).
//
// Company segments by employee count: SMB 1-199, MID_MARKET 200-999,
// ENTERPRISE 1000 and more; 0 employees means unknown.
namespace handoff::routing::engine {

// A country code packed as (first - 'A') * 26 + (second - 'A').
using CountryCode = uint16_t;
inline constexpr CountryCode kNoCountry = 0xffff;
inline constexpr int kCountrySlots = 26 * 26;

// The code of an assigned ISO 3166-1 alpha-2 country, case-insensitive.
std::optional<CountryCode> ParseCountry(std::string_view code);
std::string CountryString(CountryCode code);

// The countries of a region name (case-insensitive), sorted; nullptr when
// `name` is not a region.
const std::vector<CountryCode>* RegionCountries(std::string_view name);
std::vector<std::string> RegionNames();

// Country codes and region names expanded to sorted, unique country codes.
// INVALID_ARGUMENT naming `field`[i] for an entry that is neither.
absl::StatusOr<std::vector<CountryCode>> ExpandTerritories(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& territories);

// UNSPECIFIED for 0 (unknown) or negative counts.
v1::CompanySegment SegmentOf(int32_t employees);

}  // namespace handoff::routing::engine
