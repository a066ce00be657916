// TCP streams on a shard (RFC 7766): client connections accepted on every listener,
// length-prefixed messages read into a fixed buffer per connection, queries served
// as they arrive (pipelined, answered out of order), answers written in order one at a
// time, and the limits that keep a slow or hostile client from holding resources: an
// in-flight cap per connection, read, write and idle timeouts, and a connection cap.
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/base/invariant.h"
#include "core/net.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "ring/user_data.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

using namespace layout;

}  // namespace

absl::Status ShardReactor::InitStreams() {
  // A TCP listener beside every UDP one, same index.
  for (const Socket& udp : listeners_) {
    absl::StatusOr<ring::UniqueFd> fd =
        ListenerSocket(routes_.listeners[udp.spec].address, /*tcp=*/true);
    if (!fd.ok()) return fd.status();
    Socket& s = tcp_listeners_.emplace_back();
    s.fd = std::move(*fd);
    s.family = udp.family;
    s.spec = udp.spec;
  }
  // Upstream connections follow the clients' in streams_, in pools.
  const std::uint32_t clients = options_.tcp_connections;
  upstream_pools_.Build(routes_, clients);
  const std::uint32_t upstream_streams = upstream_pools_.connections();
  if (upstream_streams > 0xffff - kStreamSocketBase) {
    return absl::InvalidArgumentError("too many upstreams for TCP stream keys");
  }
  streams_.Build({.clients = clients,
                  .upstreams = upstream_streams,
                  .client_writes = options_.tcp_inflight_per_connection,
                  .upstream_writes = options_.upstream_tcp_queue,
                  .client_buffer = kClientStreamBuffer,
                  .upstream_buffer = kUpstreamStreamBuffer});
  tls_ = TlsSlots(options_.tls_connections, upstream_streams, options_.tls_handshakes,
                  counters_.invariant_violations);
  stream_timers_.emplace(streams_.size(), NowMs());
  for (std::uint32_t i = 0; i < tcp_listeners_.size(); ++i) ArmAccept(i);
  return absl::OkStatus();
}

void ShardReactor::ArmAccept(std::uint32_t listener) {
  // When the kernel refuses, retried on the next loop turn.
  tcp_listeners_[listener].armed = ring_.AcceptMultishot(tcp_listeners_[listener].fd.get(),
                                                         ring::UserData{kAccept, 0, listener, 0});
}

void ShardReactor::OnAccept(std::uint32_t listener, const io_uring_cqe& cqe) {
  if ((cqe.flags & IORING_CQE_F_MORE) == 0) tcp_listeners_[listener].armed = false;
  if (cqe.res < 0) return;  // re-armed by Run
  const int fd = cqe.res;
  if (stopping_ && stream_out_) return HandOverFresh(fd, listener);
  const std::uint32_t conn = stopping_ ? kNoSlot : streams_.TakeClient();
  if (conn == kNoSlot) {
    ++counters_.tcp_refused;
    ::close(fd);
    return;
  }
  TuneClientSocket(fd);
  Stream& s = OpenClientStream(conn, fd, listener);
  s.queries = 0;
  s.opened_ms = s.active_ms;
  s.peer_len = sizeof(s.peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&s.peer), &s.peer_len) != 0) s.peer_len = 0;
  ++counters_.tcp_accepted;
  if (SSL_CTX* tls = routes_.listeners[tcp_listeners_[listener].spec].tls;
      tls != nullptr && !StartTls(conn, tls)) {
    return CloseStream(conn);
  }
  ArmStreamRecv(conn);
  ScheduleStreamTimer(conn);
}

Stream& ShardReactor::OpenClientStream(std::uint32_t conn, int fd, std::uint32_t listener) {
  Stream& s = streams_[conn];
  s.fd = fd;
  s.state = StreamState::kOpen;
  s.stalled = s.draining = s.handing_over = false;
  s.inflight = 0;
  s.listener = listener;
  s.active_ms = NowMs();
  s.partial_since_ms = s.send_since_ms = 0;
  s.in.Reset();
  // server_ip() in a view is the address the client reached: a wildcard listener's
  // socket alone knows it (a listener on one address answers from that address).
  s.local = routes_.views && IsWildcard(routes_.listeners[tcp_listeners_[listener].spec].address)
                ? ReplySource::LocalOf(fd)
                : ReplySource{};
  return s;
}

