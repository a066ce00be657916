// ring/buffer_ring.h: a provided buffer ring registered with the ring, from which
// multishot receives pick buffers (liburing's examples/io_uring-udp.c); on the epoll
// backend the ring's own receives consume it from the same memory, as the kernel would.
//
// Buffers are one mmap'd region, fixed at Init. The kernel takes a buffer per received
// datagram; the owner hands it back with Recycle once done (after the reply that used it
// was sent), and Commit makes recycled buffers visible to the kernel in one store.
//
// Memory follows the load: the kernel is handed a few buffers at first, and more
// (doubling) whenever a quarter or less of those handed out are left in the ring, up to
// the capacity. Recycled buffers go back behind the others, so the ring cycles through
// only those handed out, and a page is touched only once the kernel has written to it.
// Thread affinity: the ring's owning thread only.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "ring/ring.h"

namespace ringdns::ring {

class ProvidedBufferRing {
 public:
  ProvidedBufferRing() = default;
  ProvidedBufferRing(const ProvidedBufferRing&) = delete;
  ProvidedBufferRing& operator=(const ProvidedBufferRing&) = delete;
  ~ProvidedBufferRing();

  // Maps room for `count` (a power of two, at most 32768) buffers of `buffer_size`
  // octets, registers the ring as group `group_id`, and hands the kernel the first
  // `initial` (all of them when 0 or more than `count`). Returns 0 or -errno (-EINVAL
  // when the kernel has no buffer rings: callers skip).
  [[nodiscard]] int Init(Ring& ring, std::uint16_t group_id, std::uint32_t count,
                         std::uint32_t buffer_size, std::uint32_t initial = 0);

  std::span<std::uint8_t> Buffer(std::uint16_t id) noexcept {
    return {base_ + std::size_t{id} * buffer_size_, buffer_size_};
  }
  // A completion brought buffer `id` out of the ring: the owner holds it until Recycle.
  // Hands out more buffers when the ring runs low (no allocation: they are mapped).
  void Took() noexcept {
    ++held_;
    if (provided_ < count_ && provided_ - held_ <= provided_ / 4) ProvideUpTo(2 * provided_);
  }
  // A receive ended for want of a buffer (ENOBUFS) before Took saw the ring run low
  // (a burst, a cold start): hand out more now, if any are left to hand out.
  void Starved() noexcept {
    if (provided_ < count_) ProvideUpTo(2 * provided_);
  }
  // Queues buffer `id` for reuse by the kernel; Commit publishes the queued ones.
  void Recycle(std::uint16_t id) noexcept {
    io_uring_buf_ring_add(ring_, Buffer(id).data(), buffer_size_, id, mask_, pending_++);
    --held_;
  }
  void Commit() noexcept {
    if (pending_ == 0) return;
    io_uring_buf_ring_advance(ring_, pending_);
    pending_ = 0;
  }

  std::uint16_t group_id() const noexcept { return group_id_; }
  std::uint32_t buffer_size() const noexcept { return buffer_size_; }
  std::uint32_t count() const noexcept { return count_; }
  // Buffers handed to the kernel so far (they, and only they, cycle through the ring).
  std::uint32_t provided() const noexcept { return provided_; }
  // Every buffer is out of the ring (taken and not yet recycled): a receive armed now
  // would complete at once with ENOBUFS.
  bool exhausted() const noexcept { return held_ >= provided_; }

 private:
  // Hands the kernel buffers [provided_, min(target, count_)); Commit publishes them.
  void ProvideUpTo(std::uint32_t target) noexcept {
    for (; provided_ < target && provided_ < count_; ++provided_) {
      io_uring_buf_ring_add(ring_, Buffer(static_cast<std::uint16_t>(provided_)).data(),
                            buffer_size_, static_cast<std::uint16_t>(provided_), mask_, pending_++);
    }
  }

  Ring* owner_ = nullptr;
  io_uring_buf_ring* ring_ = nullptr;
  std::uint8_t* base_ = nullptr;
  std::size_t mapped_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t provided_ = 0;  // buffers [0, provided_) have been handed to the kernel
  std::uint32_t buffer_size_ = 0;
  int mask_ = 0;
  int pending_ = 0;
  std::uint32_t held_ = 0;  // taken by completions, not yet recycled
  std::uint16_t group_id_ = 0;
};

}  // namespace ringdns::ring
