#include "testing/tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/bytes.h"

namespace ringdns::testing {

int ListenOnLoopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(fd, 64);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

int ListenOnLoopbackAt(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 8) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool ReceiveMore(int& fd, Bytes& in) {
  std::uint8_t buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return false;
  }
  in.insert(in.end(), buf, buf + n);
  return true;
}

std::optional<Bytes> TakeFrame(Bytes& in) {
  if (in.size() < 2) return std::nullopt;
  const std::size_t len = wire::LoadU16(in.data());
  if (in.size() < len + 2) return std::nullopt;
  Bytes msg(in.begin() + 2, in.begin() + 2 + static_cast<std::ptrdiff_t>(len));
  in.erase(in.begin(), in.begin() + 2 + static_cast<std::ptrdiff_t>(len));
  return msg;
}

Bytes Framed(const Bytes& msg) {
  Bytes out{static_cast<std::uint8_t>(msg.size() >> 8), static_cast<std::uint8_t>(msg.size())};
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

TcpClient::TcpClient(std::uint16_t port, int receive_buffer)
    : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
}

TcpClient::~TcpClient() { ::close(fd_); }

bool TcpClient::Write(const Bytes& raw) {
  std::size_t done = 0;
  while (done < raw.size()) {
    const ssize_t n = ::send(fd_, raw.data() + done, raw.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::size_t TcpClient::WriteSome(const Bytes& raw) {
  const ssize_t n = ::send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool TcpClient::ReadExactly(std::uint8_t* out, std::size_t len,
                            std::chrono::steady_clock::time_point until) {
  std::size_t done = 0;
  while (done < len) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd_, out + done, len - done, 0);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<Bytes> TcpClient::Receive(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::uint8_t prefix[2];
  if (!ReadExactly(prefix, 2, until)) return std::nullopt;
  Bytes msg(static_cast<std::size_t>(prefix[0] << 8 | prefix[1]));
  if (!ReadExactly(msg.data(), msg.size(), until)) return std::nullopt;
  return msg;
}

bool TcpClient::WaitClosed(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::uint8_t sink[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    if (::recv(fd_, sink, sizeof(sink), 0) <= 0) return true;  // EOF or reset
  }
}

}  // namespace ringdns::testing
