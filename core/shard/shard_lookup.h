// core/shard/shard_lookup.h: what a shard learned about a query on its way in (its forward,
// cache policy and key), which the cache, coalescing and refreshes go by. Shard-local.
#pragma once

#include <cstdint>
#include <span>

#include "core/cache/cache.h"
#include "core/cache/cache_policy.h"
#include "core/routes.h"
#include "zones/route.h"

namespace ringdns::core {

class RewriteStage;

// What OnQuery learned about a query that may be cached or coalesced.
struct Lookup {
  const ForwardRoute* forward = nullptr;
  const CachePolicy* policy = nullptr;  // null: not cached
  CacheKey key;
  std::span<const std::uint8_t> qname;
  std::uint16_t refresh_udp_size = 0;     // bufsize's SIZE for a refresh's OPT; 0: ringdns's own
  const RewriteStage* rewrite = nullptr;  // the block's rules, which a refresh applies too
  zones::RouteId route = 0;  // the block, whose forward a rewritten refresh picks again
};

}  // namespace ringdns::core
