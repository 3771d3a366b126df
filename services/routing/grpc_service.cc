#include "services/routing/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::routing {
namespace {

template <typename T>
absl::Status Respond(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* RoutingGrpcService::CreateRep(
    grpc::CallbackServerContext* ctx, const v1::CreateRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(
      ctx, [&] { return Respond(reps_.CreateRep(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetRep(
    grpc::CallbackServerContext* ctx, const v1::GetRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(ctx,
                     [&] { return Respond(reps_.GetRep(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::ListReps(
    grpc::CallbackServerContext* ctx, const v1::ListRepsRequest* request,
    v1::ListRepsResponse* response) {
  return HandleUnary(
      ctx, [&] { return Respond(reps_.ListReps(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::UpdateRep(
    grpc::CallbackServerContext* ctx, const v1::UpdateRepRequest* request,
    v1::Rep* response) {
  return HandleUnary(
      ctx, [&] { return Respond(reps_.UpdateRep(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RouteLead(
    grpc::CallbackServerContext* ctx, const v1::RouteLeadRequest* request,
    v1::RouteLeadResponse* response) {
  return HandleUnary(
      ctx, [&] { return Respond(router_.RouteLead(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::GetAssignment(
    grpc::CallbackServerContext* ctx, const v1::GetAssignmentRequest* request,
    v1::Assignment* response) {
  return HandleUnary(
      ctx, [&] { return Respond(router_.GetAssignment(*request), response); });
}

grpc::ServerUnaryReactor* RoutingGrpcService::ListAssignments(
    grpc::CallbackServerContext* ctx, const v1::ListAssignmentsRequest* request,
    v1::ListAssignmentsResponse* response) {
  return HandleUnary(ctx, [&] {
    return Respond(router_.ListAssignments(*request), response);
  });
}

grpc::ServerUnaryReactor* RoutingGrpcService::AcceptAssignment(
    grpc::CallbackServerContext* ctx,
    const v1::AcceptAssignmentRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, [&] {
    return Respond(router_.AcceptAssignment(*request), response);
  });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RejectAssignment(
    grpc::CallbackServerContext* ctx,
    const v1::RejectAssignmentRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, [&] {
    return Respond(router_.RejectAssignment(*request), response);
  });
}

grpc::ServerUnaryReactor* RoutingGrpcService::RecordConversion(
    grpc::CallbackServerContext* ctx,
    const v1::RecordConversionRequest* request, v1::Assignment* response) {
  return HandleUnary(ctx, [&] {
    return Respond(router_.RecordConversion(*request), response);
  });
}

}  // namespace handoff::routing
