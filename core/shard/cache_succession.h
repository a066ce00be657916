// core/shard/cache_succession.h: which response cache a shard answers from, across
// reloads. A new shard takes its predecessor's once the old one publishes it, if it has
// the capacities the routes ask for (its entries survive a reload that leaves the cache
// alone), else makes a fresh one; until then it serves uncached. Stopping, it hands its
// own on to its successor. Shard-local (CacheHandoff's atomics are the one crossing);
// needs no socket.
#pragma once

#include <cstdint>
#include <memory>

#include "core/cache/response_cache.h"
#include "core/metrics.h"
#include "core/shard/shard_succession.h"

namespace ringdns::core {

class CacheSuccession {
 public:
  // `capacity`: the pools the routes ask for (success, denial; both 0: no cache).
  // `from`: the predecessor's hand-off, or null on first start (a fresh cache at once).
  void Start(const std::uint32_t (&capacity)[2], std::shared_ptr<CacheHandoff> from);
  // True while the predecessor's cache is awaited (the loop keeps ticking for it).
  bool awaiting() const noexcept { return from_ != nullptr; }
  // Each loop turn while awaiting: takes the predecessor's cache once it is published.
  void AdoptIfPublished();

  // Control thread, before the shard's stop is published (with release): where the
  // cache goes once the shard stops.
  void PassOnTo(std::shared_ptr<CacheHandoff> to) { to_ = std::move(to); }
  // Stopping: the cache is the successor's from here on; this shard neither reads nor
  // writes it again. Without a successor it stays, for the queries still draining.
  void HandOver();

  // The cache to answer from; null when none is configured or it is still awaited.
  ResponseCache* get() const noexcept { return cache_.get(); }
  ResponseCache* operator->() const noexcept { return cache_.get(); }
  explicit operator bool() const noexcept { return cache_ != nullptr; }
  // The gauges the scrape reads: entries, evictions and octets made, per pool.
  void Report(ShardMetrics& metrics) const noexcept;

 private:
  void Adopt();

  std::uint32_t capacity_[2] = {0, 0};
  std::unique_ptr<ResponseCache> cache_;
  std::shared_ptr<CacheHandoff> from_;  // the predecessor's, until adopted
  std::shared_ptr<CacheHandoff> to_;    // the successor's, set by a reload
};

}  // namespace ringdns::core
