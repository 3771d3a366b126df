#include "services/routing/deadline_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/ids.h"

namespace handoff::routing {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1767603600);  // 2026-01-05 09:00

absl::Time At(int seconds) { return kT0 + absl::Seconds(seconds); }

std::vector<std::string> Ids(const std::vector<DueTimer>& timers) {
  std::vector<std::string> ids;
  for (const DueTimer& t : timers) ids.push_back(t.id);
  return ids;
}

std::string Id(int n) { return absl::StrFormat("%020x", n); }

TEST(PackIdTest, RoundTripsNewIds) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewId(kT0 + absl::Microseconds(i * 7919));
    std::optional<PackedId> packed = PackId(id);
    ASSERT_TRUE(packed.has_value()) << id;
    EXPECT_EQ(UnpackId(*packed), id);
  }
  EXPECT_EQ(UnpackId(*PackId("0123456789abcdef0123")), "0123456789abcdef0123");
  EXPECT_EQ(UnpackId(*PackId("ffffffffffffffffffff")), "ffffffffffffffffffff");
  EXPECT_EQ(UnpackId(*PackId("00000000000000000000")), "00000000000000000000");
}

TEST(PackIdTest, PackedOrderIsIdOrder) {
  const PackedId a = *PackId("0000000000000000ffff");
  const PackedId b = *PackId("00000000000000010000");
  EXPECT_LT(std::tie(a.hi, a.lo), std::tie(b.hi, b.lo));
}

TEST(PackIdTest, RejectsIdsNotInNewIdForm) {
  EXPECT_FALSE(PackId("").has_value());
  EXPECT_FALSE(PackId("abc").has_value());
  EXPECT_FALSE(PackId("0123456789abcdef012").has_value());    // 19 digits
  EXPECT_FALSE(PackId("0123456789abcdef01234").has_value());  // 21 digits
  EXPECT_FALSE(PackId("0123456789ABCDEF0123").has_value());   // upper case
  EXPECT_FALSE(PackId("0123456789abcdef012g").has_value());
  EXPECT_FALSE(PackId("assignment-number-01").has_value());
}

TEST(DeadlineIndexTest, EmptyHasNothingDue) {
  DeadlineIndex index;
  EXPECT_TRUE(index.empty());
  EXPECT_FALSE(index.Earliest().has_value());
  EXPECT_THAT(index.PopDue(absl::InfiniteFuture()), IsEmpty());
}

TEST(DeadlineIndexTest, PopsInDueOrderThenIdOrder) {
  DeadlineIndex index;
  index.Add(Id(3), At(30));
  index.Add(Id(1), At(10));
  index.Add(Id(5), At(20));
  index.Add(Id(2), At(20));
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(index.Earliest(), At(10));
  std::vector<DueTimer> due = index.PopDue(At(100));
  EXPECT_THAT(Ids(due), ElementsAre(Id(1), Id(2), Id(5), Id(3)));
  EXPECT_EQ(due[0].due, At(10));
  EXPECT_EQ(due[3].due, At(30));
  EXPECT_TRUE(index.empty());
}

TEST(DeadlineIndexTest, PopDueIncludesTheDueInstantAndNothingLater) {
  DeadlineIndex index;
  index.Add(Id(1), At(10));
  index.Add(Id(2), At(10) + absl::Microseconds(1));
  EXPECT_THAT(index.PopDue(At(10) - absl::Microseconds(1)), IsEmpty());
  EXPECT_THAT(Ids(index.PopDue(At(10))), ElementsAre(Id(1)));
  EXPECT_EQ(index.Earliest(), At(10) + absl::Microseconds(1));
  EXPECT_THAT(Ids(index.PopDue(At(10) + absl::Microseconds(1))),
              ElementsAre(Id(2)));
}

TEST(DeadlineIndexTest, SubMicrosecondDueTimesAreRoundedUpNeverEarly) {
  DeadlineIndex index;
  const absl::Time due = At(10) + absl::Nanoseconds(1);
  index.Add(Id(1), due);
  EXPECT_THAT(index.PopDue(At(10)), IsEmpty());
  EXPECT_THAT(index.PopDue(due), IsEmpty());  // Still within the microsecond.
  std::vector<DueTimer> fired = index.PopDue(At(10) + absl::Microseconds(1));
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_GE(fired[0].due, due);
}

