// core/upstream/forward_concurrency.h: `max_concurrent` on a shard. Each shard takes its
// share of a forward's limit (at least one), so no counter is shared across cores; a
// query past the share is refused (CoreDNS's REFUSED). Counting only: needs no socket.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/invariant.h"
#include "core/base/relaxed_counter.h"
#include "core/routes.h"

namespace ringdns::core {

class ForwardConcurrency {
 public:
  // A release with nothing counted cannot happen (core/base/invariant.h): counted in
  // `violations` in release builds, the count left at 0.
  explicit ForwardConcurrency(RelaxedCounter& violations) : violations_(violations) {}

  // The share of every forward of `routes` for one of `shards` shards; counts start at 0.
  void Build(const RouteTable& routes, std::uint32_t shards);
  // Counts one more query forwarded by `forward`; false, counting nothing, when its share
  // is taken.
  bool TryAdmit(std::uint32_t forward) noexcept {
    if (limit_[forward] != 0 && in_flight_[forward] >= limit_[forward]) return false;
    ++in_flight_[forward];
    return true;
  }
  void Release(std::uint32_t forward) noexcept {
    if (RINGDNS_INVARIANT(in_flight_[forward] > 0)) {
      --in_flight_[forward];
    } else {
      ++violations_;
    }
  }

  std::uint32_t in_flight(std::uint32_t forward) const noexcept { return in_flight_[forward]; }
  // This shard's share of `forward`'s limit; 0: none.
  std::uint32_t limit(std::uint32_t forward) const noexcept { return limit_[forward]; }

 private:
  std::vector<std::uint32_t> in_flight_;  // per forward id
  std::vector<std::uint32_t> limit_;      // per forward id
  RelaxedCounter& violations_;
};

}  // namespace ringdns::core
