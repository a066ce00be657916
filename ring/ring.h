// ring/ring.h: one io_uring instance: set-up with feature probing, submission with
// flush-on-full, and batched completion reaping.
//
// Thread affinity: with SINGLE_ISSUER the ring must be created, submitted to and reaped
// on one thread; create it on the thread that will own it. Not copyable or movable: the
// kernel maps its memory, and buffer rings keep pointers to it.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>

namespace ringdns::ring {

struct RingOptions {
  unsigned entries = 2048;      // submission queue size
  unsigned cq_entries = 16384;  // completion queue: room for bursts of multishot CQEs
};

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring();

  // Sets up the ring, trying the best flags first. Returns 0 or -errno.
  [[nodiscard]] int Init(const RingOptions& options);

  // A submission queue entry; when the queue is full, submits what is queued first, so a
  // full queue is routine, not an error. Returns nullptr only if the kernel refuses.
  io_uring_sqe* GetSqe() noexcept;

  // Submits queued entries and waits for at least `wait_nr` completions or `timeout`.
  // Returns >= 0, or -errno (-ETIME on timeout, which callers treat as normal).
  int SubmitAndWait(unsigned wait_nr, __kernel_timespec* timeout) noexcept;
  int Submit() noexcept { return io_uring_submit(&ring_); }

  // Calls `handle(const io_uring_cqe&)` for every ready completion, then marks them all
  // seen at once. Returns how many were handled.
  template <typename Handler>
  unsigned ForEachCompletion(Handler&& handle) noexcept {
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      handle(*cqe);
      ++count;
    }
    io_uring_cq_advance(&ring_, count);
    return count;
  }

  io_uring* raw() noexcept { return &ring_; }
  // Which set-up flags the kernel accepted, for the start-up log.
  const std::string& description() const noexcept { return description_; }
  // Completions the kernel could not post because the CQ ring was full.
  std::uint32_t cq_overflow() const noexcept;

 private:
  io_uring ring_{};
  bool initialised_ = false;
  std::string description_;
};

}  // namespace ringdns::ring
