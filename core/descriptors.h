// core/descriptors.h: the shards' file descriptors under the process's limit.
//
// Each shard holds its upstream UDP sockets (a few hundred per family, for RFC 5452's
// port spread), its client and upstream TCP connections, and its listeners. A process
// starts with a soft RLIMIT_NOFILE of 1024 on most systems, a limit kept for select(),
// which ringdns never uses; like Go's runtime and most servers, ringdns raises it to the
// hard limit. When even that cannot hold every shard's share, the upstream sockets per
// family are lowered to fit (never below kMinUpstreamSockets) and a warning says so,
// instead of failing on EMFILE later under load.
#pragma once

#include <cstdint>
#include <string>

#include "core/routes.h"
#include "core/shard.h"

namespace ringdns::core {

inline constexpr std::uint32_t kMinUpstreamSockets = 16;

// Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in force.
std::uint64_t RaiseDescriptorLimit() noexcept;

// The most descriptors one shard holds with these options and routes.
std::uint64_t ShardDescriptors(const ShardOptions& options, const RouteTable& routes) noexcept;

struct DescriptorFit {
  std::uint32_t upstream_sockets = 0;  // per family per shard, as wanted or lowered
  std::string warning;                 // non-empty when lowered
};

// Fits `shards` shards of ShardDescriptors under `limit`, keeping kReservedDescriptors
// for the rest of the process (HTTP, the prober, the logger, libraries).
inline constexpr std::uint64_t kReservedDescriptors = 128;
DescriptorFit FitShardsToDescriptors(const ShardOptions& wanted, const RouteTable& routes, int shards,
                                     std::uint64_t limit);

}  // namespace ringdns::core
