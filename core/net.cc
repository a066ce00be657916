#include "core/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringdns::core {

SockAddr SockAddr::From(const config::IpAddress& ip, std::uint16_t port) {
  SockAddr out;
  if (ip.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, ip.bytes.data(), 4);
    out.len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, ip.bytes.data(), 16);
    out.len = sizeof(sockaddr_in6);
  }
  return out;
}

std::uint16_t SockAddr::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

std::string SockAddr::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
                sizeof(text));
    return absl::StrCat(text, ":", port());
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof(text));
  return absl::StrCat("[", text, "]:", port());
}

bool SameEndpoint(const sockaddr* a, const sockaddr* b) noexcept {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in*>(b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(b);
    return x->sin6_port == y->sin6_port &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

bool IsWildcard(const SockAddr& address) noexcept {
  if (address.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&address.storage)->sin_addr.s_addr ==
           htonl(INADDR_ANY);
  }
  const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&address.storage)->sin6_addr;
  return IN6_IS_ADDR_UNSPECIFIED(&a);
}

namespace {

absl::Status Errno(const char* what, const SockAddr& address) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", address.ToString(), ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<ring::UniqueFd> OpenUdpListener(const SockAddr& address) {
  ring::UniqueFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket for", address);
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (address.family() == AF_INET6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  // A wildcard socket learns each query's destination, which its answer leaves from
  // (core/shard/reply_source.h).
  if (IsWildcard(address)) {
    const int rc = address.family() == AF_INET
                       ? ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
                       : ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    if (rc != 0) return Errno("cannot ask for packet info on", address);
  }
  // Room for bursts while the shard is busy; the kernel drops beyond it (load shedding).
  const int buffer = 4 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  if (::bind(fd.get(), address.get(), address.len) != 0) return Errno("cannot bind", address);
  return fd;
}

namespace {

// The wildcard address of `family`, or `source` with port 0 when it is of that family.
SockAddr LocalAddress(int family, const SockAddr* source) {
  SockAddr any;
  if (source != nullptr && source->family() == family) {
    any = *source;
    if (family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&any.storage)->sin_port = 0;
    } else {
      reinterpret_cast<sockaddr_in6*>(&any.storage)->sin6_port = 0;
    }
  } else {
    any.storage.ss_family = static_cast<sa_family_t>(family);
    any.len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  }
  return any;
}

}  // namespace

absl::StatusOr<ring::UniqueFd> OpenUpstreamSocket(int family, const SockAddr* source,
                                                  int receive_buffer) {
  ring::UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const SockAddr any = LocalAddress(family, source);
  if (!fd.valid()) return Errno("socket for upstream from", any);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  // Port 0: the kernel picks a random ephemeral port (RFC 5452 section 9.2).
  if (::bind(fd.get(), any.get(), any.len) != 0) return Errno("cannot bind upstream socket", any);
  return fd;
}

absl::StatusOr<ring::UniqueFd> OpenTcpListener(const SockAddr& address) {
  ring::UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("TCP socket for", address);
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (address.family() == AF_INET6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (::bind(fd.get(), address.get(), address.len) != 0) return Errno("cannot bind TCP", address);
  if (::listen(fd.get(), 1024) != 0) return Errno("cannot listen on", address);
  return fd;
}

absl::StatusOr<ring::UniqueFd> OpenTcpUpstreamSocket(int family, const SockAddr* source) {
  ring::UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SockAddr local = LocalAddress(family, source);
  if (!fd.valid()) return Errno("TCP socket for upstream from", local);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Backstops for a peer that vanished without FIN or RST (the shard itself gives up a
  // connection that stays silent for read_timeout, or whose writes stall): sent data not
  // acknowledged within 10 s aborts it, and so do 3 keepalive probes unanswered after
  // 10 s idle (RFC 1122 section 4.2.3.6 leaves keepalive to the application).
  const int user_timeout_ms = 10'000;
  const int keepalive_idle_s = 10;
  const int keepalive_interval_s = 5;
  const int keepalive_count = 3;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_idle_s, sizeof(keepalive_idle_s));
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPINTVL, &keepalive_interval_s,
               sizeof(keepalive_interval_s));
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPCNT, &keepalive_count, sizeof(keepalive_count));
  if (source != nullptr && source->family() == family &&
      ::bind(fd.get(), local.get(), local.len) != 0) {
    return Errno("cannot bind upstream TCP socket", local);
  }
  return fd;
}

}  // namespace ringdns::core