void ShardReactor::TuneClientSocket(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Answers a client does not read stay in this buffer, not in an autotuned megabytes
  // one; once it is full the write timeout decides.
  const int send_buffer = kClientSendBuffer;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
}

void ShardReactor::ArmStreamRecv(std::uint32_t conn) {
  Stream& s = streams_[conn];
  // !live: closed on the way here (a TLS close_notify ends the stream inside a read);
  // a receive armed now would complete on the slot's next connection.
  if (!s.live() || s.recv_armed) return;
  if (s.handing_over && s.handshake_since_ms == 0) return TryHandOver(conn);  // read no more
  // DNS over TLS receives ciphertext into its session's buffer; plain TCP straight into
  // the read buffer.
  const std::span<std::uint8_t> tail =
      s.tls != kNoTls ? std::span<std::uint8_t>(tls_[s.tls].cipher_in, kTlsCipherBuffer)
                      : s.in.Tail();
  if (tail.empty() || !ring_.Recv(s.fd, tail, ring::UserData{kStreamRecv, s.generation, conn, 0})) {
    return CloseStream(conn);
  }
  s.recv_armed = true;
}

void ShardReactor::OnStreamRecv(std::uint32_t conn, int res) {
  Stream& s = streams_[conn];
  s.recv_armed = false;
  if (s.closing()) return FinishClose(conn);
  if (res == -ECANCELED && s.handing_over) return TryHandOver(conn);
  if (res <= 0) {  // the peer closed, or the connection failed
    if (s.upstream) return BreakUpstream(conn);
    return CloseStream(conn);
  }
  s.active_ms = NowMs();
  if (s.upstream && s.inflight > 0) s.quiet_since_ms = s.active_ms;  // the peer is there
  if (s.tls != kNoTls) return OnTlsReceived(conn, static_cast<std::size_t>(res));
  s.in.Commit(static_cast<std::size_t>(res));
  if (s.upstream) return ReadUpstreamAnswers(conn);
  ReadClientQueries(conn);
}

ShardReactor::Frame ShardReactor::NextFrame(std::uint32_t conn, std::span<std::uint8_t>& message) {
  Stream& s = streams_[conn];
  while (true) {
    switch (s.in.Next(message)) {
      case FrameReader::Status::kMessage: return Frame::kMessage;
      case FrameReader::Status::kNeedMore: break;
      default: return Frame::kBad;  // a zero or oversized length
    }
    if (s.tls != kNoTls && DecryptMore(conn)) continue;  // more plaintext arrived
    // Closed on the way (freed at once if nothing was armed), or wait for more.
    return s.live() ? Frame::kNone : Frame::kGone;
  }
}

