#include "common/metrics/grpc_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <array>
#include <chrono>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/logging.h"

namespace handoff {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

constexpr int kCodeCount = 17;

constexpr std::array<const char*, kCodeCount> kCodeNames = {
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
};

// Indexed by RpcMethod::RpcType, which ServerRpcInfo::Type and
// ClientRpcInfo::Type both mirror.
constexpr int kTypeCount = 4;
constexpr std::array<const char*, kTypeCount> kTypeNames = {
    "unary", "client_stream", "server_stream", "bidi_stream"};

constexpr const char* kUnknown = "unknown";

int TypeIndex(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) return 3;
  if (method.server_streaming()) return 2;
  if (method.client_streaming()) return 1;
  return 0;
}

int CodeIndex(int code) { return code >= 0 && code < kCodeCount ? code : 2; }

struct MethodSeries {
  prometheus::Counter* started = nullptr;
  std::array<prometheus::Counter*, kCodeCount> handled{};
  prometheus::Histogram* seconds = nullptr;
};

struct FamilyNames {
  const char* started;
  const char* started_help;
  const char* handled;
  const char* handled_help;
  const char* seconds;
  const char* seconds_help;
};

// Help texts as go-grpc-prometheus writes them.
constexpr FamilyNames kServerFamilies = {
    "grpc_server_started_total",
    "Total number of RPCs started on the server.",
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or "
    "failure.",
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of gRPC that had been "
    "application-level handled by the server.",
};

constexpr FamilyNames kClientFamilies = {
    "grpc_client_started_total",
    "Total number of RPCs started on the client.",
    "grpc_client_handled_total",
    "Total number of RPCs completed by the client, regardless of success or "
    "failure.",
    "grpc_client_handling_seconds",
    "Histogram of response latency (seconds) of the gRPC until it is finished "
    "by the application.",
};

// Every series a call can touch, created up front: the per-call path is a
// read-only hash lookup plus atomic increments, never Family::Add.
class SeriesTable {
 public:
  SeriesTable(
      Metrics& metrics, const FamilyNames& names,
      const std::vector<const google::protobuf::ServiceDescriptor*>& services)
      : started_(prometheus::BuildCounter()
                     .Name(names.started)
                     .Help(names.started_help)
                     .Register(metrics.registry())),
        handled_(prometheus::BuildCounter()
                     .Name(names.handled)
                     .Help(names.handled_help)
                     .Register(metrics.registry())),
        seconds_(prometheus::BuildHistogram()
                     .Name(names.seconds)
                     .Help(names.seconds_help)
                     .Register(metrics.registry())) {
    for (const google::protobuf::ServiceDescriptor* service : services) {
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) {
        const google::protobuf::MethodDescriptor& method = *service->method(i);
        std::string path =
            absl::StrFormat("/%s/%s", service->full_name(), method.name());
        if (by_path_.contains(path)) continue;
        by_path_.emplace(std::move(path),
                         Create(kTypeNames[TypeIndex(method)],
                                service->full_name(), method.name()));
      }
    }
    for (int type = 0; type < kTypeCount; ++type) {
      unknown_[type] = Create(kTypeNames[type], kUnknown, kUnknown);
    }
  }

  // `path` is "/package.Service/Method".
  const MethodSeries& Find(const char* path, int type) const {
    if (path != nullptr) {
      auto it = by_path_.find(absl::string_view(path));
      if (it != by_path_.end()) return it->second;
    }
    return unknown_[type >= 0 && type < kTypeCount ? type : 0];
  }

 private:
  MethodSeries Create(const std::string& type, const std::string& service,
                      const std::string& method) {
    prometheus::Labels labels = {{"grpc_type", type},
                                 {"grpc_service", service},
                                 {"grpc_method", method}};
    MethodSeries series;
    series.started = &started_.Add(labels);
    series.seconds = &seconds_.Add(labels, Metrics::LatencyBuckets());
    for (int code = 0; code < kCodeCount; ++code) {
      prometheus::Labels with_code = labels;
      with_code["grpc_code"] = kCodeNames[code];
      series.handled[code] = &handled_.Add(with_code);
    }
    return series;
  }

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  absl::flat_hash_map<std::string, MethodSeries> by_path_;
  std::array<MethodSeries, kTypeCount> unknown_;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

