// core/descriptors.h: the shards' file descriptors under the process's limit.
//
// Each shard holds its upstream UDP sockets (a few hundred per family, for RFC 5452's
// port spread), its client and upstream TCP connections, and its listeners. A process
// starts with a soft RLIMIT_NOFILE of 1024 on most systems, a limit kept for select(),
// which ringdns never uses; like Go's runtime and most servers, ringdns raises it to the
// hard limit. When even that cannot hold every shard's share, the upstream sockets per
// family are lowered to fit (never below kMinUpstreamSockets) and a warning says so,
// instead of failing on EMFILE later under load. The sockets also take ports from the
// host's ephemeral range, which every other program shares: ringdns takes a quarter at
// most.
#pragma once

#include <cstdint>
#include <string>

#include "core/routes.h"
#include "core/shard/shard_options.h"

namespace ringdns::core {

inline constexpr std::uint32_t kMinUpstreamSockets = 16;

// Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in force.
std::uint64_t RaiseDescriptorLimit() noexcept;

// The most descriptors one shard holds with these options and routes.
std::uint64_t ShardDescriptors(const ShardOptions& options, const RouteTable& routes) noexcept;

// What shards hold of the two limits: descriptors, and ephemeral ports (their upstream
// UDP sockets' source ports, of both families: an IPv6 socket bound to :: takes its
// port in IPv4 too, and both draw from the one range).
struct HeldByShards {
  std::uint64_t descriptors = 0;
  std::uint64_t ports = 0;
  HeldByShards& operator+=(const HeldByShards& o) {
    descriptors += o.descriptors;
    ports += o.ports;
    return *this;
  }
};
HeldByShards HeldBy(const ShardOptions& options, const RouteTable& routes, int shards) noexcept;

struct DescriptorFit {
  std::uint32_t upstream_sockets = 0;  // per family per shard, as wanted or lowered
  std::string warning;                 // non-empty when lowered
};

// How many ports net.ipv4.ip_local_port_range (at `path`) spans; Linux's default
// range when it cannot be read.
std::uint64_t EphemeralPortCount(
    const std::string& path = "/proc/sys/net/ipv4/ip_local_port_range");

// Fits `shards` new shards of ShardDescriptors under `limit`, keeping
// kReservedDescriptors for the rest of the process (HTTP, the prober, the logger,
// libraries), and their upstream sockets of both families in 1 / kPortShare of the
// `ephemeral_ports` (the host's other programs need the rest). `running`: what the
// shards already running hold, which a reload's new shards run beside until they have
// drained. At start-up (nothing running) the fit leaves half of each limit for the
// first reload's shards; a reload's fit takes what the running generations leave, so
// however fast reloads come, every generation alive at once fits.
inline constexpr std::uint64_t kReservedDescriptors = 128;
inline constexpr std::uint64_t kPortShare = 4;
DescriptorFit FitShardsToDescriptors(const ShardOptions& wanted, const RouteTable& routes,
                                     int shards, std::uint64_t limit, std::uint64_t ephemeral_ports,
                                     const HeldByShards& running = {});

}  // namespace ringdns::core