void ShardReactor::ReadClientQueries(std::uint32_t conn, std::uint32_t budget) {
  Stream& s = streams_[conn];
  while (!s.draining) {
    std::span<std::uint8_t> message;
    const Frame frame = NextFrame(conn, message);
    if (frame == Frame::kGone) return;
    if (frame == Frame::kNone) break;
    if (frame == Frame::kBad || message.size() < wire::header::kSize ||
        (wire::LoadU16(message.data() + wire::header::kFlags) & wire::flag::kQr) != 0) {
      // A zero or oversized length, a runt, or an answer: not a DNS client. Close.
      ++counters_.tcp_bad_frames;
      return CloseStream(conn);
    }
    // Paused until answers go out (OnStreamSend resumes) or a buffer comes to this
    // connection's turn (ResumeStalledStreams); the socket buffer and then TCP flow
    // control hold the client back meanwhile. Answers never wait for these buffers.
    const bool too_many = s.inflight >= options_.tcp_inflight_per_connection;
    const bool others_first = budget == kAnyNumber && streams_.anyone_waiting();
    if (too_many || !query_buffers_.tcp_available() || budget == 0 || others_first) {
      if (!s.stalled) ++counters_.tcp_stalls;
      s.stalled = true;
      if (!too_many) streams_.WaitForBuffer(conn);
      ScheduleStreamTimer(conn);
      return;
    }
    s.stalled = false;
    if (budget != kAnyNumber) --budget;
    const std::uint16_t bid = query_buffers_.TakeTcp();  // held by the slot it will fill
    std::uint8_t* payload = query_buffers_.Payload(bid);
    std::memcpy(payload, message.data(), message.size());
    s.in.Consume(message);
    ++s.inflight;
    ++s.queries;
    ++counters_.queries;
    ++counters_.tcp_queries;
    const auto len = static_cast<std::uint16_t>(message.size());
    Client client{.listener = s.listener,
                  .bid = bid,
                  .id = wire::GetId({payload, len}),
                  .query_len = len,
                  .udp_size = 0xffff,  // TCP: no truncation
                  .addr = s.peer_len > 0 ? reinterpret_cast<const sockaddr*>(&s.peer) : nullptr,
                  .addr_len = s.peer_len,
                  .conn = conn,
                  .conn_generation = s.generation,
                  .source = s.local};
    ServeQuery(client, {payload, len});
    if (options_.tcp_queries_per_connection != 0 &&
        s.queries >= options_.tcp_queries_per_connection) {
      ++counters_.tcp_query_limit;
      s.draining = true;  // answer what was asked, then close
    }
  }
  if (!s.live()) return;
  s.partial_since_ms = !s.in.partial() ? 0 : s.partial_since_ms != 0 ? s.partial_since_ms : NowMs();
  if (s.draining) {
    if (s.inflight == 0 && s.out.empty()) CloseStream(conn);
    return;
  }
  ArmStreamRecv(conn);
  ScheduleStreamTimer(conn);
}

void ShardReactor::StreamQueryDone(std::uint32_t conn, std::uint16_t generation) {
  Stream& s = streams_[conn];
  if (!s.live() || s.generation != generation) return;
  if (s.inflight > 0) --s.inflight;
  if (s.draining && s.inflight == 0 && s.out.empty()) CloseStream(conn);
  if (s.handing_over) TryHandOver(conn);
}

void ShardReactor::ResumeStalledStreams() {
  // One query per waiting connection in turn, while buffers last: a connection with
  // more to read queues again at the end, so one busy client cannot keep every freed
  // buffer. Each turn takes a buffer or shortens the queue, so this ends.
  while (streams_.anyone_waiting() && query_buffers_.tcp_available()) {
    const std::uint32_t conn = streams_.NextWaiting();
    const Stream& s = streams_[conn];
    if (!s.live() || !s.stalled) continue;
    ReadClientQueries(conn, 1);
  }
}

bool ShardReactor::StreamWrite(std::uint32_t conn, std::uint16_t generation, std::uint8_t* data,
                               std::size_t len, Owner owner, std::uint16_t bid) {
  Stream& s = streams_[conn];
  if (!s.live() || s.generation != generation || s.out.full()) {
    GiveBack(owner, bid);  // the client went away (or, for an upstream, fail over)
    return false;
  }
  wire::StoreU16(data - 2, static_cast<std::uint16_t>(len));  // RFC 1035 section 4.2.2
  if (owner == kOwnsBig && !s.upstream) ++s.big_held;
  s.out.Push({data - 2, static_cast<std::uint32_t>(len + 2), 0, owner, bid});
  if (!s.send_armed && s.state == StreamState::kOpen) ArmStreamSend(conn);
  return true;
}

void ShardReactor::CancelUnsentWrites(std::uint16_t bid) noexcept {
  // Rare (an answer while its query waits on a connection), so a scan is fine. A write
  // not begun can go, except one a plain-TCP send is reading now; over TLS the kernel
  // reads only the ciphertext.
  for (std::uint32_t conn = options_.tcp_connections; conn < streams_.size(); ++conn) {
    Stream& s = streams_[conn];
    if (!s.in_use()) continue;
    s.out.ForEach([&](PendingWrite& w, bool front) {
      if (w.owner != kOwnsQuery || w.buffer != bid || w.sent != 0) return;
      if (front && s.send_armed && s.tls == kNoTls) return;
      w.owner = kOwnsNothing;
      w.len = 0;  // skipped by the sends
      query_buffers_.Release(bid);
    });
  }
}

