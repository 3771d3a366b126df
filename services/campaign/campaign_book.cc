#include "services/campaign/campaign_book.h"

#include <optional>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/enums.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/listing.h"
#include "common/proto_time.h"
#include "common/storage/idempotency.h"
#include "services/campaign/campaign_report.h"
#include "services/campaign/money.h"

namespace handoff::campaign {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr int kMaxTargetPersonas = 100;

constexpr std::string_view kUpdatableFields[] = {
    "display_name", "state",      "target_personas", "budget",
    "spend",        "start_time", "end_time",        "mql_threshold"};

absl::StatusOr<v1::Campaign> LoadCampaign(Transaction& tx,
                                          const CampaignStore& store,
                                          std::string_view id,
                                          std::string_view name) {
  absl::StatusOr<std::optional<v1::Campaign>> found =
      store.FindCampaign(tx, id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NotFound(name);
  return *std::move(*found);
}

// Copies one updatable field from `from` to `to`.
void CopyField(std::string_view field, const v1::Campaign& from,
               v1::Campaign& to) {
  if (field == "display_name") {
    to.set_display_name(from.display_name());
  } else if (field == "state") {
    to.set_state(from.state());
  } else if (field == "target_personas") {
    *to.mutable_target_personas() = from.target_personas();
  } else if (field == "budget") {
    if (from.has_budget()) {
      *to.mutable_budget() = from.budget();
    } else {
      to.clear_budget();
    }
  } else if (field == "spend") {
    if (from.has_spend()) {
      *to.mutable_spend() = from.spend();
    } else {
      to.clear_spend();
    }
  } else if (field == "start_time") {
    if (from.has_start_time()) {
      *to.mutable_start_time() = from.start_time();
    } else {
      to.clear_start_time();
    }
  } else if (field == "end_time") {
    if (from.has_end_time()) {
      *to.mutable_end_time() = from.end_time();
    } else {
      to.clear_end_time();
    }
  } else if (field == "mql_threshold") {
    to.set_mql_threshold(from.mql_threshold());
  }
}

bool IsUpdatable(std::string_view field) {
  for (std::string_view f : kUpdatableFields) {
    if (f == field) return true;
  }
  return false;
}

}  // namespace

absl::Status ValidateCampaign(const v1::Campaign& campaign) {
  if (absl::StripAsciiWhitespace(campaign.display_name()).empty()) {
    return InvalidField("campaign.display_name", "required");
  }
  if (campaign.display_name().size() > kMaxDisplayName) {
    return InvalidField("campaign.display_name", "longer than 200 characters");
  }
  if (absl::Status s = CheckEnum("campaign.channel", campaign.channel(),
                                 v1::Channel_descriptor());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckEnum("campaign.state", campaign.state(),
                                 v1::CampaignState_descriptor());
      !s.ok()) {
    return s;
  }
  if (campaign.target_personas_size() > kMaxTargetPersonas) {
    return InvalidField("campaign.target_personas", "more than 100 personas");
  }
  std::set<std::string> personas;
  for (const std::string& persona : campaign.target_personas()) {
    absl::StatusOr<std::string> id =
        ParseResourceName("campaign.target_personas", persona, "personas");
    if (!id.ok()) return id.status();
    if (!personas.insert(persona).second) {
      return InvalidField("campaign.target_personas",
                          absl::StrCat(persona, " listed twice"));
    }
  }
  if (campaign.has_budget()) {
    if (absl::Status s = ValidateMoney("campaign.budget", campaign.budget());
        !s.ok()) {
      return s;
    }
  }
  if (campaign.has_spend()) {
    if (absl::Status s = ValidateMoney("campaign.spend", campaign.spend());
        !s.ok()) {
      return s;
    }
    if (campaign.has_budget() &&
        campaign.spend().currency_code() != campaign.budget().currency_code()) {
      return InvalidField("campaign.spend.currency_code",
                          absl::StrCat("must be the budget's currency ",
                                       campaign.budget().currency_code()));
    }
  }
  std::optional<absl::Time> start;
  if (campaign.has_start_time()) {
    absl::StatusOr<absl::Time> t =
        ParseProtoTime("campaign.start_time", campaign.start_time());
    if (!t.ok()) return t.status();
    start = *t;
  }
  if (campaign.has_end_time()) {
    absl::StatusOr<absl::Time> end =
        ParseProtoTime("campaign.end_time", campaign.end_time());
    if (!end.ok()) return end.status();
    if (start && *end <= *start) {
      return InvalidField("campaign.end_time", "must be after start_time");
    }
  }
  if (campaign.mql_threshold() < 0) {
    return InvalidField("campaign.mql_threshold", "must not be negative");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Campaign> CampaignBook::CreateCampaign(
    const v1::CreateCampaignRequest& request) {
  v1::Campaign campaign = request.campaign();
  if (campaign.state() == v1::CAMPAIGN_STATE_UNSPECIFIED) {
    campaign.set_state(v1::CAMPAIGN_STATE_ACTIVE);
  }
  if (absl::Status s = ValidateCampaign(campaign); !s.ok()) return s;
  return IdempotentWrite<v1::Campaign>(
      db_, "CreateCampaign", request.request_id(),
      [&](Transaction& tx) -> absl::StatusOr<v1::Campaign> {
        const absl::Time now = clock_.Now();
        const std::string id = NewId(now);
        campaign.set_name(ResourceName("campaigns", id));
        *campaign.mutable_create_time() = ToProtoTime(now);
        *campaign.mutable_update_time() = ToProtoTime(now);
        campaign.set_etag(NewEtag());
        if (absl::Status s = store_.InsertCampaign(tx, id, campaign); !s.ok()) {
          return s;
        }
        return campaign;
      });
}

absl::StatusOr<v1::Campaign> CampaignBook::GetCampaign(
    const v1::GetCampaignRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("name", request.name(), "campaigns");
  if (!id.ok()) return id.status();
  v1::Campaign campaign;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::Campaign> found =
        LoadCampaign(tx, store_, *id, request.name());
    if (!found.ok()) return found.status();
    campaign = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return campaign;
}

absl::StatusOr<v1::ListCampaignsResponse> CampaignBook::ListCampaigns(
    const v1::ListCampaignsRequest& request) {
  absl::StatusOr<PageRequest> page =
      ParsePage(request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::map<std::string, std::string>> filter =
      ParseFilter(request.filter(), {"state", "channel"});
  if (!filter.ok()) return filter.status();
  CampaignStore::CampaignQuery query;
  query.after_id = page->after_key;
  query.limit = page->limit + 1;
  if (auto it = filter->find("state"); it != filter->end()) {
    absl::StatusOr<int> state =
        ParseEnumName("filter", it->second, v1::CampaignState_descriptor(),
                      "CAMPAIGN_STATE_");
    if (!state.ok()) return state.status();
    query.state = *state;
  }
  if (auto it = filter->find("channel"); it != filter->end()) {
    absl::StatusOr<int> channel = ParseEnumName(
        "filter", it->second, v1::Channel_descriptor(), "CHANNEL_");
    if (!channel.ok()) return channel.status();
    query.channel = *channel;
  }
  std::vector<v1::Campaign> rows;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<v1::Campaign>> found =
        store_.ListCampaigns(tx, query);
    if (!found.ok()) return found.status();
    rows = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  v1::ListCampaignsResponse response;
  const bool more = static_cast<int>(rows.size()) > page->limit;
  if (more) rows.resize(page->limit);
  for (v1::Campaign& campaign : rows) {
    *response.add_campaigns() = std::move(campaign);
  }
  if (more) {
    const std::string& last = response.campaigns().rbegin()->name();
    response.set_next_page_token(
        MakePageToken(std::string_view(last).substr(last.find('/') + 1)));
  }
  return response;
}

absl::StatusOr<v1::Campaign> CampaignBook::UpdateCampaign(
    const v1::UpdateCampaignRequest& request) {
  const v1::Campaign& patch = request.campaign();
  absl::StatusOr<std::string> id =
      ParseResourceName("campaign.name", patch.name(), "campaigns");
  if (!id.ok()) return id.status();
  std::vector<std::string_view> fields;
  for (const std::string& path : request.update_mask().paths()) {
    if (!IsUpdatable(path)) {
      return InvalidField("update_mask",
                          absl::StrCat("'", path, "' cannot be updated"));
    }
    fields.push_back(path);
  }
  if (fields.empty()) {
    fields.assign(std::begin(kUpdatableFields), std::end(kUpdatableFields));
  }
  v1::Campaign updated;
  absl::Status status = db_.Write([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::Campaign> current =
        LoadCampaign(tx, store_, *id, patch.name());
    if (!current.ok()) return current.status();
    if (!patch.etag().empty() && patch.etag() != current->etag()) {
      return StaleEtag(patch.name(), patch.etag(), current->etag());
    }
    updated = *std::move(current);
    for (std::string_view field : fields) CopyField(field, patch, updated);
    if (absl::Status s = ValidateCampaign(updated); !s.ok()) return s;
    *updated.mutable_update_time() = ToProtoTime(clock_.Now());
    updated.set_etag(NewEtag());
    return store_.UpdateCampaign(tx, *id, updated);
  });
  if (!status.ok()) return status;
  return updated;
}

absl::StatusOr<v1::CampaignReport> CampaignBook::GetCampaignReport(
    const v1::GetCampaignReportRequest& request) {
  absl::StatusOr<std::string> id =
      ParseResourceName("campaign", request.campaign(), "campaigns");
  if (!id.ok()) return id.status();
  v1::CampaignReport report;
  absl::Status status = db_.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::Campaign> campaign =
        LoadCampaign(tx, store_, *id, request.campaign());
    if (!campaign.ok()) return campaign.status();
    absl::StatusOr<std::vector<v1::Lead>> leads =
        store_.LeadsOfCampaign(tx, campaign->name());
    if (!leads.ok()) return leads.status();
    report = ComputeCampaignReport(*campaign, *leads);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return report;
}

}  // namespace handoff::campaign
