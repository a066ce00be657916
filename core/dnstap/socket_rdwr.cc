#include "core/dnstap/socket_rdwr.h"

#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <netdb.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <limits.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ringdns::core::dnstap {
namespace {

struct SocketStream {
  CollectorSocket to;
  int timeout_ms = 0;
  int fd = -1;
  std::vector<iovec> left;  // a write's iovecs, advanced past what went out; reused
};

SocketStream& Of(void* obj) { return *static_cast<SocketStream*>(obj); }

// Waits for `events` on the stream's socket; false on timeout or error.
bool Ready(const SocketStream& s, short events) {
  pollfd p{s.fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, s.timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n == 1 && (p.revents & events) != 0;
}

fstrm_res Close(void* obj) {
  SocketStream& s = Of(obj);
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
  return fstrm_res_success;
}

// Connects to one address within the timeout; false (and closed) when it cannot.
bool ConnectTo(SocketStream& s, const sockaddr* address, socklen_t len) {
  s.fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return false;
  if (::connect(s.fd, address, len) == 0) return true;
  int error = 0;
  socklen_t error_len = sizeof(error);
  if (errno == EINPROGRESS && Ready(s, POLLOUT) && ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 &&
      error == 0) {
    return true;
  }
  ::close(s.fd);
  s.fd = -1;
  return false;
}

fstrm_res Open(void* obj) {
  SocketStream& s = Of(obj);
  Close(obj);
  if (s.to.host.empty()) {
    return ConnectTo(s, reinterpret_cast<const sockaddr*>(&s.to.address), s.to.address_len) ? fstrm_res_success
                                                                                            : fstrm_res_failure;
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
  return connected ? fstrm_res_success : fstrm_res_failure;
}

fstrm_res Read(void* obj, void* data, std::size_t count) {
  SocketStream& s = Of(obj);
  auto* at = static_cast<std::uint8_t*>(data);
  while (count > 0) {
    const ssize_t n = ::recv(s.fd, at, count, 0);
    if (n > 0) {
      at += n;
      count -= static_cast<std::size_t>(n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR) || (errno == EAGAIN && !Ready(s, POLLIN))) {
      return fstrm_res_failure;  // closed, failed, or silent past the timeout
    }
  }
  return fstrm_res_success;
}

fstrm_res Write(void* obj, const iovec* iov, int iovcnt) {
  SocketStream& s = Of(obj);
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
      if (errno == EAGAIN && Ready(s, POLLOUT)) continue;
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

fstrm_rdwr* NewSocketRdwr(const CollectorSocket& socket) {
  auto* stream = new SocketStream{socket, static_cast<int>(socket.timeout.count()), -1, {}};
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