TEST(DeadlineIndexTest, PopDueHonoursTheBatchLimit) {
  DeadlineIndex index;
  for (int i = 0; i < 10; ++i) index.Add(Id(i), At(i));
  EXPECT_THAT(Ids(index.PopDue(At(100), 3)), ElementsAre(Id(0), Id(1), Id(2)));
  EXPECT_EQ(index.size(), 7u);
  EXPECT_EQ(index.Earliest(), At(3));
  EXPECT_EQ(index.PopDue(At(100), 100).size(), 7u);
}

TEST(DeadlineIndexTest, CancelRemovesOnlyThatTimer) {
  DeadlineIndex index;
  index.Add(Id(1), At(10));
  index.Add(Id(2), At(20));
  EXPECT_TRUE(index.Cancel(Id(1)));
  EXPECT_FALSE(index.Cancel(Id(1)));
  EXPECT_FALSE(index.Cancel(Id(99)));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Earliest(), At(20));
  EXPECT_FALSE(index.DueOf(Id(1)).has_value());
  EXPECT_THAT(Ids(index.PopDue(At(100))), ElementsAre(Id(2)));
}

TEST(DeadlineIndexTest, ReAddMovesTheTimerEitherWay) {
  DeadlineIndex index;
  index.Add(Id(1), At(10));
  index.Add(Id(2), At(20));
  index.Add(Id(1), At(30));  // Later.
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Earliest(), At(20));
  EXPECT_EQ(index.DueOf(Id(1)), At(30));
  EXPECT_THAT(index.PopDue(At(15)), IsEmpty());
  index.Add(Id(2), At(5));  // Earlier.
  EXPECT_EQ(index.Earliest(), At(5));
  std::vector<DueTimer> due = index.PopDue(At(100));
  EXPECT_THAT(due,
              ElementsAre(DueTimer{Id(2), At(5)}, DueTimer{Id(1), At(30)}));
}

TEST(DeadlineIndexTest, AddCancelAddAtTheSameTimeFiresOnce) {
  DeadlineIndex index;
  index.Add(Id(1), At(10));
  index.Cancel(Id(1));
  index.Add(Id(1), At(10));
  index.Add(Id(1), At(10));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_THAT(Ids(index.PopDue(At(10))), ElementsAre(Id(1)));
  EXPECT_THAT(index.PopDue(At(100)), IsEmpty());
}

TEST(DeadlineIndexTest, ForeignIdsTakeTheSlowPathAndBehaveTheSame) {
  DeadlineIndex index;
  index.Add("legacy-7", At(20));
  index.Add("ABCDEF0123456789ABCD", At(10));
  index.Add(Id(1), At(15));
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.footprint().foreign_ids, 2u);
  EXPECT_EQ(index.DueOf("legacy-7"), At(20));
  index.Add("legacy-7", At(5));
  EXPECT_EQ(index.Earliest(), At(5));
  EXPECT_TRUE(index.Cancel("ABCDEF0123456789ABCD"));
  EXPECT_FALSE(index.Cancel("never-added"));
  EXPECT_THAT(Ids(index.PopDue(At(100))), ElementsAre("legacy-7", Id(1)));
  EXPECT_EQ(index.footprint().foreign_ids, 0u);
}

TEST(DeadlineIndexTest, ReusedForeignSlotsDoNotConfuseStaleEntries) {
  DeadlineIndex index;
  index.Add("old", At(10));
  index.Cancel("old");
  index.Add("new", At(20));  // Likely the slot "old" had.
  EXPECT_THAT(index.PopDue(At(15)), IsEmpty());
  EXPECT_THAT(index.PopDue(At(20)), ElementsAre(DueTimer{"new", At(20)}));
}

TEST(DeadlineIndexTest, StaleEntriesAreCompacted) {
  DeadlineIndex index;
  for (int i = 0; i < 100; ++i) index.Add(Id(i), At(1000 + i));
  // Every move leaves a stale entry; compaction keeps them bounded.
  for (int round = 0; round < 10000; ++round) {
    index.Add(Id(round % 100), At(2000 + round));
  }
  DeadlineIndex::Footprint f = index.footprint();
  EXPECT_EQ(f.pending, 100u);
  EXPECT_LE(f.heap_entries, 2 * f.pending + 1024);
  for (int i = 0; i < 5000; ++i) {
    index.Add(Id(1000 + i), At(5000));
    index.Cancel(Id(1000 + i));
  }
  EXPECT_LE(index.footprint().heap_entries, 2 * 100 + 1024u);
  EXPECT_EQ(index.PopDue(absl::InfiniteFuture()).size(), 100u);
}

