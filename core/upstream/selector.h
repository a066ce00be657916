// core/upstream/selector.h: which of a forward's upstreams an attempt goes to, by the
// forward's policy (CoreDNS's random, round_robin, sequential) among those up. Health is
// shared by every shard (core/health.h); the round-robin position is this shard's own.
// No sockets: the shard binds the chosen upstream to a socket afterwards.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/random.h"
#include "core/health.h"
#include "core/routes.h"

namespace ringdns::core {

class UpstreamSelector {
 public:
  // `shard` offsets the round-robin start, so that shards do not all begin on one upstream.
  UpstreamSelector(const HealthTable& health, std::size_t forwards, std::uint32_t shard)
      : health_(health), round_robin_(forwards, shard) {}

  // A query's first attempt: where the policy starts (a random upstream, the next in
  // turn, or the first), then the first from there on that is up.
  std::uint8_t First(const ForwardRoute& f, RandomPool& random) noexcept {
    const auto n = static_cast<std::uint32_t>(f.upstreams.size());
    std::uint32_t start = 0;
    if (f.policy == config::Policy::kRandom) {
      start = random.Below(n);
    } else if (f.policy == config::Policy::kRoundRobin) {
      start = round_robin_[f.id]++ % n;
    }
    return FirstUpFrom(f, start);
  }

  // A retry: the first upstream after `previous` that is up.
  std::uint8_t Next(const ForwardRoute& f, std::uint8_t previous) const noexcept {
    const auto n = static_cast<std::uint32_t>(f.upstreams.size());
    return FirstUpFrom(f, (previous + 1u) % n);
  }

  bool AllDown(const ForwardRoute& f) const noexcept {
    for (std::uint32_t i = 0; i < f.upstreams.size(); ++i) {
      if (!health_.down(f.first_upstream + i)) return false;
    }
    return true;
  }

 private:
  // The first upstream from `start` on that is up; when none is, `start` itself (CoreDNS
  // tries one anyway, unless failfast_all_unhealthy_upstreams answered first).
  std::uint8_t FirstUpFrom(const ForwardRoute& f, std::uint32_t start) const noexcept {
    const auto n = static_cast<std::uint32_t>(f.upstreams.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t candidate = (start + i) % n;
      if (!health_.down(f.first_upstream + candidate)) return static_cast<std::uint8_t>(candidate);
    }
    return static_cast<std::uint8_t>(start);
  }

  const HealthTable& health_;
  std::vector<std::uint32_t> round_robin_;  // per forward id
};

}  // namespace ringdns::core
