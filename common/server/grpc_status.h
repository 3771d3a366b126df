#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace handoff {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// The body of a thin callback-API unary handler: runs `fn` (returning
// absl::Status) with the call's deadline visible to outgoing clients
// (see clients/deadline.h) and finishes the call with the converted status.
template <typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx, Fn&& fn);

}  // namespace handoff

#include "common/clients/deadline.h"

namespace handoff {

template <typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status status;
  {
    ScopedCallDeadline deadline(ctx->deadline());
    status = fn();
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace handoff
