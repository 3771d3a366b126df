#pragma once

#include "handoff/campaign/v1/campaign.grpc.pb.h"
#include "services/campaign/campaign_book.h"
#include "services/campaign/lead_book.h"

namespace handoff::campaign {

// gRPC edge of the campaign service: each RPC is one call on a domain class.
class CampaignGrpcService final : public v1::CampaignService::CallbackService {
 public:
  CampaignGrpcService(CampaignBook& campaigns, LeadBook& leads)
      : campaigns_(campaigns), leads_(leads) {}

  grpc::ServerUnaryReactor* CreateCampaign(
      grpc::CallbackServerContext* ctx,
      const v1::CreateCampaignRequest* request,
      v1::Campaign* response) override;
  grpc::ServerUnaryReactor* GetCampaign(grpc::CallbackServerContext* ctx,
                                        const v1::GetCampaignRequest* request,
                                        v1::Campaign* response) override;
  grpc::ServerUnaryReactor* ListCampaigns(
      grpc::CallbackServerContext* ctx, const v1::ListCampaignsRequest* request,
      v1::ListCampaignsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCampaign(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateCampaignRequest* request,
      v1::Campaign* response) override;
  grpc::ServerUnaryReactor* CaptureLead(
      grpc::CallbackServerContext* ctx, const v1::CaptureLeadRequest* request,
      v1::CaptureLeadResponse* response) override;
  grpc::ServerUnaryReactor* GetLead(grpc::CallbackServerContext* ctx,
                                    const v1::GetLeadRequest* request,
                                    v1::Lead* response) override;
  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* ctx,
                                      const v1::ListLeadsRequest* request,
                                      v1::ListLeadsResponse* response) override;
  grpc::ServerUnaryReactor* RecordEngagement(
      grpc::CallbackServerContext* ctx,
      const v1::RecordEngagementRequest* request,
      v1::RecordEngagementResponse* response) override;
  grpc::ServerUnaryReactor* UpdateLeadStage(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateLeadStageRequest* request, v1::Lead* response) override;
  grpc::ServerUnaryReactor* GetCampaignReport(
      grpc::CallbackServerContext* ctx,
      const v1::GetCampaignReportRequest* request,
      v1::CampaignReport* response) override;

 private:
  CampaignBook& campaigns_;
  LeadBook& leads_;
};

}  // namespace handoff::campaign
