// GrpcServer end to end: health, reflection, the metrics interceptors on both
// sides, retries, deadline propagation and the SIGTERM drain sequence.
#include "common/server/server.h"

#include <arpa/inet.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/clients/clients.h"
#include "common/clients/deadline.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/metrics.h"
#include "common/server/grpc_status.h"
#include "common/storage/database.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "handoff/bench/v1/echo.grpc.pb.h"

namespace handoff {
namespace {

using bench::v1::EchoMessage;
using bench::v1::EchoService;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kEchoService[] = "handoff.bench.v1.EchoService";

// Echoes the payload. "fail" is rejected as INVALID_ARGUMENT; "hold" is kept
// open until Release(); every call records the deadline it saw.
class EchoImpl final : public EchoService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const EchoMessage* request,
                                 EchoMessage* response) override {
    if (request->payload() == "hold") {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      {
        absl::MutexLock lock(&mu_);
        held_reactor_ = reactor;
        held_response_ = response;
      }
      held_.Notify();
      return reactor;
    }
    return HandleUnary(ctx, [&]() -> absl::Status {
      {
        absl::MutexLock lock(&mu_);
        seen_deadline_ = ScopedCallDeadline::Current();
      }
      if (request->payload() == "fail") {
        return absl::InvalidArgumentError("payload: must not be \"fail\"");
      }
      response->set_payload(request->payload());
      return absl::OkStatus();
    });
  }

  // Blocks until a "hold" call is in the handler.
  bool WaitHeld() {
    return held_.WaitForNotificationWithTimeout(absl::Seconds(10));
  }

  void Release(const std::string& payload) {
    absl::MutexLock lock(&mu_);
    held_response_->set_payload(payload);
    held_reactor_->Finish(grpc::Status::OK);
  }

  absl::Time seen_deadline() {
    absl::MutexLock lock(&mu_);
    return seen_deadline_;
  }

 private:
  absl::Notification held_;
  absl::Mutex mu_;
  grpc::ServerUnaryReactor* held_reactor_ ABSL_GUARDED_BY(mu_) = nullptr;
  EchoMessage* held_response_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time seen_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// The value of one series in the text exposition, or -1 when absent.
double SeriesValue(const std::string& text, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  std::string key = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    absl::StrAppend(&key, first ? "" : ",", k, "=\"", v, "\"");
    first = false;
  }
  key += "} ";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, key)) {
      double value = -1;
      if (absl::SimpleAtod(line.substr(key.size()), &value)) return value;
    }
  }
  return -1;
}

std::map<std::string, std::string> EchoLabels(
    const std::string& code = std::string()) {
  std::map<std::string, std::string> labels = {{"grpc_type", "unary"},
                                               {"grpc_service", kEchoService},
                                               {"grpc_method", "Echo"}};
  if (!code.empty()) labels["grpc_code"] = code;
  return labels;
}

