#pragma once

#include <functional>

#include "absl/functional/function_ref.h"

namespace handoff {

// Threads for work that blocks on calls to other services (RPC handlers
// that ask a neighbour, outbox deliveries): gRPC's own callback threads are
// few (about one per core), and waiting there stalls every other call.
class BlockingPool {
 public:
  // The process's pool; its threads live as long as the process.
  static BlockingPool& Shared();

  void Post(std::function<void()> task);
  // Runs fn(0..n-1) on the pool and the calling thread; returns when all are
  // done. The caller takes items too, so a busy pool only slows it down.
  void ForEach(int n, absl::FunctionRef<void(int)> fn);

 private:
  explicit BlockingPool(int threads);
  struct State;
  State* state_;
};

}  // namespace handoff
