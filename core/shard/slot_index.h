// core/shard/slot_index.h: a fixed open-addressing map from an integer key to an in-flight
// slot number. PendingIndex finds the slot an upstream answer belongs to by (upstream
// socket, TXID); the coalescing index finds the query already asking a cache key.
//
// Sized at start-up to twice the entries it may hold, so the load factor stays at or
// below one half and no operation allocates. Deletion shifts later entries back (no
// tombstones), so lookups stay short however long the shard runs. Shard-local.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/reserved.h"

namespace ringdns::core {

template <typename Key>
class SlotIndex {
 public:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  // The one key value that cannot be stored: it marks free cells.
  static constexpr Key kFreeKey = static_cast<Key>(~Key{0});

  explicit SlotIndex(std::uint32_t max_entries) {
    const std::uint32_t capacity = Cells(max_entries);
    keys_ = BlankTable<Key, kFreeKey>(capacity);
    values_ = BlankTable<std::uint32_t, 0>(capacity);
    mask_ = capacity - 1;
  }

  // The most the index ever holds: every cell written.
  static std::uint64_t MemoryBound(std::uint32_t max_entries) noexcept {
    return std::uint64_t{Cells(max_entries)} * (sizeof(Key) + sizeof(std::uint32_t));
  }

  bool Contains(Key key) const noexcept { return Find(key) != kEmpty; }

  // Returns the slot stored for `key`, or kEmpty.
  std::uint32_t Find(Key key) const noexcept {
    for (std::uint32_t i = Hash(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == kFreeKey) return kEmpty;
    }
  }

  // Precondition: !Contains(key), key != kFreeKey, fewer entries than max_entries.
  void Insert(Key key, std::uint32_t slot) noexcept {
    std::uint32_t i = Hash(key);
    while (keys_[i] != kFreeKey) i = (i + 1) & mask_;
    keys_[i] = key;
    values_[i] = slot;
  }

  void Erase(Key key) noexcept {
    std::uint32_t i = Hash(key);
    while (keys_[i] != key) {
      if (keys_[i] == kFreeKey) return;
      i = (i + 1) & mask_;
    }
    // Backward-shift deletion: move up every later entry whose home is at or before
    // the hole, so no probe sequence is broken.
    std::uint32_t hole = i;
    for (std::uint32_t j = (i + 1) & mask_; keys_[j] != kFreeKey; j = (j + 1) & mask_) {
      const std::uint32_t home = Hash(keys_[j]);
      const bool movable = ((j - home) & mask_) >= ((j - hole) & mask_);
      if (movable) {
        keys_[hole] = keys_[j];
        values_[hole] = values_[j];
        hole = j;
      }
    }
    keys_[hole] = kFreeKey;
  }

 private:
  static std::uint32_t Cells(std::uint32_t max_entries) noexcept {
    std::uint32_t cells = 16;
    while (cells < 2 * max_entries) cells <<= 1;
    return cells;
  }
  std::uint32_t Hash(Key key) const noexcept {
    // Fibonacci hashing spreads sequential and random keys alike.
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >>
                                      32) &
           mask_;
  }

  // Free cells are never written: an index with few entries costs a few pages.
  BlankTable<Key, kFreeKey> keys_;
  BlankTable<std::uint32_t, 0> values_;
  std::uint32_t mask_ = 0;
};

// (upstream socket, TXID) -> slot.
class PendingIndex : public SlotIndex<std::uint32_t> {
 public:
  using SlotIndex::SlotIndex;
  static std::uint32_t Key(std::uint16_t socket, std::uint16_t txid) noexcept {
    return (std::uint32_t{socket} << 16) | txid;
  }
};

// Cache-key hash -> the slot already asking upstream for it.
using CoalescingIndex = SlotIndex<std::uint64_t>;

}  // namespace ringdns::core
