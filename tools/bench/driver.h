#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace handoff::bench {

using CallDone = std::function<void(const grpc::Status&)>;
// Starts call number `seq` on channel `channel` and arranges for `done` to be
// called exactly once when it finishes. Called from several threads at once.
using IssueFn = std::function<void(int64_t seq, int channel, CallDone done)>;

struct ClosedLoopOptions {
  // Calls kept in flight.
  int concurrency = 64;
  // Calls are spread over this many channels (connections) round robin.
  int channels = 2;
  // Calls started during warmup are not counted.
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  // When > 0: make exactly this many calls instead, all counted (fixtures).
  int64_t count = 0;
  // Give up waiting for in-flight calls this long after the window closes.
  absl::Duration drain_timeout = absl::Seconds(30);
  // Processes (the servers) whose cores RunStats reports.
  std::vector<int> watched_pids;
};

struct RunStats {
  // Calls started in the measured window that succeeded.
  int64_t ok = 0;
  // Those that failed, by canonical code number.
  std::map<int, int64_t> errors;
  // Latency of every counted call (successful or not), unsorted.
  std::vector<int64_t> latencies_ns;
  double window_seconds = 0;
  // False when calls were still in flight after drain_timeout.
  bool drained = true;
  // Over the whole run, warmup included: the busy share of the host's CPU
  // time (not idle, not iowait) and the cores this process used; negative
  // when /proc is not readable.
  double host_busy = -1;
  double client_cores = -1;
  // Cores each of options.watched_pids used, in that order; negative for
  // one whose /proc entry could not be read.
  std::vector<double> watched_cores;
};

// CPU seconds (user + system) process `pid` has used so far; negative when
// /proc has no such process.
double ProcessCpuSeconds(int pid);
// The same for this process.
double SelfCpuSeconds();
// ProcessCpuSeconds of each of `pids`, in order.
std::vector<double> ProcessesCpuSeconds(const std::vector<int>& pids);
// after[i] - before[i]; negative where either could not be read.
std::vector<double> CpuSecondsUsed(const std::vector<double>& before,
                                   const std::vector<double>& after);

// Keeps `concurrency` calls in flight: each completion starts the next call
// on the completing thread, so no thread hop sits between two calls.
RunStats RunClosedLoop(const ClosedLoopOptions& options, const IssueFn& issue);

// A channel with its own TCP connection: channels with equal arguments
// otherwise share one subchannel, and M channels would be one connection.
std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target,
                                                int index);

// Per-call deadline of every benchmark call.
inline constexpr std::chrono::seconds kCallTimeout{10};

// State of one unary callback call; freed in its completion.
template <typename Req, typename Resp>
struct UnaryCall {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
};

// An IssueFn for a unary method. `invoke(stub, ctx, req, resp, callback)`
// starts the call through stub.async(); `fill(seq, req)` builds the request
// and must be thread-safe; `on_ok(seq, resp)` sees each successful response.
template <typename Req, typename Resp, typename Stub, typename Invoke>
IssueFn MakeUnary(const std::vector<std::unique_ptr<Stub>>* stubs,
                  Invoke invoke, std::function<void(int64_t, Req&)> fill,
                  std::function<void(int64_t, const Resp&)> on_ok = nullptr) {
  // Shared, so a completion never refers into a copied-away IssueFn.
  auto seen = std::make_shared<const std::function<void(int64_t, const Resp&)>>(
      std::move(on_ok));
  return [stubs, invoke, fill = std::move(fill), seen](int64_t seq, int channel,
                                                       CallDone done) {
    auto* call = new UnaryCall<Req, Resp>;
    call->ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    fill(seq, call->req);
    invoke(*(*stubs)[channel % stubs->size()], &call->ctx, &call->req,
           &call->resp,
           [call, seq, seen, done = std::move(done)](grpc::Status status) {
             if (status.ok() && *seen) (*seen)(seq, call->resp);
             delete call;
             done(status);
           });
  };
}

// One stub per channel.
template <typename Service>
std::vector<std::unique_ptr<typename Service::Stub>> MakeStubs(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  std::vector<std::unique_ptr<typename Service::Stub>> stubs;
  for (const auto& channel : channels) {
    stubs.push_back(Service::NewStub(channel));
  }
  return stubs;
}

}  // namespace handoff::bench
