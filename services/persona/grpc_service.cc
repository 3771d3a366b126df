#include "services/persona/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::persona {
namespace {

template <typename T>
absl::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* PersonaGrpcService::CreatePersona(
    grpc::CallbackServerContext* ctx, const v1::CreatePersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.Create(*request), response); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::GetPersona(
    grpc::CallbackServerContext* ctx, const v1::GetPersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx, [&] { return Reply(book_.Get(*request), response); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::ListPersonas(
    grpc::CallbackServerContext* ctx, const v1::ListPersonasRequest* request,
    v1::ListPersonasResponse* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.List(*request), response); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::UpdatePersona(
    grpc::CallbackServerContext* ctx, const v1::UpdatePersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.Update(*request), response); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::DeletePersona(
    grpc::CallbackServerContext* ctx, const v1::DeletePersonaRequest* request,
    google::protobuf::Empty* /*response*/) {
  return HandleUnary(ctx, [&] { return book_.Delete(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::MatchPersona(
    grpc::CallbackServerContext* ctx, const v1::MatchPersonaRequest* request,
    v1::MatchPersonaResponse* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(book_.Match(*request), response); });
}

}  // namespace handoff::persona
