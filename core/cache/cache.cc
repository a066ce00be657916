#include "core/cache/cache.h"

#include "core/base/invariant.h"
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
  for (int shift = 0; shift < 32; shift += 8)
    h = Mix(h, static_cast<std::uint8_t>(forward_id >> shift));
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

// The log is sized so that `capacity` answers of the largest size fit.
std::uint32_t LogSegments(std::uint32_t capacity) noexcept {
  return AnswerLog::SegmentsFor(capacity, Cache::kMaxAnswerBytes);
}
}  // namespace

Cache::Cache(std::uint32_t capacity) : slots_(capacity), log_(LogSegments(capacity)) {
  const std::uint32_t index_size = IndexSize(capacity);
  index_ = BlankTable<std::uint32_t, kEmpty>(index_size);
  index_mask_ = index_size - 1;
}

std::uint64_t Cache::MemoryBound(std::uint32_t capacity) noexcept {
  return std::uint64_t{capacity} * sizeof(Slot) + AnswerLog::MemoryBound(LogSegments(capacity)) +
         std::uint64_t{IndexSize(capacity)} * sizeof(std::uint32_t);
}

std::uint32_t Cache::Lookup(const CacheKey& key) const noexcept {
  for (std::uint32_t i = static_cast<std::uint32_t>(key.hash) & index_mask_;;
       i = (i + 1) & index_mask_) {
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
  if (s.dead_ms <= now_ms) return {};
  const std::span<const std::uint8_t> answer = log_.Answer(s.at);
  if (!SameQuestion(answer.data(), answer.size(), qname)) return {};
  s.referenced = true;
  if (hit_window_ms > 0) {
    s.hits = now_ms - s.last_hit_ms <= hit_window_ms ? s.hits + 1 : 1;
    s.last_hit_ms = now_ms;
  }
  return Hit{answer, s.expires_ms, s.lifetime_s, s.hits, s.expires_ms <= now_ms};
}

void Cache::Free(std::uint32_t slot) noexcept {
  IndexErase(slots_[slot].hash, slot);
  slots_[slot].live = false;
  garbage_bytes_ += AnswerLog::RecordBytes(log_.Answer(slots_[slot].at).size());
  ReturnSlot(slot);
  --size_;
}

void Cache::ReturnSlot(std::uint32_t slot) noexcept {
  slots_[slot].at = free_head_;
  free_head_ = slot;
}

void Cache::Erase(const CacheKey& key) noexcept {
  const std::uint32_t slot = Lookup(key);
  if (slot != kEmpty) Free(slot);  // its record stays in the log, owned by no one
}

std::uint32_t Cache::TakeSlot() noexcept {
  if (free_head_ != kEmpty) {
    const std::uint32_t slot = free_head_;
    free_head_ = slots_[slot].at;
    return slot;
  }
  if (slots_.full()) return kEmpty;
  slots_.Grow();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void Cache::CleanOldest(std::int64_t now_ms, Clean how, std::uint32_t stop_after) noexcept {
  std::uint32_t evicted = 0;
  log_.CleanOldest(
      [&](std::uint32_t owner, std::uint32_t at, std::uint32_t) {
        if (!Owns(owner, at)) return;
        Slot& s = slots_[owner];
        const bool servable = s.dead_ms > now_ms;
        if (servable && how == Clean::kReclaim) return;
        if (servable && how == Clean::kEvict && s.referenced) {  // a second chance
          s.referenced = false;
          return;
        }
        Free(owner);
        ++evictions_;
        ++evicted;
      },
      [&] { return stop_after > 0 && evicted >= stop_after; },
      [&](std::uint32_t owner, std::uint32_t at) {
        if (Owns(owner, at)) return true;
        garbage_bytes_ -=
            AnswerLog::RecordBytes(log_.Answer(at).size());  // dropped as it is packed
        return false;
      },
      [&](std::uint32_t owner, std::uint32_t new_at) { slots_[owner].at = new_at; });
}

bool Cache::ReclaimBeforeGrowing(std::int64_t now_ms) const noexcept {
  const std::uint64_t made = std::uint64_t{log_.segments_made()} * AnswerLog::kSegmentBytes;
  if (2 * garbage_bytes_ >= made) return true;
  std::uint32_t used = 0;
  std::uint32_t servable = 0;
  log_.ForEachInOldest([&](std::uint32_t owner, std::uint32_t at, std::uint32_t bytes) {
    used += bytes;
    if (Owns(owner, at) && slots_[owner].dead_ms > now_ms) servable += bytes;
  });
  return used > 0 && 4 * servable <= 3 * used;
}

bool Cache::MakeRoom(std::size_t len, std::int64_t now_ms) noexcept {
  std::uint32_t reclaims = 0;
  std::uint32_t evicts = 0;
  // Bounded: a free or new segment fits any answer, and a forced clean of a whole
  // segment leaves it empty.
  for (std::uint32_t turn = 0; turn < kReclaimCleans + kSecondChanceCleans + 4; ++turn) {
    if (log_.Fits(len)) return true;
    if (log_.OpenFree()) continue;
    if (log_.CanGrow()) {
      if (reclaims < kReclaimCleans && ReclaimBeforeGrowing(now_ms)) {
        CleanOldest(now_ms, Clean::kReclaim);
        ++reclaims;
      } else {
        log_.OpenNew();
      }
      continue;
    }
    CleanOldest(now_ms, evicts < kSecondChanceCleans ? Clean::kEvict : Clean::kForce);
    ++evicts;
  }
  return log_.Fits(len);
}

std::uint32_t Cache::TakeOrEvictSlot(std::int64_t now_ms) noexcept {
  std::uint32_t slot = TakeSlot();
  // Each clean evicts one entry or finishes a segment; with force, a round of the log
  // finds an entry, since every entry has its record in a segment.
  const std::uint32_t bound = 2 * log_.max_segments() + kSecondChanceCleans + 2;
  for (std::uint32_t cleans = 0; slot == kEmpty && cleans < bound; ++cleans) {
    CleanOldest(now_ms, cleans < kSecondChanceCleans ? Clean::kEvict : Clean::kForce, 1);
    slot = TakeSlot();
  }
  return slot;
}

bool Cache::Insert(const CacheKey& key, std::span<const std::uint8_t> answer, std::int64_t now_ms,
                   std::uint32_t ttl_seconds, std::uint32_t stale_seconds) noexcept {
  if (answer.size() > kMaxAnswerBytes || slots_.capacity() == 0 || ttl_seconds == 0) return false;
  const std::uint32_t replaced = Lookup(key);
  if (replaced != kEmpty) Free(replaced);
  const std::uint32_t slot = TakeOrEvictSlot(now_ms);
  if (!RINGDNS_INVARIANT(slot != kEmpty)) return false;
  // The slot taken is not live, so cleaning for room never frees it.
  if (!RINGDNS_INVARIANT(MakeRoom(answer.size(), now_ms))) {
    ReturnSlot(slot);
    return false;
  }
  IndexInsert(key.hash, slot);
  ++size_;
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
  s.live = true;
  s.referenced = false;
  s.at = log_.Append(slot, answer);
  return true;
}

}  // namespace ringdns::core
