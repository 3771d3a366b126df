#pragma once

#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/storage/database.h"

namespace handoff {

// Runs `fn` in a write transaction and stores its response under
// (method, request_id); a later call with the same pair returns the stored
// response without running `fn`. An empty request_id disables the check.
// A failed `fn` stores nothing, so the retry runs again.
template <typename Response>
absl::StatusOr<Response> IdempotentWrite(
    Database& db, std::string_view method, std::string_view request_id,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> fn);

// Reads the response stored for (method, request_id) into `out`; false when
// there is none. For calls that must check before doing slow work outside
// the write transaction (e.g. asking another service).
absl::StatusOr<bool> FindIdempotentResponse(Database& db,
                                            std::string_view method,
                                            std::string_view request_id,
                                            google::protobuf::MessageLite* out);
// The same inside a transaction the caller already has open.
absl::StatusOr<bool> FindIdempotentResponse(Transaction& tx,
                                            std::string_view method,
                                            std::string_view request_id,
                                            google::protobuf::MessageLite* out);

namespace internal {
absl::Status RememberResponse(Transaction& tx, std::string_view method,
                              std::string_view request_id,
                              const google::protobuf::MessageLite& response);
}  // namespace internal

template <typename Response>
absl::StatusOr<Response> IdempotentWrite(
    Database& db, std::string_view method, std::string_view request_id,
    absl::FunctionRef<absl::StatusOr<Response>(Transaction&)> fn) {
  Response response;
  absl::Status status = db.Write([&](Transaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      absl::StatusOr<bool> seen =
          FindIdempotentResponse(tx, method, request_id, &response);
      if (!seen.ok()) return seen.status();
      if (*seen) return absl::OkStatus();
    }
    absl::StatusOr<Response> fresh = fn(tx);
    if (!fresh.ok()) return fresh.status();
    response = *std::move(fresh);
    if (request_id.empty()) return absl::OkStatus();
    return internal::RememberResponse(tx, method, request_id, response);
  });
  if (!status.ok()) return status;
  return response;
}

}  // namespace handoff
