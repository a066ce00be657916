// TCP to upstreams (RFC 7766): per shard and upstream a small pool of connections,
// opened on demand, shared by every query to that upstream with distinct IDs
// (pipelining), answers matched by (connection, ID) in any order, closed after `expire`
// idle or `max_age`. A connection that breaks fails its queries over at once. Used
// for TCP clients (unless prefer_udp), force_tcp, and UDP answers that came back
// truncated.
#include <cstring>

#include "core/net.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "ring/user_data.h"
#include "wire/message.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

using namespace layout;

}  // namespace

std::uint32_t ShardReactor::UpstreamStream(const InflightSlot& slot) {
  const std::uint32_t pool = upstream_pools_.PoolOf(*slot.forward, slot.upstream);
  const std::uint32_t first = upstream_pools_.FirstConnection(pool);
  std::uint32_t unused = kNoConn;
  for (std::uint32_t conn = first; conn < first + UpstreamConnectionPools::kConnectionsPerPool;
       ++conn) {
    const Stream& s = streams_[conn];
    if (s.live() && !s.out.full()) return conn;
    if (!s.in_use() && unused == kNoConn) unused = conn;
  }
  if (unused == kNoConn) return kNoConn;  // both busy closing or full: fail over
  if (NowMs() < upstream_pools_.not_before_ms(pool)) return kNoConn;
  const SockAddr& upstream = slot.forward->upstreams[slot.upstream];
  const SockAddr* source = nullptr;
  for (const SockAddr& a : routes_.source_addresses) {
    if (a.family() == upstream.family()) source = &a;
  }
  absl::StatusOr<ring::UniqueFd> fd = OpenTcpUpstreamSocket(upstream.family(), source);
  if (!fd.ok()) {
    ++counters_.upstream_tcp_failures;
    return kNoConn;
  }
  Stream& s = streams_[unused];
  // The connect gives up after the forward's read timeout (a linked timeout).
  s.connect_timeout.tv_sec = slot.forward->read_timeout_ms / 1000;
  s.connect_timeout.tv_nsec = (slot.forward->read_timeout_ms % 1000) * 1'000'000;
  if (!ring_.Connect(fd->get(), upstream.get(), upstream.len, s.connect_timeout,
                     ring::UserData{kConnect, s.generation, unused, 0},
                     ring::UserData{kIgnore, 0, 0, 0})) {
    ++counters_.upstream_tcp_failures;
    return kNoConn;  // `fd` closes with it
  }
  s.fd = fd->Release();
  s.state = StreamState::kConnecting;
  s.connect_armed = true;
  s.stalled = s.answered = false;
  s.inflight = 0;
  s.quiet_since_ms = 0;
  s.opened_ms = s.active_ms = NowMs();
  s.in.Reset();
  ++counters_.upstream_tcp_connects;
  ScheduleStreamTimer(unused);
  return unused;
}

std::int64_t ShardReactor::RetryWithoutConnectionAt(const InflightSlot& slot,
                                                    std::int64_t now) const noexcept {
  if (!slot.tcp_upstream) return now;
  return std::max(
      now, upstream_pools_.not_before_ms(upstream_pools_.PoolOf(*slot.forward, slot.upstream)));
}

void ShardReactor::OnConnect(std::uint32_t conn, int res) {
  Stream& s = streams_[conn];
  s.connect_armed = false;
  if (s.closing()) return FinishClose(conn);
  if (res < 0) return BreakUpstream(conn);
  s.state = StreamState::kOpen;
  s.active_ms = NowMs();
  if (upstream_pools_.forward_of(conn).tls != nullptr) {
    // DNS over TLS: the ClientHello goes first; queued queries follow the handshake.
    if (!StartTlsClient(conn)) return BreakUpstream(conn);
    ArmStreamRecv(conn);
    DecryptMore(conn);
    return;
  }
  ArmStreamRecv(conn);
  if (!s.out.empty() && !s.send_armed) ArmStreamSend(conn);
}

void ShardReactor::SendOverTcp(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  const std::uint32_t conn = StreamOfPendingSocket(slot.upstream_socket);
  slot.case_spelled = false;  // over TCP the name goes as the client spelled it
  std::uint8_t* query = query_buffers_.Payload(slot.query_buffer);
  wire::SetId({query, slot.query_len}, slot.txid);
  if (taps_.TapsForward(slot)) taps_.ForwarderQuery(slot, {query, slot.query_len}, NowUs());
  query_buffers_.Hold(slot.query_buffer);  // the write's hold; StreamWrite gives it back on failure
  if (!StreamWrite(conn, streams_[conn].generation, query, slot.query_len, kOwnsQuery,
                   slot.query_buffer)) {
    ++counters_.send_errors;
    timers_->Schedule(index, NowMs());  // fail over at once
  }
}

