#include "core/dnstap/socket_rdwr.h"

#include <errno.h>
#include <fcntl.h>
#include <fstrm.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <limits.h>

#include <algorithm>
#include <vector>

namespace ringdns::core::dnstap {
namespace {

struct SocketStream {
  sockaddr_storage address{};
  socklen_t address_len = 0;
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

fstrm_res Open(void* obj) {
  SocketStream& s = Of(obj);
  Close(obj);
  s.fd = ::socket(s.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return fstrm_res_failure;
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&s.address), s.address_len) == 0) return fstrm_res_success;
  int error = 0;
  socklen_t len = sizeof(error);
  if (errno == EINPROGRESS && Ready(s, POLLOUT) && ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
      error == 0) {
    return fstrm_res_success;
  }
  Close(obj);
  return fstrm_res_failure;
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

fstrm_rdwr* NewSocketRdwr(const sockaddr_storage& address, socklen_t address_len,
                          std::chrono::milliseconds timeout) {
  auto* stream = new SocketStream{address, address_len, static_cast<int>(timeout.count()), -1, {}};
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
