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

// HandleUnary on a BlockingPool thread, for handlers that call other
// services. `fn` is copied there: capture the request pointer by value.
template <typename Response, typename Fn>
grpc::ServerUnaryReactor* HandleUnaryOffThread(grpc::CallbackServerContext* ctx,
                                               Response* response, Fn fn);

}  // namespace handoff

#include "common/blocking_pool.h"
#include "common/clients/deadline.h"
#include "common/storage/database.h"

namespace handoff {
namespace internal {

// Runs `fn` for the call and finishes `reactor` with its status once what
// the call wrote or saw is durable, without holding this thread meanwhile.
template <typename Fn>
void RunAndFinish(grpc::CallbackServerContext* ctx,
                  grpc::ServerUnaryReactor* reactor, Fn& fn) {
  DeferredDurability durability;
  absl::Status status;
  {
    ScopedCallDeadline deadline(ctx->deadline());
    status = fn();
  }
  durability.Then([reactor, status] { reactor->Finish(ToGrpcStatus(status)); });
}

// Adapts `fn` returning StatusOr<Response> to one that fills `response`.
template <typename Response, typename Fn>
auto FillingResponse(Response* response, Fn& fn) {
  return [response, &fn]() -> absl::Status {
    absl::StatusOr<Response> result = fn();
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  };
}

}  // namespace internal

template <typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  internal::RunAndFinish(ctx, reactor, fn);
  return reactor;
}

template <typename Response, typename Fn>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* ctx,
                                      Response* response, Fn&& fn) {
  auto filling = internal::FillingResponse(response, fn);
  return HandleUnary(ctx, filling);
}

template <typename Response, typename Fn>
grpc::ServerUnaryReactor* HandleUnaryOffThread(grpc::CallbackServerContext* ctx,
                                               Response* response, Fn fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  BlockingPool::Shared().Post(
      [ctx, reactor, response, fn = std::move(fn)]() mutable {
        auto filling = internal::FillingResponse(response, fn);
        internal::RunAndFinish(ctx, reactor, filling);
      });
  return reactor;
}

}  // namespace handoff
