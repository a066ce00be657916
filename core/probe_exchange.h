// core/probe_exchange.h: one health probe in flight, driven by poll() readiness: a state
// machine over a non-blocking socket, so that no step ever waits and the prober can
// watch every probe at once. UDP, TCP (RFC 7766 framing) and TLS (RFC 7858).
//
// The buffers (about 100 KiB: one whole TCP frame, and TLS records both ways) are not
// part of the exchange: the prober lends a set for the probe's life and takes it back,
// so probing a dead UDP or TCP upstream every interval for hours allocates nothing after
// the first probe, and an upstream that is never down costs nothing. (A TLS probe still
// makes OpenSSL allocate its session, once per probe.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/routes.h"
#include "core/stream/tls_session.h"
#include "ring/fd.h"
#include "wire/message.h"

namespace ringdns::core {

struct ProbeBuffers {
  // The probe with room for its length prefix in front (UDP sends from query + 2).
  std::uint8_t query[2 + 512];
  // Octets waiting for the socket: the framed query (TCP) or ciphertext (TLS).
  std::uint8_t out[17 * 1024];
  // TLS: ciphertext read from the socket that the session has not taken yet.
  std::uint8_t cipher[17 * 1024];
  // A datagram, or a stream's framed messages as they arrive; one whole frame always fits.
  std::uint8_t in[2 + 65535];
};

class ProbeExchange {
 public:
  enum class Outcome : std::uint8_t { kPending, kAnswered, kFailed };

  explicit ProbeExchange(std::unique_ptr<ProbeBuffers> buffers) : b_(std::move(buffers)) {}
  ProbeExchange(const ProbeExchange&) = delete;
  ProbeExchange& operator=(const ProbeExchange&) = delete;

  // Opens the socket and sends (UDP) or queues (TCP, TLS) the probe for upstream
  // `upstream` of `f`; false when that already failed.
  bool Start(const ForwardRoute& f, std::uint8_t upstream, std::uint16_t probe_id,
             std::int64_t now_ms);
  // What to poll for, and on which socket.
  short events() const noexcept;
  int fd() const noexcept { return fd_.get(); }
  std::int64_t deadline_ms() const noexcept { return deadline_ms_; }
  // Moves the probe on after poll() reported `revents` on its socket.
  Outcome OnReady(short revents);
  // Gives the buffers back; the exchange is done with.
  std::unique_ptr<ProbeBuffers> TakeBuffers() noexcept { return std::move(b_); }

 private:
  // The answer must carry the probe's ID, opcode and question (RFC 5452 section 9.1).
  // Any RCODE will do: an answer shows the upstream is serving (CoreDNS's rule).
  bool Matches(std::span<const std::uint8_t> answer) const noexcept;
  Outcome ReadDatagrams();
  Outcome DriveTcp(short revents);
  Outcome DriveTls(short revents);
  // Takes each complete framed message in `in`; true once one answers the probe.
  bool TakeFramed();
  // recv into [dst, dst + cap): octets read, 0 when none are waiting, -1 on EOF or error.
  ssize_t ReadSome(std::uint8_t* dst, std::size_t cap);
  // Sends what waits in `out`, refilled from the TLS session: octets sent, or -1 on error.
  ssize_t Flush();

  std::unique_ptr<ProbeBuffers> b_;
  ring::UniqueFd fd_;
  std::int64_t deadline_ms_ = 0;
  std::uint16_t id_ = 0;
  wire::Question question_;     // points into the forward's probe_name, which outlives us
  bool stream_ = false;         // TCP or TLS: messages carry a length prefix
  bool connecting_ = false;     // a stream's connect() has not completed yet
  TlsSession tls_;              // active for tls:// upstreams only
  bool query_written_ = false;  // TLS: the query went into the session
  std::size_t query_len_ = 0;   // the message's, without the prefix
  std::size_t out_begin_ = 0;
  std::size_t out_end_ = 0;
  std::size_t cipher_len_ = 0;
  std::size_t in_len_ = 0;
};

}  // namespace ringdns::core
