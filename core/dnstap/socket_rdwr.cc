#include "core/dnstap/socket_rdwr.h"

#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ringdns::core::dnstap {
namespace {

struct SocketStream {
  CollectorSocket to;
  std::shared_ptr<CollectorLink> state;
  int fd = -1;
  std::vector<iovec> left;  // a write's iovecs, advanced past what went out; reused
};

SocketStream& Of(void* obj) { return *static_cast<SocketStream*>(obj); }

// When an operation starting now must be done by: its timeout, or sooner when closing.
std::int64_t Deadline(const SocketStream& s) {
  return std::min(MonotonicMs() + static_cast<std::int64_t>(s.to.timeout.count()),
                  s.state->give_up_at_ms.load(std::memory_order_relaxed));
}

// Waits for `events` on the stream's socket until `deadline`; false on timeout or error.
bool Ready(const SocketStream& s, short events, std::int64_t deadline) {
  pollfd p{s.fd, events, 0};
  int n;
  do {
    const std::int64_t left = deadline - MonotonicMs();
    if (left <= 0) return false;
    n = ::poll(&p, 1, static_cast<int>(left));
  } while (n < 0 && errno == EINTR);
  return n == 1 && (p.revents & events) != 0;
}

fstrm_res Close(void* obj) {
  SocketStream& s = Of(obj);
  s.state->up.store(false, std::memory_order_relaxed);
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
  return fstrm_res_success;
}

// Connects to one address within the timeout; false (and closed) when it cannot.
bool ConnectTo(SocketStream& s, const sockaddr* address, socklen_t len) {
  const std::int64_t deadline = Deadline(s);
  s.fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return false;
  if (::connect(s.fd, address, len) == 0) return true;
  int error = 0;
  socklen_t error_len = sizeof(error);
  if (errno == EINPROGRESS && Ready(s, POLLOUT, deadline) &&
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0) {
    return true;
  }
  ::close(s.fd);
  s.fd = -1;
  return false;
}

fstrm_res Connected(SocketStream& s, bool connected) {
  s.state->up.store(connected, std::memory_order_relaxed);
  return connected ? fstrm_res_success : fstrm_res_failure;
}

fstrm_res Open(void* obj) {
  SocketStream& s = Of(obj);
  Close(obj);
  if (MonotonicMs() >= s.state->give_up_at_ms.load(std::memory_order_relaxed))
    return fstrm_res_failure;
  if (s.to.host.empty()) {
    return Connected(
        s, ConnectTo(s, reinterpret_cast<const sockaddr*>(&s.to.address), s.to.address_len));
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(s.to.port);
  if (::getaddrinfo(s.to.host.c_str(), port.c_str(), &hints, &found) != 0) return fstrm_res_failure;
  bool connected = false;
  for (const addrinfo* a = found; a != nullptr && !connected; a = a->ai_next) {
    connected = ConnectTo(s, a->ai_addr, a->ai_addrlen);
  }
  ::freeaddrinfo(found);
  return Connected(s, connected);
}

fstrm_res Read(void* obj, void* data, std::size_t count) {
  SocketStream& s = Of(obj);
  const std::int64_t deadline = Deadline(s);
  auto* at = static_cast<std::uint8_t*>(data);
  while (count > 0) {
    const ssize_t n = ::recv(s.fd, at, count, 0);
    if (n > 0) {
      at += n;
      count -= static_cast<std::size_t>(n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
               (errno == EAGAIN && !Ready(s, POLLIN, deadline))) {
      return fstrm_res_failure;  // closed, failed, or silent past the timeout
    }
  }
  return fstrm_res_success;
}

fstrm_res Write(void* obj, const iovec* iov, int iovcnt) {
  SocketStream& s = Of(obj);
  const std::int64_t deadline = Deadline(s);
  std::vector<iovec>& left = s.left;  // its capacity (IOV_MAX) is reserved: no allocation
  left.assign(iov, iov + iovcnt);
  std::size_t first = 0;
  while (first < left.size()) {
    msghdr msg{};
    msg.msg_iov = left.data() + first;
    msg.msg_iovlen = left.size() - first;
    ssize_t n = ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && Ready(s, POLLOUT, deadline)) continue;
      return fstrm_res_failure;  // closed, failed, or not reading past the timeout
    }
    while (n > 0 && first < left.size()) {
      const std::size_t taken = std::min(static_cast<std::size_t>(n), left[first].iov_len);
      left[first].iov_base = static_cast<std::uint8_t*>(left[first].iov_base) + taken;
      left[first].iov_len -= taken;
      n -= static_cast<ssize_t>(taken);
      if (left[first].iov_len == 0) ++first;
    }
    while (first < left.size() && left[first].iov_len == 0) ++first;
  }
  return fstrm_res_success;
}

fstrm_res Destroy(void* obj) {
  Close(obj);
  delete static_cast<SocketStream*>(obj);
  return fstrm_res_success;
}

}  // namespace

std::int64_t MonotonicMs() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1'000'000;
}

fstrm_rdwr* NewSocketRdwr(const CollectorSocket& socket, std::shared_ptr<CollectorLink> state) {
  auto* stream = new SocketStream{socket, std::move(state), -1, {}};
  stream->left.reserve(IOV_MAX);
  fstrm_rdwr* rdwr = fstrm_rdwr_init(stream);
  fstrm_rdwr_set_destroy(rdwr, Destroy);
  fstrm_rdwr_set_open(rdwr, Open);
  fstrm_rdwr_set_close(rdwr, Close);
  fstrm_rdwr_set_read(rdwr, Read);
  fstrm_rdwr_set_write(rdwr, Write);
  return rdwr;
}

}  // namespace ringdns::core::dnstap
