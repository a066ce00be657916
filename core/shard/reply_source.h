// core/shard/reply_source.h: the address a UDP query was sent to, so that its answer leaves
// from that address.
//
// A listener bound to a wildcard address (a block without `bind`) receives queries for
// every address of the host. Without help the kernel answers from whichever address the
// route back to the client prefers; on a host or pod with several addresses that is often
// not the one the client asked, and clients (dig, glibc, any connected UDP socket) drop
// such answers. The listener asks for IP_PKTINFO / IPV6_PKTINFO, and the answer carries
// the query's destination back as its source.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>

namespace ringdns::core {

// Room for the one control message a listener receives or an answer sends.
inline constexpr std::size_t kReplySourceControlLen = CMSG_SPACE(sizeof(in6_pktinfo));

struct ReplySource {
  int family = 0;  // 0: none; the socket's own address is the right source
  in6_pktinfo v6{};
  in_addr v4{};

  // Takes the address from a received control message if it is IP_PKTINFO or
  // IPV6_PKTINFO (returns whether it was).
  bool Take(const cmsghdr& c) noexcept;
  // The local address of a connected socket (a TCP client's, the address it connected
  // to); none when the kernel will not say.
  static ReplySource LocalOf(int fd) noexcept;
  // Writes the control message that makes a send leave from this address into `control`
  // and returns its length; 0 when there is none.
  std::size_t WriteControl(std::span<std::uint8_t, kReplySourceControlLen> control) const noexcept;
};

}  // namespace ringdns::core
