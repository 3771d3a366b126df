#pragma once

#include <chrono>

#include "absl/time/time.h"

namespace handoff {

// The deadline of the RPC this thread is serving, so outgoing calls made on
// its behalf propagate what is left of it without domain code knowing gRPC.
class ScopedCallDeadline {
 public:
  explicit ScopedCallDeadline(std::chrono::system_clock::time_point deadline);
  ~ScopedCallDeadline();
  ScopedCallDeadline(const ScopedCallDeadline&) = delete;
  ScopedCallDeadline& operator=(const ScopedCallDeadline&) = delete;

  // InfiniteFuture when this thread serves no call.
  static absl::Time Current();

 private:
  absl::Time previous_;
};

}  // namespace handoff
