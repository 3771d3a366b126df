#include "services/routing/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::routing {

grpc::ServerUnaryReactor* RoutingGrpcService::CreateRep(
    grpc::CallbackServerContext* ctx, const v1::CreateRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx, response, [&] { return reps_.CreateRep(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetRep(
    grpc::CallbackServerContext* ctx, const v1::GetRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx, response, [&] { return reps_.GetRep(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::ListReps(
    grpc::CallbackServerContext* ctx, const v1::ListRepsRequest* request,
    v1::ListRepsResponse* response) {
  return HandleUnary(ctx, response, [&] { return reps_.ListReps(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::UpdateRep(
    grpc::CallbackServerContext* ctx, const v1::UpdateRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx, response, [&] { return reps_.UpdateRep(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RouteLead(
    grpc::CallbackServerContext* ctx, const v1::RouteLeadRequest* request,
    v1::RouteLeadResponse* response) {
  // Never waits for the engine here: a callback thread that blocked on it
  // would stop serving gRPC while it holds no work of its own.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  router_.RouteLeadThen(
      *request,
      [reactor, response](absl::StatusOr<v1::RouteLeadResponse> reply) {
        if (reply.ok()) *response = *std::move(reply);
        reactor->Finish(ToGrpcStatus(reply.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetAssignment(
    grpc::CallbackServerContext* ctx, const v1::GetAssignmentRequest* request,
    v1::Assignment* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.GetAssignment(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::ListAssignments(
    grpc::CallbackServerContext* ctx, const v1::ListAssignmentsRequest* request,
    v1::ListAssignmentsResponse* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.ListAssignments(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::AcceptAssignment(
    grpc::CallbackServerContext* ctx,
    const v1::AcceptAssignmentRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.AcceptAssignment(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RecordFirstTouch(
    grpc::CallbackServerContext* ctx,
    const v1::RecordFirstTouchRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.RecordFirstTouch(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RejectAssignment(
    grpc::CallbackServerContext* ctx,
    const v1::RejectAssignmentRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.RejectAssignment(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RecordConversion(
    grpc::CallbackServerContext* ctx,
    const v1::RecordConversionRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.RecordConversion(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::DeleteRep(
    grpc::CallbackServerContext* ctx, const v1::DeleteRepRequest* request,
    google::protobuf::Empty* response) {
  return HandleUnary(ctx, response,
                     [&]() -> absl::StatusOr<google::protobuf::Empty> {
                       if (absl::Status s = reps_.DeleteRep(*request); !s.ok())
                         return s;
                       return google::protobuf::Empty();
                     });
}

grpc::ServerUnaryReactor* RoutingGrpcService::SetRepStatus(
    grpc::CallbackServerContext* ctx, const v1::SetRepStatusRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx, response,
                     [&] { return reps_.SetRepStatus(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::SetOutOfOffice(
    grpc::CallbackServerContext* ctx, const v1::SetOutOfOfficeRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx, response,
                     [&] { return reps_.SetOutOfOffice(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::ApplyRuleSet(
    grpc::CallbackServerContext* ctx, const v1::ApplyRuleSetRequest* request,
    v1::RuleSet* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.ApplyRuleSet(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetRuleSet(
    grpc::CallbackServerContext* ctx, const v1::GetRuleSetRequest* request,
    v1::RuleSet* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.GetRuleSet(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetPoolFairness(
    grpc::CallbackServerContext* ctx, const v1::GetPoolFairnessRequest* request,
    v1::PoolFairness* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.GetPoolFairness(*request); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::SimulateRouting(
    grpc::CallbackServerContext* ctx, const v1::SimulateRoutingRequest* request,
    v1::SimulateRoutingResponse* response) {
  return HandleUnary(ctx, response,
                     [&] { return router_.SimulateRouting(*request); });
}

grpc::ServerWriteReactor<v1::AssignmentEvent>*
RoutingGrpcService::WatchAssignments(
    grpc::CallbackServerContext* ctx,
    const v1::WatchAssignmentsRequest* request) {
  return StartAssignmentWatch(ctx, request, store_, watch_hub_);
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetSlaReport(
    grpc::CallbackServerContext* ctx, const v1::GetSlaReportRequest* request,
    v1::SlaReport* response) {
  return HandleUnary(ctx, response,
                     [&] { return sla_reports_.GetSlaReport(*request); });
}

}  // namespace handoff::routing
