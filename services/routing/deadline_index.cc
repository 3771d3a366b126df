#include "services/routing/deadline_index.h"

#include <algorithm>
#include <limits>

#include "common/strings.h"

namespace handoff::routing {
namespace {

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinMicros = std::numeric_limits<int64_t>::min();

// Below these sizes compaction and shrinking are not worth a rebuild.
constexpr size_t kStaleSlack = 1024;
constexpr size_t kShrinkFloor = 4096;

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Rounded up, so a timer is never reported due before its time.
int64_t CeilMicros(absl::Time t) {
  const int64_t micros = absl::ToUnixMicros(t);  // Floors and saturates.
  if (micros != kMaxMicros && absl::FromUnixMicros(micros) < t) {
    return micros + 1;
  }
  return micros;
}

absl::Time TimeOfMicros(int64_t micros) {
  if (micros == kMaxMicros) return absl::InfiniteFuture();
  if (micros == kMinMicros) return absl::InfinitePast();
  return absl::FromUnixMicros(micros);
}

}  // namespace

std::optional<PackedId> PackId(std::string_view id) {
  if (id.size() != 20) return std::nullopt;
  PackedId packed;
  for (size_t i = 0; i < 16; ++i) {
    const int v = HexValue(id[i]);
    if (v < 0) return std::nullopt;
    packed.hi = (packed.hi << 4) | static_cast<uint64_t>(v);
  }
  for (size_t i = 16; i < 20; ++i) {
    const int v = HexValue(id[i]);
    if (v < 0) return std::nullopt;
    packed.lo = static_cast<uint16_t>((packed.lo << 4) | v);
  }
  return packed;
}

std::string UnpackId(PackedId id) {
  std::string out(20, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kHexDigits[id.hi & 0xf];
    id.hi >>= 4;
  }
  for (int i = 19; i >= 16; --i) {
    out[i] = kHexDigits[id.lo & 0xf];
    id.lo = static_cast<uint16_t>(id.lo >> 4);
  }
  return out;
}

void DeadlineIndex::Add(std::string_view id, absl::Time due) {
  const int64_t due_micros = CeilMicros(due);
  const Key key = Intern(id);
  auto [it, inserted] = live_.try_emplace(key, due_micros);
  if (!inserted) {
    if (it->second == due_micros) return;
    it->second = due_micros;
  }
  heap_.push_back(Entry{due_micros, key});
  std::push_heap(heap_.begin(), heap_.end(), Later());
  if (!inserted) {
    // The entry at the old time is stale now, possibly on top.
    DropStaleTop();
    MaybeCompact();
  }
}

bool DeadlineIndex::Cancel(std::string_view id) {
  const std::optional<Key> key = Find(id);
  if (!key.has_value()) return false;
  auto it = live_.find(*key);
  if (it == live_.end()) return false;
  Remove(it);
  DropStaleTop();
  MaybeCompact();
  return true;
}

std::vector<DueTimer> DeadlineIndex::PopDue(absl::Time now, size_t max) {
  std::vector<DueTimer> due;
  const int64_t now_micros = absl::ToUnixMicros(now);
  while (due.size() < max && !heap_.empty() &&
         heap_.front().due_micros <= now_micros) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const Entry entry = heap_.back();
    heap_.pop_back();
    auto it = live_.find(entry.key);
    if (it == live_.end() || it->second != entry.due_micros) continue;
    due.push_back(DueTimer{IdOf(entry.key), TimeOfMicros(entry.due_micros)});
    Remove(it);
  }
  DropStaleTop();
  MaybeCompact();
  return due;
}

std::optional<absl::Time> DeadlineIndex::Earliest() const {
  // The top is never stale: every mutation ends with DropStaleTop.
  if (heap_.empty()) return std::nullopt;
  return TimeOfMicros(heap_.front().due_micros);
}

std::optional<absl::Time> DeadlineIndex::DueOf(std::string_view id) const {
  const std::optional<Key> key = Find(id);
  if (!key.has_value()) return std::nullopt;
  auto it = live_.find(*key);
  if (it == live_.end()) return std::nullopt;
  return TimeOfMicros(it->second);
}

