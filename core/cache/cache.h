// core/cache/cache.h: the per-shard response cache.
//
// One pool: fixed at start-up, `capacity` slots of kSlotBytes each, an open-addressing
// index over them, and a CLOCK hand for eviction (a hit sets a slot's referenced bit;
// the hand clears bits until it finds an unreferenced or dead slot), so hot entries stay
// and neither a hit nor an insert into a full cache allocates. Answers larger than a
// slot are not cached. Copies happen exactly twice: into the slot on insert, out of it
// on a hit. An entry may outlive its TTL by a stale window (serve_stale, RFC 8767),
// during which Find reports it as stale. ResponseCache pairs a success pool with a
// denial pool, as CoreDNS does. Shard-local.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/memory/reserved.h"

namespace ringdns::core {

struct CacheKey {
  std::uint64_t hash = 0;       // of everything below and the lower-cased qname
  std::uint32_t forward_id = 0; // the route: answers never cross forwards
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint8_t flags = 0;       // kEdns | kDo | kCd of the query
  static constexpr std::uint8_t kDo = 1;
  static constexpr std::uint8_t kCd = 2;
  // An answer to a query without EDNS has no OPT, and one to a query with EDNS may: the
  // two are never served to each other (RFC 6891 section 7).
  static constexpr std::uint8_t kEdns = 4;
  // The query carried an EDNS Client Subnet option (RFC 7871), hashed into the key: an
  // answer made for one client's subnet is shared only with queries for the same subnet.
  static constexpr std::uint8_t kEcs = 8;
};

// Hashes the key fields, the qname folded to lower case and `client_subnet` (the ECS
// option's data; empty when the query has none, else set kEcs in `flags`).
CacheKey MakeCacheKey(std::uint32_t forward_id, std::span<const std::uint8_t> qname,
                      std::uint16_t qtype, std::uint16_t qclass, std::uint8_t flags,
                      std::span<const std::uint8_t> client_subnet = {}) noexcept;

class Cache {
 public:
  // The EDNS size most resolvers ask for since DNS Flag Day 2020; larger answers are
  // served uncached.
  static constexpr std::size_t kSlotBytes = 1232;

  explicit Cache(std::uint32_t capacity);

  // The most a cache of `capacity` entries ever holds: every slot made and written.
  static std::uint64_t MemoryBound(std::uint32_t capacity) noexcept;

  struct Hit {
    std::span<const std::uint8_t> answer;  // empty: a miss
    std::int64_t expires_ms = 0;
    std::uint32_t lifetime_s = 0;  // how long the entry was stored for
    std::uint32_t hits = 0;        // consecutive hits, each within the hit window of the last
    bool stale = false;            // past its lifetime, inside its stale window
    bool denial = false;           // found in ResponseCache's denial pool

    // The TTL a client may be given now: the remaining lifetime, rounded up.
    std::uint32_t remaining_s(std::int64_t now_ms) const noexcept {
      return expires_ms <= now_ms ? 0 : static_cast<std::uint32_t>((expires_ms - now_ms + 999) / 1000);
    }
  };
  // Returns the entry for `key` whose stored question equals `qname` (any case), live or
  // stale, or a miss. `hit_window_ms` > 0 counts the hit for prefetching (CoreDNS: a hit
  // more than the window after the previous one starts the count again).
  Hit Find(const CacheKey& key, std::span<const std::uint8_t> qname, std::int64_t now_ms,
           std::int64_t hit_window_ms = 0) noexcept;

  // Stores `answer` for `ttl_seconds` (> 0), then keeps it `stale_seconds` longer for
  // serve_stale, replacing any entry for the key and evicting by CLOCK when full.
  // Returns false when the answer is too large.
  bool Insert(const CacheKey& key, std::span<const std::uint8_t> answer, std::int64_t now_ms,
              std::uint32_t ttl_seconds, std::uint32_t stale_seconds = 0) noexcept;

  // Removes the entry for `key`, if any.
  void Erase(const CacheKey& key) noexcept;

  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(slots_.capacity()); }
  std::uint32_t size() const noexcept { return size_; }
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::int64_t expires_ms = 0;
    std::int64_t dead_ms = 0;      // end of the stale window; expires_ms without one
    std::int64_t last_hit_ms = 0;
    std::uint32_t lifetime_s = 0;
    std::uint32_t hits = 0;
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
  // Slots a cache that may still grow looks at for one to reuse before it grows.
  static constexpr std::uint32_t kReuseProbes = 8;
  std::uint32_t AdvanceHand() noexcept {  // the slot under the hand, which moves on
    const std::uint32_t slot = hand_;
    hand_ = hand_ + 1 >= slots_.size() ? 0 : hand_ + 1;
    return slot;
  }
  void Free(std::uint32_t slot) noexcept;
  std::uint8_t* Bytes(std::uint32_t slot) noexcept { return arena_.data() + std::size_t{slot} * kSlotBytes; }

  // Slots are made as the cache fills (so its memory follows the names it holds) and
  // reused by CLOCK once every slot made holds an entry and no more may be made.
  ReservedArray<Slot> slots_;
  ReservedBytes arena_;
  // Slot numbers, open addressing on the hash; empty cells are never written.
  BlankTable<std::uint32_t, 0xffffffffu> index_;
  std::uint32_t index_mask_ = 0;
  std::uint32_t hand_ = 0;
  std::uint32_t size_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace ringdns::core
