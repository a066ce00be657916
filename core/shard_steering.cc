// Shard 0's part in spreading hot names (core/hot_names.h): the balancer publishes, this
// attaches. Any socket of a SO_REUSEPORT group sets the program for the whole group, and
// shard 0 has one in every group.
#include <array>

#include "core/shard.h"
#include "core/udp_steering.h"

namespace ringdns::core {

void Shard::ApplyHotNames() {
  const SteeringPlan& plan = *succession_.steering;
  if (plan.version() == hot_names_applied_) return;
  std::array<std::uint32_t, kMaxSpreadNames> hashes{};
  std::size_t count = 0;
  std::uint64_t version = 0;
  if (!plan.Read(hashes, count, version)) return;  // being written: the next turn
  for (const Socket& listener : listeners_) {
    if (!listener.fd.valid()) continue;  // DNS over TLS: no UDP socket
    // It attached at start-up; should it fail now, the previous program stays.
    (void)SteerByQuestion(listener.fd.get(), plan.shards(), plan.seed(), {hashes.data(), count});
  }
  hot_names_applied_ = version;
}

}  // namespace ringdns::core