void DeadlineIndex::Reserve(size_t n) {
  heap_.reserve(n);
  live_.reserve(n);
}

DeadlineIndex::Footprint DeadlineIndex::footprint() const {
  Footprint f;
  f.pending = live_.size();
  f.heap_entries = heap_.size();
  f.foreign_ids = foreign_slots_.size();
  // A flat hash map holds one control byte per slot besides the slot.
  f.bytes = heap_.capacity() * sizeof(Entry) +
            live_.capacity() * (sizeof(std::pair<const Key, int64_t>) + 1) +
            foreign_ids_.capacity() * sizeof(std::string) +
            foreign_slots_.capacity() *
                (sizeof(std::pair<const std::string, uint32_t>) + 1) +
            free_foreign_slots_.capacity() * sizeof(uint32_t);
  for (const std::string& id : foreign_ids_) {
    // Both copies of the id live outside the string object once too long
    // for the small-string buffer.
    if (id.capacity() > 15) f.bytes += 2 * (id.capacity() + 1);
  }
  return f;
}

std::optional<DeadlineIndex::Key> DeadlineIndex::Find(
    std::string_view id) const {
  if (std::optional<PackedId> packed = PackId(id); packed.has_value()) {
    return Key{packed->hi, packed->lo, 0};
  }
  auto it = foreign_slots_.find(Sv(id));
  if (it == foreign_slots_.end()) return std::nullopt;
  return Key{0, 0, it->second + 1};
}

DeadlineIndex::Key DeadlineIndex::Intern(std::string_view id) {
  if (std::optional<Key> key = Find(id); key.has_value()) return *key;
  uint32_t slot;
  if (!free_foreign_slots_.empty()) {
    slot = free_foreign_slots_.back();
    free_foreign_slots_.pop_back();
    foreign_ids_[slot] = std::string(id);
  } else {
    slot = static_cast<uint32_t>(foreign_ids_.size());
    foreign_ids_.emplace_back(id);
  }
  foreign_slots_.emplace(std::string(id), slot);
  return Key{0, 0, slot + 1};
}

std::string DeadlineIndex::IdOf(const Key& key) const {
  if (key.foreign != 0) return foreign_ids_[key.foreign - 1];
  return UnpackId(PackedId{key.hi, static_cast<uint16_t>(key.lo)});
}

void DeadlineIndex::Remove(absl::flat_hash_map<Key, int64_t>::iterator it) {
  const Key key = it->first;
  live_.erase(it);
  if (key.foreign == 0) return;
  // A stale heap entry may still name this slot; should the slot be reused,
  // the entry only counts if its due time matches the new id's, and then
  // firing it is exactly right.
  const uint32_t slot = key.foreign - 1;
  foreign_slots_.erase(foreign_ids_[slot]);
  std::string().swap(foreign_ids_[slot]);
  free_foreign_slots_.push_back(slot);
}

bool DeadlineIndex::IsLive(const Entry& entry) const {
  auto it = live_.find(entry.key);
  return it != live_.end() && it->second == entry.due_micros;
}

void DeadlineIndex::DropStaleTop() {
  while (!heap_.empty() && !IsLive(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
  }
}

void DeadlineIndex::MaybeCompact() {
  const size_t live = live_.size();
  if (heap_.size() > 2 * live + kStaleSlack) {
    std::vector<Entry> rebuilt;
    rebuilt.reserve(live);
    for (const auto& [key, due_micros] : live_) {
      rebuilt.push_back(Entry{due_micros, key});
    }
    std::make_heap(rebuilt.begin(), rebuilt.end(), Later());
    heap_.swap(rebuilt);
  }
  // Give memory back after a large drain (a backlog fired at start-up).
  if (heap_.capacity() > kShrinkFloor && heap_.size() * 8 < heap_.capacity()) {
    heap_.shrink_to_fit();
  }
  if (live_.capacity() > kShrinkFloor && live * 8 < live_.capacity()) {
    live_.rehash(0);
  }
}

std::vector<std::string> TimerIds(const std::vector<DueTimer>& due) {
  std::vector<std::string> ids;
  ids.reserve(due.size());
  for (const DueTimer& timer : due) ids.push_back(timer.id);
  return ids;
}

}  // namespace handoff::routing
