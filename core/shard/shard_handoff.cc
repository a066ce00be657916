// Client connections across a reload (core/shard/stream_handoff.h). The old shard, once
// stopping, cancels each client connection's receive; whatever it had read is answered;
// then the socket, the start of any message not yet complete and the TLS session go to
// the successor, which reads on where the old shard stopped. Nothing the client sent is
// lost: bytes still in the socket are read by the successor, and a query the old shard
// read is answered by it. A connection that arrives while the old shard stops goes over
// untouched (the successor starts its TLS handshake with the new certificate).
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/net.h"
#include "core/shard/shard_reactor.h"
#include "ring/user_data.h"

namespace ringdns::core {

void ShardReactor::BeginHandingOverStreams() {
  for (std::uint32_t conn = 0; conn < options_.tcp_connections; ++conn) {
    Stream& s = streams_[conn];
    if (!s.live() || s.draining) continue;
    s.handing_over = true;
    ++streams_handing_over_;
    // A handshake in progress runs on (its receive stays); afterwards no receive is armed.
    if (s.recv_armed && s.handshake_since_ms == 0) {
      (void)ring_.Cancel(ring::UserData{kStreamRecv, s.generation, conn, 0},
                         ring::UserData{kIgnore, 0, 0, 0});
    } else {
      TryHandOver(conn);
    }
  }
}

void ShardReactor::TryHandOver(std::uint32_t conn) {
  Stream& s = streams_[conn];
  if (!s.live() || s.draining || s.recv_armed || s.send_armed) return;
  if (s.inflight > 0 || !s.out.empty() || s.handshake_since_ms != 0) return;
  if (s.tls != kNoTls) {
    const TlsConnection& t = tls_[s.tls];
    if (t.out_sent != t.out_len || t.session.ciphertext_pending()) return;  // still to send
  }
  HandedStream handed = Handed(s.listener, s.peer, s.peer_len, s.fd);
  handed.opened_ms = s.opened_ms;
  handed.queries = s.queries;
  const std::span<const std::uint8_t> unread = s.in.Unread();
  handed.unread.assign(unread.begin(), unread.end());
  if (s.tls != kNoTls) handed.tls = std::move(tls_[s.tls].session);
  stream_out_->Hand(std::move(handed));
  ++counters_.tcp_handed_over;
  s.fd = -1;  // the successor's now: the slot is freed without closing it
  FinishClose(conn);
}

void ShardReactor::HandOverFresh(int fd, std::uint32_t listener) {
  sockaddr_in6 peer{};
  socklen_t peer_len = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) peer_len = 0;
  TuneClientSocket(fd);
  HandedStream handed = Handed(listener, peer, peer_len, fd);
  handed.opened_ms = NowMs();
  stream_out_->Hand(std::move(handed));
  ++counters_.tcp_handed_over;
}

HandedStream ShardReactor::Handed(std::uint32_t listener, const sockaddr_in6& peer,
                                  socklen_t peer_len, int fd) const {
  HandedStream handed;
  handed.fd = ring::UniqueFd(fd);
  const ListenerSpec& spec = routes_.listeners[tcp_listeners_[listener].spec];
  handed.listener = spec.address;
  handed.tls_listener = spec.tls != nullptr;
  handed.peer = peer;
  handed.peer_len = peer_len;
  return handed;
}

void ShardReactor::AdoptStreams() {
  std::vector<HandedStream> handed = stream_in_->Take();
  for (HandedStream& h : handed) AdoptStream(h);
}

void ShardReactor::AdoptStream(HandedStream& handed) {
  if (stopping_) {  // reloaded again meanwhile: on to the next successor, or closed
    if (stream_out_) stream_out_->Hand(std::move(handed));
    return;
  }
  const std::uint32_t listener = TcpListenerFor(handed.listener);
  SSL_CTX* tls =
      listener != kNoConn ? routes_.listeners[tcp_listeners_[listener].spec].tls : nullptr;
  // The listener must still exist and still speak the same protocol; otherwise the
  // connection closes (with `handed`), as it would have before.
  if (listener == kNoConn || (tls != nullptr) != handed.tls_listener ||
      !streams_.client_available()) {
    ++counters_.tcp_refused;
    return;
  }
  const std::uint32_t conn = streams_.TakeClient();
  Stream& s = OpenClientStream(conn, handed.fd.Release(), listener);
  s.queries = handed.queries;
  s.opened_ms = handed.opened_ms;
  s.peer = handed.peer;
  s.peer_len = handed.peer_len;
  const std::span<std::uint8_t> tail = s.in.Tail();
  const std::size_t unread = std::min(handed.unread.size(), tail.size());  // same size: all of it
  if (unread > 0) std::memcpy(tail.data(), handed.unread.data(), unread);
  s.in.Commit(unread);
  ++counters_.tcp_adopted;
  if (handed.tls.active()) {
    const std::uint32_t index = tls_.TakeForClient(/*handshake=*/false);
    if (index == kNoTls) {
      ++counters_.tls_refused;
      return CloseStream(conn);
    }
    tls_.Adopt(index, std::move(handed.tls));
    s.tls = index;
    s.handshake_since_ms = 0;
  } else if (tls != nullptr) {  // arrived while the old shard stopped: no handshake yet
    if (!StartTls(conn, tls)) return CloseStream(conn);
    ArmStreamRecv(conn);
    return ScheduleStreamTimer(conn);
  }
  ReadClientQueries(conn);  // the unread octets, plaintext OpenSSL held, then a receive
}

std::uint32_t ShardReactor::TcpListenerFor(const SockAddr& address) const noexcept {
  for (std::uint32_t i = 0; i < tcp_listeners_.size(); ++i) {
    if (SameEndpoint(routes_.listeners[tcp_listeners_[i].spec].address.get(), address.get()))
      return i;
  }
  return kNoConn;
}

}  // namespace ringdns::core
