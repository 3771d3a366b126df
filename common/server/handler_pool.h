#pragma once

#include <functional>

namespace handoff {

// Threads for RPC handlers that block on calls to other services: gRPC's
// own callback threads are few (about one per core), and a handler waiting
// on a neighbour there stalls every other call of the process.
class HandlerPool {
 public:
  // The process's pool; its threads live as long as the process.
  static HandlerPool& Shared();

  void Post(std::function<void()> task);

 private:
  explicit HandlerPool(int threads);
  struct State;
  State* state_;
};

}  // namespace handoff
