#pragma once

#include "handoff/persona/v1/persona.grpc.pb.h"
#include "services/persona/persona_book.h"

namespace handoff::persona {

// gRPC edge of PersonaService: each RPC is one PersonaBook call.
class PersonaGrpcService final : public v1::PersonaService::CallbackService {
 public:
  explicit PersonaGrpcService(PersonaBook& book) : book_(book) {}

  grpc::ServerUnaryReactor* CreatePersona(
      grpc::CallbackServerContext* ctx, const v1::CreatePersonaRequest* request,
      v1::Persona* response) override;
  grpc::ServerUnaryReactor* GetPersona(grpc::CallbackServerContext* ctx,
                                       const v1::GetPersonaRequest* request,
                                       v1::Persona* response) override;
  grpc::ServerUnaryReactor* ListPersonas(
      grpc::CallbackServerContext* ctx, const v1::ListPersonasRequest* request,
      v1::ListPersonasResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePersona(
      grpc::CallbackServerContext* ctx, const v1::UpdatePersonaRequest* request,
      v1::Persona* response) override;
  grpc::ServerUnaryReactor* DeletePersona(
      grpc::CallbackServerContext* ctx, const v1::DeletePersonaRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* MatchPersona(
      grpc::CallbackServerContext* ctx, const v1::MatchPersonaRequest* request,
      v1::MatchPersonaResponse* response) override;

 private:
  PersonaBook& book_;
};

}  // namespace handoff::persona
