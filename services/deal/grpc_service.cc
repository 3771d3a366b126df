#include "services/deal/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::deal {

grpc::ServerUnaryReactor* DealGrpcService::CreateDeal(
    grpc::CallbackServerContext* ctx, const v1::CreateDealRequest* request,
    v1::Deal* response) {
  // Asks routing who accepted the lead: a blocking call to a neighbour.
  return HandleUnaryOffThread(
      ctx, response, [this, request] { return book_.Create(*request); });
}

grpc::ServerUnaryReactor* DealGrpcService::GetDeal(
    grpc::CallbackServerContext* ctx, const v1::GetDealRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx, response, [&] { return book_.Get(*request); });
}

grpc::ServerUnaryReactor* DealGrpcService::ListDeals(
    grpc::CallbackServerContext* ctx, const v1::ListDealsRequest* request,
    v1::ListDealsResponse* response) {
  return HandleUnary(ctx, response, [&] { return book_.List(*request); });
}

grpc::ServerUnaryReactor* DealGrpcService::UpdateDealStage(
    grpc::CallbackServerContext* ctx, const v1::UpdateDealStageRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx, response,
                     [&] { return book_.UpdateStage(*request); });
}

grpc::ServerUnaryReactor* DealGrpcService::CloseDeal(
    grpc::CallbackServerContext* ctx, const v1::CloseDealRequest* request,
    v1::Deal* response) {
  return HandleUnary(ctx, response, [&] { return book_.Close(*request); });
}

}  // namespace handoff::deal
