// ring/epoll_datagrams.cc: the epoll backend's datagrams, in batches: a multishot
// recvmsg emulated with recvmmsg(2) into provided buffers laid out as the kernel lays
// them out, the sends queued for one socket in one sendmmsg(2), and the buffer rings
// the receives take from (consumed from their shared memory as the kernel does).
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "ring/epoll_backend.h"

namespace ringdns::ring {
namespace {

// Datagrams one recvmmsg(2) takes at most.
constexpr unsigned kRecvBatch = 16;

}  // namespace

void EpollBackend::SendBatch(std::size_t at) noexcept {
  // The datagrams queued for one socket go out in one sendmmsg(2): the answers of a
  // loop's turn to the clients of one listener. Gathered up to the next operation on
  // that socket that is not a send, so nothing overtakes it.
  const int fd = ops_[queued_[at]].fd;
  std::uint32_t batch[kSendBatch];
  mmsghdr messages[kSendBatch];
  unsigned count = 0;
  for (std::size_t next = at; next < queued_.size() && count < kSendBatch; ++next) {
    const Op& op = ops_[queued_[next]];
    if (op.fd != fd || op.state != State::kQueued) continue;
    if (op.kind != Kind::kSendMsg) break;
    batch[count] = queued_[next];
    messages[count] = {*op.msg, 0};
    ++count;
  }
  // A socket with sends already waiting, or one lone datagram: the plain path.
  const Watch* watch = WatchOf(fd);
  const bool waiting = watch != nullptr && !watch->writers.empty();
  int sent = 0;
  if (count > 1 && !waiting) {
    sent = ::sendmmsg(fd, messages, count, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) sent = 0;  // the first one's error is found again by its own try below
  }
  for (unsigned i = 0; i < count; ++i) {
    if (static_cast<int>(i) < sent) {
      ops_[batch[i]].state = State::kWaiting;
      Post(ops_[batch[i]].tag, static_cast<int>(messages[i].msg_len));
      Free(batch[i]);
    } else {
      Start(batch[i]);
    }
  }
}

EpollBackend::Outcome EpollBackend::ReceiveDatagrams(Op& op) noexcept {
  Group* group = GroupOf(op.group);
  if (group == nullptr) {
    Post(op.tag, -ENOBUFS);
    return Outcome::kDone;
  }
  const msghdr& layout = *op.msg;
  const std::size_t name_at = sizeof(io_uring_recvmsg_out);
  const std::size_t control_at = name_at + layout.msg_namelen;
  const std::size_t payload_at = control_at + layout.msg_controllen;
  for (int budget = kMultishotBudget; budget > 0;) {
    // As many buffers as the ring has ready, up to a batch: one recvmmsg(2) takes what
    // the socket holds, and a short batch says it is drained without another call.
    const std::uint16_t tail = io_uring_smp_load_acquire(&group->ring->tail);
    const auto ready = static_cast<std::uint16_t>(tail - group->head);
    if (ready == 0) {
      // No buffer: like the kernel, end the receive only once a datagram waits for one.
      std::uint8_t peek = 0;
      if (::recv(op.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && WouldBlock(errno))
        return Outcome::kWouldBlock;
      Post(op.tag, -ENOBUFS);
      return Outcome::kDone;
    }
    const unsigned most = std::min<unsigned>({ready, kRecvBatch, static_cast<unsigned>(budget)});
    mmsghdr messages[kRecvBatch];
    iovec payloads[kRecvBatch];
    unsigned batch = 0;
    for (; batch < most; ++batch) {
      const io_uring_buf& buffer = group->ring->bufs[(group->head + batch) & group->mask];
      if (buffer.len < payload_at) break;  // too short for the layout: see below
      auto* base = reinterpret_cast<std::uint8_t*>(buffer.addr);
      const unsigned i = batch;
      msghdr& got = messages[i].msg_hdr;
      got = {};
      got.msg_name = layout.msg_namelen > 0 ? base + name_at : nullptr;
      got.msg_namelen = layout.msg_namelen;
      got.msg_control = layout.msg_controllen > 0 ? base + control_at : nullptr;
      got.msg_controllen = layout.msg_controllen;
      payloads[i] = {base + payload_at, buffer.len - payload_at};
      got.msg_iov = &payloads[i];
      got.msg_iovlen = 1;
      messages[i].msg_len = 0;
    }
    if (batch == 0) {
      // The next buffer cannot hold the layout: the kernel fails the receive when a
      // datagram reaches it, not before.
      std::uint8_t peek = 0;
      if (::recv(op.fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && WouldBlock(errno))
        return Outcome::kWouldBlock;
      Post(op.tag, -EFAULT);
      return Outcome::kDone;
    }
    // The bytes copied, as the kernel's payloadlen; a cut datagram says MSG_TRUNC in
    // its flags.
    const int n = ::recvmmsg(op.fd, messages, batch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (WouldBlock(errno) || errno == EINTR) return Outcome::kWouldBlock;
      Post(op.tag, -errno);
      return Outcome::kDone;
    }
    for (int i = 0; i < n; ++i) {
      const io_uring_buf& buffer = group->ring->bufs[group->head & group->mask];
      const msghdr& got = messages[i].msg_hdr;
      auto* out = reinterpret_cast<io_uring_recvmsg_out*>(buffer.addr);
      out->namelen = got.msg_namelen;
      out->controllen = static_cast<std::uint32_t>(got.msg_controllen);
      out->payloadlen = messages[i].msg_len;
      out->flags = static_cast<std::uint32_t>(got.msg_flags);
      const std::size_t copied = messages[i].msg_len;
      const std::uint32_t bid = buffer.bid;
      ++group->head;
      Post(op.tag, static_cast<int>(payload_at + copied),
           IORING_CQE_F_MORE | IORING_CQE_F_BUFFER | (bid << IORING_CQE_BUFFER_SHIFT));
    }
    // Fewer than asked for: the socket is drained (a datagram arriving since makes the
    // level-triggered registration report it again).
    if (static_cast<unsigned>(n) < batch) return Outcome::kWouldBlock;
    budget -= n;
  }
  return Outcome::kWouldBlock;
}

int EpollBackend::RegisterBufferRing(io_uring_buf_ring* ring, unsigned entries,
                                     std::uint16_t group) noexcept {
  if (entries == 0 || (entries & (entries - 1)) != 0) return -EINVAL;
  if (group >= groups_.size()) groups_.resize(std::size_t{group} + 1);
  if (groups_[group].ring != nullptr) return -EEXIST;
  groups_[group] = Group{ring, entries - 1, 0};
  return 0;
}

void EpollBackend::UnregisterBufferRing(std::uint16_t group) noexcept {
  if (group < groups_.size()) groups_[group] = Group{};
}

EpollBackend::Group* EpollBackend::GroupOf(std::uint16_t group) noexcept {
  return group < groups_.size() && groups_[group].ring != nullptr ? &groups_[group] : nullptr;
}

}  // namespace ringdns::ring
