#pragma once

#include <grpcpp/grpcpp.h>

#include "handoff/routing/v1/routing.grpc.pb.h"
#include "services/routing/assignment_watch.h"
#include "services/routing/rep_directory.h"
#include "services/routing/router.h"
#include "services/routing/routing_store.h"
#include "services/routing/sla_report.h"

namespace handoff::routing {

// handoff.routing.v1.LeadRoutingService: each RPC is one call on
// RepDirectory, Router or SlaReporter; WatchAssignments streams from the
// event log (assignment_watch.h).
class RoutingGrpcService final
    : public v1::LeadRoutingService::CallbackService {
 public:
  RoutingGrpcService(RepDirectory& reps, Router& router,
                     SlaReporter& sla_reports, RoutingStore& store,
                     WatchHub& watch_hub)
      : reps_(reps),
        router_(router),
        sla_reports_(sla_reports),
        store_(store),
        watch_hub_(watch_hub) {}

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
  grpc::ServerUnaryReactor* RecordFirstTouch(
      grpc::CallbackServerContext* ctx,
      const v1::RecordFirstTouchRequest* request,
      v1::Assignment* response) override;
  grpc::ServerUnaryReactor* RejectAssignment(
      grpc::CallbackServerContext* ctx,
      const v1::RejectAssignmentRequest* request,
      v1::Assignment* response) override;
  grpc::ServerUnaryReactor* RecordConversion(
      grpc::CallbackServerContext* ctx,
      const v1::RecordConversionRequest* request,
      v1::Assignment* response) override;

  grpc::ServerUnaryReactor* DeleteRep(
      grpc::CallbackServerContext* ctx, const v1::DeleteRepRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* SetRepStatus(grpc::CallbackServerContext* ctx,
                                         const v1::SetRepStatusRequest* request,
                                         v1::Rep* response) override;
  grpc::ServerUnaryReactor* SetOutOfOffice(
      grpc::CallbackServerContext* ctx,
      const v1::SetOutOfOfficeRequest* request, v1::Rep* response) override;
  grpc::ServerUnaryReactor* ApplyRuleSet(grpc::CallbackServerContext* ctx,
                                         const v1::ApplyRuleSetRequest* request,
                                         v1::RuleSet* response) override;
  grpc::ServerUnaryReactor* GetRuleSet(grpc::CallbackServerContext* ctx,
                                       const v1::GetRuleSetRequest* request,
                                       v1::RuleSet* response) override;
  grpc::ServerUnaryReactor* GetPoolFairness(
      grpc::CallbackServerContext* ctx,
      const v1::GetPoolFairnessRequest* request,
      v1::PoolFairness* response) override;
  grpc::ServerUnaryReactor* SimulateRouting(
      grpc::CallbackServerContext* ctx,
      const v1::SimulateRoutingRequest* request,
      v1::SimulateRoutingResponse* response) override;
  grpc::ServerWriteReactor<v1::AssignmentEvent>* WatchAssignments(
      grpc::CallbackServerContext* ctx,
      const v1::WatchAssignmentsRequest* request) override;
  grpc::ServerUnaryReactor* GetSlaReport(grpc::CallbackServerContext* ctx,
                                         const v1::GetSlaReportRequest* request,
                                         v1::SlaReport* response) override;

 private:
  RepDirectory& reps_;
  Router& router_;
  SlaReporter& sla_reports_;
  RoutingStore& store_;
  WatchHub& watch_hub_;
};

}  // namespace handoff::routing
