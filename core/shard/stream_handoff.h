// core/shard/stream_handoff.h: client connections (TCP and DNS over TLS) that a reload's old
// shard passes to its successor, so clients keep their connections, and TLS clients
// their sessions, across a reload. The old shard stops reading each connection, answers
// what it had read, and hands over the socket with anything it held: the start of a
// message not yet complete, and for TLS the OpenSSL session itself (which keeps the
// certificate it was established with; new connections get the new one). The successor
// adopts them on its next loop turn.
//
// Written by the old shard and read by the new one; the mutex is taken only while a
// reload hands connections over, never on the packet path (`waiting` is checked first).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "core/net.h"
#include "core/stream/tls_session.h"
#include "ring/fd.h"

namespace ringdns::core {

struct HandedStream {
  ring::UniqueFd fd;          // closed with the hand-off if nobody adopts it
  SockAddr listener;          // the address the client connected to
  bool tls_listener = false;  // a tls:// listener accepted it
  sockaddr_in6 peer{};
  socklen_t peer_len = 0;
  std::int64_t opened_ms = 0;
  std::uint32_t queries = 0;
  TlsSession tls;                    // active for DNS over TLS
  std::vector<std::uint8_t> unread;  // received (plaintext) octets of an incomplete message
};

class StreamHandoff {
 public:
  // Old shard.
  void Hand(HandedStream stream) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(std::move(stream));
    waiting_.store(true, std::memory_order_release);
  }
  // Old shard, last: nothing more will come.
  void Finish() noexcept { finished_.store(true, std::memory_order_release); }

  // New shard, every loop turn while it holds the hand-off.
  bool waiting() const noexcept { return waiting_.load(std::memory_order_acquire); }
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  std::vector<HandedStream> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.store(false, std::memory_order_relaxed);
    return std::exchange(streams_, {});
  }

 private:
  std::mutex mu_;
  std::vector<HandedStream> streams_;
  std::atomic<bool> waiting_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace ringdns::core
