#include "services/campaign/grpc_service.h"

#include "common/server/grpc_status.h"

namespace handoff::campaign {

grpc::ServerUnaryReactor* CampaignGrpcService::CreateCampaign(
    grpc::CallbackServerContext* ctx, const v1::CreateCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(ctx, response,
                     [&] { return campaigns_.CreateCampaign(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetCampaign(
    grpc::CallbackServerContext* ctx, const v1::GetCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(ctx, response,
                     [&] { return campaigns_.GetCampaign(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::ListCampaigns(
    grpc::CallbackServerContext* ctx, const v1::ListCampaignsRequest* request,
    v1::ListCampaignsResponse* response) {
  return HandleUnary(ctx, response,
                     [&] { return campaigns_.ListCampaigns(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::UpdateCampaign(
    grpc::CallbackServerContext* ctx, const v1::UpdateCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(ctx, response,
                     [&] { return campaigns_.UpdateCampaign(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::CaptureLead(
    grpc::CallbackServerContext* ctx, const v1::CaptureLeadRequest* request,
    v1::CaptureLeadResponse* response) {
  // Asks persona for the fit: a blocking call to a neighbour.
  return HandleUnaryOffThread(
      ctx, response, [this, request] { return leads_.CaptureLead(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetLead(
    grpc::CallbackServerContext* ctx, const v1::GetLeadRequest* request,
    v1::Lead* response) {
  return HandleUnary(ctx, response, [&] { return leads_.GetLead(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::ListLeads(
    grpc::CallbackServerContext* ctx, const v1::ListLeadsRequest* request,
    v1::ListLeadsResponse* response) {
  return HandleUnary(ctx, response, [&] { return leads_.ListLeads(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::RecordEngagement(
    grpc::CallbackServerContext* ctx,
    const v1::RecordEngagementRequest* request,
    v1::RecordEngagementResponse* response) {
  return HandleUnary(ctx, response,
                     [&] { return leads_.RecordEngagement(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::UpdateLeadStage(
    grpc::CallbackServerContext* ctx, const v1::UpdateLeadStageRequest* request,
    v1::Lead* response) {
  return HandleUnary(ctx, response,
                     [&] { return leads_.UpdateLeadStage(*request); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetCampaignReport(
    grpc::CallbackServerContext* ctx,
    const v1::GetCampaignReportRequest* request, v1::CampaignReport* response) {
  return HandleUnary(ctx, response,
                     [&] { return campaigns_.GetCampaignReport(*request); });
}

}  // namespace handoff::campaign
