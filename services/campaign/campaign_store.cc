#include "services/campaign/campaign_store.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace handoff::campaign {
namespace {

template <typename Message>
absl::StatusOr<std::vector<Message>> ParseRows(
    absl::StatusOr<std::vector<SqlRow>> rows) {
  if (!rows.ok()) return rows.status();
  std::vector<Message> out;
  out.reserve(rows->size());
  for (const SqlRow& row : *rows) {
    Message message;
    if (absl::Status s = ParseStoredProto(row.Bytes(0), &message); !s.ok()) {
      return s;
    }
    out.push_back(std::move(message));
  }
  return out;
}

template <typename Message>
absl::StatusOr<std::optional<Message>> ParseOne(
    absl::StatusOr<std::optional<SqlRow>> row) {
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<Message>();
  Message message;
  if (absl::Status s = ParseStoredProto((*row)->Bytes(0), &message); !s.ok()) {
    return s;
  }
  return std::optional<Message>(std::move(message));
}

absl::Status ExpectOneRow(absl::StatusOr<int64_t> changed,
                          std::string_view what) {
  if (!changed.ok()) return changed.status();
  if (*changed != 1) {
    return absl::InternalError(absl::StrCat(
        std::string(what), ": expected one row, changed ", *changed));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CampaignStore::Migrate(Database& db) {
  // Released steps are never edited; append new ones.
  return db.Migrate(
      "campaign",
      {
          "CREATE TABLE campaigns (id TEXT PRIMARY KEY, body BLOB NOT NULL, "
          "state INTEGER NOT NULL, channel INTEGER NOT NULL)",
          "CREATE INDEX campaigns_by_state ON campaigns (state, id)",
          "CREATE INDEX campaigns_by_channel ON campaigns (channel, id)",
          "CREATE TABLE leads (id TEXT PRIMARY KEY, body BLOB NOT NULL, "
          "normalized_email TEXT NOT NULL UNIQUE, campaign TEXT NOT NULL, "
          "stage INTEGER NOT NULL)",
          "CREATE INDEX leads_by_campaign ON leads (campaign, id)",
          "CREATE INDEX leads_by_stage ON leads (stage, id)",
      });
}

absl::StatusOr<std::optional<v1::Campaign>> CampaignStore::FindCampaign(
    Transaction& tx, std::string_view id) const {
  return ParseOne<v1::Campaign>(
      tx.QueryOne("SELECT body FROM campaigns WHERE id = ?", {id}));
}

absl::Status CampaignStore::InsertCampaign(Transaction& tx, std::string_view id,
                                           const v1::Campaign& campaign) const {
  const std::string body = campaign.SerializeAsString();
  return ExpectOneRow(
      tx.Exec("INSERT INTO campaigns (id, body, state, channel) "
              "VALUES (?, ?, ?, ?)",
              {id, SqlBlob{body}, static_cast<int>(campaign.state()),
               static_cast<int>(campaign.channel())}),
      "insert campaign");
}

absl::Status CampaignStore::UpdateCampaign(Transaction& tx, std::string_view id,
                                           const v1::Campaign& campaign) const {
  const std::string body = campaign.SerializeAsString();
  return ExpectOneRow(
      tx.Exec("UPDATE campaigns SET body = ?, state = ?, channel = ? "
              "WHERE id = ?",
              {SqlBlob{body}, static_cast<int>(campaign.state()),
               static_cast<int>(campaign.channel()), id}),
      "update campaign");
}

absl::StatusOr<std::vector<v1::Campaign>> CampaignStore::ListCampaigns(
    Transaction& tx, const CampaignQuery& q) const {
  // One statement per filter combination, so each can use its index.
  const std::string_view after = q.after_id;
  if (q.state && q.channel) {
    return ParseRows<v1::Campaign>(tx.Query(
        "SELECT body FROM campaigns WHERE state = ? AND channel = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        {*q.state, *q.channel, after, q.limit}));
  }
  if (q.state) {
    return ParseRows<v1::Campaign>(
        tx.Query("SELECT body FROM campaigns WHERE state = ? AND id > ? "
                 "ORDER BY id LIMIT ?",
                 {*q.state, after, q.limit}));
  }
  if (q.channel) {
    return ParseRows<v1::Campaign>(
        tx.Query("SELECT body FROM campaigns WHERE channel = ? AND id > ? "
                 "ORDER BY id LIMIT ?",
                 {*q.channel, after, q.limit}));
  }
  return ParseRows<v1::Campaign>(
      tx.Query("SELECT body FROM campaigns WHERE id > ? ORDER BY id LIMIT ?",
               {after, q.limit}));
}

absl::StatusOr<std::optional<v1::Lead>> CampaignStore::FindLead(
    Transaction& tx, std::string_view id) const {
  return ParseOne<v1::Lead>(
      tx.QueryOne("SELECT body FROM leads WHERE id = ?", {id}));
}

absl::StatusOr<std::optional<v1::Lead>> CampaignStore::FindLeadByEmail(
    Transaction& tx, std::string_view normalized_email) const {
  return ParseOne<v1::Lead>(tx.QueryOne(
      "SELECT body FROM leads WHERE normalized_email = ?", {normalized_email}));
}

absl::Status CampaignStore::InsertLead(Transaction& tx, std::string_view id,
                                       const v1::Lead& lead) const {
  const std::string body = lead.SerializeAsString();
  return ExpectOneRow(
      tx.Exec("INSERT INTO leads (id, body, normalized_email, campaign, stage) "
              "VALUES (?, ?, ?, ?, ?)",
              {id, SqlBlob{body}, lead.normalized_email(), lead.campaign(),
               static_cast<int>(lead.stage())}),
      "insert lead");
}

absl::Status CampaignStore::UpdateLead(Transaction& tx, std::string_view id,
                                       const v1::Lead& lead) const {
  const std::string body = lead.SerializeAsString();
  // normalized_email and campaign never change after capture.
  return ExpectOneRow(
      tx.Exec("UPDATE leads SET body = ?, stage = ? WHERE id = ?",
              {SqlBlob{body}, static_cast<int>(lead.stage()), id}),
      "update lead");
}

absl::StatusOr<std::vector<v1::Lead>> CampaignStore::ListLeads(
    Transaction& tx, const LeadQuery& q) const {
  const std::string_view after = q.after_id;
  if (q.stage && q.campaign) {
    return ParseRows<v1::Lead>(tx.Query(
        "SELECT body FROM leads WHERE campaign = ? AND stage = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        {*q.campaign, *q.stage, after, q.limit}));
  }
  if (q.stage) {
    return ParseRows<v1::Lead>(
        tx.Query("SELECT body FROM leads WHERE stage = ? AND id > ? "
                 "ORDER BY id LIMIT ?",
                 {*q.stage, after, q.limit}));
  }
  if (q.campaign) {
    return ParseRows<v1::Lead>(
        tx.Query("SELECT body FROM leads WHERE campaign = ? AND id > ? "
                 "ORDER BY id LIMIT ?",
                 {*q.campaign, after, q.limit}));
  }
  return ParseRows<v1::Lead>(
      tx.Query("SELECT body FROM leads WHERE id > ? ORDER BY id LIMIT ?",
               {after, q.limit}));
}

absl::StatusOr<std::vector<v1::Lead>> CampaignStore::LeadsOfCampaign(
    Transaction& tx, std::string_view campaign) const {
  return ParseRows<v1::Lead>(tx.Query(
      "SELECT body FROM leads WHERE campaign = ? ORDER BY id", {campaign}));
}

}  // namespace handoff::campaign
