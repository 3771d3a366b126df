#include "common/server/handler_pool.h"

#include <deque>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace handoff {

struct HandlerPool::State {
  absl::Mutex mu;
  std::deque<std::function<void()>> tasks ABSL_GUARDED_BY(mu);
};

HandlerPool& HandlerPool::Shared() {
  // Enough to keep a few dozen calls waiting on neighbours at once.
  static HandlerPool* pool = new HandlerPool(32);
  return *pool;
}

HandlerPool::HandlerPool(int threads) : state_(new State) {
  for (int i = 0; i < threads; ++i) {
    std::thread([state = state_] {
      while (true) {
        std::function<void()> task;
        {
          absl::MutexLock lock(&state->mu);
          state->mu.Await(absl::Condition(
              +[](std::deque<std::function<void()>>* tasks) {
                return !tasks->empty();
              },
              &state->tasks));
          task = std::move(state->tasks.front());
          state->tasks.pop_front();
        }
        task();
      }
    }).detach();
  }
}

void HandlerPool::Post(std::function<void()> task) {
  absl::MutexLock lock(&state_->mu);
  state_->tasks.push_back(std::move(task));
}

}  // namespace handoff
