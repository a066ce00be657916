#include "core/upstream/udp_sockets.h"

#include "core/shard/shard_layout.h"
#include "ring/user_data.h"

namespace ringdns::core {
namespace {

// Draws of a random socket before walking to a serving one: with half the sockets
// retiring at most, 32 draws all retiring is a 2^-32 event.
constexpr int kMaxSocketDraws = 32;

}  // namespace

absl::Status UpstreamUdpSockets::Open(const Options& options) {
  sources_.assign(options.sources.begin(), options.sources.end());
  receive_buffer_ = layout::UpstreamReceiveBuffer(options.per_family);
  const std::uint32_t families = (options.families[0] ? 1u : 0u) + (options.families[1] ? 1u : 0u);
  sockets_.reserve(std::size_t{families} * options.per_family);  // msghdrs stay where armed
  std::vector<std::uint8_t> family_of;
  for (const int family : {AF_INET, AF_INET6}) {
    const int f = layout::FamilyIndex(family);
    if (!options.families[f]) continue;
    for (std::uint32_t i = 0; i < options.per_family; ++i) {
      absl::StatusOr<ring::UniqueFd> fd =
          OpenUpstreamSocket(family, SourceFor(family), receive_buffer_);
      if (!fd.ok()) return fd.status();
      by_family_[f].push_back(static_cast<std::uint16_t>(sockets_.size()));
      family_of.push_back(static_cast<std::uint8_t>(f));
      Socket& s = sockets_.emplace_back();
      s.fd = std::move(*fd);
      s.family = family;
    }
  }
  rotation_ = PortRotation(std::move(family_of), options.lifetime_ms, options.retire_for_ms);
  disarmed_.reserve(sockets_.size());
  for (std::uint16_t i = 0; i < sockets_.size(); ++i) {
    Arm(i);
    if (!sockets_[i].armed) disarmed_.push_back(i);
  }
  return absl::OkStatus();
}

std::uint16_t UpstreamUdpSockets::Pick(int family, RandomPool& random) const noexcept {
  const std::vector<std::uint16_t>& sockets = by_family_[layout::FamilyIndex(family)];
  if (sockets.empty()) return kNone;
  // A random socket among those taking queries, drawn again while the draw is
  // retiring: at least half serve, so a few draws do, and each serving socket is as
  // likely as any (walking on from a retiring one would favour the socket after the
  // retiring run, the next to retire).
  const auto n = static_cast<std::uint32_t>(sockets.size());
  std::uint32_t k = random.Below(n);
  for (int draws = 1; draws < kMaxSocketDraws && !rotation_.Serving(sockets[k]); ++draws)
    k = random.Below(n);
  for (std::uint32_t tries = 1; tries < n && !rotation_.Serving(sockets[k]); ++tries)
    k = (k + 1) % n;
  return sockets[k];
}

void UpstreamUdpSockets::ReceiveEnded(std::uint32_t index) {
  Socket& socket = sockets_[index];
  socket.armed = false;
  disarmed_.push_back(static_cast<std::uint16_t>(index));  // once per arm: never past its reserve
  if (!socket.replacement.valid()) return;
  SwapInReplacement(socket);
  rotation_.Replaced(index);
}

void UpstreamUdpSockets::Rearm() {
  if (disarmed_.empty() || answers_.exhausted()) return;
  // Only the sockets whose receive ended; one the kernel refuses stays listed.
  std::size_t kept = 0;
  for (const std::uint16_t i : disarmed_) {
    Arm(i);
    if (!sockets_[i].armed) disarmed_[kept++] = i;
  }
  disarmed_.resize(kept);
}

void UpstreamUdpSockets::Rotate(std::int64_t now) {
  rotation_.Tick(now, [&](std::uint32_t index) {
    Socket& s = sockets_[index];
    absl::StatusOr<ring::UniqueFd> fd =
        OpenUpstreamSocket(s.family, SourceFor(s.family), receive_buffer_);
    if (!fd.ok()) {
      ++counters_.upstream_socket_rotation_failures;  // no descriptor or port to spare: the old
                                                      // port serves on
      return PortRotation::Step::kKeep;
    }
    s.replacement = std::move(*fd);
    if (!s.armed) {
      SwapInReplacement(s);  // no receive to end: at once
      return PortRotation::Step::kReplaced;
    }
    if (!ring_.Cancel(ring::UserData{ops_.receive, 0, index, 0},
                      ring::UserData{ops_.cancel, 0, 0, 0})) {
      s.replacement.Reset();  // no submission room: try again on a later turn
      return PortRotation::Step::kLater;
    }
    return PortRotation::Step::kReplacing;
  });
}

void UpstreamUdpSockets::Arm(std::uint16_t index) {
  Socket& socket = sockets_[index];
  socket.recv_msg = {};
  socket.recv_msg.msg_namelen = layout::kNameLen;
  socket.recv_msg.msg_controllen = layout::kControlLen;
  // When the kernel refuses, retried by Rearm.
  socket.armed = ring_.RecvMsgMultishot(socket.fd.get(), socket.recv_msg, answers_.group_id(),
                                        ring::UserData{ops_.receive, 0, index, 0});
}

void UpstreamUdpSockets::SwapInReplacement(Socket& socket) {
  socket.fd = std::move(socket.replacement);  // closes the old socket
  ++counters_.upstream_socket_rotations;
}

const SockAddr* UpstreamUdpSockets::SourceFor(int family) const noexcept {
  const SockAddr* source = nullptr;
  for (const SockAddr& s : sources_) {
    if (s.family() == family) source = &s;
  }
  return source;
}

}  // namespace ringdns::core
