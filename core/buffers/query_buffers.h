// core/buffers/query_buffers.h: every buffer a query lives in while a shard serves it,
// and who holds each.
//
// One id space, three pools: buffers the kernel fills from the listeners (a provided
// buffer ring), then refresh buffers (queries of ringdns's own, renewing cache entries),
// then TCP query buffers (a client's query taken out of its stream; also the spare an
// answer moves to when its own query's buffer is still read by a send). An id says
// which pool it came from (KindOf), so it goes back where it belongs.
//
// A buffer has several holders: the slot waiting on its query, each send reading it.
// Take* and Received start it at one holder; it goes back to its pool when the last one
// lets go. Each buffer also has kUpstreamScratch octets beside it, for what its query is
// sent upstream with (the 0x20 spelling, a COOKIE).
// A release with no holder left cannot happen (core/base/invariant.h): it aborts in checked
// builds and is counted in `violations` in release ones, the pool left as it was.
// Memory is reserved at Init and touched as used (core/base/reserved.h). Thread
// affinity: the shard's thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "core/base/relaxed_counter.h"
#include "core/base/reserved.h"
#include "ring/buffer_ring.h"

namespace ringdns::core {

class QueryBuffers {
 public:
  static constexpr std::uint16_t kNone = 0xffff;  // no buffer (never an id: Init caps them)
  enum class Kind : std::uint8_t { kReceived, kRefresh, kTcp };
  struct Counts {
    std::uint32_t received = 0;  // a power of two (the provided buffer ring's size)
    std::uint32_t refresh = 0;
    std::uint32_t tcp = 0;
  };

  explicit QueryBuffers(RelaxedCounter& violations) : violations_(violations) {}

  // Registers the received pool with `ring` as provided buffer group `group`.
  absl::Status Init(ring::Ring& ring, std::uint16_t group, const Counts& counts);

  std::uint32_t count() const noexcept { return static_cast<std::uint32_t>(holders_.size()); }
  Kind KindOf(std::uint16_t id) const noexcept {
    if (id < counts_.received) return Kind::kReceived;
    return id < first_tcp_ ? Kind::kRefresh : Kind::kTcp;
  }

  // The query's first octet (its DNS header); layout::kQueryRoom octets of room.
  std::uint8_t* Payload(std::uint16_t id) noexcept;
  // A received buffer as the kernel wrote it (recvmsg header, addresses, payload).
  std::span<std::uint8_t> Received(std::uint16_t id) noexcept { return provided_.Buffer(id); }
  // The kUpstreamScratch octets beside buffer `id`.
  std::uint8_t* Scratch(std::uint16_t id) noexcept;

  // The listeners' provided buffer ring (growth, Commit, back-pressure).
  ring::ProvidedBufferRing& provided() noexcept { return provided_; }
  const ring::ProvidedBufferRing& provided() const noexcept { return provided_; }

  // A completion brought received buffer `id` out of the ring: its receiver holds it
  // (and the ring hands the kernel more when it runs low).
  void OnReceived(std::uint16_t id) noexcept {
    provided_.Took();
    holders_[id] = 1;
  }
  // A free refresh (or TCP) buffer, held once; kNone when every one is out.
  std::uint16_t TakeRefresh() noexcept { return TakeFrom(refresh_free_); }
  std::uint16_t TakeTcp() noexcept { return TakeFrom(tcp_free_); }
  bool refresh_available() const noexcept { return !refresh_free_.empty(); }
  bool tcp_available() const noexcept { return !tcp_free_.empty(); }

  void Hold(std::uint16_t id) noexcept { ++holders_[id]; }
  // The last holder letting go gives the buffer back to its pool (the kernel's ring, or
  // a free list, which never grows past its reserved size).
  void Release(std::uint16_t id) noexcept;
  // Whoever asks holds it alone: no send reads it.
  bool SoleHolder(std::uint16_t id) const noexcept { return holders_[id] == 1; }

 private:
  std::uint16_t TakeFrom(std::vector<std::uint16_t>& free) noexcept;

  RelaxedCounter& violations_;
  Counts counts_;
  std::uint32_t first_tcp_ = 0;
  ring::ProvidedBufferRing provided_;
  ReservedBytes owned_;    // refresh, then TCP buffers
  ReservedBytes scratch_;  // kUpstreamScratch per buffer, every pool
  std::vector<std::uint8_t> holders_;
  std::vector<std::uint16_t> refresh_free_;
  std::vector<std::uint16_t> tcp_free_;
};

}  // namespace ringdns::core