// A loopback port nobody listens on (bound, then released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// GET /metrics over plain HTTP/1.0; the whole response, headers included.
std::string HttpGetMetrics(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

class GrpcServerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_ = new Metrics("echo");
    service_ = new EchoImpl();
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.shutdown_grace = absl::ZeroDuration();
    auto server = GrpcServer::Start(options, {service_}, *metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    target_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  static void TearDownTestSuite() {
    server_->Shutdown();
    delete server_;
    delete service_;
    delete metrics_;
  }

  static std::shared_ptr<grpc::Channel> PlainChannel() {
    return grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
  }

  static ClientOptions WithMetrics() {
    ClientOptions options;
    options.metrics = metrics_;
    return options;
  }

  static grpc::Status CheckHealth(const std::string& service,
                                  HealthCheckResponse::ServingStatus* status) {
    auto stub = Health::NewStub(PlainChannel());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status result = stub->Check(&ctx, request, &response);
    *status = response.status();
    return result;
  }

  static Metrics* metrics_;
  static EchoImpl* service_;
  static GrpcServer* server_;
  static std::string target_;
};

Metrics* GrpcServerTest::metrics_ = nullptr;
EchoImpl* GrpcServerTest::service_ = nullptr;
GrpcServer* GrpcServerTest::server_ = nullptr;
std::string GrpcServerTest::target_;

TEST_F(GrpcServerTest, PicksAFreePort) { EXPECT_GT(server_->port(), 0); }

TEST_F(GrpcServerTest, HealthIsServingOverallAndPerService) {
  HealthCheckResponse::ServingStatus status;
  ASSERT_TRUE(CheckHealth("", &status).ok());
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  ASSERT_TRUE(CheckHealth(kEchoService, &status).ok());
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth("handoff.nope.v1.Nope", &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcServerTest, ReflectionListsServices) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* request_type = pool->FindMessageTypeByName(
      "grpc.reflection.v1alpha.ServerReflectionRequest");
  const auto* response_type = pool->FindMessageTypeByName(
      "grpc.reflection.v1alpha.ServerReflectionResponse");
  ASSERT_NE(request_type, nullptr);
  ASSERT_NE(response_type, nullptr);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(request_type)->New());
  request->GetReflection()->SetString(
      request.get(), request_type->FindFieldByName("list_services"), "*");

  grpc::GenericStub stub(PlainChannel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  int next_tag = 0;
  auto step = [&](auto&& op) {
    void* tag = reinterpret_cast<void*>(static_cast<intptr_t>(++next_tag));
    op(tag);
    void* got = nullptr;
    bool ok = false;
    return cq.Next(&got, &ok) && got == tag && ok;
  };
  auto call = stub.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  ASSERT_TRUE(step([&](void* tag) { call->StartCall(tag); }));
  const std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request_buffer(&slice, 1);
  ASSERT_TRUE(step([&](void* tag) { call->Write(request_buffer, tag); }));
  ASSERT_TRUE(step([&](void* tag) { call->WritesDone(tag); }));
  grpc::ByteBuffer response_buffer;
  ASSERT_TRUE(step([&](void* tag) { call->Read(&response_buffer, tag); }));
  grpc::Status status;
  ASSERT_TRUE(step([&](void* tag) { call->Finish(&status, tag); }));
  ASSERT_TRUE(status.ok()) << status.error_message();
  cq.Shutdown();

  grpc::Slice response_slice;
  ASSERT_TRUE(response_buffer.DumpToSingleSlice(&response_slice).ok());
  std::unique_ptr<google::protobuf::Message> response(
      factory->GetPrototype(response_type)->New());
  ASSERT_TRUE(response->ParseFromArray(
      response_slice.begin(), static_cast<int>(response_slice.size())));
  const std::string listed = response->DebugString();
  EXPECT_NE(listed.find(kEchoService), std::string::npos) << listed;
  EXPECT_NE(listed.find("grpc.health.v1.Health"), std::string::npos) << listed;
}

TEST_F(GrpcServerTest, SeriesExistBeforeAnyCall) {
  const std::string text = metrics_->Render();
  EXPECT_EQ(
      SeriesValue(text, "grpc_server_handled_total", EchoLabels("DataLoss")),
      0);
  EXPECT_EQ(SeriesValue(text, "grpc_server_handled_total",
                        {{"grpc_type", "server_stream"},
                         {"grpc_service", "grpc.health.v1.Health"},
                         {"grpc_method", "Watch"},
                         {"grpc_code", "Unauthenticated"}}),
            0);
  EXPECT_GE(
      SeriesValue(text, "grpc_server_started_total",
                  {{"grpc_type", "bidi_stream"},
                   {"grpc_service", "grpc.reflection.v1alpha.ServerReflection"},
                   {"grpc_method", "ServerReflectionInfo"}}),
      0)
      << "reflection is counted too";
  EXPECT_NE(text.find("handoff_build_info{service=\"echo\",version=\""),
            std::string::npos);
}

TEST_F(GrpcServerTest, CountsServerAndClientCallsByCode) {
  ServiceClient<EchoService> client(target_, WithMetrics());
  const std::string before = metrics_->Render();

  EchoMessage request;
  request.set_payload("hello");
  absl::StatusOr<EchoMessage> ok =
      client.Call(&EchoService::Stub::Echo, request);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->payload(), "hello");
  request.set_payload("fail");
  absl::StatusOr<EchoMessage> failed =
      client.Call(&EchoService::Stub::Echo, request);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), "payload: must not be \"fail\"");
  HealthCheckResponse::ServingStatus health;
  ASSERT_TRUE(CheckHealth("", &health).ok());

  const std::string after = metrics_->Render();
  auto delta = [&](const std::string& name,
                   const std::map<std::string, std::string>& labels) {
    const double b = SeriesValue(before, name, labels);
    const double a = SeriesValue(after, name, labels);
    EXPECT_GE(b, 0) << name << " missing before";
    EXPECT_GE(a, 0) << name << " missing after";
    return a - b;
  };
  for (const char* side : {"server", "client"}) {
    SCOPED_TRACE(side);
    const std::string prefix = absl::StrCat("grpc_", side, "_");
    EXPECT_EQ(delta(prefix + "started_total", EchoLabels()), 2);
    EXPECT_EQ(delta(prefix + "handled_total", EchoLabels("OK")), 1);
    EXPECT_EQ(delta(prefix + "handled_total", EchoLabels("InvalidArgument")),
              1);
    EXPECT_EQ(delta(prefix + "handled_total", EchoLabels("Internal")), 0);
    EXPECT_EQ(delta(prefix + "handling_seconds_count", EchoLabels()), 2);
    std::map<std::string, std::string> bucket = EchoLabels();
    bucket["le"] = "0.0001";
    EXPECT_GE(SeriesValue(after, prefix + "handling_seconds_bucket", bucket),
              0);
    bucket["le"] = "+Inf";
    EXPECT_EQ(delta(prefix + "handling_seconds_bucket", bucket), 2);
  }
  EXPECT_EQ(delta("grpc_server_handled_total",
                  {{"grpc_type", "unary"},
                   {"grpc_service", "grpc.health.v1.Health"},
                   {"grpc_method", "Check"},
                   {"grpc_code", "OK"}}),
            1);
}

