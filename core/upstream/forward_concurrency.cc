#include "core/upstream/forward_concurrency.h"

#include <algorithm>

namespace ringdns::core {

void ForwardConcurrency::Build(const RouteTable& routes, std::uint32_t shards) {
  in_flight_.assign(routes.forward_count, 0);
  limit_.assign(routes.forward_count, 0);
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      if (f.max_concurrent > 0) {
        limit_[f.id] =
            std::max<std::uint32_t>(1, f.max_concurrent / std::max<std::uint32_t>(1, shards));
      }
    }
  }
}

}  // namespace ringdns::core
