#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace handoff {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// The body of a thin callback-API unary handler: runs `fn` (returning
// absl::Status) with the call's deadline visible to outgoing clients
// (see clients/deadline.h) and finishes the call with the converted status
// once what it wrote or read is durable (see storage/database.h).
template <typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Fn&& fn);

// The same for `fn` returning absl::StatusOr<Response>: an OK result becomes
// the response message.
template <typename Response, typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Response* response, Fn&& fn);

}  // namespace handoff

#include "common/clients/deadline.h"
#include "common/storage/database.h"

namespace handoff {

template <typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  DeferredDurability durability;
  absl::Status status;
  {
    ScopedCallDeadline deadline(ctx->deadline());
    status = fn();
  }
  // The reply waits for the group commit of what the call wrote or saw,
  // without holding this thread.
  durability.Then([reactor, status] { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

}  // namespace handoff

namespace handoff {

template <typename Response, typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Response* response, Fn&& fn) {
  return HandleUnary(ctx, [&]() -> absl::Status {
    absl::StatusOr<Response> result = fn();
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

}  // namespace handoff
