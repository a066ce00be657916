// core/upstream/udp_sockets.h: a shard's UDP sockets towards its upstreams, each on a
// random port (RFC 5452), with their receives and their rotation to fresh ports.
//
// core/upstream/port_rotation.h decides which socket retires and when; this is the I/O
// half: a replacement is opened on a fresh port, the old socket's multishot receive is
// cancelled, and once that ends the new socket takes its place (late answers to the old
// one are dropped as unsolicited). Sockets are numbered from 0, IPv4 ones first; a
// socket's number is what its receive's completions and the pending index name it by.
// Thread affinity: the shard's thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "core/base/counters.h"
#include "core/base/random.h"
#include "core/net.h"
#include "core/upstream/port_rotation.h"
#include "ring/buffer_ring.h"
#include "ring/fd.h"
#include "ring/ring.h"

namespace ringdns::core {

class UpstreamUdpSockets {
 public:
  static constexpr std::uint16_t kNone = 0xffff;
  // What the sockets' completions carry in ring::UserData::op: their receives', and the
  // cancellations that end a receive for a rotation.
  struct Ops {
    std::uint8_t receive = 0;
    std::uint8_t cancel = 0;
  };
  // Answers are received into `answers` (its group). Counters: rotations and failures.
  UpstreamUdpSockets(ring::Ring& ring, ring::ProvidedBufferRing& answers, ShardCounters& counters,
                     Ops ops)
      : ring_(ring), answers_(answers), counters_(counters), ops_(ops) {}

  struct Options {
    bool families[2] = {false, false};  // [0] IPv4, [1] IPv6: which the upstreams use
    std::uint32_t per_family = 0;
    std::span<const SockAddr> sources;  // bind to the one of a socket's family, if any
    std::int64_t lifetime_ms = 0;       // each port's; 0: never rotated
    std::int64_t retire_for_ms = 0;     // a retiring socket's wait for late answers
  };
  // Opens the sockets and arms their receives (submitted with the ring's next submit).
  absl::Status Open(const Options& options);

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(sockets_.size()); }
  int fd(std::uint32_t socket) const noexcept { return sockets_[socket].fd.get(); }
  // The layout its receives were armed with, to decode their buffers by.
  msghdr& receive_layout(std::uint32_t socket) noexcept { return sockets_[socket].recv_msg; }

  // A socket for a query to an upstream of `family`, at random among those serving;
  // kNone when there is none of that family.
  std::uint16_t Pick(int family, RandomPool& random) const noexcept;

  // A receive's completion said it ended (no IORING_CQE_F_MORE): it is armed again by
  // Rearm, and a socket being replaced gives way to its replacement now.
  void ReceiveEnded(std::uint32_t socket);
  // Each loop turn, once buffers came back: arms the receives that ended. Not while the
  // answer ring is empty, where they would end again at once with ENOBUFS and the loop
  // would spin while the datagrams wait in the sockets.
  void Rearm();
  // Every receive is armed (none waits for Rearm).
  bool all_armed() const noexcept { return disarmed_.empty(); }
  // Each loop turn while serving: retires and replaces sockets as their turn comes.
  void Rotate(std::int64_t now_ms);

 private:
  struct Socket {
    ring::UniqueFd fd;
    msghdr recv_msg{};  // the layout template of multishot recvmsg; pinned for its life
    int family = 0;
    bool armed = false;
    ring::UniqueFd replacement;  // on a fresh port, takes over once the receive ends
  };
  void Arm(std::uint16_t socket);
  void SwapInReplacement(Socket& socket);
  const SockAddr* SourceFor(int family) const noexcept;

  ring::Ring& ring_;
  ring::ProvidedBufferRing& answers_;
  ShardCounters& counters_;
  const Ops ops_;
  std::vector<SockAddr> sources_;
  int receive_buffer_ = 0;  // each socket's SO_RCVBUF
  std::vector<Socket> sockets_;
  std::vector<std::uint16_t> by_family_[2];
  PortRotation rotation_;
  std::vector<std::uint16_t> disarmed_;  // receives that ended; never past size()
};

}  // namespace ringdns::core
