#include "common/server/service_main.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/synchronization/notification.h"
#include "common/metrics/metrics.h"
#include "handoff/bench/v1/echo.grpc.pb.h"

namespace handoff {
namespace {

// As InitService does in main(): block the termination signals before any
// thread exists, so a SIGTERM sent to this process waits for RunService.
const bool kSignalsBlocked = [] {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0;
}();

const ServiceDefaults kDefaults = {"campaign", 50052, 9102};

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    setenv(name, value, 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

std::string FlagValue(const char* name) {
  return absl::FindCommandLineFlag(name)->CurrentValue();
}

class ServiceMainTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("service_main_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // InitService with `args` after the program name.
  CommonConfig Init(std::vector<std::string> args) {
    args.insert(args.begin(), "handoff-campaign");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    return InitService(static_cast<int>(argv.size()), argv.data(), kDefaults);
  }

  std::string DbFlag() { return "--db_path=" + (dir_ / "sub/c.db").string(); }

  absl::FlagSaver flags_;
  std::filesystem::path dir_;
};

TEST_F(ServiceMainTest, SignalsBlockedForTheWholeBinary) {
  EXPECT_TRUE(kSignalsBlocked);
}

TEST_F(ServiceMainTest, EnvironmentSetsFlags) {
  ScopedEnv timeout("HANDOFF_RPC_TIMEOUT", "750ms");
  ScopedEnv address("HANDOFF_ROUTING_ADDRESS", "routing:7000");
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  EXPECT_EQ(FlagValue("rpc_timeout"), "750ms");
  EXPECT_EQ(FlagValue("routing_address"), "routing:7000");
}

TEST_F(ServiceMainTest, MalformedEnvironmentValueNamesTheVariable) {
  ScopedEnv port("HANDOFF_PORT", "fifty");
  const absl::Status status = ApplyEnvironmentToFlags();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("HANDOFF_PORT: ", 0), 0u) << status;
}

TEST_F(ServiceMainTest, DefaultsComeFromTheService) {
  const CommonConfig config = Init({DbFlag()});
  EXPECT_EQ(config.service, "campaign");
  EXPECT_EQ(config.port, 50052);
  EXPECT_EQ(config.metrics_port, 9102);
  EXPECT_EQ(config.server.address, "0.0.0.0:50052");
  EXPECT_EQ(config.server.max_message_bytes, 4194304);
  EXPECT_EQ(config.server.shutdown_grace, absl::Seconds(5));
  EXPECT_EQ(config.server.drain_timeout, absl::Seconds(10));
  EXPECT_EQ(config.client.timeout, absl::Seconds(2));
  EXPECT_EQ(config.client.max_attempts, 4);
  EXPECT_TRUE(config.db_sync_full);
  EXPECT_EQ(config.persona_address, "localhost:50051");
  EXPECT_EQ(config.deal_address, "localhost:50054");
}

TEST_F(ServiceMainTest, CommandLineWinsOverEnvironment) {
  ScopedEnv port("HANDOFF_PORT", "6000");
  ScopedEnv sync("HANDOFF_DB_SYNC", "normal");
  const CommonConfig config =
      Init({DbFlag(), "--port=7000", "--listen_host=127.0.0.1"});
  EXPECT_EQ(config.port, 7000);
  EXPECT_EQ(config.server.address, "127.0.0.1:7000");
  EXPECT_FALSE(config.db_sync_full) << "from the environment";
}

TEST_F(ServiceMainTest, PortZeroMeansAnyPort) {
  const CommonConfig config = Init({DbFlag(), "--port=0", "--metrics_port=0"});
  EXPECT_EQ(config.port, 0);
  EXPECT_EQ(config.metrics_port, 0);
}

TEST_F(ServiceMainTest, CreatesTheDatabaseDirectory) {
  const CommonConfig config = Init({DbFlag()});
  EXPECT_EQ(config.db_path, (dir_ / "sub/c.db").string());
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "sub"));
}

TEST_F(ServiceMainTest, DefaultDatabaseIsNamedAfterTheService) {
  // Relative to the working directory: run from the scratch directory.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::create_directories(dir_);
  std::filesystem::current_path(dir_);
  const CommonConfig config = Init({});
  std::filesystem::current_path(cwd);
  EXPECT_EQ(config.db_path, "data/campaign.db");
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "data"));
}

using ServiceMainDeathTest = ServiceMainTest;

TEST_F(ServiceMainDeathTest, BadEnvironmentValueExits2) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ScopedEnv port("HANDOFF_MAX_MESSAGE_BYTES", "lots");
  EXPECT_EXIT(Init({}), testing::ExitedWithCode(2),
              "HANDOFF_MAX_MESSAGE_BYTES: ");
}

TEST_F(ServiceMainDeathTest, BadSettingExits2) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(Init({DbFlag(), "--db_sync=sometimes"}),
              testing::ExitedWithCode(2), "db_sync");
  EXPECT_EXIT(Init({DbFlag(), "--log_format=xml"}), testing::ExitedWithCode(2),
              "log_format");
  EXPECT_EXIT(Init({DbFlag(), "--port=70000"}), testing::ExitedWithCode(2),
              "port");
  EXPECT_EXIT(Init({DbFlag(), "stray"}), testing::ExitedWithCode(2),
              "unexpected argument: stray");
}

class EchoImpl final : public bench::v1::EchoService::CallbackService {};

class FakeModule final : public ServiceModule {
 public:
  std::vector<grpc::Service*> GrpcServices() override { return {&echo_}; }
  void StartBackground() override { started.Notify(); }
  // Streams must end before the server drains, background work after it.
  void BeforeShutdown() override { order.push_back("before_shutdown"); }
  void StopBackground() override {
    stopped = true;
    order.push_back("stop_background");
  }

  absl::Notification started;
  bool stopped = false;
  std::vector<std::string> order;

 private:
  EchoImpl echo_;
};

TEST_F(ServiceMainTest, RunServiceStopsOnSigterm) {
  CommonConfig config =
      Init({DbFlag(), "--port=0", "--metrics_port=0", "--listen_host=127.0.0.1",
            "--shutdown_grace=0s"});
  Metrics metrics("campaign");
  FakeModule module;
  int exit_code = -1;
  std::thread runner([&] { exit_code = RunService(config, metrics, module); });
  ASSERT_TRUE(module.started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_FALSE(module.stopped);
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  runner.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_TRUE(module.stopped);
  EXPECT_EQ(module.order,
            (std::vector<std::string>{"before_shutdown", "stop_background"}));
}

TEST_F(ServiceMainTest, RunServiceFailsWhenMetricsPortIsTaken) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  CommonConfig config =
      Init({DbFlag(), "--port=0",
            "--metrics_port=" + std::to_string(ntohs(addr.sin_port))});
  Metrics metrics("campaign");
  FakeModule module;
  EXPECT_EQ(RunService(config, metrics, module), 1);
  EXPECT_FALSE(module.started.HasBeenNotified());
  close(fd);
}

}  // namespace
}  // namespace handoff
