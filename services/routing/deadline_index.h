#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace handoff::routing {

// A resource id as NewId (common/ids.h) makes it, 20 lowercase hex digits,
// in 80 bits. The order of (hi, lo) is the order of the id strings.
struct PackedId {
  uint64_t hi = 0;  // The first 16 hex digits.
  uint16_t lo = 0;  // The last 4.

  friend bool operator==(const PackedId&, const PackedId&) = default;
};

// nullopt when `id` is not exactly 20 lowercase hex digits.
std::optional<PackedId> PackId(std::string_view id);
std::string UnpackId(PackedId id);

// A timer that came due.
struct DueTimer {
  std::string id;
  absl::Time due;

  friend bool operator==(const DueTimer&, const DueTimer&) = default;
};

// The ids of `due`, in order: what the router's timer handlers take.
std::vector<std::string> TimerIds(const std::vector<DueTimer>& due);

// The pending SLA timers of one process: (due time, timer id) pairs, at most
// one per id, earliest first.
//
// Layout, for a million timers in well under 200 bytes each: a binary
// min-heap of 24-byte entries (due in microseconds, packed id) and a flat
// hash map from packed id to its current due time (24-byte slots). Cancel and
// re-Add only touch the map; the heap entry they leave behind is stale
// (its due time no longer matches the map) and is skipped when it surfaces.
// Stale entries are bounded: once they outnumber the live ones the heap is
// rebuilt from the map, so Cancel and Add stay O(log n) amortized.
//
// Ids that are not in NewId's form (there should be none; older or foreign
// data) still work: they are interned in a side table and take the slow
// path, about 100 bytes more each.
//
// Due times have microsecond resolution, rounded up, so a timer never comes
// due early.
//
// Not thread-safe: one owner (DeadlineScheduler guards it with its mutex).
class DeadlineIndex {
 public:
  DeadlineIndex() = default;
  DeadlineIndex(const DeadlineIndex&) = delete;
  DeadlineIndex& operator=(const DeadlineIndex&) = delete;

  // Schedules `id` at `due`; an id already pending moves to the new time.
  void Add(std::string_view id, absl::Time due);
  // Returns whether `id` was pending.
  bool Cancel(std::string_view id);
  // Removes and returns the timers due at or before `now`, earliest first
  // (ties in id order), at most `max` of them.
  std::vector<DueTimer> PopDue(absl::Time now,
                               size_t max = static_cast<size_t>(-1));

  // The earliest pending due time.
  std::optional<absl::Time> Earliest() const;
  // The due time of `id`, if it is pending.
  std::optional<absl::Time> DueOf(std::string_view id) const;
  size_t size() const { return live_.size(); }
  bool empty() const { return live_.empty(); }

  // Room for `n` pending timers without regrowing (for a bulk reload).
  void Reserve(size_t n);

  struct Footprint {
    size_t pending = 0;
    // Heap entries, stale ones included.
    size_t heap_entries = 0;
    // Interned ids not in NewId's form.
    size_t foreign_ids = 0;
    // Allocated bytes by capacity (heap, map, side table); excludes the
    // allocator's own overhead, which benchmarks measure with mallinfo2.
    size_t bytes = 0;
  };
  Footprint footprint() const;

 private:
  // A packed id (foreign == 0) or the slot of an interned foreign id plus 1.
  struct Key {
    uint64_t hi = 0;
    uint32_t lo = 0;
    uint32_t foreign = 0;

    friend bool operator==(const Key&, const Key&) = default;
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.hi, a.lo, a.foreign) < std::tie(b.hi, b.lo, b.foreign);
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.hi, k.lo, k.foreign);
    }
  };
  struct Entry {
    int64_t due_micros = 0;
    Key key;
  };
  // Heap order: the entry that is due later sinks.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.due_micros != b.due_micros) return a.due_micros > b.due_micros;
      return b.key < a.key;
    }
  };

  // The key of a pending or known id; nullopt for a foreign id never seen.
  std::optional<Key> Find(std::string_view id) const;
  Key Intern(std::string_view id);
  std::string IdOf(const Key& key) const;
  // Forgets the live entry of `key` (and its interned id).
  void Remove(absl::flat_hash_map<Key, int64_t>::iterator it);
  bool IsLive(const Entry& e) const;
  void DropStaleTop();
  void MaybeCompact();

  std::vector<Entry> heap_;
  absl::flat_hash_map<Key, int64_t> live_;
  // Interned foreign ids: slot -> id, id -> slot, reusable slots.
  std::vector<std::string> foreign_ids_;
  absl::flat_hash_map<std::string, uint32_t> foreign_slots_;
  std::vector<uint32_t> free_foreign_slots_;
};

}  // namespace handoff::routing
