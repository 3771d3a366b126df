#include "services/deal/deal_store.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace handoff::deal {
namespace {

// Stage numbers appear literally in the partial index and in the query that
// uses it, so SQLite can match the two. 6 is DEAL_STAGE_CLOSED_LOST.
static_assert(v1::DEAL_STAGE_CLOSED_LOST == 6);

const std::vector<std::string>& Schema() {
  static const auto* steps = new std::vector<std::string>{
      "CREATE TABLE deals ("
      "  id TEXT PRIMARY KEY,"
      "  body BLOB NOT NULL,"
      "  lead TEXT NOT NULL,"
      "  owner TEXT NOT NULL,"
      "  stage INTEGER NOT NULL)",
      "CREATE INDEX deals_by_lead ON deals(lead, id)",
      "CREATE INDEX deals_by_owner ON deals(owner, id)",
      "CREATE INDEX deals_by_stage ON deals(stage, id)",
      // One open or won deal per lead; a lost deal leaves room for a new one.
      "CREATE UNIQUE INDEX deals_active_per_lead ON deals(lead) "
      "WHERE stage <> 6",
  };
  return *steps;
}

// Parameters, in this order for every variant: ?1 lead, ?2 owner, ?3 stage,
// ?4 after id, ?5 limit. The variant leads with the most selective filter
// given, as a plain equality, so SQLite picks that column's index.
constexpr char kListByLead[] =
    "SELECT body FROM deals WHERE lead = ?1 AND (?2 = '' OR owner = ?2) "
    "AND (?3 = 0 OR stage = ?3) AND id > ?4 ORDER BY id LIMIT ?5";
constexpr char kListByOwner[] =
    "SELECT body FROM deals WHERE owner = ?2 AND (?1 = '' OR lead = ?1) "
    "AND (?3 = 0 OR stage = ?3) AND id > ?4 ORDER BY id LIMIT ?5";
constexpr char kListByStage[] =
    "SELECT body FROM deals WHERE stage = ?3 AND (?1 = '' OR lead = ?1) "
    "AND (?2 = '' OR owner = ?2) AND id > ?4 ORDER BY id LIMIT ?5";
constexpr char kListAll[] =
    "SELECT body FROM deals WHERE (?1 = '' OR lead = ?1) "
    "AND (?2 = '' OR owner = ?2) AND (?3 = 0 OR stage = ?3) AND id > ?4 "
    "ORDER BY id LIMIT ?5";

absl::StatusOr<std::optional<v1::Deal>> ParseRow(
    const absl::StatusOr<std::optional<SqlRow>>& row) {
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  v1::Deal deal;
  if (absl::Status s = ParseStoredProto((*row)->Bytes(0), &deal); !s.ok()) {
    return s;
  }
  return deal;
}

}  // namespace

absl::Status DealStore::Migrate() { return db_.Migrate("deal", Schema()); }

absl::StatusOr<std::optional<v1::Deal>> DealStore::Find(
    Transaction& tx, std::string_view id) const {
  return ParseRow(tx.QueryOne("SELECT body FROM deals WHERE id = ?", {id}));
}

absl::StatusOr<std::optional<v1::Deal>> DealStore::FindActiveForLead(
    Transaction& tx, std::string_view lead) const {
  return ParseRow(tx.QueryOne(
      "SELECT body FROM deals WHERE lead = ? AND stage <> 6 LIMIT 1", {lead}));
}

absl::Status DealStore::Insert(Transaction& tx, std::string_view id,
                               const v1::Deal& deal) const {
  const std::string body = deal.SerializeAsString();
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO deals (id, body, lead, owner, stage) VALUES (?, ?, ?, ?, ?)",
      {id, SqlBlob{body}, deal.lead(), deal.owner(),
       static_cast<int>(deal.stage())});
  return inserted.status();
}

absl::Status DealStore::Update(Transaction& tx, std::string_view id,
                               const v1::Deal& deal) const {
  const std::string body = deal.SerializeAsString();
  absl::StatusOr<int64_t> updated = tx.Exec(
      "UPDATE deals SET body = ?, owner = ?, stage = ? WHERE id = ?",
      {SqlBlob{body}, deal.owner(), static_cast<int>(deal.stage()), id});
  if (!updated.ok()) return updated.status();
  if (*updated != 1) {
    return absl::InternalError(
        absl::StrCat("deals/", Sv(id), " vanished during update"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Deal>> DealStore::List(
    Transaction& tx, const DealQuery& query) const {
  const char* sql = kListAll;
  if (!query.lead.empty()) {
    sql = kListByLead;
  } else if (!query.owner.empty()) {
    sql = kListByOwner;
  } else if (query.stage != v1::DEAL_STAGE_UNSPECIFIED) {
    sql = kListByStage;
  }
  absl::StatusOr<std::vector<SqlRow>> rows =
      tx.Query(sql, {query.lead, query.owner, static_cast<int>(query.stage),
                     query.after_id, query.limit});
  if (!rows.ok()) return rows.status();
  std::vector<v1::Deal> deals;
  deals.reserve(rows->size());
  for (const SqlRow& row : *rows) {
    v1::Deal& deal = deals.emplace_back();
    if (absl::Status s = ParseStoredProto(row.Bytes(0), &deal); !s.ok()) {
      return s;
    }
  }
  return deals;
}

}  // namespace handoff::deal
