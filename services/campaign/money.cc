#include "services/campaign/money.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace handoff::campaign {

absl::Status ValidateMoney(std::string_view field, const type::Money& money) {
  const std::string& code = money.currency_code();
  bool valid_code = code.size() == 3;
  for (char c : code) {
    valid_code =
        valid_code && absl::ascii_isupper(static_cast<unsigned char>(c));
  }
  if (!valid_code) {
    return InvalidField(absl::StrCat(std::string(field), ".currency_code"),
                        "must be three upper-case letters, e.g. USD");
  }
  if (money.minor_units() < 0) {
    return InvalidField(absl::StrCat(std::string(field), ".minor_units"),
                        "must not be negative");
  }
  return absl::OkStatus();
}

std::string CampaignCurrency(const v1::Campaign& campaign) {
  if (!campaign.budget().currency_code().empty()) {
    return campaign.budget().currency_code();
  }
  return campaign.spend().currency_code();
}

type::Money MakeMoney(std::string_view currency, int64_t minor_units) {
  type::Money money;
  money.set_currency_code(std::string(currency));
  money.set_minor_units(minor_units);
  return money;
}

}  // namespace handoff::campaign
