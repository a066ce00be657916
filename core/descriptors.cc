#include "core/descriptors.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// A retiring upstream socket's replacement is open while the old one's receive ends.
std::uint64_t UpstreamSocketDescriptors(std::uint32_t per_family,
                                        const RouteTable& routes) noexcept {
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

std::uint64_t EphemeralPortCount(const std::string& path) {
  unsigned low = 32768, high = 60999;  // Linux's default
  if (std::FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fscanf(f, "%u %u", &low, &high) != 2 || high < low) low = 32768, high = 60999;
    std::fclose(f);
  }
  return std::uint64_t{high} - low + 1;
}

std::uint64_t ShardDescriptors(const ShardOptions& o, const RouteTable& routes) noexcept {
  const std::uint64_t listeners = 2 * routes.listeners.size();  // UDP and TCP
  const std::uint64_t streams = std::uint64_t{o.tcp_connections} + 2ull * routes.upstream_count;
  // The ring, its wake-up eventfd, the log queue's doorbell, and with `dnstap` the tap
  // queue's.
  const bool taps = std::any_of(routes.blocks.begin(), routes.blocks.end(),
                                [](const BlockRoute& b) { return b.taps(); });
  return listeners + streams + UpstreamSocketDescriptors(o.upstream_sockets, routes) + 3 +
         (taps ? 1 : 0);
}

HeldByShards HeldBy(const ShardOptions& o, const RouteTable& routes, int shards) noexcept {
  const auto n = static_cast<std::uint64_t>(std::max(shards, 1));
  return {n * ShardDescriptors(o, routes),
          n * UpstreamSocketDescriptors(o.upstream_sockets, routes)};
}

DescriptorFit FitShardsToDescriptors(const ShardOptions& wanted, const RouteTable& routes,
                                     int shards, std::uint64_t limit, std::uint64_t ephemeral_ports,
                                     const HeldByShards& running) {
  DescriptorFit fit{wanted.upstream_sockets, {}};
  const std::uint32_t families = routes.upstream_family_count();
  if (families == 0) return fit;
  ShardOptions without = wanted;
  without.upstream_sockets = 0;
  const std::uint64_t others = ShardDescriptors(without, routes);
  const std::uint64_t port_share = ephemeral_ports / kPortShare;
  // How many sockets per family per shard fit for `copies` sets of `shards` shards
  // beside `held`: each socket costs 1.5 descriptors and 1.5 ports in each family.
  const auto room_for = [&](std::uint64_t copies,
                            const HeldByShards& held) -> std::pair<std::uint64_t, std::uint64_t> {
    const std::uint64_t per_socket_x2 =
        copies * static_cast<std::uint64_t>(std::max(shards, 1)) * families * 3;
    const std::uint64_t rest = copies * static_cast<std::uint64_t>(std::max(shards, 1)) * others +
                               kReservedDescriptors + held.descriptors;
    const std::uint64_t by_descriptors =
        limit == UINT64_MAX ? UINT64_MAX : (limit > rest ? (limit - rest) * 2 / per_socket_x2 : 0);
    const std::uint64_t by_ports =
        port_share > held.ports ? (port_share - held.ports) * 2 / per_socket_x2 : 0;
    return {by_descriptors, by_ports};
  };
  // At start-up, room for these shards and the first reload's. At a reload, what the
  // running shards leave, but never more than at start-up: a generation that took all
  // that is left after a quick reload would leave its own successor the floor.
  const bool starting = running.descriptors == 0;
  auto [by_descriptors, by_ports] = room_for(2, {});
  if (!starting) {
    const auto [d, p] = room_for(1, running);
    by_descriptors = std::min(by_descriptors, d);
    by_ports = std::min(by_ports, p);
  }
  const std::uint64_t room = std::min(by_descriptors, by_ports);
  if (room >= wanted.upstream_sockets) return fit;
  const std::uint32_t floor = std::min(kMinUpstreamSockets, wanted.upstream_sockets);
  fit.upstream_sockets = static_cast<std::uint32_t>(std::max<std::uint64_t>(room, floor));
  const bool ports = by_ports < by_descriptors;
  fit.warning = absl::StrCat(
      ports ? absl::StrCat("a quarter of the ephemeral port range (", ephemeral_ports, " ports)")
            : absl::StrCat("the descriptor limit (", limit, ")"),
      " holds ", room, " upstream UDP sockets per address family per shard (",
      starting ? "leaving room for a reload's shards" : "beside the shards still running",
      "), not ", wanted.upstream_sockets, ": ringdns uses ", fit.upstream_sockets,
      room < floor ? ", which may not open" : "",
      ", fewer source ports for a forger to guess among; ",
      ports ? "widen net.ipv4.ip_local_port_range or run fewer shards" : "raise `ulimit -n`");
  return fit;
}

}  // namespace ringdns::core
