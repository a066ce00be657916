// core/shard/tls_slots.h: a shard's DNS-over-TLS sessions, each with its ciphertext buffers,
// and the count of handshakes under way. Client connections share `clients` slots; each
// upstream stream has one of its own after them, so clients holding every slot cannot stop
// DNS-over-TLS forwarding. The buffers are reserved on the first TLS connection, not
// before: a shard that never sees one pays nothing. Shard-local; needs no socket.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/relaxed_counter.h"
#include "core/base/reserved.h"
#include "core/shard/inflight.h"
#include "core/stream/tls_session.h"

namespace ringdns::core {

inline constexpr std::uint32_t kNoTls = kNoSlot;

// A DNS-over-TLS connection's session and its ciphertext buffers: what the socket
// received (fed to OpenSSL at once) and what is being sent.
struct TlsConnection {
  TlsSession session;
  std::uint8_t* cipher_in = nullptr;
  std::uint8_t* cipher_out = nullptr;
  std::uint32_t out_len = 0;
  std::uint32_t out_sent = 0;
};

class TlsSlots {
 public:
  // `handshakes`: the most handshakes under way at once that a client may add to (an
  // upstream stream's count too, but are never refused). A handshake ended that was never
  // counted cannot happen (core/base/invariant.h): counted in `violations` in release
  // builds, the count left at 0.
  TlsSlots(std::uint32_t clients, std::uint32_t upstream_streams, std::uint32_t handshakes,
           RelaxedCounter& violations)
      : clients_(clients),
        upstream_streams_(upstream_streams),
        max_handshakes_(handshakes),
        violations_(&violations) {}

  // A client's slot from the shared ones: kNoTls when none is free or when `handshakes`
  // are under way already (with `handshake`: it is about to start one).
  std::uint32_t TakeForClient(bool handshake);
  // Upstream stream `index`'s own slot (counted from the first upstream stream).
  std::uint32_t ForUpstream(std::uint32_t index);
  // A taken slot begins a connection: its sends reset, its handshake counted.
  TlsConnection& BeginHandshake(std::uint32_t slot);
  // A taken slot continues a session already established elsewhere (a reload).
  TlsConnection& Adopt(std::uint32_t slot, TlsSession session);
  void HandshakeDone() noexcept;
  // Gives a slot back, its session reset; `mid_handshake` when its handshake was counted
  // and had not finished. A client's goes back to the shared ones.
  void Release(std::uint32_t slot, bool mid_handshake) noexcept;

  TlsConnection& operator[](std::uint32_t slot) noexcept { return slots_[slot]; }
  const TlsConnection& operator[](std::uint32_t slot) const noexcept { return slots_[slot]; }
  std::uint32_t handshaking() const noexcept { return handshaking_; }
  std::uint32_t free_for_clients() const noexcept;

 private:
  void ReserveOnFirstUse();

  std::uint32_t clients_ = 0;
  std::uint32_t upstream_streams_ = 0;
  std::uint32_t max_handshakes_ = 0;
  std::uint32_t handshaking_ = 0;
  std::vector<TlsConnection> slots_;  // empty until the first TLS connection
  ReservedBytes arena_;               // two cipher buffers per slot
  std::vector<std::uint32_t> free_;   // client slots only
  RelaxedCounter* violations_;        // a pointer: the shard assigns its slots once sized
};

}  // namespace ringdns::core
