// core/shard/shard_layout.h: how a shard lays out its buffers; shared by the shard's files.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "core/shard/reply_source.h"
#include "core/upstream/outgoing_query.h"
#include "ring/recvmsg.h"

namespace ringdns::core::layout {

inline constexpr std::uint16_t kQueryGroup = 1;
inline constexpr std::uint16_t kAnswerGroup = 2;
// A received buffer holds the recvmsg header, the source address, the control message
// with the destination address (wildcard listeners), then the payload.
// The name area is rounded up to 8 octets: the control message after it must be aligned
// for cmsghdr (UBSan caught the 28-octet sockaddr_in6 leaving it at offset 44).
inline constexpr std::uint32_t kNameLen = (sizeof(sockaddr_in6) + 7) & ~std::uint32_t{7};
inline constexpr std::uint32_t kControlLen = kReplySourceControlLen;
inline constexpr std::uint32_t kPayloadOffset = ring::kRecvMsgHeaderSize + kNameLen + kControlLen;
static_assert((ring::kRecvMsgHeaderSize + kNameLen) % alignof(cmsghdr) == 0);
// Queries are small; the room after one is where answers ringdns writes itself (errors,
// cache hits, answers shared with coalesced waiters) are built in place.
inline constexpr std::uint32_t kQueryBufferSize = 2048;
// Provided buffers handed to the kernel at start; more as the load needs them, up to
// ShardOptions' counts (ring/buffer_ring.h). A sidecar's few queries in flight use these.
inline constexpr std::uint32_t kFirstProvidedBuffers = 64;
inline constexpr std::uint32_t kQueryRoom = kQueryBufferSize - kPayloadOffset;
// Answers up to 4 KiB (the largest EDNS size most resolvers advertise) fit whole; a
// larger one arrives cut (MSG_TRUNC) and the client gets TC and retries over TCP.
inline constexpr std::uint32_t kAnswerBufferSize = 4096 + kPayloadOffset;

// Where a rewritten answer is re-encoded: any answer, with its names grown.
inline constexpr std::uint32_t kRewriteScratchSize = 65535;

// Per query buffer, what its query upstream is sent with besides its own bytes: the
// name spelled for DNS 0x20 (up to 255 octets), then LayOutQuery's scratch (a COOKIE);
// then, for a query `rewrite` edited, its original question (core/shard/query_rewrites.h),
// out of the way of everything written into the buffer's room.
inline constexpr std::uint32_t kSpelledNameLen = 256;
inline constexpr std::uint32_t kRewriteStashOffset = 384;  // into the scratch
inline constexpr std::uint32_t kRewriteStashSize = 264;    // an OriginalQuestion, rounded up
inline constexpr std::uint32_t kUpstreamScratch = kRewriteStashOffset + kRewriteStashSize;
static_assert(kSpelledNameLen + kOutgoingScratchSize <= kRewriteStashOffset);

// Big buffers hold a whole TCP answer (up to 65535 octets) after a 2-octet length prefix.
inline constexpr std::uint32_t kBigPayloadOffset = 2;
inline constexpr std::uint32_t kBigBufferSize = 65535 + kBigPayloadOffset;
// A client connection's read buffer: one query as large as a query buffer holds, with
// its prefix (a larger one closes the connection).
inline constexpr std::uint32_t kClientStreamBuffer = kQueryRoom + 2;
// A client connection's kernel send buffer (the kernel doubles it): a client that does
// not read its answers holds at most this much.
inline constexpr int kClientSendBuffer = 64 * 1024;
// DNS over TLS: a receive, or one record's ciphertext (16 KiB and its overhead).
inline constexpr std::size_t kTlsCipherBuffer = 17 * 1024;
// An upstream connection's read buffer: any answer, and the start of the next.
inline constexpr std::uint32_t kUpstreamStreamBuffer = 2 * (65535 + 2);
// The answers a shard's upstream sockets of one family may queue in the kernel while
// the answer ring is empty, shared out as each socket's SO_RCVBUF (the kernel doubles
// it): a flood at hundreds of open ports must not hold hundreds of full-size buffers.
inline constexpr std::uint64_t kUpstreamReceiveBytesPerFamily = 4 << 20;
inline constexpr int kMinUpstreamReceiveBuffer = 4096;
inline int UpstreamReceiveBuffer(std::uint32_t sockets_per_family) {
  const std::uint64_t share =
      kUpstreamReceiveBytesPerFamily / 2 / (sockets_per_family > 0 ? sockets_per_family : 1);
  return static_cast<int>(share > kMinUpstreamReceiveBuffer ? share : kMinUpstreamReceiveBuffer);
}
// What the kernel holds for a bound UDP socket with a multishot receive armed: socket,
// file, inode and request, 2.3 KiB of slab measured on Linux 6.1, rounded up.
inline constexpr std::uint64_t kKernelSocketBytes = 3 * 1024;
// TCP streams to upstreams take (socket, TXID) keys above every UDP socket's.
inline constexpr std::uint16_t kStreamSocketBase = 0x4000;

inline int FamilyIndex(int family) { return family == AF_INET6 ? 1 : 0; }

}  // namespace ringdns::core::layout
