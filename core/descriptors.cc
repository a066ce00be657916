#include "core/descriptors.h"

#include <sys/resource.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// A retiring upstream socket's replacement is open while the old one's receive ends.
std::uint64_t UpstreamSocketDescriptors(std::uint32_t per_family, const RouteTable& routes) noexcept {
  return std::uint64_t{routes.upstream_family_count()} * per_family * 3 / 2;
}

}  // namespace

std::uint64_t RaiseDescriptorLimit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : limit.rlim_cur;
}

std::uint64_t ShardDescriptors(const ShardOptions& o, const RouteTable& routes) noexcept {
  const std::uint64_t listeners = 2 * routes.listeners.size();  // UDP and TCP
  const std::uint64_t streams = std::uint64_t{o.tcp_connections} + 2ull * routes.upstream_count;
  return listeners + streams + UpstreamSocketDescriptors(o.upstream_sockets, routes) + 2;  // ring, eventfd
}

DescriptorFit FitShardsToDescriptors(const ShardOptions& wanted, const RouteTable& routes, int shards,
                                     std::uint64_t limit) {
  DescriptorFit fit{wanted.upstream_sockets, {}};
  const auto n = static_cast<std::uint64_t>(std::max(shards, 1));
  if (routes.upstream_family_count() == 0 || limit == UINT64_MAX ||
      n * ShardDescriptors(wanted, routes) + kReservedDescriptors <= limit) {
    return fit;
  }
  ShardOptions lowered = wanted;
  lowered.upstream_sockets = 0;
  const std::uint64_t rest = n * ShardDescriptors(lowered, routes) + kReservedDescriptors;
  // Each socket per family per shard costs 1.5 descriptors in each family of each shard.
  const std::uint64_t per_socket_x2 = n * routes.upstream_family_count() * 3;
  const std::uint64_t room = limit > rest ? (limit - rest) * 2 / per_socket_x2 : 0;
  fit.upstream_sockets = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(room, kMinUpstreamSockets, wanted.upstream_sockets));
  fit.warning = absl::StrCat("the descriptor limit (", limit, ") holds ", fit.upstream_sockets,
                             " upstream UDP sockets per address family per shard, not ", wanted.upstream_sockets,
                             ": fewer source ports for a forger to guess among; raise `ulimit -n`");
  return fit;
}

}  // namespace ringdns::core