// A handler's outgoing Call leaves only once what the handler wrote is
// durable; a Query (a method that changes nothing) does not wait for it.
TEST_F(GrpcServerTest, CallWaitsForTheHandlersWritesAndQueryDoesNot) {
  const std::string dir =
      testing::TempDir() + "/client_durable_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open({.path = dir + "/x.db"});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(
      (*db)->Migrate("t", {"CREATE TABLE t (id TEXT PRIMARY KEY)"}).ok());
  ServiceClient<EchoService> client(target_, ClientOptions());
  EchoMessage request;
  request.set_payload("hello");
  absl::Notification hook_entered;
  absl::Notification release_hook;
  {
    DeferredDurability scope;  // as in a handler
    ASSERT_TRUE(
        (*db)
            ->Write([&](Transaction& tx) {
              tx.AfterCommit([&] {
                hook_entered.Notify();
                release_hook.WaitForNotification();
              });
              return tx.Exec("INSERT INTO t (id) VALUES ('a')").status();
            })
            .ok());
    // The batch is committed; it is not durable until its hook returns.
    hook_entered.WaitForNotification();
    const uint64_t batch = (*db)->durable_batch() + 1;

    absl::StatusOr<EchoMessage> queried =
        client.Query(&EchoService::Stub::Echo, request);
    ASSERT_TRUE(queried.ok()) << queried.status();
    EXPECT_EQ((*db)->durable_batch(), batch - 1);

    std::thread releaser([&] { release_hook.Notify(); });
    absl::StatusOr<EchoMessage> called =
        client.Call(&EchoService::Stub::Echo, request);
    ASSERT_TRUE(called.ok()) << called.status();
    EXPECT_GE((*db)->durable_batch(), batch);
    releaser.join();
  }
  db->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(GrpcServerTest, UnknownMethodCountedUnderUnknown) {
  auto count = [&] {
    double total = 0;
    for (const char* type :
         {"unary", "client_stream", "server_stream", "bidi_stream"}) {
      total += std::max(
          0.0, SeriesValue(metrics_->Render(), "grpc_server_handled_total",
                           {{"grpc_type", type},
                            {"grpc_service", "unknown"},
                            {"grpc_method", "unknown"},
                            {"grpc_code", "Unimplemented"}}));
    }
    return total;
  };
  const double before = count();
  grpc::GenericStub stub(PlainChannel());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, "/handoff.bench.v1.EchoService/Nope",
                 grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(count() - before, 1);
}

TEST_F(GrpcServerTest, ServedCallDeadlineIsVisibleToHandler) {
  auto stub = EchoService::NewStub(PlainChannel());
  grpc::ClientContext ctx;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  ctx.set_deadline(absl::ToChronoTime(deadline));
  EchoMessage request, response;
  request.set_payload("deadline");
  ASSERT_TRUE(stub->Echo(&ctx, request, &response).ok());
  // The deadline travels as a timeout, so allow for transit and rounding.
  EXPECT_LT(absl::AbsDuration(service_->seen_deadline() - deadline),
            absl::Seconds(1));
  EXPECT_EQ(ScopedCallDeadline::Current(), absl::InfiniteFuture());
}

