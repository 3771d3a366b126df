// handoff-echo-server: the benchmark's echo server in its own process, like
// the services, so client and server do not share gRPC's thread pools.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/bench/echo_server.h"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string mode = "bare";
  CLI::App app{"Serves handoff.bench.v1.EchoService until SIGTERM or SIGINT."};
  app.add_option("--host", host, "address to bind")->capture_default_str();
  app.add_option("--port", port, "port (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--mode", mode,
                 "bare: plain ServerBuilder; kit: common/server GrpcServer "
                 "with the services' interceptor, health and reflection")
      ->capture_default_str()
      ->check(CLI::IsMember({"bare", "kit"}));
  CLI11_PARSE(app, argc, argv);

  // Blocked before gRPC starts its threads, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = handoff::bench::EchoServer::Start(
      {.address = absl::StrCat(host, ":", port),
       .mode = mode == "kit" ? handoff::bench::EchoMode::kKit
                             : handoff::bench::EchoMode::kBare});
  if (!server.ok()) {
    std::cerr << server.status() << "\n";
    return 1;
  }
  // The bench script reads the port from this line.
  std::cout << "listening on " << host << ":" << (*server)->port() << std::endl;
  int signal = 0;
  while (sigwait(&signals, &signal) != 0) {
  }
  (*server)->Shutdown();
  return 0;
}
