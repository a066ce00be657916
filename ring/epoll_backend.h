// ring/epoll_backend.h: the ring's operations on epoll, for where io_uring is refused
// (container runtimes' default seccomp profiles, the sysctl kernel.io_uring_disabled).
//
// It keeps io_uring's contract, so that the shard cannot tell the two apart: operations
// queue until Submit, then each is tried at once without blocking; one that would block
// waits on its descriptor in epoll and is retried when the descriptor is ready. Every
// result is posted as an io_uring_cqe with the operation's tag, the result io_uring would
// give (bytes, -errno, -ECANCELED, -ENOBUFS) and its flags (F_MORE while a multishot
// operation stays armed, F_BUFFER and the buffer id). Provided buffer rings are consumed
// from their shared memory exactly as the kernel consumes them, and a multishot recvmsg
// lays out its buffer as the kernel does (io_uring_recvmsg_out, name, control, payload),
// so ring/recvmsg.h decodes both.
//
// Registration: a descriptor with a multishot operation (a UDP socket's receive, a
// listener's accept) stays in the epoll set, level-triggered, until that operation ends;
// any other waits one-shot and is re-armed per wait. Either way a descriptor leaves our
// bookkeeping as soon as nothing waits on it, so a number the owner closes and reuses
// starts afresh.
//
// One difference the owner must respect: an operation still waiting when its descriptor
// is closed never completes here (io_uring's holds the file and completes on it), and
// would wait on whatever socket takes the number next. The shard ends what is armed on a
// socket (shutdown, cancel) before it closes it.
//
// Thread affinity: the owning thread only, like the ring.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <vector>

#include "ring/fd.h"
#include "ring/user_data.h"

namespace ringdns::ring {

class EpollBackend {
 public:
  EpollBackend() = default;
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;
  ~EpollBackend();

  // Returns 0 or -errno. `entries`: how many operations queue before Submit runs early.
  [[nodiscard]] int Init(unsigned entries, unsigned cq_entries);

  bool RecvMsgMultishot(int fd, msghdr& layout, std::uint16_t buffer_group, UserData tag) noexcept;
  bool SendMsg(int fd, const msghdr& msg, UserData tag) noexcept;
  bool AcceptMultishot(int fd, UserData tag) noexcept;
  bool Recv(int fd, std::span<std::uint8_t> into, UserData tag) noexcept;
  bool Read(int fd, std::span<std::uint8_t> into, UserData tag) noexcept;
  bool Send(int fd, std::span<const std::uint8_t> data, int flags, UserData tag) noexcept;
  bool Connect(int fd, const sockaddr* to, socklen_t to_len, const __kernel_timespec& timeout,
               UserData tag, UserData timeout_tag) noexcept;
  bool Cancel(UserData target, UserData tag) noexcept;

  // Starts every queued operation in order; returns how many.
  int Submit() noexcept;
  // Submit, then wait in epoll until `wait_nr` completions are posted or `timeout`
  // (nullptr: no limit) passes. Returns >= 0, or -ETIME when the wait timed out short.
  int SubmitAndWait(unsigned wait_nr, const __kernel_timespec* timeout) noexcept;
  std::uint64_t early_submits() const noexcept { return early_submits_; }

  template <typename Handler>
  unsigned ForEachCompletion(Handler&& handle) noexcept {
    // By index and by copy: a handler may Submit, which posts more (handled here too).
    std::size_t i = 0;
    for (; i < completions_.size(); ++i) {
      const io_uring_cqe cqe = completions_[i];
      handle(cqe);
    }
    completions_.clear();
    return static_cast<unsigned>(i);
  }

  // A provided buffer ring in shared memory (ring/buffer_ring.h) that multishot receives
  // of `group` take buffers from.
  int RegisterBufferRing(io_uring_buf_ring* ring, unsigned entries, std::uint16_t group) noexcept;
  void UnregisterBufferRing(std::uint16_t group) noexcept;

 private:
  enum class Kind : std::uint8_t {
    kRecvMsgMultishot,
    kAcceptMultishot,
    kRecv,
    kRead,
    kSendMsg,
    kSend,
    kConnect,
    kCancel
  };
  enum class State : std::uint8_t { kFree, kQueued, kWaiting };
  enum class Outcome : std::uint8_t { kDone, kWouldBlock };
  static constexpr std::uint32_t kNone = UINT32_MAX;
  static constexpr unsigned kSendBatch = 32;  // datagrams one sendmmsg(2) takes at most
  // Datagrams or connections taken per readiness before other descriptors get a turn;
  // a level-triggered registration brings the rest on the next poll.
  static constexpr int kMultishotBudget = 32;

