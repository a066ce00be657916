// Upstream source-port rotation: the I/O half. core/upstream/port_rotation.h decides
// which socket retires and when it may be replaced; here a replacement is opened on a
// fresh random port, the old socket's receive is cancelled, and once that ends the new
// socket takes its place (late answers to the old one are dropped as unsolicited).
#include "core/net.h"
#include "core/shard.h"
#include "ring/user_data.h"

namespace ringdns::core {

const SockAddr* Shard::UpstreamSource(int family) const noexcept {
  const SockAddr* source = nullptr;
  for (const SockAddr& s : routes_.source_addresses) {
    if (s.family() == family) source = &s;
  }
  return source;
}

void Shard::RotateUpstreamSockets(std::int64_t now) {
  rotation_.Tick(now, [&](std::uint32_t index) {
    Socket& s = upstream_sockets_[index];
    absl::StatusOr<ring::UniqueFd> fd = OpenUpstreamSocket(s.family, UpstreamSource(s.family), layout::UpstreamReceiveBuffer(options_.upstream_sockets));
    if (!fd.ok()) {
      ++counters_.upstream_socket_rotation_failures;  // no descriptor or port to spare: the old port serves on
      return PortRotation::Step::kKeep;
    }
    s.replacement = std::move(*fd);
    if (!s.armed) {
      SwapInReplacement(s);  // no receive to end: at once
      return PortRotation::Step::kReplaced;
    }
    if (!ring_.Cancel(ring::UserData{kRecvUpstream, 0, index, 0}, ring::UserData{kCancel, 0, 0, 0})) {
      s.replacement.Reset();  // no submission room: try again on a later turn
      return PortRotation::Step::kLater;
    }
    return PortRotation::Step::kReplacing;
  });
}

void Shard::FinishRotation(std::uint32_t index) {
  Socket& socket = upstream_sockets_[index];
  if (!socket.replacement.valid()) return;
  SwapInReplacement(socket);
  rotation_.Replaced(index);
}

void Shard::SwapInReplacement(Socket& socket) {
  socket.fd = std::move(socket.replacement);  // closes the old socket
  ++counters_.upstream_socket_rotations;
}

}  // namespace ringdns::core
