#include "services/routing/engine/regions.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/strings.h"

namespace handoff::routing::engine {
namespace {

// ISO 3166-1 alpha-2, officially assigned codes.
constexpr char kIsoCountries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI "
    "BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN "
    "CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
    "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
    "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

constexpr char kEurope[] =
    "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU "
    "IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ "
    "SK SM UA VA AM AZ GE TR";
constexpr char kMiddleEast[] = "AE BH IL IQ IR JO KW LB OM PS QA SA SY YE";
constexpr char kAfrica[] =
    "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE "
    "KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST "
    "SZ TD TG TN TZ UG YT ZA ZM ZW";
constexpr char kNamer[] = "US CA";
constexpr char kLatam[] =
    "AR BB BO BR BS BZ CL CO CR CU DO EC GT GY HN HT JM MX NI PA PE PR PY SR "
    "SV TT UY VE";
constexpr char kApac[] =
    "AU NZ CN HK JP KR MN MO TW BN ID KH LA MM MY PH SG TH TL VN BD BT IN LK "
    "MV NP PK FJ PG SB TO VU WS";

bool IsUpperPair(std::string_view code) {
  return code.size() == 2 && absl::ascii_isupper(code[0]) &&
         absl::ascii_isupper(code[1]);
}

CountryCode Pack(std::string_view upper) {
  return static_cast<CountryCode>((upper[0] - 'A') * 26 + (upper[1] - 'A'));
}

const std::vector<bool>& Assigned() {
  static const auto* assigned = [] {
    auto* bits = new std::vector<bool>(kCountrySlots, false);
    for (absl::string_view code :
         absl::StrSplit(kIsoCountries, ' ', absl::SkipEmpty())) {
      (*bits)[Pack(std::string_view(code.data(), code.size()))] = true;
    }
    return bits;
  }();
  return *assigned;
}

std::vector<CountryCode> Codes(std::initializer_list<const char*> lists) {
  std::vector<CountryCode> codes;
  for (const char* list : lists) {
    for (absl::string_view code :
         absl::StrSplit(list, ' ', absl::SkipEmpty())) {
      codes.push_back(Pack(std::string_view(code.data(), code.size())));
    }
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

const std::map<std::string, std::vector<CountryCode>, std::less<>>& Regions() {
  static const auto* regions =
      new std::map<std::string, std::vector<CountryCode>, std::less<>>{
          {"DACH", Codes({"DE AT CH"})},
          {"BENELUX", Codes({"BE NL LU"})},
          {"NORDICS", Codes({"DK FI IS NO SE"})},
          {"UKI", Codes({"GB IE"})},
          {"EMEA", Codes({kEurope, kMiddleEast, kAfrica})},
          {"NAMER", Codes({kNamer})},
          {"LATAM", Codes({kLatam})},
          {"AMER", Codes({kNamer, kLatam})},
          {"APAC", Codes({kApac})},
          {"ANZ", Codes({"AU NZ"})},
      };
  return *regions;
}

}  // namespace

std::optional<CountryCode> ParseCountry(std::string_view code) {
  if (code.size() != 2) return std::nullopt;
  const std::string upper = absl::AsciiStrToUpper(Sv(code));
  if (!IsUpperPair(upper)) return std::nullopt;
  const CountryCode packed = Pack(upper);
  if (!Assigned()[packed]) return std::nullopt;
  return packed;
}

std::string CountryString(CountryCode code) {
  if (code >= kCountrySlots) return "";
  return {static_cast<char>('A' + code / 26),
          static_cast<char>('A' + code % 26)};
}

const std::vector<CountryCode>* RegionCountries(std::string_view name) {
  const auto& regions = Regions();
  auto it = regions.find(absl::AsciiStrToUpper(Sv(name)));
  return it == regions.end() ? nullptr : &it->second;
}

std::vector<std::string> RegionNames() {
  std::vector<std::string> names;
  for (const auto& [name, codes] : Regions()) names.push_back(name);
  return names;
}

absl::StatusOr<std::vector<CountryCode>> ExpandTerritories(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& territories) {
  std::vector<CountryCode> codes;
  for (int i = 0; i < territories.size(); ++i) {
    const std::string& entry = territories[i];
    if (std::optional<CountryCode> code = ParseCountry(entry)) {
      codes.push_back(*code);
    } else if (const std::vector<CountryCode>* region =
                   RegionCountries(entry)) {
      codes.insert(codes.end(), region->begin(), region->end());
    } else {
      std::string hint = absl::EqualsIgnoreCase(entry, "UK") ? " (use GB)" : "";
      return InvalidField(
          absl::StrCat(Sv(field), "[", i, "]"),
          absl::StrCat("\"", entry,
                       "\" is neither an ISO 3166-1 alpha-2 country code nor "
                       "a region name",
                       hint));
    }
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

v1::CompanySegment SegmentOf(int32_t employees) {
  if (employees <= 0) return v1::COMPANY_SEGMENT_UNSPECIFIED;
  if (employees < 200) return v1::COMPANY_SEGMENT_SMB;
  if (employees < 1000) return v1::COMPANY_SEGMENT_MID_MARKET;
  return v1::COMPANY_SEGMENT_ENTERPRISE;
}

}  // namespace handoff::routing::engine
