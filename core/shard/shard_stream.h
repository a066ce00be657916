// core/shard/shard_stream.h: a shard's record of one TCP connection (Stream), a client's or
// its own to an upstream (a DNS-over-TLS one names its slot in core/shard/tls_slots.h),
// and the limits on streams. The shard keeps them in its StreamTable
// (core/shard/stream_table.h), indexed by connection; core/shard/shard_tcp.cc,
// shard_tcp_upstream.cc and shard_tls.cc serve them.
// Shard-local.
#pragma once

#include <linux/time_types.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "core/shard/inflight.h"
#include "core/shard/reply_source.h"
#include "core/shard/tls_slots.h"
#include "core/stream/tcp_stream.h"

namespace ringdns::core {

// Large answers queued on one client connection at once: a client that does not read
// holds no more, so the shard's few big buffers stay shared (further ones: SERVFAIL).
inline constexpr std::uint32_t kBigBuffersPerConnection = 2;
// Where a stream is in its life. The operations in flight on its socket (a receive, a
// send, a connect) are noted apart: a closing stream is freed once none is left.
enum class StreamState : std::uint8_t {
  kFree,        // the slot holds no connection
  kConnecting,  // ours to an upstream: the connect has not completed
  kOpen,        // connected (a client's from its accept on)
  kClosing,     // shut down; freed when its last operation completes
};
// A TCP connection: a client's, or ours to an upstream.
struct Stream {
  int fd = -1;
  std::uint16_t generation = 0;
  StreamState state = StreamState::kFree;
  bool upstream = false;
  bool connect_armed = false;
  bool recv_armed = false;
  bool send_armed = false;
  bool stalled = false;        // client: reading paused (in-flight limit or no buffer)
  bool listed = false;         // client: in StreamTable's queue, waiting for a buffer
  bool draining = false;       // client: query limit reached, close once answered
  bool handing_over = false;   // client: reading stopped; to the successor once answered
  bool answered = false;       // upstream: a DNS message has come back on it
  std::uint32_t inflight = 0;  // client: queries not yet answered; upstream: awaiting answers
  std::uint32_t big_held = 0;  // client: big buffers its queued answers hold
  std::uint32_t queries = 0;
  std::uint32_t listener = 0;  // client: the listener that accepted it
  std::uint32_t pool = 0;      // upstream: (forward, upstream) pool index
  std::int64_t opened_ms = 0;
  std::int64_t active_ms = 0;
  std::int64_t partial_since_ms = 0;    // 0: no message half-received
  std::int64_t send_since_ms = 0;       // 0: no write in progress
  std::int64_t handshake_since_ms = 0;  // TLS: 0 once the handshake is done
  // Upstream: since when a query went out on it with nothing received since; 0 once
  // an answer leaves none waiting. At read_timeout the peer is taken for gone.
  std::int64_t quiet_since_ms = 0;
  std::uint32_t tls = kNoTls;  // its slot in tls_ for a DNS-over-TLS connection
  FrameReader in;
  SendQueue out;
  __kernel_timespec connect_timeout{};
  sockaddr_in6 peer{};  // client: its address (acl), large enough for either family
  socklen_t peer_len = 0;
  // client: the address it connected to, for a view's server_ip() (a wildcard listener's
  // own is 0.0.0.0); asked of the kernel only on a wildcard and when some block has a view.
  ReplySource local{};

  bool in_use() const noexcept { return state != StreamState::kFree; }
  // In use and not closing: queries may be written to it and its reads go on.
  bool live() const noexcept {
    return state == StreamState::kConnecting || state == StreamState::kOpen;
  }
  bool closing() const noexcept { return state == StreamState::kClosing; }
};

}  // namespace ringdns::core
