#pragma once

#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "common/storage/database.h"

namespace handoff {

// Holds the group committer inside the publication of a batch of its own,
// so the batch opened next stays open (deferred writes join it) until
// Release: tests of what happens within one batch need it to stay open.
class StalledCommitter {
 public:
  explicit StalledCommitter(Database& db)
      : thread_([this, &db] {
          DeferredDurability scope;
          EXPECT_TRUE(db.Write([this](Transaction& tx) {
                          tx.AfterCommit([this] {
                            entered_.Notify();
                            release_.WaitForNotification();
                          });
                          return absl::OkStatus();
                        }).ok());
          scope.Then([] {});
        }) {
    entered_.WaitForNotification();
  }
  ~StalledCommitter() { Release(); }
  StalledCommitter(const StalledCommitter&) = delete;
  StalledCommitter& operator=(const StalledCommitter&) = delete;

  void Release() {
    if (!thread_.joinable()) return;
    release_.Notify();
    thread_.join();
  }

 private:
  absl::Notification entered_, release_;
  std::thread thread_;
};

}  // namespace handoff