bool IsServerFault(int code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

class ServerMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  ServerMetricsInterceptor(const MethodSeries& series,
                           grpc::experimental::ServerRpcInfo& info)
      : series_(series),
        context_(info.server_context()),
        method_(info.method() != nullptr ? info.method() : kUnknown),
        start_(std::chrono::steady_clock::now()) {
    series_.started->Increment();
  }

  // A call whose status was never sent (torn down at shutdown) still counts;
  // not logged, as the method string may already be gone.
  ~ServerMetricsInterceptor() override {
    if (!finished_) {
      series_.handled[static_cast<int>(grpc::StatusCode::CANCELLED)]
          ->Increment();
      series_.seconds->Observe(SecondsSince(start_));
    }
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // The client gave up, whatever the handler then reports (the health
      // service's Watch says UNKNOWN "OnCancel()"): count it as Go does.
      if (!status.ok() && context_ != nullptr && context_->IsCancelled()) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      }
      Finish(status);
    }
    methods->Proceed();
  }

 private:
  void Finish(const grpc::Status& status) {
    finished_ = true;
    const double seconds = SecondsSince(start_);
    const int code = CodeIndex(status.error_code());
    series_.handled[code]->Increment();
    series_.seconds->Observe(seconds);
    const bool fault = IsServerFault(code);
    const LogLevel level = fault ? LogLevel::kWarning : LogLevel::kDebug;
    if (!LogEnabled(level)) return;
    if (fault) {
      // Server-side faults carry messages written by our own code, not echoes
      // of request fields, so they are safe to log and needed to diagnose.
      Log(level, "rpc",
          {{"method", method_},
           {"code", kCodeNames[code]},
           {"duration_ms", absl::StrFormat("%.3f", seconds * 1e3)},
           {"error", status.error_message()}});
    } else {
      Log(level, "rpc",
          {{"method", method_},
           {"code", kCodeNames[code]},
           {"duration_ms", absl::StrFormat("%.3f", seconds * 1e3)}});
    }
  }

  const MethodSeries& series_;
  grpc::ServerContextBase* const context_;
  const char* method_;
  const std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

class ServerMetricsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerMetricsFactory(std::unique_ptr<const SeriesTable> table)
      : table_(std::move(table)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ServerMetricsInterceptor(
        table_->Find(info->method(), static_cast<int>(info->type())), *info);
  }

 private:
  std::unique_ptr<const SeriesTable> table_;
};

class ClientMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ClientMetricsInterceptor(const MethodSeries& series)
      : series_(series) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      series_.started->Increment();
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_STATUS)) {
      const grpc::Status* status = methods->GetRecvStatus();
      const int code = CodeIndex(status != nullptr ? status->error_code() : 2);
      series_.handled[code]->Increment();
      series_.seconds->Observe(SecondsSince(start_));
    }
    methods->Proceed();
  }

 private:
  const MethodSeries& series_;
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

class ClientMetricsFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClientMetricsFactory(std::unique_ptr<const SeriesTable> table)
      : table_(std::move(table)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    // UNKNOWN only marks default-constructed infos; treat as unary.
    const int type =
        info->type() == grpc::experimental::ClientRpcInfo::Type::UNKNOWN
            ? 0
            : static_cast<int>(info->type());
    return new ClientMetricsInterceptor(table_->Find(info->method(), type));
  }

 private:
  std::unique_ptr<const SeriesTable> table_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptor(
    Metrics& metrics,
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  return std::make_unique<ServerMetricsFactory>(
      std::make_unique<SeriesTable>(metrics, kServerFamilies, services));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientMetricsInterceptor(
    Metrics& metrics,
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  return std::make_unique<ClientMetricsFactory>(
      std::make_unique<SeriesTable>(metrics, kClientFamilies, services));
}

const char* GrpcCodeName(int code) {
  return code >= 0 && code < kCodeCount ? kCodeNames[code] : "Unknown";
}

}  // namespace handoff
