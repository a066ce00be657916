// core/cache.h: the per-shard response cache.
//
// Fixed at start-up: `capacity` slots of kSlotBytes each, an open-addressing index over
// them, and a CLOCK hand for eviction (a hit sets a slot's referenced bit; the hand
// clears bits until it finds an unreferenced or expired slot), so hot entries stay and
// neither a hit nor an insert into a full cache allocates. Answers larger than a slot
// are not cached. Copies happen exactly twice: into the slot on insert, out of it on a
// hit. Shard-local.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ringdns::core {

struct CacheKey {
  std::uint64_t hash = 0;       // of everything below and the lower-cased qname
  std::uint32_t forward_id = 0; // the route: answers never cross forwards
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint8_t flags = 0;       // kDo | kCd of the query
  static constexpr std::uint8_t kDo = 1;
  static constexpr std::uint8_t kCd = 2;
};

// Hashes the key fields and the qname folded to lower case.
CacheKey MakeCacheKey(std::uint32_t forward_id, std::span<const std::uint8_t> qname,
                      std::uint16_t qtype, std::uint16_t qclass, std::uint8_t flags) noexcept;

class Cache {
 public:
  // The EDNS size most resolvers ask for since DNS Flag Day 2020; larger answers are
  // served uncached.
  static constexpr std::size_t kSlotBytes = 1232;

  explicit Cache(std::uint32_t capacity);

  struct Hit {
    std::span<const std::uint8_t> answer;
    std::int64_t stored_ms = 0;
  };
  // Returns the live entry for `key` whose stored question equals `qname` (any case),
  // or an empty answer. Expired entries are misses.
  Hit Find(const CacheKey& key, std::span<const std::uint8_t> qname, std::int64_t now_ms) noexcept;

  // Stores `answer` for `ttl_seconds` (> 0), replacing any entry for the key and
  // evicting by CLOCK when full. Returns false when the answer is too large.
  bool Insert(const CacheKey& key, std::span<const std::uint8_t> answer, std::int64_t now_ms,
              std::uint32_t ttl_seconds) noexcept;

  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t size() const noexcept { return size_; }
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::int64_t stored_ms = 0;
    std::int64_t expires_ms = 0;
    std::uint32_t forward_id = 0;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::uint16_t len = 0;
    std::uint8_t flags = 0;
    bool live = false;
    bool referenced = false;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  std::uint32_t Lookup(const CacheKey& key) const noexcept;  // slot index or kEmpty
  void IndexInsert(std::uint64_t hash, std::uint32_t slot) noexcept;
  void IndexErase(std::uint64_t hash, std::uint32_t slot) noexcept;
  std::uint32_t Evict(std::int64_t now_ms) noexcept;
  std::uint8_t* Bytes(std::uint32_t slot) noexcept { return arena_.data() + slot * kSlotBytes; }

  std::vector<Slot> slots_;
  std::vector<std::uint8_t> arena_;
  std::vector<std::uint32_t> index_;  // slot numbers, open addressing on the hash
  std::uint32_t index_mask_ = 0;
  std::uint32_t hand_ = 0;
  std::uint32_t size_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace ringdns::core
