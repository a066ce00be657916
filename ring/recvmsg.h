// ring/recvmsg.h: what a multishot recvmsg completion wrote into its provided buffer.
//
// The kernel lays out an io_uring_recvmsg_out header, the source address, the control
// messages and the payload, sized by the msghdr the receive was armed with (liburing's
// io_uring_recvmsg_* helpers; examples/io_uring-udp.c). DecodeRecvMsg checks that the
// layout fits the completion's length before anything is read.
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>

namespace ringdns::ring {

// The header the kernel writes first; the source address follows it.
inline constexpr std::uint32_t kRecvMsgHeaderSize = sizeof(io_uring_recvmsg_out);

class ReceivedMessage {
 public:
  std::span<std::uint8_t> payload;
  const sockaddr* from = nullptr;
  socklen_t from_len = 0;  // as the kernel reports it: may exceed the room armed for it
  bool truncated = false;  // MSG_TRUNC: the datagram was larger than the buffer

  // Calls take(const cmsghdr&) for each control message until it returns true.
  template <typename Take>
  void FindControl(Take&& take) const {
    if (header_ == nullptr) return;  // not decoded
    for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(header_, layout_); c != nullptr;
         c = io_uring_recvmsg_cmsg_nexthdr(header_, layout_, c)) {
      if (take(*c)) return;
    }
  }

 private:
  friend bool DecodeRecvMsg(std::span<std::uint8_t>, int, msghdr&, ReceivedMessage&) noexcept;
  io_uring_recvmsg_out* header_ = nullptr;
  msghdr* layout_ = nullptr;
};

// `buffer` holds what a completion with result `res` wrote, for a receive armed with
// `layout`. False when the layout does not fit (never expected from the kernel).
inline bool DecodeRecvMsg(std::span<std::uint8_t> buffer, int res, msghdr& layout,
                          ReceivedMessage& out) noexcept {
  if (res < 0 || static_cast<std::size_t>(res) > buffer.size()) return false;
  io_uring_recvmsg_out* header = io_uring_recvmsg_validate(buffer.data(), res, &layout);
  if (header == nullptr) return false;
  out.header_ = header;
  out.layout_ = &layout;
  out.payload = {static_cast<std::uint8_t*>(io_uring_recvmsg_payload(header, &layout)),
                 io_uring_recvmsg_payload_length(header, res, &layout)};
  out.from = static_cast<const sockaddr*>(io_uring_recvmsg_name(header));
  out.from_len = header->namelen;
  out.truncated = (header->flags & MSG_TRUNC) != 0;
  return true;
}

}  // namespace ringdns::ring
