// core/shard/shard_io.h: what a shard's submissions to its ring carry: the kind of each
// operation (Op, packed into its user data), who gives back the buffer a send reads
// from (Owner), a listener socket and the msghdr a send needs while it is in flight.
// Shard-local.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>

#include "core/shard/reply_source.h"
#include "ring/fd.h"

namespace ringdns::core {

struct Socket {
  ring::UniqueFd fd;
  msghdr recv_msg{};  // the layout template of multishot recvmsg; pinned for its life
  int family = 0;
  bool armed = false;
  std::uint32_t spec = 0;  // index into RouteTable::listeners
};
struct SendContext {  // one per provided buffer: a send's msghdr must outlive the send
  msghdr msg{};
  iovec iov[5]{};  // one; up to five for a query upstream (core/upstream/outgoing_query.h)
  sockaddr_in6 addr{};
  alignas(cmsghdr) std::uint8_t control[kReplySourceControlLen]{};
};
enum Op : std::uint8_t {
  kRecvListener = 1,
  kRecvUpstream,
  kSendUpstream,
  kSendAnswer,  // from an answer buffer: recycle it when done
  kSendReply,   // from a query buffer (an error answer written in place)
  kSendBig,     // from a big buffer
  kCancel,
  kAccept,      // multishot accept on a TCP listener
  kStreamRecv,  // a TCP connection (client or upstream) received
  kStreamSend,
  kConnect,
  kIgnore,  // completions nobody waits for (linked timeouts)
  kWake,    // wake_'s read: another thread wants the loop's attention
};
// Who gives back the buffer a write or send reads from. kBorrowed: an answer still in
// an upstream stream's read buffer, to be placed in a buffer of its own before it is
// sent (PlaceAnswer); nothing to give back.
enum Owner : std::uint8_t { kOwnsNothing, kOwnsQuery, kOwnsAnswer, kOwnsBig, kBorrowed };

}  // namespace ringdns::core
