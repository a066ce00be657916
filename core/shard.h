// core/shard.h: one shard: a thread's io_uring loop that receives queries on its own
// SO_REUSEPORT listeners, forwards them from its own upstream sockets, and answers.
//
// Everything here is shard-local: the ring, both provided-buffer groups (queries and
// answers), the sockets, the in-flight table, the pending-answer index, the timer wheel,
// the random pool and the counters. The packet path takes no lock, shares no write with
// another shard and allocates nothing: every table is sized in Init.
// Create, Init and Run on the shard's own thread (the ring is SINGLE_ISSUER).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/cache.h"
#include "core/counters.h"
#include "core/inflight.h"
#include "core/pending_index.h"
#include "core/random.h"
#include "core/routes.h"
#include "core/timer_wheel.h"
#include "ring/buffer_ring.h"
#include "ring/fd.h"
#include "ring/ring.h"
#include "wire/message.h"

namespace ringdns::core {

using ShardId = std::uint32_t;

struct ShardOptions {
  std::uint32_t slots = 65536;              // in-flight queries
  std::uint32_t query_buffers = 4096;       // power of two; also bounds queries held
  std::uint32_t answer_buffers = 2048;      // power of two
  std::uint32_t upstream_sockets = 16;      // per address family (RFC 5452 port spread)
};

class Shard {
 public:
  Shard(ShardId id, const RouteTable& routes, const ShardOptions& options);
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  // Sets up the ring, buffers and sockets and arms the receives. Errors name the cause.
  absl::Status Init();
  // Serves until `stop` is set, then stops receiving, lets in-flight queries finish or
  // reach their deadline, and returns.
  void Run(const std::atomic<bool>& stop);

  const ShardCounters& counters() const noexcept { return counters_; }
  const std::string& ring_description() const noexcept { return ring_.description(); }

 private:
  struct Socket {
    ring::UniqueFd fd;
    msghdr recv_msg{};  // the layout template of multishot recvmsg; pinned for its life
    int family = 0;
    bool armed = false;
    std::uint32_t spec = 0;  // index into RouteTable::listeners (listeners only)
  };
  struct SendContext {  // one per provided buffer: a send's msghdr must outlive the send
    msghdr msg{};
    iovec iov{};
    sockaddr_in6 addr{};
  };
  enum Op : std::uint8_t {
    kRecvListener = 1,
    kRecvUpstream,
    kSendUpstream,
    kSendAnswer,   // from an answer buffer: recycle it when done
    kSendReply,    // from a query buffer (an error answer written in place)
    kCancel,
  };

  void ArmReceive(Op op, std::uint32_t index, Socket& socket, std::uint16_t group);
  void HandleCompletion(const io_uring_cqe& cqe);
  void OnQuery(std::uint32_t listener, std::uint16_t bid, int res);
  void OnAnswer(std::uint32_t socket, std::uint16_t bid, int res);
  void OnTimeout(std::uint32_t slot_index);
  void SendToUpstream(std::uint32_t slot_index);
  bool ChooseUpstream(InflightSlot& slot, std::uint32_t slot_index, bool first);
  void ReplyFromQueryBuffer(std::uint32_t listener, std::uint16_t bid, std::size_t len,
                            const sockaddr* to, socklen_t to_len);
  void FinishSlot(std::uint32_t slot_index);
  void ServeFromCache(std::uint32_t listener, std::uint16_t bid, std::uint8_t* payload,
                      const wire::QueryView& q, const Cache::Hit& hit, const CachePolicy& policy,
                      const sockaddr* to, socklen_t to_len, std::int64_t now_ms);
  void QueueSend(int fd, Op op, std::uint32_t slot, std::uint16_t generation,
                 std::uint16_t bid, SendContext& ctx, std::uint8_t* data, std::size_t len,
                 const sockaddr* to, socklen_t to_len);
  std::uint8_t* QueryPayload(std::uint16_t bid) noexcept;
  // A query buffer has several users: the slot waiting on it and each send reading it.
  // It goes back to the kernel when the last one lets go.
  void RefQuery(std::uint16_t bid) noexcept { ++query_refs_[bid]; }
  void UnrefQuery(std::uint16_t bid) noexcept {
    if (--query_refs_[bid] == 0) query_buffers_.Recycle(bid);
  }
  std::int64_t NowMs() const noexcept;

  const ShardId id_;
  const RouteTable& routes_;
  const ShardOptions options_;

  // Order matters: buffer rings unregister from the ring, so they go first.
  ring::Ring ring_;
  ring::ProvidedBufferRing query_buffers_;
  ring::ProvidedBufferRing answer_buffers_;
  std::vector<Socket> listeners_;
  std::vector<Socket> upstream_sockets_;
  std::vector<std::uint16_t> sockets_by_family_[2];  // [0] IPv4, [1] IPv6
  std::vector<SendContext> query_sends_;
  std::vector<SendContext> answer_sends_;
  std::vector<std::uint32_t> round_robin_;  // per forward id
  std::vector<std::uint8_t> query_refs_;    // per query buffer

  InflightTable inflight_;
  PendingIndex pending_;
  std::optional<TimerWheel> timers_;
  std::optional<Cache> cache_;  // only when some block has a `cache` directive
  RandomPool random_;
  ShardCounters counters_;
  std::uint32_t sends_in_flight_ = 0;
  bool stopping_ = false;
};

}  // namespace ringdns::core
