#include "common/clients/deadline.h"

namespace handoff {
namespace {

thread_local absl::Time current_deadline = absl::InfiniteFuture();

absl::Time FromSystemTime(std::chrono::system_clock::time_point deadline) {
  // gRPC reports "no deadline" as time_point::max().
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

}  // namespace

ScopedCallDeadline::ScopedCallDeadline(
    std::chrono::system_clock::time_point deadline)
    : previous_(current_deadline) {
  current_deadline = FromSystemTime(deadline);
}

ScopedCallDeadline::~ScopedCallDeadline() { current_deadline = previous_; }

absl::Time ScopedCallDeadline::Current() { return current_deadline; }

}  // namespace handoff
