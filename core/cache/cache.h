// core/cache/cache.h: the per-shard response cache.
//
// One pool of at most `capacity` entries, fixed at start-up: an entry table, an
// open-addressing index over it, and an AnswerLog holding each answer in as many octets
// as it has. Eviction is CLOCK over the log: a hit sets an entry's referenced bit, and
// cleaning the oldest segment gives referenced entries a second chance (they move to the
// newest, bit cleared) and evicts the others, oldest first, one at a time when entries
// run out and a segment at a time when the log's octets do, so hot entries stay and neither a hit
// nor an insert into a full cache allocates. Answers larger than kMaxAnswerBytes are not cached.
// Copies happen exactly twice: into the log on insert, out of it on a hit. An entry may outlive its
// TTL by a stale window (serve_stale, RFC 8767), during which Find reports it as stale.
// ResponseCache pairs a success pool with a denial pool, as CoreDNS does. Shard-local.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/reserved.h"
#include "core/cache/answer_log.h"

namespace ringdns::core {

struct CacheKey {
  std::uint64_t hash = 0;        // of everything below and the lower-cased qname
  std::uint32_t forward_id = 0;  // the route: answers never cross forwards
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint8_t flags = 0;  // kEdns | kDo | kCd of the query
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
  static constexpr std::size_t kMaxAnswerBytes = 1232;

  explicit Cache(std::uint32_t capacity);

  // The most a cache of `capacity` entries ever holds: every entry made and the log
  // grown to hold `capacity` answers of kMaxAnswerBytes.
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
      return expires_ms <= now_ms ? 0
                                  : static_cast<std::uint32_t>((expires_ms - now_ms + 999) / 1000);
    }
  };
  // Returns the entry for `key` whose stored question equals `qname` (any case), live or
  // stale, or a miss. `hit_window_ms` > 0 counts the hit for prefetching (CoreDNS: a hit
  // more than the window after the previous one starts the count again).
  Hit Find(const CacheKey& key, std::span<const std::uint8_t> qname, std::int64_t now_ms,
           std::int64_t hit_window_ms = 0) noexcept;

  // Stores `answer` for `ttl_seconds` (> 0), then keeps it `stale_seconds` longer for
  // serve_stale, replacing any entry for the key and evicting by CLOCK when full.
  // Returns false when the answer is too large. A span from Find is void after Insert.
  bool Insert(const CacheKey& key, std::span<const std::uint8_t> answer, std::int64_t now_ms,
              std::uint32_t ttl_seconds, std::uint32_t stale_seconds = 0) noexcept;

  // Removes the entry for `key`, if any.
  void Erase(const CacheKey& key) noexcept;

  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(slots_.capacity()); }
  std::uint32_t size() const noexcept { return size_; }
  std::uint64_t evictions() const noexcept { return evictions_; }
  // Octets of answer storage made so far (segments of the log), for tests and benchmarks.
  std::uint64_t answer_bytes_made() const noexcept {
    return std::uint64_t{log_.segments_made()} * AnswerLog::kSegmentBytes;
  }
  // Octets made so far for entries and answers: what grows with the work. The index
  // (at most 8 octets for each entry of the capacity) is left out.
  std::uint64_t bytes_made() const noexcept {
    return slots_.size() * sizeof(Slot) + answer_bytes_made();
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::int64_t expires_ms = 0;
    std::int64_t dead_ms = 0;  // end of the stale window; expires_ms without one
    std::int64_t last_hit_ms = 0;
    std::uint32_t lifetime_s = 0;
    std::uint32_t hits = 0;
    std::uint32_t forward_id = 0;
    std::uint32_t at = 0;  // live: the answer's record in the log; free: the next free slot
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::uint8_t flags = 0;
    bool live = false;
    bool referenced = false;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  std::uint32_t Lookup(const CacheKey& key) const noexcept;  // slot index or kEmpty
  void IndexInsert(std::uint64_t hash, std::uint32_t slot) noexcept;
  void IndexErase(std::uint64_t hash, std::uint32_t slot) noexcept;
  void Free(std::uint32_t slot) noexcept;        // evicts or erases a live entry
  void ReturnSlot(std::uint32_t slot) noexcept;  // onto the free list
  // Whether the record at `at` is `owner`'s answer (not one it replaced, nor a freed one).
  bool Owns(std::uint32_t owner, std::uint32_t at) const noexcept {
    return owner < slots_.size() && slots_[owner].live && slots_[owner].at == at;
  }

  // How a clean of the log's oldest segment treats the entries in it. Records no one
  // owns and entries past their stale window always go.
  enum class Clean {
    kReclaim,  // only those: the cache may still grow, so no live entry is evicted
    kEvict,    // CLOCK: a referenced entry stays (bit cleared), others are evicted
    kForce,    // as kEvict, without second chances: bounds the work of an insert
  };
  // Cleans from where the last clean stopped, to the end of the segment or, with
  // `stop_after` > 0, until that many entries are evicted.
  void CleanOldest(std::int64_t now_ms, Clean how, std::uint32_t stop_after = 0) noexcept;
  // Whether cleaning for reuse beats growing: the oldest segment is a quarter or more
  // records no one owns or entries past their stale window, or the whole log is half.
  bool ReclaimBeforeGrowing(std::int64_t now_ms) const noexcept;
  // Room in the log's open segment for an answer of `len` octets; false cannot happen
  // while the log has a segment.
  bool MakeRoom(std::size_t len, std::int64_t now_ms) noexcept;
  // A free entry, made if none is free and the table may grow; kEmpty when full.
  std::uint32_t TakeSlot() noexcept;
  // An entry for a new key: a free one, else the next one CLOCK evicts, oldest first.
  std::uint32_t TakeOrEvictSlot(std::int64_t now_ms) noexcept;
  // Cleans that may give second chances before one forces out an entry.
  static constexpr std::uint32_t kSecondChanceCleans = 8;
  // Cleans for reuse before the log grows anyway, so that an insert's work stays bounded.
  static constexpr std::uint32_t kReclaimCleans = 4;

  // Entries are made as the cache fills (so its memory follows the names it holds), and
  // freed ones are reused first.
  ReservedArray<Slot> slots_;
  std::uint32_t free_head_ = kEmpty;
  AnswerLog log_;
  // Slot numbers, open addressing on the hash; empty cells are never written.
  BlankTable<std::uint32_t, 0xffffffffu> index_;
  std::uint32_t index_mask_ = 0;
  std::uint32_t size_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t garbage_bytes_ = 0;  // octets of the log's records no entry owns
};

}  // namespace ringdns::core
