#include "services/persona/grpc_service.h"

#include <utility>

#include "common/server/grpc_status.h"

namespace handoff::persona {

grpc::ServerUnaryReactor* PersonaGrpcService::CreatePersona(
    grpc::CallbackServerContext* ctx, const v1::CreatePersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx, response, [&] { return book_.Create(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::GetPersona(
    grpc::CallbackServerContext* ctx, const v1::GetPersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx, response, [&] { return book_.Get(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::ListPersonas(
    grpc::CallbackServerContext* ctx, const v1::ListPersonasRequest* request,
    v1::ListPersonasResponse* response) {
  return HandleUnary(ctx, response, [&] { return book_.List(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::UpdatePersona(
    grpc::CallbackServerContext* ctx, const v1::UpdatePersonaRequest* request,
    v1::Persona* response) {
  return HandleUnary(ctx, response, [&] { return book_.Update(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::DeletePersona(
    grpc::CallbackServerContext* ctx, const v1::DeletePersonaRequest* request,
    google::protobuf::Empty* /*response*/) {
  return HandleUnary(ctx, [&] { return book_.Delete(*request); });
}

grpc::ServerUnaryReactor* PersonaGrpcService::MatchPersona(
    grpc::CallbackServerContext* ctx, const v1::MatchPersonaRequest* request,
    v1::MatchPersonaResponse* response) {
  return HandleUnary(ctx, response, [&] { return book_.Match(*request); });
}

}  // namespace handoff::persona
