#include "core/shard/cache_succession.h"

#include <atomic>
#include <utility>

namespace ringdns::core {

void CacheSuccession::Start(const std::uint32_t (&capacity)[2],
                            std::shared_ptr<CacheHandoff> from) {
  capacity_[0] = capacity[0];
  capacity_[1] = capacity[1];
  from_ = std::move(from);
  if (!from_) Adopt();
}

void CacheSuccession::AdoptIfPublished() {
  if (from_ && from_->ready.load(std::memory_order_acquire)) Adopt();
}

void CacheSuccession::Adopt() {
  std::unique_ptr<ResponseCache> inherited;
  if (from_) {
    inherited = std::move(from_->cache);
    from_->adopted.store(true, std::memory_order_release);
  }
  from_.reset();
  if (capacity_[0] + capacity_[1] == 0) return;
  if (inherited && inherited->success().capacity() == capacity_[0] &&
      inherited->denial().capacity() == capacity_[1]) {
    cache_ = std::move(inherited);
  } else {
    cache_ = std::make_unique<ResponseCache>(capacity_[0], capacity_[1]);
  }
}

void CacheSuccession::HandOver() {
  if (!to_) return;
  to_->cache = std::move(cache_);
  to_->ready.store(true, std::memory_order_release);
  to_.reset();
}

void CacheSuccession::Report(ShardMetrics& metrics) const noexcept {
  if (!cache_) return;
  metrics.cache_entries[0].Set(cache_->success().size());
  metrics.cache_entries[1].Set(cache_->denial().size());
  metrics.cache_evictions[0].Set(cache_->success().evictions());
  metrics.cache_evictions[1].Set(cache_->denial().evictions());
  metrics.cache_bytes[0].Set(cache_->success().bytes_made());
  metrics.cache_bytes[1].Set(cache_->denial().bytes_made());
}

}  // namespace ringdns::core