void ShardReactor::SkipCancelledWrites(Stream& s) noexcept {
  while (!s.out.empty() && s.out.Front().len == 0) s.out.Pop();
}

void ShardReactor::ArmStreamSend(std::uint32_t conn) {
  Stream& s = streams_[conn];
  SkipCancelledWrites(s);
  if (!s.live() || s.out.empty()) return;
  if (s.tls != kNoTls) return PumpTlsSend(conn);
  const PendingWrite& w = s.out.Front();
  SendOnStream(conn, {w.data + w.sent, w.len - w.sent}, MSG_NOSIGNAL | MSG_WAITALL);
}

void ShardReactor::SendOnStream(std::uint32_t conn, std::span<const std::uint8_t> bytes,
                                int flags) {
  Stream& s = streams_[conn];
  if (!ring_.Send(s.fd, bytes, flags, ring::UserData{kStreamSend, s.generation, conn, 0})) {
    return CloseStream(conn);
  }
  s.send_armed = true;
  ++sends_in_flight_;
  if (s.send_since_ms == 0) s.send_since_ms = NowMs();
  ScheduleStreamTimer(conn);
}

void ShardReactor::OnStreamSend(std::uint32_t conn, int res) {
  Stream& s = streams_[conn];
  s.send_armed = false;
  if (s.closing()) return FinishClose(conn);
  if (res <= 0) {
    if (s.upstream) return BreakUpstream(conn);
    return CloseStream(conn);
  }
  if (s.tls != kNoTls) return OnTlsSend(conn, res);
  PendingWrite& w = s.out.Front();
  w.sent += static_cast<std::uint32_t>(res);
  if (w.sent < w.len) return ArmStreamSend(conn);  // a short write: the rest
  WriteDone(s, w);
  s.out.Pop();
  s.send_since_ms = 0;
  s.active_ms = NowMs();
  if (!s.upstream && s.inflight > 0) --s.inflight;  // that query is answered
  if (!s.out.empty()) ArmStreamSend(conn);
  if (s.upstream) return;
  AfterClientSend(conn);
}

void ShardReactor::AfterClientSend(std::uint32_t conn) {
  Stream& s = streams_[conn];
  // The send just armed may have failed and freed the stream: nothing was left armed.
  if (!s.live()) return;
  if (s.draining && s.inflight == 0 && s.out.empty() && !s.send_armed) return CloseStream(conn);
  if (s.stalled && s.inflight < options_.tcp_inflight_per_connection) {
    ReadClientQueries(conn);
    if (!s.live()) return;
  }
  if (s.handing_over) {
    TryHandOver(conn);
    if (!s.in_use()) return;
  }
  ScheduleStreamTimer(conn);
}

void ShardReactor::CloseStream(std::uint32_t conn) {
  Stream& s = streams_[conn];
  if (!s.live()) return;
  s.state = StreamState::kClosing;
  // Ends a receive or send armed on the socket; each completion then calls FinishClose.
  ::shutdown(s.fd, SHUT_RDWR);
  if (s.connect_armed) {
    // Cancelled by its user_data, not by fd: the fd number may be reused by then.
    (void)ring_.Cancel(ring::UserData{kConnect, s.generation, conn, 0},
                       ring::UserData{kIgnore, 0, 0, 0});
  }
  FinishClose(conn);
}

void ShardReactor::FinishClose(std::uint32_t conn) {
  Stream& s = streams_[conn];
  if (s.recv_armed || s.send_armed || s.connect_armed) return;
  while (!s.out.empty()) {
    WriteDone(s, s.out.Front());
    s.out.Pop();
  }
  EndTls(conn);
  if (s.fd >= 0) ::close(s.fd);  // -1: handed over to a reload's successor
  if (s.handing_over) --streams_handing_over_;
  stream_timers_->Cancel(conn);
  streams_.Recycle(conn);
}

