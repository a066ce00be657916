#include "core/upstream/connection_pools.h"

#include <algorithm>

namespace ringdns::core {

UpstreamConnectionPools::~UpstreamConnectionPools() { FreeSessions(); }

void UpstreamConnectionPools::FreeSessions() noexcept {
  for (Pool& pool : pools_) {
    if (pool.resume != nullptr) SSL_SESSION_free(pool.resume);
    pool.resume = nullptr;
  }
}

void UpstreamConnectionPools::Build(const RouteTable& routes, std::uint32_t first_connection) {
  FreeSessions();
  pools_.clear();
  first_connection_ = first_connection;
  first_pool_.assign(routes.forward_count, 0);
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      first_pool_[f.id] = pools();
      for (std::size_t u = 0; u < f.upstreams.size(); ++u) {
        pools_.push_back(Pool{.forward = &f, .upstream = static_cast<std::uint8_t>(u)});
      }
    }
  }
}

void UpstreamConnectionPools::Answered(std::uint32_t pool) noexcept {
  pools_[pool].failures = 0;
  pools_[pool].not_before_ms = 0;
}

void UpstreamConnectionPools::BrokeUnanswered(std::uint32_t pool, std::int64_t now_ms,
                                              std::int64_t base_ms) noexcept {
  Pool& p = pools_[pool];
  p.failures = static_cast<std::uint8_t>(std::min(p.failures + 1, kMaxRedialDoublings + 1));
  p.not_before_ms = now_ms + (base_ms << (p.failures - 1));
}

}  // namespace ringdns::core
