#include "services/deal/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::deal {
namespace {

template <typename Response>
absl::Status Reply(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* DealGrpcService::CreateDeal(
    grpc::CallbackServerContext* ctx, const v1::CreateDealRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.Create(*request), response); });
}

grpc::ServerUnaryReactor* DealGrpcService::GetDeal(
    grpc::CallbackServerContext* ctx, const v1::GetDealRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx, [&] { return Reply(book_.Get(*request), response); });
}

grpc::ServerUnaryReactor* DealGrpcService::ListDeals(
    grpc::CallbackServerContext* ctx, const v1::ListDealsRequest* request,
    v1::ListDealsResponse* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.List(*request), response); });
}

grpc::ServerUnaryReactor* DealGrpcService::UpdateDealStage(
    grpc::CallbackServerContext* ctx, const v1::UpdateDealStageRequest* request,
    v1::Deal* response) {
  return HandleUnary(
      ctx, [&] { return Reply(book_.UpdateStage(*request), response); });
}

grpc::ServerUnaryReactor* DealGrpcService::CloseDeal(
    grpc::CallbackServerContext* ctx, const v1::CloseDealRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.Close(*request), response); });
}

}  // namespace handoff::deal
