// core/pending_index.h: finds the in-flight slot an upstream answer belongs to, by
// (upstream socket, TXID), in a fixed open-addressing table.
//
// Sized at start-up to twice the slot count, so the load factor stays at or below one
// half and no operation allocates. Deletion shifts later entries back (no tombstones),
// so lookups stay short however long the shard runs. Shard-local.
#pragma once

#include <cstdint>
#include <vector>

namespace ringdns::core {

class PendingIndex {
 public:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  explicit PendingIndex(std::uint32_t max_entries) {
    std::uint32_t capacity = 16;
    while (capacity < 2 * max_entries) capacity <<= 1;
    keys_.assign(capacity, kEmpty);
    values_.assign(capacity, 0);
    mask_ = capacity - 1;
  }

  static std::uint32_t Key(std::uint16_t socket, std::uint16_t txid) noexcept {
    return (std::uint32_t{socket} << 16) | txid;
  }

  bool Contains(std::uint32_t key) const noexcept { return Find(key) != kEmpty; }

  // Returns the slot stored for `key`, or kEmpty.
  std::uint32_t Find(std::uint32_t key) const noexcept {
    for (std::uint32_t i = Hash(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == kEmpty) return kEmpty;
    }
  }

  // Precondition: !Contains(key) and fewer entries than max_entries.
  void Insert(std::uint32_t key, std::uint32_t slot) noexcept {
    std::uint32_t i = Hash(key);
    while (keys_[i] != kEmpty) i = (i + 1) & mask_;
    keys_[i] = key;
    values_[i] = slot;
  }

  void Erase(std::uint32_t key) noexcept {
    std::uint32_t i = Hash(key);
    while (keys_[i] != key) {
      if (keys_[i] == kEmpty) return;
      i = (i + 1) & mask_;
    }
    // Backward-shift deletion: move up every later entry whose home is at or before
    // the hole, so no probe sequence is broken.
    std::uint32_t hole = i;
    for (std::uint32_t j = (i + 1) & mask_; keys_[j] != kEmpty; j = (j + 1) & mask_) {
      const std::uint32_t home = Hash(keys_[j]);
      const bool movable = ((j - home) & mask_) >= ((j - hole) & mask_);
      if (movable) {
        keys_[hole] = keys_[j];
        values_[hole] = values_[j];
        hole = j;
      }
    }
    keys_[hole] = kEmpty;
  }

 private:
  std::uint32_t Hash(std::uint32_t key) const noexcept {
    // Fibonacci hashing spreads (socket, txid) keys; TXIDs are random anyway.
    return static_cast<std::uint32_t>((std::uint64_t{key} * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }

  std::vector<std::uint32_t> keys_;
  std::vector<std::uint32_t> values_;
  std::uint32_t mask_ = 0;
};

}  // namespace ringdns::core
