// Upstream source-port rotation. Each shard sends its UDP queries from a few sockets on
// kernel-chosen random ports (RFC 5452). Ports that never change give an attacker who
// learns one (say, by making ringdns query a server the attacker runs) all the time in
// the world to race answers against it with only the 16-bit ID to guess. So the shard
// retires one socket at a time: it takes no new query, and once every query that could
// be waiting on it has passed its deadline, a new socket on a fresh port takes its place
// (the old one's receive is cancelled first; late answers to it are dropped as
// unsolicited). At most half of a family's sockets retire at once.
#include "core/net.h"
#include "core/shard.h"
#include "ring/user_data.h"

namespace ringdns::core {
namespace {

// Past the whole-query deadline: a retired socket has no attempt left to answer.
constexpr std::int64_t kRetireForMs = kQueryDeadlineMs + 1000;

}  // namespace

const SockAddr* Shard::UpstreamSource(int family) const noexcept {
  const SockAddr* source = nullptr;
  for (const SockAddr& s : routes_.source_addresses) {
    if (s.family() == family) source = &s;
  }
  return source;
}

void Shard::RotateUpstreamSockets(std::int64_t now) {
  if (options_.upstream_socket_rotation_ms <= 0 || upstream_sockets_.empty()) return;
  for (std::uint32_t i = 0; i < upstream_sockets_.size(); ++i) {
    Socket& s = upstream_sockets_[i];
    if (s.retiring_since_ms == 0 || s.replacement.valid() || now - s.retiring_since_ms < kRetireForMs) {
      continue;
    }
    absl::StatusOr<ring::UniqueFd> fd = OpenUpstreamSocket(s.family, UpstreamSource(s.family));
    if (!fd.ok()) {
      s.retiring_since_ms = 0;  // no descriptor to spare: keep the old port for now
      continue;
    }
    s.replacement = std::move(*fd);
    if (!s.armed) {
      FinishRotation(s);
    } else if (!ring_.Cancel(ring::UserData{kRecvUpstream, 0, i, 0},
                             ring::UserData{kCancel, 0, 0, 0})) {
      s.replacement.Reset();  // no submission room: try again on a later turn
    }
  }
  if (next_rotation_ms_ == 0) next_rotation_ms_ = now + options_.upstream_socket_rotation_ms;
  if (now < next_rotation_ms_) return;
  next_rotation_ms_ = now + options_.upstream_socket_rotation_ms;
  // Oldest first: every port gets its turn, and a fresh one serves before it retires.
  Socket* oldest = nullptr;
  for (Socket& s : upstream_sockets_) {
    if (s.retiring_since_ms == 0 && RetiringRoomIn(s.family) && (oldest == nullptr || s.opened < oldest->opened)) {
      oldest = &s;
    }
  }
  if (oldest != nullptr) oldest->retiring_since_ms = now;
}

bool Shard::RetiringRoomIn(int family) const noexcept {
  const std::vector<std::uint16_t>& sockets = sockets_by_family_[layout::FamilyIndex(family)];
  std::uint32_t retiring = 0;
  for (const std::uint16_t i : sockets) retiring += upstream_sockets_[i].retiring_since_ms != 0 ? 1u : 0u;
  return (retiring + 1) * 2 <= sockets.size();
}

void Shard::FinishRotation(Socket& socket) {
  if (!socket.replacement.valid()) return;
  socket.fd = std::move(socket.replacement);  // closes the old socket
  socket.retiring_since_ms = 0;
  socket.opened = ++sockets_opened_;
  ++counters_.upstream_socket_rotations;
}

}  // namespace ringdns::core
