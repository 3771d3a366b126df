#include "common/blocking_pool.h"

#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace handoff {

struct BlockingPool::State {
  absl::Mutex mu;
  std::deque<std::function<void()>> tasks ABSL_GUARDED_BY(mu);
};

BlockingPool& BlockingPool::Shared() {
  // An outbox wave (48) and the handlers waiting on neighbours at once.
  static BlockingPool* pool = new BlockingPool(64);
  return *pool;
}

BlockingPool::BlockingPool(int threads) : state_(new State) {
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

void BlockingPool::Post(std::function<void()> task) {
  absl::MutexLock lock(&state_->mu);
  state_->tasks.push_back(std::move(task));
}

namespace {

// Shared by the caller and the tasks it posted; a task that starts after
// the caller returned finds no item left and never touches `fn`.
struct ForEachJob {
  absl::Mutex mu;
  absl::FunctionRef<void(int)> fn;
  int size;
  int next ABSL_GUARDED_BY(mu) = 0;
  int unfinished ABSL_GUARDED_BY(mu);

  ForEachJob(absl::FunctionRef<void(int)> f, int n)
      : fn(f), size(n), unfinished(n) {}

  void RunItems() {
    while (true) {
      int item;
      {
        absl::MutexLock lock(&mu);
        if (next >= size) return;
        item = next++;
      }
      fn(item);
      absl::MutexLock lock(&mu);
      --unfinished;
    }
  }
};

}  // namespace

void BlockingPool::ForEach(int n, absl::FunctionRef<void(int)> fn) {
  auto job = std::make_shared<ForEachJob>(fn, n);
  for (int i = 1; i < n; ++i) Post([job] { job->RunItems(); });
  job->RunItems();
  absl::MutexLock lock(&job->mu);
  job->mu.Await(absl::Condition(
      +[](int* unfinished) { return *unfinished == 0; }, &job->unfinished));
}

}  // namespace handoff
