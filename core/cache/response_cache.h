// core/cache/response_cache.h: a shard's cache: a success pool and a denial pool (NXDOMAIN,
// NODATA, SERVFAIL), each with its own capacity, as CoreDNS's `success` and `denial`.
//
// A key lives in at most one pool: storing it in one drops it from the other, so a
// lookup never has to choose between two answers. Shard-local.
#pragma once

#include <cstdint>
#include <span>

#include "core/cache/cache.h"

namespace ringdns::core {

class ResponseCache {
 public:
  ResponseCache(std::uint32_t success_capacity, std::uint32_t denial_capacity)
      : success_(success_capacity), denial_(denial_capacity) {}

  Cache::Hit Find(const CacheKey& key, std::span<const std::uint8_t> qname, std::int64_t now_ms,
                  std::int64_t hit_window_ms = 0) noexcept {
    Cache::Hit hit = success_.Find(key, qname, now_ms, hit_window_ms);
    if (hit.answer.empty() && denial_.capacity() > 0) {
      hit = denial_.Find(key, qname, now_ms, hit_window_ms);
      hit.denial = true;
    }
    return hit;
  }

  bool Insert(bool denial, const CacheKey& key, std::span<const std::uint8_t> answer,
              std::int64_t now_ms, std::uint32_t ttl_seconds,
              std::uint32_t stale_seconds) noexcept {
    Cache& into = denial ? denial_ : success_;
    Cache& other = denial ? success_ : denial_;
    if (!into.Insert(key, answer, now_ms, ttl_seconds, stale_seconds)) {
      // What the upstream says now cannot be kept: an older answer must not stand in.
      into.Erase(key);
      other.Erase(key);
      return false;
    }
    other.Erase(key);
    return true;
  }

  const Cache& success() const noexcept { return success_; }
  const Cache& denial() const noexcept { return denial_; }

 private:
  Cache success_;
  Cache denial_;
};

}  // namespace ringdns::core
