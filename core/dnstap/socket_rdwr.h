// core/dnstap/socket_rdwr.h: the byte stream libfstrm writes a collector's Frame Streams
// over: a Unix or TCP socket whose connect, read and write each give up after a
// timeout.
//
// fstrm's own socket writers block without limit, so a collector that accepts and then
// never answers the handshake, or stops reading, would hold fstrm's I/O thread for ever
// and with it ringdns's shutdown and every reload that drops the collector. Here such a
// collector fails the operation instead; fstrm closes and tries again a second later.
// (A host name is resolved with getaddrinfo, whose own timeouts bound that step.)
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>

struct fstrm_rdwr;

namespace ringdns::core::dnstap {

// Where to connect: an address, or a host name and port resolved (getaddrinfo, every
// address tried in turn) at each connect.
struct CollectorSocket {
  sockaddr_storage address{};
  socklen_t address_len = 0;
  std::string host;
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{2000};  // for a connect, a read, a write
};

// What the collector and fstrm's I/O thread share about the link to the collector.
struct CollectorLink {
  // Connected: fstrm takes frames (while down it would discard them).
  std::atomic<bool> up{false};
  // CLOCK_MONOTONIC ms after which every operation fails at once: set when the
  // collector is closed, so fstrm's last flush takes at most the timeout, whatever the
  // collector does, and the frames still queued are let go.
  std::atomic<std::int64_t> give_up_at_ms{INT64_MAX};
  // Octets of frames handed to fstrm and not yet freed by it.
  std::atomic<std::int64_t> queued_bytes{0};
};

// A new fstrm_rdwr (for fstrm_writer_init, which owns it) over `socket`. Each connect
// (each address), read and write has the timeout in all, not per wait.
fstrm_rdwr* NewSocketRdwr(const CollectorSocket& socket, std::shared_ptr<CollectorLink> state);

std::int64_t MonotonicMs() noexcept;

}  // namespace ringdns::core::dnstap
