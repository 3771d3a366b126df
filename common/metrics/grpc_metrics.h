#pragma once

#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

#include "common/metrics/metrics.h"

namespace google::protobuf {
class ServiceDescriptor;
}

namespace handoff {

// grpc_server_started_total, grpc_server_handled_total{grpc_code=OK|...},
// grpc_server_handling_seconds with labels grpc_type, grpc_service,
// grpc_method, as Go's go-grpc-prometheus names them. Series for every method
// of `services` and every code are created up front; calls to unknown methods
// are counted under grpc_method="unknown". Also logs one line per RPC at
// debug level (method, code, duration), and at warning for server errors.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptor(
    Metrics& metrics,
    const std::vector<const google::protobuf::ServiceDescriptor*>& services);

// The same for outgoing calls: grpc_client_started_total,
// grpc_client_handled_total, grpc_client_handling_seconds.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientMetricsInterceptor(
    Metrics& metrics,
    const std::vector<const google::protobuf::ServiceDescriptor*>& services);

// "InvalidArgument" for INVALID_ARGUMENT, as Go's codes.Code.String().
const char* GrpcCodeName(int code);

}  // namespace handoff
