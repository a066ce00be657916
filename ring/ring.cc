#include "ring/ring.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace ringdns::ring {

Ring::~Ring() {
  if (initialised_) io_uring_queue_exit(&ring_);
}

bool ParseBackend(std::string_view text, Backend& out) noexcept {
  if (text == "auto") {
    out = Backend::kAuto;
  } else if (text == "io_uring") {
    out = Backend::kIoUring;
  } else if (text == "epoll") {
    out = Backend::kEpoll;
  } else {
    return false;
  }
  return true;
}

int Ring::Init(const RingOptions& options) {
  if (options.backend != Backend::kEpoll) {
    const int rc = InitIoUring(options);
    // Refused by a seccomp filter or the sysctl kernel.io_uring_disabled (EPERM), or not
    // built into the kernel (ENOSYS): only then does kAuto fall back.
    if (options.backend == Backend::kIoUring || (rc != 0 && rc != -EPERM && rc != -ENOSYS))
      return rc;
    if (rc != 0)
      return InitEpoll(options, std::string("io_uring_setup was refused: ") + std::strerror(-rc));
    // A profile may allow io_uring_setup and refuse io_uring_register, which buffer
    // rings need: ask the kernel something through it now, while nothing is queued.
    std::vector<std::uint8_t> probe(sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op));
    const int probed =
        io_uring_register_probe(&ring_, reinterpret_cast<io_uring_probe*>(probe.data()), 256);
    if (probed != -EPERM && probed != -EACCES) return 0;
    io_uring_queue_exit(&ring_);
    initialised_ = false;
    return InitEpoll(options,
                     std::string("io_uring_register was refused: ") + std::strerror(-probed));
  }
  return InitEpoll(options, "");
}

int Ring::InitEpoll(const RingOptions& options, const std::string& why) {
  if (const int rc = epoll_.Init(options.entries, options.cq_entries); rc < 0) return rc;
  on_epoll_ = true;
  description_ = why.empty() ? "epoll, as asked" : "epoll, because " + why;
  return 0;
}

int Ring::InitIoUring(const RingOptions& options) {
  // Each attempt is justified:
  //  - CQSIZE: a multishot receive posts a completion per datagram; size the CQ well above
  //    the SQ so bursts never overflow it.
  //  - SINGLE_ISSUER: one shard thread owns the ring; lets the kernel skip locking.
  //  - DEFER_TASKRUN: run completion work only when we reap, in our loop, instead of
  //    interrupting the thread; needs SINGLE_ISSUER (kernel 6.1+).
  //  - COOP_TASKRUN: the fallback that still avoids inter-processor interrupts (5.19+).
  struct Attempt {
    unsigned flags;
    const char* name;
  };
  constexpr Attempt kAttempts[] = {
      {IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
       "SINGLE_ISSUER|DEFER_TASKRUN"},
      {IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN (no DEFER_TASKRUN)"},
      {IORING_SETUP_CQSIZE, "plain (no DEFER_TASKRUN or COOP_TASKRUN)"},
  };
  int last = -EINVAL;
  for (const Attempt& attempt : kAttempts) {
    io_uring_params params{};
    params.flags = attempt.flags;
    params.cq_entries = options.cq_entries;
    last = io_uring_queue_init_params(options.entries, &ring_, &params);
    if (last == 0) {
      initialised_ = true;
      description_ = std::string("io_uring ") + attempt.name;
      return 0;
    }
    if (last != -EINVAL) return last;  // not a missing feature: report it
  }
  return last;
}

io_uring_sqe* Ring::GetSqe() noexcept {
  if (on_epoll_) return nullptr;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  // Full: push what is queued to the kernel, which frees every slot.
  ++early_submits_;
  if (io_uring_submit(&ring_) < 0) return nullptr;
  return io_uring_get_sqe(&ring_);
}

bool Ring::RecvMsgMultishot(int fd, msghdr& layout, std::uint16_t buffer_group,
                            UserData tag) noexcept {
  if (on_epoll_) return epoll_.RecvMsgMultishot(fd, layout, buffer_group, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_recvmsg_multishot(sqe, fd, &layout, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::SendMsg(int fd, const msghdr& msg, UserData tag) noexcept {
  if (on_epoll_) return epoll_.SendMsg(fd, msg, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_sendmsg(sqe, fd, &msg, 0);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::AcceptMultishot(int fd, UserData tag) noexcept {
  if (on_epoll_) return epoll_.AcceptMultishot(fd, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::Recv(int fd, std::span<std::uint8_t> into, UserData tag) noexcept {
  if (on_epoll_) return epoll_.Recv(fd, into, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_recv(sqe, fd, into.data(), into.size(), 0);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::Read(int fd, std::span<std::uint8_t> into, UserData tag) noexcept {
  if (on_epoll_) return epoll_.Read(fd, into, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_read(sqe, fd, into.data(), static_cast<unsigned>(into.size()), 0);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::Send(int fd, std::span<const std::uint8_t> data, int flags, UserData tag) noexcept {
  if (on_epoll_) return epoll_.Send(fd, data, flags, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_send(sqe, fd, data.data(), data.size(), flags);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

bool Ring::Connect(int fd, const sockaddr* to, socklen_t to_len, const __kernel_timespec& timeout,
                   UserData tag, UserData timeout_tag) noexcept {
  if (on_epoll_) return epoll_.Connect(fd, to, to_len, timeout, tag, timeout_tag);
  // A link must not be split by a flush between its two entries: make room for both first.
  if (io_uring_sq_space_left(&ring_) < 2) {
    ++early_submits_;
    if (io_uring_submit(&ring_) < 0 || io_uring_sq_space_left(&ring_) < 2) return false;
  }
  io_uring_sqe* connect = io_uring_get_sqe(&ring_);  // neither can be null now
  io_uring_sqe* limit = io_uring_get_sqe(&ring_);
  io_uring_prep_connect(connect, fd, to, to_len);
  connect->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(connect, tag.Pack());
  // liburing takes a non-const pointer but does not write through it.
  io_uring_prep_link_timeout(limit, const_cast<__kernel_timespec*>(&timeout), 0);
  io_uring_sqe_set_data64(limit, timeout_tag.Pack());
  return true;
}

bool Ring::Cancel(UserData target, UserData tag) noexcept {
  if (on_epoll_) return epoll_.Cancel(target, tag);
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  io_uring_prep_cancel64(sqe, target.Pack(), 0);
  io_uring_sqe_set_data64(sqe, tag.Pack());
  return true;
}

int Ring::SubmitAndWait(unsigned wait_nr, __kernel_timespec* timeout) noexcept {
  if (on_epoll_) return epoll_.SubmitAndWait(wait_nr, timeout);
  io_uring_cqe* cqe = nullptr;
  return io_uring_submit_and_wait_timeout(&ring_, &cqe, wait_nr, timeout, nullptr);
}

std::uint32_t Ring::cq_overflow() const noexcept { return on_epoll_ ? 0 : *ring_.cq.koverflow; }

int Ring::RegisterBufferRing(io_uring_buf_ring* ring, unsigned entries,
                             std::uint16_t group) noexcept {
  if (on_epoll_) return epoll_.RegisterBufferRing(ring, entries, group);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(ring);
  reg.ring_entries = entries;
  reg.bgid = group;
  return io_uring_register_buf_ring(&ring_, &reg, 0);
}

void Ring::UnregisterBufferRing(std::uint16_t group) noexcept {
  if (on_epoll_) return epoll_.UnregisterBufferRing(group);
  (void)io_uring_unregister_buf_ring(&ring_, group);
}

}  // namespace ringdns::ring
