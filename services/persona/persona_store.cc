#include "services/persona/persona_store.h"

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace handoff::persona {
namespace {

// Industries are matched case-insensitively, so the index holds one spelling.
std::string IndustryKey(std::string_view industry) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(Sv(industry)));
}

absl::StatusOr<std::vector<v1::Persona>> ParseBodies(
    const std::vector<SqlRow>& rows) {
  std::vector<v1::Persona> personas(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (absl::Status s = ParseStoredProto(rows[i].Bytes(0), &personas[i]);
        !s.ok()) {
      return s;
    }
  }
  return personas;
}

}  // namespace

absl::Status PersonaStore::Migrate(Database& db) {
  return db.Migrate(
      "persona",
      {
          "CREATE TABLE personas (id TEXT PRIMARY KEY, body BLOB NOT NULL)",
          // Denormalized industries for the List filter; keyset paging walks
          // (industry, persona_id) in id order.
          "CREATE TABLE persona_industries ("
          " industry TEXT NOT NULL, persona_id TEXT NOT NULL,"
          " PRIMARY KEY (industry, persona_id)) WITHOUT ROWID",
      });
}

absl::StatusOr<std::optional<v1::Persona>> PersonaStore::Find(
    Transaction& tx, std::string_view id) const {
  absl::StatusOr<std::optional<SqlRow>> row =
      tx.QueryOne("SELECT body FROM personas WHERE id = ?", {id});
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::nullopt;
  v1::Persona persona;
  if (absl::Status s = ParseStoredProto((*row)->Bytes(0), &persona); !s.ok()) {
    return s;
  }
  return persona;
}

absl::Status PersonaStore::Insert(Transaction& tx, std::string_view id,
                                  const v1::Persona& persona) const {
  std::string body = persona.SerializeAsString();
  absl::StatusOr<int64_t> inserted = tx.Exec(
      "INSERT INTO personas (id, body) VALUES (?, ?)", {id, SqlBlob{body}});
  if (!inserted.ok()) return inserted.status();
  return IndexIndustries(tx, id, persona);
}

absl::Status PersonaStore::Replace(Transaction& tx, std::string_view id,
                                   const v1::Persona& persona) const {
  std::string body = persona.SerializeAsString();
  absl::StatusOr<int64_t> updated =
      tx.Exec("UPDATE personas SET body = ? WHERE id = ?", {SqlBlob{body}, id});
  if (!updated.ok()) return updated.status();
  absl::StatusOr<int64_t> cleared =
      tx.Exec("DELETE FROM persona_industries WHERE persona_id = ?", {id});
  if (!cleared.ok()) return cleared.status();
  return IndexIndustries(tx, id, persona);
}

absl::StatusOr<bool> PersonaStore::Remove(Transaction& tx,
                                          std::string_view id) const {
  absl::StatusOr<int64_t> cleared =
      tx.Exec("DELETE FROM persona_industries WHERE persona_id = ?", {id});
  if (!cleared.ok()) return cleared.status();
  absl::StatusOr<int64_t> removed =
      tx.Exec("DELETE FROM personas WHERE id = ?", {id});
  if (!removed.ok()) return removed.status();
  return *removed > 0;
}

absl::StatusOr<std::vector<v1::Persona>> PersonaStore::ListAfter(
    Transaction& tx, std::string_view after_id, int limit,
    std::optional<std::string_view> industry) const {
  absl::StatusOr<std::vector<SqlRow>> rows;
  if (industry.has_value()) {
    rows = tx.Query(
        "SELECT p.body FROM persona_industries i"
        " JOIN personas p ON p.id = i.persona_id"
        " WHERE i.industry = ? AND i.persona_id > ?"
        " ORDER BY i.persona_id LIMIT ?",
        {IndustryKey(*industry), after_id, limit});
  } else {
    rows =
        tx.Query("SELECT body FROM personas WHERE id > ? ORDER BY id LIMIT ?",
                 {after_id, limit});
  }
  if (!rows.ok()) return rows.status();
  return ParseBodies(*rows);
}

absl::StatusOr<std::vector<v1::Persona>> PersonaStore::All(
    Transaction& tx) const {
  absl::StatusOr<std::vector<SqlRow>> rows =
      tx.Query("SELECT body FROM personas ORDER BY id");
  if (!rows.ok()) return rows.status();
  return ParseBodies(*rows);
}

absl::Status PersonaStore::IndexIndustries(Transaction& tx, std::string_view id,
                                           const v1::Persona& persona) const {
  for (const std::string& industry : persona.criteria().industries()) {
    // OR IGNORE: "SaaS" and "saas" in one persona share a key.
    absl::StatusOr<int64_t> added = tx.Exec(
        "INSERT OR IGNORE INTO persona_industries (industry, persona_id)"
        " VALUES (?, ?)",
        {IndustryKey(industry), id});
    if (!added.ok()) return added.status();
  }
  return absl::OkStatus();
}

}  // namespace handoff::persona
