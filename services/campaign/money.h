#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "handoff/campaign/v1/campaign.pb.h"
#include "handoff/type/money.pb.h"

namespace handoff::campaign {

// INVALID_ARGUMENT naming "<field>.currency_code" unless it is three
// upper-case letters, or "<field>.minor_units" when negative.
absl::Status ValidateMoney(std::string_view field, const type::Money& money);

// The currency a campaign is accounted in: its budget's, else its spend's;
// empty when it has neither.
std::string CampaignCurrency(const v1::Campaign& campaign);

type::Money MakeMoney(std::string_view currency, int64_t minor_units);

}  // namespace handoff::campaign
