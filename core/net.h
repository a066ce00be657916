// core/net.h: socket addresses and the UDP sockets a shard opens.
//
// SockAddr is a plain value (sockaddr_storage + length) so it can live in fixed tables.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/config/address.h"
#include "ring/fd.h"

namespace ringdns::core {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  static SockAddr From(const config::IpAddress& ip, std::uint16_t port);
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  std::uint16_t port() const noexcept;
  std::string ToString() const;
};

// Same family, address and port. Allocation-free.
bool SameEndpoint(const sockaddr* a, const sockaddr* b) noexcept;

// 0.0.0.0 or ::.
bool IsWildcard(const SockAddr& address) noexcept;

// A UDP socket bound to address:port with SO_REUSEPORT, so every shard binds its own and
// the kernel spreads datagrams across them. IPv6 sockets are v6-only. A wildcard socket
// receives each datagram's destination (IP_PKTINFO, IPV6_RECVPKTINFO).
absl::StatusOr<ring::UniqueFd> OpenUdpListener(const SockAddr& address);

// A TCP listening socket on address:port with SO_REUSEPORT (one per shard, the kernel
// spreads connections), IPv6 v6-only.
absl::StatusOr<ring::UniqueFd> OpenTcpListener(const SockAddr& address);

// A TCP socket for a connection to an upstream, bound to `source`'s address when given,
// with Nagle off (queries are small and must go at once).
absl::StatusOr<ring::UniqueFd> OpenTcpUpstreamSocket(int family, const SockAddr* source);

// A UDP socket for talking to upstreams, bound to a kernel-chosen (random) port on
// `source` (the wildcard address of `family` when source has no family).
// `receive_buffer`: its SO_RCVBUF (the kernel doubles it, up to net.core.rmem_max).
absl::StatusOr<ring::UniqueFd> OpenUpstreamSocket(int family, const SockAddr* source,
                                                  int receive_buffer);

}  // namespace ringdns::core
