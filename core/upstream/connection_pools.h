// core/upstream/connection_pools.h: how a shard's TCP and TLS connections to upstreams are
// grouped: one pool per (forward, upstream), kConnectionsPerPool connections each, numbered
// after the client connections in the shard's stream table. Per pool, the TLS session
// its next connection resumes, and its redial back-off: after a connection that broke
// before any answer (refused, TLS refused, closed), the pool opens none for a while,
// doubling with each such failure in a row, instead of hundreds a second.
// Bookkeeping only, told the time: the shard opens, reads and closes the connections.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

#include "core/routes.h"

namespace ringdns::core {

class UpstreamConnectionPools {
 public:
  // A fresh connection while a broken one closes.
  static constexpr std::uint32_t kConnectionsPerPool = 2;
  // A failing pool waits `base`, 2x, 4x, ... up to 2^kMaxRedialDoublings x `base`.
  static constexpr int kMaxRedialDoublings = 4;

  UpstreamConnectionPools() = default;
  ~UpstreamConnectionPools();  // frees the sessions kept for resumption
  UpstreamConnectionPools(const UpstreamConnectionPools&) = delete;
  UpstreamConnectionPools& operator=(const UpstreamConnectionPools&) = delete;

  // One pool per upstream of each forward of `routes`; their connections are numbered
  // from `first_connection` on. Again: the pools start afresh.
  void Build(const RouteTable& routes, std::uint32_t first_connection);

  std::uint32_t pools() const noexcept { return static_cast<std::uint32_t>(pools_.size()); }
  std::uint32_t connections() const noexcept { return pools() * kConnectionsPerPool; }
  // The pool of `forward`'s `upstream`-th upstream, and of an upstream connection.
  std::uint32_t PoolOf(const ForwardRoute& forward, std::uint8_t upstream) const noexcept {
    return first_pool_[forward.id] + upstream;
  }
  std::uint32_t PoolOf(std::uint32_t connection) const noexcept {
    return (connection - first_connection_) / kConnectionsPerPool;
  }
  std::uint32_t FirstConnection(std::uint32_t pool) const noexcept {
    return first_connection_ + pool * kConnectionsPerPool;
  }
  const ForwardRoute& forward(std::uint32_t pool) const noexcept { return *pools_[pool].forward; }
  const ForwardRoute& forward_of(std::uint32_t connection) const noexcept {
    return forward(PoolOf(connection));
  }
  std::uint8_t upstream(std::uint32_t pool) const noexcept { return pools_[pool].upstream; }
  // The upstream's id among every forward's (HealthTable's index).
  std::uint32_t upstream_id(std::uint32_t pool) const noexcept {
    return pools_[pool].forward->first_upstream + pools_[pool].upstream;
  }
  // Where the pool keeps the session its next TLS connection resumes.
  SSL_SESSION** resume_session(std::uint32_t pool) noexcept { return &pools_[pool].resume; }

  // Before this time the pool opens no connection.
  std::int64_t not_before_ms(std::uint32_t pool) const noexcept {
    return pools_[pool].not_before_ms;
  }
  // A connection of the pool answered: the back-off starts again.
  void Answered(std::uint32_t pool) noexcept;
  // A connection of the pool broke before any answer: no new one for `base_ms` at
  // `now_ms`, doubled for each such failure in a row before it.
  void BrokeUnanswered(std::uint32_t pool, std::int64_t now_ms, std::int64_t base_ms) noexcept;

 private:
  void FreeSessions() noexcept;

  struct Pool {
    const ForwardRoute* forward = nullptr;
    std::uint8_t upstream = 0;
    std::uint8_t failures = 0;  // connections in a row that broke before any answer
    std::int64_t not_before_ms = 0;
    SSL_SESSION* resume = nullptr;
  };
  std::vector<Pool> pools_;
  std::vector<std::uint32_t> first_pool_;  // per forward id
  std::uint32_t first_connection_ = 0;
};

}  // namespace ringdns::core
