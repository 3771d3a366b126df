#pragma once

#include <grpcpp/grpcpp.h>

#include "handoff/deal/v1/deal.grpc.pb.h"
#include "services/deal/deal_book.h"

namespace handoff::deal {

// The RPC edge of DealService: each method hands the request to DealBook.
class DealGrpcService final : public v1::DealService::CallbackService {
 public:
  explicit DealGrpcService(DealBook& book) : book_(book) {}

  grpc::ServerUnaryReactor* CreateDeal(grpc::CallbackServerContext* ctx,
                                       const v1::CreateDealRequest* request,
                                       v1::Deal* response) override;
  grpc::ServerUnaryReactor* GetDeal(grpc::CallbackServerContext* ctx,
                                    const v1::GetDealRequest* request,
                                    v1::Deal* response) override;
  grpc::ServerUnaryReactor* ListDeals(grpc::CallbackServerContext* ctx,
                                      const v1::ListDealsRequest* request,
                                      v1::ListDealsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateDealStage(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateDealStageRequest* request, v1::Deal* response) override;
  grpc::ServerUnaryReactor* CloseDeal(grpc::CallbackServerContext* ctx,
                                      const v1::CloseDealRequest* request,
                                      v1::Deal* response) override;

 private:
  DealBook& book_;
};

}  // namespace handoff::deal
