#include "core/cache/cache.h"

#include <cstring>

#include "wire/name.h"

namespace ringdns::core {
namespace {

// FNV-1a over the fields, then a final mix; collisions only cost a verified miss.
std::uint64_t Mix(std::uint64_t h, std::uint8_t byte) noexcept {
  return (h ^ byte) * 0x100000001b3ull;
}

bool SameQuestion(const std::uint8_t* stored, std::size_t stored_len,
                  std::span<const std::uint8_t> qname) noexcept {
  // A stored answer's question starts at offset 12 and is uncompressed.
  if (stored_len < 12 + qname.size()) return false;
  return wire::NamesEqualIgnoreCase({stored + 12, qname.size()}, qname);
}

}  // namespace

CacheKey MakeCacheKey(std::uint32_t forward_id, std::span<const std::uint8_t> qname,
                      std::uint16_t qtype, std::uint16_t qclass, std::uint8_t flags,
                      std::span<const std::uint8_t> client_subnet) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint8_t b : qname) h = Mix(h, wire::ToLowerAscii(b));
  for (int shift = 0; shift < 32; shift += 8) h = Mix(h, static_cast<std::uint8_t>(forward_id >> shift));
  h = Mix(h, static_cast<std::uint8_t>(qtype >> 8));
  h = Mix(h, static_cast<std::uint8_t>(qtype));
  h = Mix(h, static_cast<std::uint8_t>(qclass >> 8));
  h = Mix(h, static_cast<std::uint8_t>(qclass));
  h = Mix(h, flags);
  for (std::uint8_t b : client_subnet) h = Mix(h, b);
  h ^= h >> 29;
  return CacheKey{h, forward_id, qtype, qclass, flags};
}

namespace {
std::uint32_t IndexSize(std::uint32_t capacity) noexcept {
  std::uint32_t size = 16;
  while (size < 2 * capacity) size <<= 1;
  return size;
}
}  // namespace

Cache::Cache(std::uint32_t capacity) : slots_(capacity), arena_(std::size_t{capacity} * kSlotBytes) {
  const std::uint32_t index_size = IndexSize(capacity);
  index_ = BlankTable<std::uint32_t, kEmpty>(index_size);
  index_mask_ = index_size - 1;
}

std::uint64_t Cache::MemoryBound(std::uint32_t capacity) noexcept {
  return std::uint64_t{capacity} * (kSlotBytes + sizeof(Slot)) +
         std::uint64_t{IndexSize(capacity)} * sizeof(std::uint32_t);
}

std::uint32_t Cache::Lookup(const CacheKey& key) const noexcept {
  for (std::uint32_t i = static_cast<std::uint32_t>(key.hash) & index_mask_;; i = (i + 1) & index_mask_) {
    const std::uint32_t slot = index_[i];
    if (slot == kEmpty) return kEmpty;
    const Slot& s = slots_[slot];
    if (s.hash == key.hash && s.forward_id == key.forward_id && s.qtype == key.qtype &&
        s.qclass == key.qclass && s.flags == key.flags) {
      return slot;
    }
  }
}

void Cache::IndexInsert(std::uint64_t hash, std::uint32_t slot) noexcept {
  std::uint32_t i = static_cast<std::uint32_t>(hash) & index_mask_;
  while (index_[i] != kEmpty) i = (i + 1) & index_mask_;
  index_[i] = slot;
}

void Cache::IndexErase(std::uint64_t hash, std::uint32_t slot) noexcept {
  std::uint32_t i = static_cast<std::uint32_t>(hash) & index_mask_;
  while (index_[i] != slot) {
    if (index_[i] == kEmpty) return;
    i = (i + 1) & index_mask_;
  }
  // Backward-shift deletion keeps every probe sequence intact without tombstones.
  std::uint32_t hole = i;
  for (std::uint32_t j = (i + 1) & index_mask_; index_[j] != kEmpty; j = (j + 1) & index_mask_) {
    const std::uint32_t home = static_cast<std::uint32_t>(slots_[index_[j]].hash) & index_mask_;
    if (((j - home) & index_mask_) >= ((j - hole) & index_mask_)) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = kEmpty;
}

Cache::Hit Cache::Find(const CacheKey& key, std::span<const std::uint8_t> qname,
                       std::int64_t now_ms, std::int64_t hit_window_ms) noexcept {
  const std::uint32_t slot = Lookup(key);
  if (slot == kEmpty) return {};
  Slot& s = slots_[slot];
  if (s.dead_ms <= now_ms || !SameQuestion(Bytes(slot), s.len, qname)) return {};
  s.referenced = true;
  if (hit_window_ms > 0) {
    s.hits = now_ms - s.last_hit_ms <= hit_window_ms ? s.hits + 1 : 1;
    s.last_hit_ms = now_ms;
  }
  return Hit{{Bytes(slot), s.len}, s.expires_ms, s.lifetime_s, s.hits, s.expires_ms <= now_ms};
}

void Cache::Free(std::uint32_t slot) noexcept {
  IndexErase(slots_[slot].hash, slot);
  slots_[slot].live = false;
  --size_;
}

void Cache::Erase(const CacheKey& key) noexcept {
  const std::uint32_t slot = Lookup(key);
  if (slot != kEmpty) Free(slot);
}

std::uint32_t Cache::Evict(std::int64_t now_ms) noexcept {
  if (!slots_.full()) {
    // Room to grow: first reuse a free slot or a dead entry (past its stale window) near
    // the hand, so that the cache's memory follows its live entries, not every name it
    // has ever held; only then make a slot.
    for (std::uint32_t probe = 0; probe < kReuseProbes && probe < slots_.size(); ++probe) {
      const std::uint32_t slot = AdvanceHand();
      if (!slots_[slot].live) return slot;
      if (slots_[slot].dead_ms <= now_ms) {
        Free(slot);
        ++evictions_;
        return slot;
      }
    }
    slots_.Grow();
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  // Full: CLOCK gives referenced slots a second chance; dead ones go first.
  while (true) {
    const std::uint32_t slot = AdvanceHand();
    Slot& s = slots_[slot];
    if (!s.live) return slot;
    if (s.referenced && s.dead_ms > now_ms) {
      s.referenced = false;
      continue;
    }
    Free(slot);
    ++evictions_;
    return slot;
  }
}

bool Cache::Insert(const CacheKey& key, std::span<const std::uint8_t> answer, std::int64_t now_ms,
                   std::uint32_t ttl_seconds, std::uint32_t stale_seconds) noexcept {
  if (answer.size() > kSlotBytes || slots_.capacity() == 0 || ttl_seconds == 0) return false;
  std::uint32_t slot = Lookup(key);
  if (slot == kEmpty) {
    slot = Evict(now_ms);  // a free slot, or the CLOCK victim
    IndexInsert(key.hash, slot);
    ++size_;
  }
  Slot& s = slots_[slot];
  s.hash = key.hash;
  s.forward_id = key.forward_id;
  s.qtype = key.qtype;
  s.qclass = key.qclass;
  s.flags = key.flags;
  s.lifetime_s = ttl_seconds;
  s.expires_ms = now_ms + std::int64_t{ttl_seconds} * 1000;
  s.dead_ms = s.expires_ms + std::int64_t{stale_seconds} * 1000;
  s.hits = 0;
  s.last_hit_ms = 0;
  s.len = static_cast<std::uint16_t>(answer.size());
  s.live = true;
  s.referenced = false;
  std::memcpy(Bytes(slot), answer.data(), answer.size());
  return true;
}

}  // namespace ringdns::core
