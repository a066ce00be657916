// Choosing upstreams on a shard: the policy among those up (health is shared by every
// shard), per-upstream adaptive attempt timeouts from measured round trips, and retries
// that keep the previous UDP attempt alive as a hedge.
#include <time.h>

#include <algorithm>

#include "core/shard.h"
#include "core/shard_layout.h"

namespace ringdns::core {
namespace {

using namespace layout;

}  // namespace

std::int64_t Shard::NowUs() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

bool Shard::AllUpstreamsDown(const ForwardRoute& f) const noexcept {
  for (std::uint32_t i = 0; i < f.upstreams.size(); ++i) {
    if (!health_.down(f.first_upstream + i)) return false;
  }
  return true;
}

bool Shard::ChooseUpstream(InflightSlot& slot, std::uint32_t index, bool first) {
  const ForwardRoute& f = *slot.forward;
  const auto n = static_cast<std::uint32_t>(f.upstreams.size());
  std::uint32_t start = 0;
  if (!first) {
    start = (slot.upstream + 1u) % n;
  } else if (f.policy == config::Policy::kRandom) {
    start = random_.Below(n);
  } else if (f.policy == config::Policy::kRoundRobin) {
    start = round_robin_[f.id]++ % n;
  }
  // The first upstream from `start` on that is up; when none is, `start` itself
  // (CoreDNS tries one anyway, unless failfast_all_unhealthy_upstreams answered first).
  slot.upstream = static_cast<std::uint8_t>(start);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t candidate = (start + i) % n;
    if (!health_.down(f.first_upstream + candidate)) {
      slot.upstream = static_cast<std::uint8_t>(candidate);
      break;
    }
  }
  return BindUpstream(slot, index);
}

bool Shard::BindUpstream(InflightSlot& slot, std::uint32_t index) {
  if (slot.tcp_upstream) {
    const std::uint32_t conn = UpstreamStream(slot);
    if (conn == kNoConn) return false;
    slot.upstream_socket = PendingSocketOf(conn);
  } else {
    const std::vector<std::uint16_t>& sockets =
        sockets_by_family_[FamilyIndex(slot.forward->upstreams[slot.upstream].family())];
    if (sockets.empty()) return false;
    // A random socket among those taking queries (at least half are; the rest are
    // retiring, shard_rotation.cc).
    const auto n = static_cast<std::uint32_t>(sockets.size());
    std::uint32_t k = random_.Below(n);
    for (std::uint32_t tries = 1; tries < n && upstream_sockets_[sockets[k]].retiring_since_ms != 0; ++tries) {
      k = (k + 1) % n;
    }
    slot.upstream_socket = sockets[k];
  }
  // An unpredictable ID, unique among the queries waiting on that socket (RFC 5452).
  std::uint32_t key;
  do {
    slot.txid = random_.Next16();
    key = PendingIndex::Key(slot.upstream_socket, slot.txid);
  } while (pending_.Contains(key));
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

void Shard::ForgetPending(InflightSlot& slot) noexcept {
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

bool Shard::AttemptOf(const InflightSlot& slot, std::uint16_t socket, std::uint16_t txid,
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

Shard::Retry Shard::RetryNext(std::uint32_t index, std::int64_t now) {
  InflightSlot& slot = inflight_[index];
  ++slot.attempts;
  const ForwardRoute& f = *slot.forward;
  const bool out_of_attempts = f.max_attempts != 0 && slot.attempts >= f.max_attempts;
  if (now >= slot.deadline_ms || out_of_attempts) return Retry::kExhausted;
  if (FailsFast(f)) return Retry::kAllDown;
  if (slot.pending && !slot.tcp_upstream) {
    // Keep this attempt as the hedge (dropping an older one).
    if (slot.prev_pending) pending_.Erase(PendingIndex::Key(slot.prev_socket, slot.prev_txid));
    slot.prev_pending = true;
    slot.prev_upstream = slot.upstream;
    slot.prev_socket = slot.upstream_socket;
    slot.prev_txid = slot.txid;
    slot.pending = false;
  } else {
    ForgetPending(slot);  // over TCP, no hedge: the stream stops waiting on it
  }
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

std::int64_t Shard::AttemptTimeoutMs(const InflightSlot& slot) const noexcept {
  const ForwardRoute& f = *slot.forward;
  const Rtt& rtt = rtt_[f.first_upstream + slot.upstream];
  // RFC 6298: RTO = SRTT + 4 RTTVAR; before any sample, the configured read_timeout.
  std::int64_t timeout = rtt.measured ? (rtt.srtt_us + 4 * rtt.rttvar_us + 999) / 1000 : f.read_timeout_ms;
  timeout = std::clamp(timeout, std::min(options_.min_attempt_timeout_ms, f.read_timeout_ms),
                       f.read_timeout_ms);
  // Back off with each further attempt, as RFC 6298 section 5.5 does.
  timeout <<= std::min<std::uint32_t>(slot.attempts, 6);
  return std::min(timeout, f.read_timeout_ms);
}

void Shard::RecordRtt(std::uint32_t upstream_id, std::int64_t rtt_us) noexcept {
  Rtt& r = rtt_[upstream_id];
  if (rtt_us < 0) return;
  if (!r.measured) {
    r.srtt_us = rtt_us;
    r.rttvar_us = rtt_us / 2;
    r.measured = true;
    return;
  }
  const std::int64_t error = r.srtt_us > rtt_us ? r.srtt_us - rtt_us : rtt_us - r.srtt_us;
  r.rttvar_us += (error - r.rttvar_us) / 4;
  r.srtt_us += (rtt_us - r.srtt_us) / 8;
}

}  // namespace ringdns::core