TEST_F(GrpcServerTest, SecondServerOnTakenPortIsUnavailable) {
  Metrics metrics("other");
  EchoImpl other;
  ServerOptions options;
  options.address = target_;
  auto server = GrpcServer::Start(options, {&other}, metrics);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(GrpcServerTest, NothingListeningIsUnavailableWithinDeadline) {
  ClientOptions options = WithMetrics();
  options.timeout = absl::Seconds(3);
  options.max_attempts = 4;
  const std::string target = absl::StrCat("127.0.0.1:", UnusedPort());
  ServiceClient<EchoService> client(target, options);
  const double before =
      std::max(0.0, SeriesValue(metrics_->Render(), "grpc_client_handled_total",
                                EchoLabels("Unavailable")));
  const absl::Time start = absl::Now();
  absl::StatusOr<EchoMessage> result =
      client.Call(&EchoService::Stub::Echo, EchoMessage());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable)
      << result.status();
  EXPECT_LT(took, options.timeout);
  // Retries happen below the interceptor: one logical call, counted once.
  EXPECT_EQ(SeriesValue(metrics_->Render(), "grpc_client_handled_total",
                        EchoLabels("Unavailable")) -
                before,
            1);
}

TEST_F(GrpcServerTest, ExposerServesRegistryAndRejectsTakenPort) {
  absl::StatusOr<int> port = metrics_->StartExposer(0);
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
  const std::string page = HttpGetMetrics(*port);
  EXPECT_NE(page.find("200 OK"), std::string::npos) << page.substr(0, 200);
  EXPECT_NE(page.find("handoff_build_info{service=\"echo\""),
            std::string::npos);
  EXPECT_NE(page.find("grpc_server_handled_total{"), std::string::npos);

  Metrics other("other");
  absl::StatusOr<int> taken = other.StartExposer(*port);
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(taken.status().message().find(absl::StrCat(*port)),
            std::string::npos)
      << taken.status();
}

// Own server: it is shut down mid-test.
TEST(GrpcServerShutdownTest, NotServingDuringGraceThenDrainsInFlightCall) {
  Metrics metrics("drain");
  EchoImpl service;
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.shutdown_grace = absl::Seconds(2);
  options.drain_timeout = absl::Seconds(10);
  auto started = GrpcServer::Start(options, {&service}, metrics);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<GrpcServer> server = std::move(*started);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                     grpc::InsecureChannelCredentials());
  auto health = Health::NewStub(channel);
  auto echo = EchoService::NewStub(channel);

  grpc::ClientContext watch_ctx;
  HealthCheckRequest watch_request;
  watch_request.set_service(kEchoService);
  auto watch = health->Watch(&watch_ctx, watch_request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);

  grpc::ClientContext held_ctx;
  held_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  EchoMessage held_request, held_response;
  held_request.set_payload("hold");
  grpc::Status held_status;
  absl::Notification held_done;
  echo->async()->Echo(&held_ctx, &held_request, &held_response,
                      [&](grpc::Status s) {
                        held_status = std::move(s);
                        held_done.Notify();
                      });
  ASSERT_TRUE(service.WaitHeld());

  std::thread stopper([&] { server->Shutdown(); });
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  watch_ctx.TryCancel();
  watch->Finish().IgnoreError();

  // Still answering during the grace period, but as NOT_SERVING.
  grpc::ClientContext check_ctx;
  HealthCheckRequest check_request;
  HealthCheckResponse check_response;
  ASSERT_TRUE(health->Check(&check_ctx, check_request, &check_response).ok());
  EXPECT_EQ(check_response.status(), HealthCheckResponse::NOT_SERVING);

  service.Release("held");
  ASSERT_TRUE(held_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_EQ(held_response.payload(), "held");
  stopper.join();

  grpc::ClientContext late_ctx;
  late_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  EchoMessage late_response;
  EXPECT_FALSE(echo->Echo(&late_ctx, held_request, &late_response).ok());
  const std::string text = metrics.Render();
  EXPECT_EQ(SeriesValue(text, "grpc_server_handled_total", EchoLabels("OK")),
            1);
  // The health service answers a cancelled Watch with UNKNOWN; it is the
  // client's cancel, not a server fault.
  std::map<std::string, std::string> watch_labels = {
      {"grpc_type", "server_stream"},
      {"grpc_service", "grpc.health.v1.Health"},
      {"grpc_method", "Watch"}};
  watch_labels["grpc_code"] = "Canceled";
  EXPECT_EQ(SeriesValue(text, "grpc_server_handled_total", watch_labels), 1);
  watch_labels["grpc_code"] = "Unknown";
  EXPECT_EQ(SeriesValue(text, "grpc_server_handled_total", watch_labels), 0);
}

}  // namespace
}  // namespace handoff
