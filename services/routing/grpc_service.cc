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
  return HandleUnary(ctx, response,
                     [&] { return router_.RouteLead(*request); });
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

}  // namespace handoff::routing
