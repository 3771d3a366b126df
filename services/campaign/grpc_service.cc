#include "services/campaign/grpc_service.h"

#include "common/server/grpc_status.h"

namespace handoff::campaign {
namespace {

template <typename T>
absl::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CampaignGrpcService::CreateCampaign(
    grpc::CallbackServerContext* ctx, const v1::CreateCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(ctx, [&] {
    return Reply(campaigns_.CreateCampaign(*request), response);
  });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetCampaign(
    grpc::CallbackServerContext* ctx, const v1::GetCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(
      ctx, [&] { return Reply(campaigns_.GetCampaign(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::ListCampaigns(
    grpc::CallbackServerContext* ctx, const v1::ListCampaignsRequest* request,
    v1::ListCampaignsResponse* response) {
  return HandleUnary(
      ctx, [&] { return Reply(campaigns_.ListCampaigns(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::UpdateCampaign(
    grpc::CallbackServerContext* ctx, const v1::UpdateCampaignRequest* request,
    v1::Campaign* response) {
  return HandleUnary(ctx, [&] {
    return Reply(campaigns_.UpdateCampaign(*request), response);
  });
}

grpc::ServerUnaryReactor* CampaignGrpcService::CaptureLead(
    grpc::CallbackServerContext* ctx, const v1::CaptureLeadRequest* request,
    v1::CaptureLeadResponse* response) {
  return HandleUnary(
      ctx, [&] { return Reply(leads_.CaptureLead(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetLead(
    grpc::CallbackServerContext* ctx, const v1::GetLeadRequest* request,
    v1::Lead* response) {
  return HandleUnary(ctx,
                     [&] { return Reply(leads_.GetLead(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::ListLeads(
    grpc::CallbackServerContext* ctx, const v1::ListLeadsRequest* request,
    v1::ListLeadsResponse* response) {
  return HandleUnary(
      ctx, [&] { return Reply(leads_.ListLeads(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::RecordEngagement(
    grpc::CallbackServerContext* ctx,
    const v1::RecordEngagementRequest* request,
    v1::RecordEngagementResponse* response) {
  return HandleUnary(
      ctx, [&] { return Reply(leads_.RecordEngagement(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::UpdateLeadStage(
    grpc::CallbackServerContext* ctx, const v1::UpdateLeadStageRequest* request,
    v1::Lead* response) {
  return HandleUnary(
      ctx, [&] { return Reply(leads_.UpdateLeadStage(*request), response); });
}

grpc::ServerUnaryReactor* CampaignGrpcService::GetCampaignReport(
    grpc::CallbackServerContext* ctx,
    const v1::GetCampaignReportRequest* request, v1::CampaignReport* response) {
  return HandleUnary(ctx, [&] {
    return Reply(campaigns_.GetCampaignReport(*request), response);
  });
}

}  // namespace handoff::campaign