void ShardReactor::RetryOverTcp(std::uint32_t index) {
  inflight_[index].truncated_over_udp = true;
  ++counters_.tc_retries;
  AskOverTcp(index);
}

void ShardReactor::AskOverTcp(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  ForgetPending(slot);
  slot.tcp_upstream = true;
  const std::int64_t now = NowMs();
  if (!BindUpstream(slot, index)) {  // the same upstream, now over TCP
    timers_->Schedule(index, now);
    return;
  }
  SendOverTcp(index);
  timers_->Schedule(index, std::min(now + slot.forward->read_timeout_ms, slot.deadline_ms));
}

void ShardReactor::ReadUpstreamAnswers(std::uint32_t conn) {
  Stream& s = streams_[conn];
  const std::uint16_t socket = PendingSocketOf(conn);
  const std::uint16_t generation = s.generation;
  while (true) {
    std::span<std::uint8_t> message;
    const Frame frame = NextFrame(conn, message);
    if (frame == Frame::kGone) return;
    if (frame == Frame::kNone) break;
    if (frame == Frame::kBad || message.size() < wire::header::kSize) {
      ++counters_.dropped_malformed;
      return BreakUpstream(conn);  // the stream is out of step: nothing after can be trusted
    }
    if (!s.answered) {
      s.answered = true;
      upstream_pools_.Answered(upstream_pools_.PoolOf(conn));
    }
    const std::uint16_t txid = wire::GetId(message);
    const std::uint32_t index = pending_.Find(PendingIndex::Key(socket, txid));
    if (index == PendingIndex::kEmpty) {
      ++counters_.dropped_unsolicited;  // a query that timed out and went elsewhere
      s.in.Consume(message);
      continue;
    }
    // Handled where it lies: checked, cached and shared with waiters from the read
    // buffer, and copied once into a buffer of its own only to be sent (PlaceAnswer).
    // So reading answers never waits for a buffer the clients' queries hold.
    OnUpstreamAnswer(index, inflight_[index].upstream, txid, message, false, kBorrowed, 0);
    if (s.generation != generation || !s.live()) return;  // it broke (or closed) meanwhile
    s.in.Consume(message);
  }
  if (s.inflight == 0) s.quiet_since_ms = 0;
  if (!s.closing()) ArmStreamRecv(conn);
  ScheduleStreamTimer(conn);
}

void ShardReactor::BreakUpstream(std::uint32_t conn) {
  // An upstream closing a connection nothing waits on is not a failure.
  // A stream closing here was open (a connect's failure comes with kConnecting).
  if (streams_[conn].inflight > 0 || streams_[conn].state == StreamState::kConnecting) {
    ++counters_.upstream_tcp_failures;
  }
  // Every query waiting on this connection fails over (OnTimeout picks the next
  // upstream, or a fresh connection to this one). Rare, so a scan is fine. After a
  // connection that worked, at once. After one that never answered (refused, its TLS
  // handshake failed, or the server rejected our certificate after TLS 1.3 finished its
  // side), a fresh connection would most likely fail the same way: the queries wait
  // the shortest attempt timeout, and the pool opens no connection for 50 ms, doubling
  // with each such failure in a row up to 800 ms, instead of hundreds a second.
  const Stream& s = streams_[conn];
  const std::int64_t now = NowMs();
  std::int64_t when = now;
  if (!s.answered) {
    upstream_pools_.BrokeUnanswered(upstream_pools_.PoolOf(conn), now,
                                    options_.min_attempt_timeout_ms);
    when = now + options_.min_attempt_timeout_ms;
  }
  const std::uint16_t socket = PendingSocketOf(conn);
  // Queries that only a 0x20 or cookie check sent here (case_over_tcp, cookie_over_tcp)
  // go back to UDP and do not blame the upstream: a UDP server without TCP is no failing
  // one. Read before the loop, where each ForgetPending lowers it.
  const bool had_queries = s.inflight > 0;
  bool waiting = false, only_checks = true;
  for (std::uint32_t i = 0; i < inflight_.made(); ++i) {
    InflightSlot& slot = inflight_[i];
    if (slot.in_use && slot.pending && slot.tcp_upstream && slot.upstream_socket == socket) {
      waiting = true;
      const bool check = slot.case_over_tcp || slot.cookie_over_tcp;
      only_checks = only_checks && check;
      ForgetPending(slot);
      slot.moved = true;
      // A check goes back to UDP, which needs no connection: at once.
      timers_->Schedule(i, std::min(check ? now : when, slot.deadline_ms));
    }
  }
  if (had_queries && !(waiting && only_checks)) {
    const std::uint32_t pool = upstream_pools_.PoolOf(conn);
    health_.Failure(upstream_pools_.upstream_id(pool),
                    upstream_pools_.forward(pool).max_fails);  // once
  }
  CloseStream(conn);
}

}  // namespace ringdns::core
