#include "common/storage/idempotency.h"

#include <google/protobuf/message_lite.h>

namespace handoff::internal {

absl::Status RememberResponse(Transaction& tx, std::string_view method,
                              std::string_view request_id,
                              const google::protobuf::MessageLite& response) {
  const std::string bytes = response.SerializeAsString();
  return tx
      .Exec(
          "INSERT INTO idempotency (method, request_id, response) "
          "VALUES (?, ?, ?)",
          {method, request_id, SqlBlob{bytes}})
      .status();
}

}  // namespace handoff::internal

namespace handoff {

absl::StatusOr<bool> FindIdempotentResponse(
    Transaction& tx, std::string_view method, std::string_view request_id,
    google::protobuf::MessageLite* out) {
  absl::StatusOr<std::optional<SqlRow>> row = tx.QueryOne(
      "SELECT response FROM idempotency WHERE method = ? AND request_id = ?",
      {method, request_id});
  if (!row.ok()) return row.status();
  if (!row->has_value()) return false;
  absl::Status status = ParseStoredProto((*row)->Bytes(0), out);
  if (!status.ok()) return status;
  return true;
}

absl::StatusOr<bool> FindIdempotentResponse(
    Database& db, std::string_view method, std::string_view request_id,
    google::protobuf::MessageLite* out) {
  bool found = false;
  absl::Status status = db.Read([&](Transaction& tx) -> absl::Status {
    absl::StatusOr<bool> seen =
        FindIdempotentResponse(tx, method, request_id, out);
    if (!seen.ok()) return seen.status();
    found = *seen;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return found;
}

}  // namespace handoff
