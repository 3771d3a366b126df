#pragma once

#include <grpcpp/grpcpp.h>

#include "handoff/routing/v1/routing.grpc.pb.h"
#include "services/routing/rep_directory.h"
#include "services/routing/router.h"

namespace handoff::routing {

// handoff.routing.v1.LeadRoutingService: each RPC is one call on
// RepDirectory or Router.
class RoutingGrpcService final
    : public v1::LeadRoutingService::CallbackService {
 public:
  RoutingGrpcService(RepDirectory& reps, Router& router)
      : reps_(reps), router_(router) {}

  grpc::ServerUnaryReactor* CreateRep(grpc::CallbackServerContext* ctx,
                                      const v1::CreateRepRequest* request,
                                      v1::Rep* response) override;
  grpc::ServerUnaryReactor* GetRep(grpc::CallbackServerContext* ctx,
                                   const v1::GetRepRequest* request,
                                   v1::Rep* response) override;
  grpc::ServerUnaryReactor* ListReps(grpc::CallbackServerContext* ctx,
                                     const v1::ListRepsRequest* request,
                                     v1::ListRepsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateRep(grpc::CallbackServerContext* ctx,
                                      const v1::UpdateRepRequest* request,
                                      v1::Rep* response) override;
  grpc::ServerUnaryReactor* RouteLead(grpc::CallbackServerContext* ctx,
                                      const v1::RouteLeadRequest* request,
                                      v1::RouteLeadResponse* response) override;
  grpc::ServerUnaryReactor* GetAssignment(
      grpc::CallbackServerContext* ctx, const v1::GetAssignmentRequest* request,
      v1::Assignment* response) override;
  grpc::ServerUnaryReactor* ListAssignments(
      grpc::CallbackServerContext* ctx,
      const v1::ListAssignmentsRequest* request,
      v1::ListAssignmentsResponse* response) override;
  grpc::ServerUnaryReactor* AcceptAssignment(
      grpc::CallbackServerContext* ctx,
      const v1::AcceptAssignmentRequest* request,
      v1::Assignment* response) override;
  grpc::ServerUnaryReactor* RejectAssignment(
      grpc::CallbackServerContext* ctx,
      const v1::RejectAssignmentRequest* request,
      v1::Assignment* response) override;
  grpc::ServerUnaryReactor* RecordConversion(
      grpc::CallbackServerContext* ctx,
      const v1::RecordConversionRequest* request,
      v1::Assignment* response) override;

 private:
  RepDirectory& reps_;
  Router& router_;
};

}  // namespace handoff::routing