  struct Op {
    Kind kind = Kind::kRecv;
    State state = State::kFree;
    int fd = -1;
    std::uint64_t tag = 0;
    msghdr* msg = nullptr;  // the recvmsg layout or the sendmsg message
    std::uint8_t* data = nullptr;
    std::size_t len = 0;
    int flags = 0;
    std::uint16_t group = 0;
    std::uint64_t timeout_tag = 0;  // connect: its linked timeout
    std::uint64_t target = 0;       // cancel: the tag it ends
    std::int64_t deadline_ns = 0;   // connect: when the timeout fires
    sockaddr_storage to{};          // connect: where to
    socklen_t to_len = 0;
    bool started = false;        // connect: connect(2) issued
    std::uint32_t next = kNone;  // the next op waiting on the same descriptor
  };
  // What waits on one descriptor, first come first served, and how it is registered.
  // An op index kept plus one, so that all-zero memory reads as kNone: the watch table
  // is mapped zeroed and touched only where descriptors are used.
  class Link {
   public:
    operator std::uint32_t() const noexcept { return stored_ - 1; }  // kNone wraps from 0
    Link& operator=(std::uint32_t index) noexcept {
      stored_ = index + 1;
      return *this;
    }

   private:
    std::uint32_t stored_ = 0;
  };
  struct Waiters {
    Link head;
    Link tail;
    bool empty() const noexcept { return head == kNone; }
  };
  struct Watch {
    Waiters readers;
    Waiters writers;
    std::uint32_t events = 0;  // as registered; 0: not armed in the epoll set
  };
  struct Group {
    io_uring_buf_ring* ring = nullptr;
    std::uint32_t mask = 0;
    std::uint16_t head = 0;  // the consumer's position, as the kernel keeps it
  };

  std::uint32_t Queue(Kind kind, int fd, UserData tag) noexcept;
  void Start(std::uint32_t index) noexcept;
  // Starts the send queued at queued_[at] with the later ones to the same socket.
  void SendBatch(std::size_t at) noexcept;
  // One try without blocking: posts the result, or says it would block.
  Outcome Attempt(Op& op) noexcept;
  Outcome ReceiveDatagrams(Op& op) noexcept;
  Outcome AcceptConnections(Op& op) noexcept;
  Outcome FinishConnect(Op& op) noexcept;
  void DoCancel(Op& cancel) noexcept;
  void Wait(std::uint32_t index) noexcept;
  void Unlink(std::uint32_t index) noexcept;
  void Run(int fd, bool readers) noexcept;
  void Rearm(int fd) noexcept;
  void Poll(int timeout_ms) noexcept;
  void ExpireConnects(std::int64_t now_ns) noexcept;
  std::int64_t NextConnectDeadline() const noexcept;
  void Post(std::uint64_t tag, int res, std::uint32_t flags = 0) noexcept;
  void Free(std::uint32_t index) noexcept;
  // nullptr for a number past the table (never one the process could open).
  Watch* WatchOf(int fd) noexcept;
  Group* GroupOf(std::uint16_t group) noexcept;
  static bool IsMultishot(Kind kind) noexcept {
    return kind == Kind::kRecvMsgMultishot || kind == Kind::kAcceptMultishot;
  }
  static bool WaitsToRead(Kind kind) noexcept { return kind <= Kind::kRead; }
  static bool WouldBlock(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

  UniqueFd epoll_;
  unsigned entries_ = 0;
  std::vector<Op> ops_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> queued_;      // in submission order
  std::vector<std::uint32_t> connecting_;  // connects waiting, each with a deadline
  std::vector<io_uring_cqe> completions_;
  // By descriptor number, one for every number the process may open (RLIMIT_NOFILE's
  // hard limit): reserved at Init, so no descriptor makes it grow on the packet path.
  Watch* watches_ = nullptr;
  std::size_t watch_count_ = 0;
  std::vector<Group> groups_;  // by group id
  std::uint64_t early_submits_ = 0;
};

}  // namespace ringdns::ring
