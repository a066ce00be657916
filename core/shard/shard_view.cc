// view on a shard: which server block serves a query when blocks share a zone and port
// (RouteTable::PickBlock, core/routes.h). The facts an expression may read are gathered
// here, only when some block of the configuration has a view; nothing is allocated.
#include <netinet/in.h>

#include <cstring>

#include "core/shard/shard_reactor.h"

namespace ringdns::core {

zones::RouteId ShardReactor::RouteOf(const Client& client, std::span<const std::uint8_t> msg,
                                     const wire::QueryView& q,
                                     std::span<const std::uint8_t> qname) noexcept {
  const ListenerSpec& listener = routes_.listeners[listeners_[client.listener].spec];
  if (!routes_.views) return routes_.PickBlock(listener, qname, nullptr);
  // server_ip(): the address the query came to when the socket is a wildcard's (IP_PKTINFO
  // for UDP, getsockname at accept for TCP); else the listener's own address.
  sockaddr_storage server{};
  std::memcpy(&server, &listener.address.storage, sizeof(server));
  if (client.source.family == AF_INET && server.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&server)->sin_addr = client.source.v4;
  } else if (client.source.family == AF_INET6 && server.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&server)->sin6_addr = client.source.v6.ipi6_addr;
  }
  const view::Request request{.qname = qname,
                              .qtype = q.qtype,
                              .qclass = q.qclass,
                              .id = q.id,
                              .opcode = static_cast<std::uint8_t>(q.opcode()),
                              .tcp = client.tcp(),
                              .do_bit = q.opt.do_bit(),
                              .has_opt = q.opt.present(),
                              .opt_udp_size = q.opt.udp_size,
                              .size = static_cast<std::uint32_t>(msg.size()),
                              .client = client.addr,
                              .server = reinterpret_cast<const sockaddr*>(&server)};
  const zones::RouteId route = routes_.PickBlock(listener, qname, &request);
  if (route == zones::kNoRoute && listener.trie.Match(qname) != zones::kNoRoute)
    ++counters_.view_refused;
  return route;
}

}  // namespace ringdns::core
