// ring/ring.h: one reactor: an io_uring instance (set-up with feature probing,
// submission with flush-on-full, batched completion reaping), or, where io_uring is
// refused, the same operations and completions on epoll (ring/epoll_backend.h). Callers
// cannot tell the two apart; each operation branches once on which runs (no virtual call).
//
// Thread affinity: with SINGLE_ISSUER the ring must be created, submitted to and reaped
// on one thread; create it on the thread that will own it. Not copyable or movable: the
// kernel maps its memory, and buffer rings keep pointers to it.
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ring/epoll_backend.h"
#include "ring/user_data.h"

namespace ringdns::ring {

enum class Backend : std::uint8_t {
  kAuto,     // io_uring when io_uring_setup works, else epoll
  kIoUring,  // io_uring or fail
  kEpoll,    // epoll, even where io_uring would work
};

// "auto", "io_uring" or "epoll"; false for anything else.
bool ParseBackend(std::string_view text, Backend& out) noexcept;

struct RingOptions {
  unsigned entries = 2048;      // submission queue size
  unsigned cq_entries = 16384;  // completion queue: room for bursts of multishot CQEs
  Backend backend = Backend::kAuto;
};

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring();

  // Sets up the backend the options ask for: io_uring with the best flags first, and on
  // kAuto epoll when io_uring_setup (EPERM, ENOSYS) or io_uring_register (EPERM) is
  // refused. Returns 0 or -errno.
  [[nodiscard]] int Init(const RingOptions& options);

  // io_uring only (nullptr on epoll): a submission queue entry; when the queue is full,
  // submits what is queued first, so a full queue is routine, not an error. Returns
  // nullptr only if the kernel refuses.
  io_uring_sqe* GetSqe() noexcept;

  // The operations the forwarder submits, typed. Each queues one operation whose
  // completion carries `tag`, and returns false only when the kernel refused a submission
  // (nothing was queued). Nothing outside ring/ prepares an entry by hand
  // (tools/check_layering.sh holds that).

  // Receives datagrams, each into a buffer of `buffer_group`, until it ends; `layout`
  // (name and control lengths) must stay put while it is armed.
  bool RecvMsgMultishot(int fd, msghdr& layout, std::uint16_t buffer_group, UserData tag) noexcept;
  // `msg` and everything it points to must stay put until the completion.
  bool SendMsg(int fd, const msghdr& msg, UserData tag) noexcept;
  // Accepts connections (SOCK_CLOEXEC) until it ends.
  bool AcceptMultishot(int fd, UserData tag) noexcept;
  bool Recv(int fd, std::span<std::uint8_t> into, UserData tag) noexcept;
  // read(2) of any descriptor (an eventfd; Recv is for sockets).
  bool Read(int fd, std::span<std::uint8_t> into, UserData tag) noexcept;
  bool Send(int fd, std::span<const std::uint8_t> data, int flags, UserData tag) noexcept;
  // Connects, giving up after `timeout` (a linked timeout whose own completion carries
  // `timeout_tag`). Both entries are queued together or not at all, so the connect never
  // goes out without its timeout. `to` and `timeout` must stay put until the completion.
  bool Connect(int fd, const sockaddr* to, socklen_t to_len, const __kernel_timespec& timeout,
               UserData tag, UserData timeout_tag) noexcept;
  // Cancels the operation tagged `target`; the cancellation's own completion carries `tag`.
  bool Cancel(UserData target, UserData tag) noexcept;

  // Submits queued entries and waits for at least `wait_nr` completions or `timeout`.
  // Returns >= 0, or -errno (-ETIME on timeout, which callers treat as normal).
  int SubmitAndWait(unsigned wait_nr, __kernel_timespec* timeout) noexcept;
  int Submit() noexcept { return on_epoll_ ? epoll_.Submit() : io_uring_submit(&ring_); }
  // How often a full queue was submitted early, between the caller's own submits: what
  // was queued before then is already with the kernel.
  std::uint64_t early_submits() const noexcept {
    return on_epoll_ ? epoll_.early_submits() : early_submits_;
  }

  // Calls `handle(const io_uring_cqe&)` for every ready completion, then marks them all
  // seen at once. Returns how many were handled.
  template <typename Handler>
  unsigned ForEachCompletion(Handler&& handle) noexcept {
    if (on_epoll_) return epoll_.ForEachCompletion(handle);
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

  // Multishot receives of `group` take buffers from `ring` (ring/buffer_ring.h), which
  // must stay mapped until UnregisterBufferRing. Returns 0 or -errno.
  [[nodiscard]] int RegisterBufferRing(io_uring_buf_ring* ring, unsigned entries,
                                       std::uint16_t group) noexcept;
  void UnregisterBufferRing(std::uint16_t group) noexcept;

  // "io_uring" or "epoll", for logs and the metrics' label.
  const char* backend() const noexcept { return on_epoll_ ? "epoll" : "io_uring"; }
  // The backend and why: the set-up flags the kernel accepted, or why not io_uring.
  const std::string& description() const noexcept { return description_; }
  // Completions the kernel could not post because the CQ ring was full (0 on epoll,
  // whose completions are not bounded by a ring).
  std::uint32_t cq_overflow() const noexcept;

 private:
  int InitIoUring(const RingOptions& options);
  // `why` is empty when the options chose epoll.
  int InitEpoll(const RingOptions& options, const std::string& why);

  io_uring ring_{};
  EpollBackend epoll_;
  bool on_epoll_ = false;
  bool initialised_ = false;
  std::uint64_t early_submits_ = 0;
  std::string description_;
};

}  // namespace ringdns::ring
