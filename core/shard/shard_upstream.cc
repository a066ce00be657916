// Sending attempts upstream on a shard: binding the upstream the selector chose
// (core/upstream/selector.h) to a socket and an unpredictable ID, and retries that keep
// the previous UDP attempt alive as a hedge.
#include <time.h>

#include <algorithm>

#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"

namespace ringdns::core {
namespace {

using namespace layout;

}  // namespace

std::int64_t ShardReactor::NowUs() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

bool ShardReactor::ChooseUpstream(InflightSlot& slot, std::uint32_t index, bool first) {
  slot.upstream = first ? selector_.First(*slot.forward, random_)
                        : selector_.Next(*slot.forward, slot.upstream);
  return BindUpstream(slot, index);
}

bool ShardReactor::BindUpstream(InflightSlot& slot, std::uint32_t index) {
  if (slot.tcp_upstream) {
    const std::uint32_t conn = UpstreamStream(slot);
    if (conn == kNoConn) return false;
    slot.upstream_socket = PendingSocketOf(conn);
  } else {
    const std::uint16_t socket =
        upstream_udp_.Pick(slot.forward->upstreams[slot.upstream].family(), random_);
    if (socket == UpstreamUdpSockets::kNone) return false;
    slot.upstream_socket = socket;
  }
  // An unpredictable ID, unique among the queries waiting on that socket (RFC 5452).
  std::uint32_t key;
  // Not the hedge's either: (upstream, TXID) then names one attempt of the slot.
  do {
    slot.txid = random_.Next16();
    key = PendingIndex::Key(slot.upstream_socket, slot.txid);
  } while (pending_.Contains(key) || (slot.prev_pending && slot.txid == slot.prev_txid));
  pending_.Insert(key, index);
  slot.pending = true;
  if (slot.tcp_upstream) {
    Stream& stream = streams_[StreamOfPendingSocket(slot.upstream_socket)];
    ++stream.inflight;
    // Kept across retries that land on the same stream: only a byte received restarts it.
    if (stream.quiet_since_ms == 0) stream.quiet_since_ms = NowMs();
  }
  return true;
}

void ShardReactor::ForgetPending(InflightSlot& slot) noexcept {
  if (slot.prev_pending) {
    slot.prev_pending = false;
    pending_.Erase(PendingIndex::Key(slot.prev_socket, slot.prev_txid));
  }
  if (!slot.pending) return;
  slot.pending = false;
  pending_.Erase(PendingIndex::Key(slot.upstream_socket, slot.txid));
  if (slot.tcp_upstream) {
    Stream& stream = streams_[StreamOfPendingSocket(slot.upstream_socket)];
    if (stream.inflight > 0) --stream.inflight;
  }
}

bool ShardReactor::AttemptOf(const InflightSlot& slot, std::uint16_t socket, std::uint16_t txid,
                             std::uint8_t& upstream) const noexcept {
  if (slot.pending && socket == slot.upstream_socket && txid == slot.txid) {
    upstream = slot.upstream;
    return true;
  }
  if (slot.prev_pending && socket == slot.prev_socket && txid == slot.prev_txid) {
    upstream = slot.prev_upstream;
    return true;
  }
  return false;
}

ShardReactor::Retry ShardReactor::RetryNext(std::uint32_t index, std::int64_t now) {
  InflightSlot& slot = inflight_[index];
  ++slot.attempts;
  const ForwardRoute& f = *slot.forward;
  const bool out_of_attempts = f.max_attempts != 0 && slot.attempts >= f.max_attempts;
  if (now >= slot.deadline_ms || out_of_attempts) return Retry::kExhausted;
  if (FailsFast(f)) return Retry::kAllDown;
  // A 0x20 or cookie check over TCP ends with its attempt: the next upstream is asked
  // as the forward asks.
  const bool checking = slot.case_over_tcp || slot.cookie_over_tcp;
  slot.case_over_tcp = false;
  slot.cookie_over_tcp = false;
  if (slot.pending && !slot.tcp_upstream) {
    // Keep this attempt as the hedge (dropping an older one).
    if (slot.prev_pending) pending_.Erase(PendingIndex::Key(slot.prev_socket, slot.prev_txid));
    slot.prev_pending = true;
    slot.prev_upstream = slot.upstream;
    slot.prev_socket = slot.upstream_socket;
    slot.prev_txid = slot.txid;
    slot.prev_case_spelled = slot.case_spelled;
    slot.pending = false;
  } else {
    ForgetPending(slot);  // over TCP, no hedge: the stream stops waiting on it
  }
  if (checking) slot.tcp_upstream = f.force_tcp || (slot.conn != kNoSlot && !f.prefer_udp);
  if (!ChooseUpstream(slot, index, false)) {
    // Nothing to send on: the next one at once, or when a connection may be opened.
    timers_->Schedule(index, std::min(RetryWithoutConnectionAt(slot, now), slot.deadline_ms));
    return Retry::kRetried;
  }
  ++counters_.retries;
  SendToUpstream(index);
  timers_->Schedule(index, std::min(now + AttemptTimeoutMs(slot), slot.deadline_ms));
  return Retry::kRetried;
}

void ShardReactor::AskAgainOverUdp(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  ForgetPending(slot);
  const std::int64_t now = NowMs();
  if (!BindUpstream(slot, index)) {
    timers_->Schedule(index, now);
    return;
  }
  SendToUpstream(index);
  timers_->Schedule(index, std::min(now + AttemptTimeoutMs(slot), slot.deadline_ms));
}

void ShardReactor::BackToUdpAfterCheck(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  slot.moved = false;  // a broken stream's failure is not the upstream's either
  ForgetPending(slot);
  // Only answers over UDP start a check, so the forward asks over UDP.
  slot.tcp_upstream = false;
  AskAgainOverUdp(index);
}

}  // namespace ringdns::core