TEST(DeadlineIndexTest, FootprintOfPackedTimersIsSmall) {
  DeadlineIndex index;
  for (int i = 0; i < 100000; ++i) index.Add(Id(i), At(i % 5000));
  DeadlineIndex::Footprint f = index.footprint();
  EXPECT_EQ(f.pending, 100000u);
  EXPECT_EQ(f.foreign_ids, 0u);
  // Capacity-based, so it includes growth slack; the benchmark measures
  // the allocator's view.
  EXPECT_LE(f.bytes / f.pending, 200u);
}

TEST(DeadlineIndexTest, ShrinksAfterALargeDrain) {
  DeadlineIndex index;
  for (int i = 0; i < 100000; ++i) index.Add(Id(i), At(i));
  const size_t full = index.footprint().bytes;
  index.PopDue(At(99990));
  EXPECT_EQ(index.size(), 9u);
  EXPECT_LT(index.footprint().bytes, full / 100);
}

// A model: a multimap by due time and a map of each pending id's time. Due
// times are unique, so the order of PopDue is fully determined.
class Model {
 public:
  void Add(const std::string& id, absl::Time due) {
    Cancel(id);
    by_due_.emplace(due, id);
    due_of_[id] = due;
  }
  bool Cancel(const std::string& id) {
    auto it = due_of_.find(id);
    if (it == due_of_.end()) return false;
    by_due_.erase(it->second);
    due_of_.erase(it);
    return true;
  }
  std::vector<DueTimer> PopDue(absl::Time now, size_t max) {
    std::vector<DueTimer> out;
    while (out.size() < max && !by_due_.empty() &&
           by_due_.begin()->first <= now) {
      out.push_back(DueTimer{by_due_.begin()->second, by_due_.begin()->first});
      due_of_.erase(by_due_.begin()->second);
      by_due_.erase(by_due_.begin());
    }
    return out;
  }
  std::optional<absl::Time> Earliest() const {
    if (by_due_.empty()) return std::nullopt;
    return by_due_.begin()->first;
  }
  std::optional<absl::Time> DueOf(const std::string& id) const {
    auto it = due_of_.find(id);
    if (it == due_of_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const { return due_of_.size(); }

 private:
  std::multimap<absl::Time, std::string> by_due_;
  std::map<std::string, absl::Time> due_of_;
};

TEST(DeadlineIndexTest, AgreesWithAModelOnRandomOperations) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    DeadlineIndex index;
    Model model;
    std::vector<std::string> ids;
    for (int i = 0; i < 300; ++i) {
      ids.push_back(NewId(kT0 + absl::Microseconds(rng() % 1000000)));
    }
    for (int i = 0; i < 30; ++i)
      ids.push_back(absl::StrFormat("foreign-%d", i));
    std::set<int64_t> used_dues;
    auto unique_due = [&](absl::Time now) {
      while (true) {
        const int64_t micros = absl::ToUnixMicros(now) +
                               static_cast<int64_t>(rng() % 10000000) - 1000000;
        if (used_dues.insert(micros).second) {
          return absl::FromUnixMicros(micros);
        }
      }
    };
    absl::Time now = kT0;
    for (int step = 0; step < 5000; ++step) {
      const std::string& id = ids[rng() % ids.size()];
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2:
        case 3: {
          const absl::Time due = unique_due(now);
          index.Add(id, due);
          model.Add(id, due);
          break;
        }
        case 4:
        case 5:
          ASSERT_EQ(index.Cancel(id), model.Cancel(id)) << id;
          break;
        default: {
          now += absl::Microseconds(rng() % 500000);
          const size_t max = 1 + rng() % 20;
          ASSERT_EQ(index.PopDue(now, max), model.PopDue(now, max));
        }
      }
      ASSERT_EQ(index.size(), model.size());
      ASSERT_EQ(index.Earliest(), model.Earliest());
      ASSERT_EQ(index.DueOf(id), model.DueOf(id));
    }
    ASSERT_EQ(index.PopDue(absl::InfiniteFuture()),
              model.PopDue(absl::InfiniteFuture(), static_cast<size_t>(-1)));
    EXPECT_TRUE(index.empty());
    EXPECT_EQ(index.footprint().foreign_ids, 0u);
  }
}

}  // namespace
}  // namespace handoff::routing
