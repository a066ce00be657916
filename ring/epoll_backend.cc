#include "ring/epoll_backend.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace ringdns::ring {
namespace {

constexpr int kEventsPerPoll = 64;

std::int64_t NowNs() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t ToNs(const __kernel_timespec& t) noexcept {
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

// accept(2) and connect(2) have no per-call flag: their descriptor must not block.
void SetNonBlocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

EpollBackend::~EpollBackend() {
  if (watches_ != nullptr) ::munmap(watches_, watch_count_ * sizeof(Watch));
}

int EpollBackend::Init(unsigned entries, unsigned cq_entries) {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return -errno;
  // Room for every descriptor number: address space only, zero pages until used.
  rlimit files{};
  const rlim_t most = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_max : rlim_t{1} << 16;
  watch_count_ = static_cast<std::size_t>(std::min<rlim_t>(most, rlim_t{1} << 22));
  void* table = ::mmap(nullptr, watch_count_ * sizeof(Watch), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (table == MAP_FAILED) return -errno;
  watches_ = static_cast<Watch*>(table);  // all-zero bytes are an empty Watch
  entries_ = std::max(1u, entries);
  // The tables an operation passes through, sized so that the packet path does not
  // grow them (the no-allocation test runs on this backend too).
  ops_.reserve(entries_);
  free_.reserve(entries_);
  queued_.reserve(entries_);
  connecting_.reserve(entries_);
  completions_.reserve(cq_entries);
  return 0;
}

std::uint32_t EpollBackend::Queue(Kind kind, int fd, UserData tag) noexcept {
  // A full queue is submitted first, as the ring does.
  if (queued_.size() >= entries_) {
    ++early_submits_;
    (void)Submit();
  }
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(ops_.size());
    ops_.emplace_back();
    // Every op may be free at once: room for them all, grown with the ops only.
    if (free_.capacity() < ops_.capacity()) free_.reserve(ops_.capacity());
  }
  Op& op = ops_[index];
  op = Op{};
  op.kind = kind;
  op.state = State::kQueued;
  op.fd = fd;
  op.tag = tag.Pack();
  queued_.push_back(index);
  return index;
}

bool EpollBackend::RecvMsgMultishot(int fd, msghdr& layout, std::uint16_t buffer_group,
                                    UserData tag) noexcept {
  Op& op = ops_[Queue(Kind::kRecvMsgMultishot, fd, tag)];
  op.msg = &layout;
  op.group = buffer_group;
  return true;
}

bool EpollBackend::SendMsg(int fd, const msghdr& msg, UserData tag) noexcept {
  // Read, never written: sendmsg(2) takes a const msghdr.
  ops_[Queue(Kind::kSendMsg, fd, tag)].msg = const_cast<msghdr*>(&msg);
  return true;
}

bool EpollBackend::AcceptMultishot(int fd, UserData tag) noexcept {
  (void)Queue(Kind::kAcceptMultishot, fd, tag);
  return true;
}

bool EpollBackend::Recv(int fd, std::span<std::uint8_t> into, UserData tag) noexcept {
  Op& op = ops_[Queue(Kind::kRecv, fd, tag)];
  op.data = into.data();
  op.len = into.size();
  return true;
}

bool EpollBackend::Read(int fd, std::span<std::uint8_t> into, UserData tag) noexcept {
  Op& op = ops_[Queue(Kind::kRead, fd, tag)];
  op.data = into.data();
  op.len = into.size();
  return true;
}

bool EpollBackend::Send(int fd, std::span<const std::uint8_t> data, int flags,
                        UserData tag) noexcept {
  Op& op = ops_[Queue(Kind::kSend, fd, tag)];
  op.data = const_cast<std::uint8_t*>(data.data());  // read, never written
  op.len = data.size();
  op.flags = flags;
  return true;
}

bool EpollBackend::Connect(int fd, const sockaddr* to, socklen_t to_len,
                           const __kernel_timespec& timeout, UserData tag,
                           UserData timeout_tag) noexcept {
  if (to_len > sizeof(sockaddr_storage)) return false;
  Op& op = ops_[Queue(Kind::kConnect, fd, tag)];
  std::memcpy(&op.to, to, to_len);
  op.to_len = to_len;
  op.timeout_tag = timeout_tag.Pack();
  op.deadline_ns = ToNs(timeout);  // relative until Start
  return true;
}

bool EpollBackend::Cancel(UserData target, UserData tag) noexcept {
  ops_[Queue(Kind::kCancel, -1, tag)].target = target.Pack();
  return true;
}

int EpollBackend::Submit() noexcept {
  // Start only posts and waits; it never queues, so the queue holds still meanwhile.
  const int started = static_cast<int>(queued_.size());
  for (std::size_t at = 0; at < queued_.size(); ++at) {
    const std::uint32_t index = queued_[at];
    if (ops_[index].state != State::kQueued) continue;  // sent with an earlier one
    if (ops_[index].kind == Kind::kSendMsg) {
      SendBatch(at);
    } else {
      Start(index);
    }
  }
  queued_.clear();
  return started;
}

void EpollBackend::Start(std::uint32_t index) noexcept {
  Op& op = ops_[index];
  op.state = State::kWaiting;
  if (op.kind == Kind::kCancel) {
    DoCancel(op);
    return Free(index);
  }
  if (op.kind == Kind::kConnect) op.deadline_ns += NowNs();
  if (op.fd < 0) {
    Post(op.tag, -EBADF);
    if (op.kind == Kind::kConnect) Post(op.timeout_tag, -ECANCELED);
    return Free(index);
  }
  // accept(2), connect(2) and read(2) have no per-call flag: their descriptor must not
  // block (an eventfd armed by ring::Wake is blocking, as io_uring wants it).
  if (op.kind == Kind::kAcceptMultishot || op.kind == Kind::kConnect || op.kind == Kind::kRead)
    SetNonBlocking(op.fd);
  // read(2) waits until its descriptor is ready (a pipe or eventfd read at once would
  // cost a call that finds nothing).
  if (op.kind != Kind::kRead && Attempt(op) == Outcome::kDone) return Free(index);
  Wait(index);
}

EpollBackend::Outcome EpollBackend::Attempt(Op& op) noexcept {
  ssize_t n = 0;
  do {
    switch (op.kind) {
      case Kind::kRecvMsgMultishot: return ReceiveDatagrams(op);
      case Kind::kAcceptMultishot: return AcceptConnections(op);
      case Kind::kConnect: return FinishConnect(op);
      case Kind::kRecv: n = ::recv(op.fd, op.data, op.len, MSG_DONTWAIT); break;
      case Kind::kRead: n = ::read(op.fd, op.data, op.len); break;
      case Kind::kSendMsg: n = ::sendmsg(op.fd, op.msg, MSG_DONTWAIT | MSG_NOSIGNAL); break;
      case Kind::kSend:
        n = ::send(op.fd, op.data, op.len, op.flags | MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
      case Kind::kCancel: return Outcome::kDone;  // handled by Start
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0 && WouldBlock(errno)) return Outcome::kWouldBlock;
  Post(op.tag, n < 0 ? -errno : static_cast<int>(n));
  return Outcome::kDone;
}

EpollBackend::Outcome EpollBackend::AcceptConnections(Op& op) noexcept {
  for (int budget = kMultishotBudget; budget > 0; --budget) {
    const int fd = ::accept4(op.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      Post(op.tag, fd, IORING_CQE_F_MORE);
      continue;
    }
    if (WouldBlock(errno)) return Outcome::kWouldBlock;
    if (errno == EINTR || errno == ECONNABORTED) continue;
    Post(op.tag, -errno);  // the accept ends, as the kernel's does on an error
    return Outcome::kDone;
  }
  return Outcome::kWouldBlock;
}

EpollBackend::Outcome EpollBackend::FinishConnect(Op& op) noexcept {
  int error = 0;
  if (!op.started) {
    op.started = true;
    if (::connect(op.fd, reinterpret_cast<const sockaddr*>(&op.to), op.to_len) != 0) {
      if (errno == EINPROGRESS || errno == EAGAIN || errno == EINTR) return Outcome::kWouldBlock;
      error = errno;
    }
  } else {
    socklen_t len = sizeof(error);
    if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  }
  Post(op.tag, -error);
  Post(op.timeout_tag, -ECANCELED);  // a linked timeout whose operation finished first
  return Outcome::kDone;
}

void EpollBackend::DoCancel(Op& cancel) noexcept {
  for (std::uint32_t index = 0; index < ops_.size(); ++index) {
    Op& op = ops_[index];
    if (op.state != State::kWaiting || op.tag != cancel.target || op.kind == Kind::kCancel)
      continue;
    Post(op.tag, -ECANCELED);
    if (op.kind == Kind::kConnect) Post(op.timeout_tag, -ECANCELED);
    Unlink(index);
    Free(index);
    Post(cancel.tag, 0);
    return;
  }
  Post(cancel.tag, -ENOENT);
}

void EpollBackend::Wait(std::uint32_t index) noexcept {
  Op& op = ops_[index];
  Watch* watch = WatchOf(op.fd);
  if (watch == nullptr) {
    Post(op.tag, -EBADF);
    if (op.kind == Kind::kConnect) Post(op.timeout_tag, -ECANCELED);
    return Free(index);
  }
  Waiters& list = WaitsToRead(op.kind) ? watch->readers : watch->writers;
  op.next = kNone;
  if (list.tail == kNone) {
    list.head = index;
  } else {
    ops_[list.tail].next = index;
  }
  list.tail = index;
  if (op.kind == Kind::kConnect) connecting_.push_back(index);
  Rearm(op.fd);
}

void EpollBackend::Unlink(std::uint32_t index) noexcept {
  const Op& op = ops_[index];
  Watch& watch = watches_[static_cast<std::size_t>(op.fd)];
  Waiters& list = WaitsToRead(op.kind) ? watch.readers : watch.writers;
  std::uint32_t previous = kNone;
  for (std::uint32_t at = list.head; at != kNone; previous = at, at = ops_[at].next) {
    if (at != index) continue;
    if (previous == kNone) {
      list.head = op.next;
    } else {
      ops_[previous].next = op.next;
    }
    if (list.tail == index) list.tail = previous;
    break;
  }
  if (op.kind == Kind::kConnect) std::erase(connecting_, index);
  Rearm(op.fd);
}

void EpollBackend::Run(int fd, bool readers) noexcept {
  for (;;) {
    Watch& watch = watches_[static_cast<std::size_t>(fd)];
    Waiters& list = readers ? watch.readers : watch.writers;
    if (list.empty()) return;
    const std::uint32_t index = list.head;
    Op& op = ops_[index];
    if (Attempt(op) == Outcome::kWouldBlock) return;  // the rest wait behind it
    list.head = op.next;
    if (list.head == kNone) list.tail = kNone;
    if (op.kind == Kind::kConnect) std::erase(connecting_, index);
    Free(index);
  }
}

void EpollBackend::Rearm(int fd) noexcept {
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  std::uint32_t want = 0;
  bool multishot = false;
  for (std::uint32_t at = watch.readers.head; at != kNone; at = ops_[at].next) {
    want |= EPOLLIN;
    multishot = multishot || IsMultishot(ops_[at].kind);
  }
  if (!watch.writers.empty()) want |= EPOLLOUT;
  if (want == 0) {
    // Nothing waits: forget the descriptor, so that a number closed and reused starts
    // afresh. A level-triggered registration leaves the set now, while it surely is the
    // same descriptor; a one-shot one fires at most once more, to no one.
    if (watch.events != 0 && (watch.events & EPOLLONESHOT) == 0) {
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    }
    watch.events = 0;
    return;
  }
  // A multishot operation waits on and on: level-triggered, no epoll_ctl per wake-up.
  const std::uint32_t events = want | (multishot ? 0u : static_cast<std::uint32_t>(EPOLLONESHOT));
  if (events == watch.events) return;  // armed as wanted
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  int rc = ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event);
  if (rc != 0 && errno == ENOENT) rc = ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  if (rc == 0) {
    watch.events = events;
    return;
  }
  // Not pollable (or gone): every waiter fails, as its operation would.
  const int error = errno;
  watch.events = 0;
  for (Waiters* list : {&watch.readers, &watch.writers}) {
    while (!list->empty()) {
      const std::uint32_t index = list->head;
      Op& op = ops_[index];
      list->head = op.next;
      if (list->head == kNone) list->tail = kNone;
      Post(op.tag, -error);
      if (op.kind == Kind::kConnect) {
        Post(op.timeout_tag, -ECANCELED);
        std::erase(connecting_, index);
      }
      Free(index);
    }
  }
}

void EpollBackend::Poll(int timeout_ms) noexcept {
  epoll_event events[kEventsPerPoll];
  const int n = ::epoll_wait(epoll_.get(), events, kEventsPerPoll, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    Watch* found = WatchOf(fd);
    if (found == nullptr) continue;
    Watch& watch = *found;
    if ((watch.events & EPOLLONESHOT) != 0) watch.events = 0;  // fired: disarmed until Rearm
    const bool ended = (events[i].events & (EPOLLERR | EPOLLHUP)) != 0;
    if (ended || (events[i].events & EPOLLIN) != 0) Run(fd, /*readers=*/true);
    if (ended || (events[i].events & EPOLLOUT) != 0) Run(fd, /*readers=*/false);
    Rearm(fd);
  }
  ExpireConnects(NowNs());
}

void EpollBackend::ExpireConnects(std::int64_t now_ns) noexcept {
  for (std::size_t i = 0; i < connecting_.size();) {
    const std::uint32_t index = connecting_[i];
    const Op& op = ops_[index];
    if (op.deadline_ns > now_ns) {
      ++i;
      continue;
    }
    Post(op.tag, -ECANCELED);  // the connect, ended by its linked timeout
    Post(op.timeout_tag, -ETIME);
    Unlink(index);  // also takes it out of connecting_
    Free(index);
  }
}

std::int64_t EpollBackend::NextConnectDeadline() const noexcept {
  std::int64_t next = INT64_MAX;
  for (const std::uint32_t index : connecting_) next = std::min(next, ops_[index].deadline_ns);
  return next;
}

int EpollBackend::SubmitAndWait(unsigned wait_nr, const __kernel_timespec* timeout) noexcept {
  const int submitted = Submit();
  if (completions_.size() >= wait_nr) {
    // Met by what Submit finished at once: still look at what became ready, as the
    // kernel runs pending work before it counts. Without this, a turn after turn of
    // sends and receives that complete inline (a pipelining TCP client) would starve
    // every descriptor that waits, and connect timeouts would never fire.
    Poll(0);
    return submitted;
  }
  const std::int64_t deadline = timeout == nullptr ? INT64_MAX : NowNs() + ToNs(*timeout);
  while (completions_.size() < wait_nr) {
    const std::int64_t now = NowNs();
    const std::int64_t until = std::min(deadline, NextConnectDeadline());
    int timeout_ms = -1;
    if (until != INT64_MAX) {
      // Rounded up: waking before a deadline would only wait again.
      timeout_ms = until <= now ? 0
                                : static_cast<int>(std::min<std::int64_t>(
                                      (until - now + 999'999) / 1'000'000, INT_MAX));
    }
    Poll(timeout_ms);
    if (completions_.size() < wait_nr && NowNs() >= deadline) return -ETIME;
  }
  return submitted;
}

EpollBackend::Watch* EpollBackend::WatchOf(int fd) noexcept {
  const auto at = static_cast<std::size_t>(fd);
  return fd >= 0 && at < watch_count_ ? &watches_[at] : nullptr;
}

void EpollBackend::Post(std::uint64_t tag, int res, std::uint32_t flags) noexcept {
  io_uring_cqe cqe{};
  cqe.user_data = tag;
  cqe.res = res;
  cqe.flags = flags;
  completions_.push_back(cqe);
}

void EpollBackend::Free(std::uint32_t index) noexcept {
  ops_[index].state = State::kFree;
  free_.push_back(index);
}

}  // namespace ringdns::ring
