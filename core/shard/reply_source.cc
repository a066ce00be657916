#include "core/shard/reply_source.h"

#include <cstring>

namespace ringdns::core {

bool ReplySource::Take(const cmsghdr& c) noexcept {
  if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_PKTINFO &&
      c.cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
    in_pktinfo info;
    std::memcpy(&info, CMSG_DATA(&c), sizeof(info));
    family = AF_INET;
    v4 = info.ipi_addr;  // the destination the client used
    return true;
  }
  if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_PKTINFO &&
      c.cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
    std::memcpy(&v6, CMSG_DATA(&c), sizeof(v6));
    family = AF_INET6;
    return true;
  }
  return false;
}

ReplySource ReplySource::LocalOf(int fd) noexcept {
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  ReplySource out;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return out;
  if (local.ss_family == AF_INET) {
    out.family = AF_INET;
    out.v4 = reinterpret_cast<const sockaddr_in*>(&local)->sin_addr;
  } else if (local.ss_family == AF_INET6) {
    out.family = AF_INET6;
    out.v6.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr;
  }
  return out;
}

std::size_t ReplySource::WriteControl(
    std::span<std::uint8_t, kReplySourceControlLen> control) const noexcept {
  if (family == 0) return 0;
  std::memset(control.data(), 0, control.size());
  auto* c = reinterpret_cast<cmsghdr*>(control.data());
  if (family == AF_INET) {
    // ifindex 0: the route picks the interface; only the source address is fixed.
    in_pktinfo info{};
    info.ipi_spec_dst = v4;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(info));
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    return CMSG_SPACE(sizeof(info));
  }
  // IPv6 keeps the arrival interface: a link-local destination means nothing without it.
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(v6));
  std::memcpy(CMSG_DATA(c), &v6, sizeof(v6));
  return CMSG_SPACE(sizeof(v6));
}

}  // namespace ringdns::core