void ShardReactor::ScheduleStreamTimer(std::uint32_t conn) {
  const Stream& s = streams_[conn];
  // A freed slot's timer would fire on the slot's next connection.
  if (!RINGDNS_INVARIANT(s.in_use())) {
    ++counters_.invariant_violations;
    return;
  }
  std::int64_t deadline;
  if (s.upstream) {
    const ForwardRoute& f = upstream_pools_.forward_of(conn);
    deadline = s.active_ms + f.expire_ms;
    if (f.max_age_ms > 0) deadline = std::min(deadline, s.opened_ms + f.max_age_ms);
    if (s.handshake_since_ms != 0)
      deadline = std::min(deadline, s.handshake_since_ms + f.read_timeout_ms);
    if (s.send_since_ms != 0) deadline = std::min(deadline, s.send_since_ms + f.read_timeout_ms);
    if (s.quiet_since_ms != 0) deadline = std::min(deadline, s.quiet_since_ms + f.read_timeout_ms);
  } else {
    deadline = s.active_ms + options_.tcp_idle_timeout_ms;
    if (s.partial_since_ms != 0 && !s.stalled) {
      deadline = std::min(deadline, s.partial_since_ms + options_.tcp_read_timeout_ms);
    }
    if (s.send_since_ms != 0)
      deadline = std::min(deadline, s.send_since_ms + options_.tcp_write_timeout_ms);
    if (s.handshake_since_ms != 0)
      deadline = std::min(deadline, s.handshake_since_ms + options_.tls_handshake_timeout_ms);
  }
  stream_timers_->Schedule(conn, deadline);
}

void ShardReactor::OnStreamTimer(std::uint32_t conn) {
  Stream& s = streams_[conn];
  if (!s.live()) return;
  const std::int64_t now = NowMs();
  const bool idle = s.inflight == 0 && s.out.empty() && !s.in.partial();
  if (s.upstream) {
    const ForwardRoute& f = upstream_pools_.forward_of(conn);
    const bool expired = now >= s.active_ms + f.expire_ms;
    const bool too_old = f.max_age_ms > 0 && now >= s.opened_ms + f.max_age_ms;
    if (s.handshake_since_ms != 0 && now >= s.handshake_since_ms + f.read_timeout_ms) {
      ++counters_.tls_handshake_timeouts;
      return BreakUpstream(conn);
    }
    if (s.send_since_ms != 0 && now >= s.send_since_ms + f.read_timeout_ms) {
      ++counters_.upstream_write_timeouts;  // the peer stopped reading: it is gone
      return BreakUpstream(conn);
    }
    // Queries wait and nothing at all has come back for read_timeout: a peer that
    // vanished without FIN or RST (a crashed node, a stale NAT entry). Its queries move
    // to a fresh connection now, not when the kernel gives up on it minutes later.
    if (s.quiet_since_ms != 0 && now >= s.quiet_since_ms + f.read_timeout_ms) {
      ++counters_.upstream_tcp_silent;
      // With nothing left waiting (those queries went elsewhere), just close it.
      return s.inflight > 0 ? BreakUpstream(conn) : CloseStream(conn);
    }
    if (idle && (expired || too_old)) return CloseStream(conn);
    return ScheduleStreamTimer(conn);
  }
  if (s.handshake_since_ms != 0 &&
      now >= s.handshake_since_ms + options_.tls_handshake_timeout_ms) {
    ++counters_.tls_handshake_timeouts;  // a client that never finishes its handshake
    return CloseStream(conn);
  }
  if (s.send_since_ms != 0 && now >= s.send_since_ms + options_.tcp_write_timeout_ms) {
    ++counters_.tcp_write_timeouts;  // the client does not read its answers
    return CloseStream(conn);
  }
  // A message we stopped reading ourselves (stalled) is not the client's fault.
  if (s.partial_since_ms != 0 && !s.stalled &&
      now >= s.partial_since_ms + options_.tcp_read_timeout_ms) {
    ++counters_.tcp_read_timeouts;  // a message begun and never finished
    return CloseStream(conn);
  }
  if (idle && now >= s.active_ms + options_.tcp_idle_timeout_ms) {
    ++counters_.tcp_idle_closed;
    return CloseStream(conn);
  }
  ScheduleStreamTimer(conn);
}

}  // namespace ringdns::core
