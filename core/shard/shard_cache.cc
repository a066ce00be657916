// The caching half of a shard: hits answered in place, identical misses coalesced onto
// one upstream query, popular entries prefetched, and serve-stale (RFC 8767).
#include <cstring>

#include "core/pipeline/bufsize_stage.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "wire/name.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using namespace layout;

static_assert(Cache::kMaxAnswerBytes <= kQueryRoom, "a cached answer must fit a query buffer");

std::uint16_t RcodeOf(std::span<const std::uint8_t> answer) {
  return wire::LoadU16(answer.data() + wire::header::kFlags) & wire::flag::kRcodeMask;
}

bool SameKey(const CacheKey& a, const CacheKey& b) {
  return a.hash == b.hash && a.forward_id == b.forward_id && a.qtype == b.qtype &&
         a.qclass == b.qclass && a.flags == b.flags;
}

}  // namespace

bool ShardReactor::ServeFromCache(const Client& client, Lookup& lookup, std::int64_t now) {
  const CachePolicy& policy = *lookup.policy;
  if (!policy.Covers(lookup.qname)) {
    lookup.policy = nullptr;
    return false;
  }
  const std::int64_t hit_window = policy.prefetch_amount > 0 ? policy.prefetch_window_ms : 0;
  const Cache::Hit hit = cache_->Find(lookup.key, lookup.qname, now, hit_window);
  BlockMetrics& metrics = metrics_.blocks[client.block];
  // serve_stale verify asks upstream first (ServeStale answers if that fails), unless
  // no upstream will be asked: every one is down and the forward fails fast.
  const bool verify = hit.stale && policy.stale_verify && !FailsFast(*lookup.forward);
  if (hit.answer.empty() || verify) {
    ++counters_.cache_misses;
    ++metrics.cache_misses;
    return false;
  }
  if (hit.stale) {
    // RFC 8767 immediate mode: the stale answer now, a refresh in the background.
    ServeCopy(client, hit.answer, kStaleAnswerTtl);
    ++counters_.cache_stale;
    ++metrics.cache_served_stale;
    if (!policy.stale_verify && StartRefresh(lookup, hit.answer, now))
      ++counters_.cache_stale_refreshes;
    return true;
  }
  const std::uint32_t remaining = hit.remaining_s(now);
  ServeCopy(client, hit.answer, policy.keepttl ? kNoTtlCap : remaining);
  ++counters_.cache_hits;
  ++metrics.cache_hits[hit.denial ? 1 : 0];
  // CoreDNS's rule: AMOUNT hits in a row, each within DURATION of the last, and no more
  // than PERCENTAGE of the lifetime left.
  if (policy.prefetch_amount > 0 && hit.hits >= policy.prefetch_amount &&
      std::uint64_t{remaining} * 100 <=
          std::uint64_t{policy.prefetch_percentage} * hit.lifetime_s + 99 &&
      StartRefresh(lookup, hit.answer, now)) {
    ++counters_.cache_prefetches;
    ++metrics.cache_prefetches;
  }
  return true;
}

void ShardReactor::ServeCopy(const Client& to, std::span<const std::uint8_t> answer,
                             std::uint32_t ttl_cap) {
  WriteOverQuery(to, [&](const Client& client) { WriteCopy(client, answer, ttl_cap); });
}

void ShardReactor::WriteCopy(const Client& client, std::span<const std::uint8_t> answer,
                             std::uint32_t ttl_cap) {
  // The answer replaces the query in its own buffer, then takes the client's ID and the
  // client's spelling of the name (the stored one may be another client's).
  std::uint8_t* payload = query_buffers_.Payload(client.bid);
  wire::NameStorage client_qname;
  std::memcpy(client_qname.data(), payload + wire::header::kSize, client.qname_len);
  std::memcpy(payload, answer.data(), answer.size());
  const std::span<std::uint8_t> out(payload, answer.size());
  wire::SetId(out, client.id);
  std::memcpy(payload + wire::header::kSize, client_qname.data(), client.qname_len);
  // One walk caps the TTLs and learns what the edits below need.
  wire::Result<wire::ResponseInfo> info =
      ttl_cap == kNoTtlCap ? wire::WalkResponse(out) : wire::WalkAndCapTtls(out, ttl_cap);
  if (!info) {
    ++counters_.reply_failures;  // cannot happen: only walked answers get here
    return;
  }
  const std::size_t len = wire::DropEdnsOption(out, *info, wire::edns::kOptionCookie);
  bool cut = false;  // not counted: `truncated` counts answers from upstreams and stages
  ReplyFromQueryBuffer(client,
                       FitForUdp(client.block, out.first(len), *info, client.udp_size, cut));
}

bool ShardReactor::JoinInFlight(std::uint32_t index, const Lookup& lookup) {
  const std::uint32_t leader_index = coalescing_.Find(lookup.key.hash);
  if (leader_index == CoalescingIndex::kEmpty) return false;
  InflightSlot& leader = inflight_[leader_index];
  const std::span<const std::uint8_t> leader_qname = QnameOf(leader);
  if (leader.waiters >= options_.max_waiters || !SameKey(leader.cache_key, lookup.key) ||
      !wire::NamesEqualIgnoreCase(leader_qname, lookup.qname)) {
    return false;
  }
  InflightSlot& waiter = inflight_[index];
  waiter.waiter = true;
  waiter.next_waiter = leader.next_waiter;
  leader.next_waiter = index;
  ++leader.waiters;
  ++counters_.coalesced;
  return true;
}

void ShardReactor::RegisterLeader(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  const std::uint64_t hash = slot.cache_key.hash;
  // Taken (an identical query has its quota of waiters, or a hash collision): go alone.
  if (hash == CoalescingIndex::kFreeKey || coalescing_.Contains(hash)) return;
  coalescing_.Insert(hash, index);
  slot.leader = true;
}

void ShardReactor::StoreAnswer(const InflightSlot& slot, std::span<const std::uint8_t> answer,
                               const wire::ResponseInfo& info, std::int64_t now) {
  if (!cache_) return;  // handed to a reload's successor
  const CachePolicy& policy = *slot.cache_policy;
  const std::span<const std::uint8_t> qname = rewrites_.AskedQnameOf(slot);
  const CacheVerdict verdict = CacheTtl(info, qname, policy);
  if (verdict.ttl == 0) return;
  std::uint32_t stale_seconds = policy.stale_seconds;
  if (info.rcode == wire::rcode::kServFail) {
    // A SERVFAIL never replaces an answer still live or stale, and is never served stale.
    const Cache::Hit existing = cache_->Find(slot.cache_key, qname, now);
    if (!existing.answer.empty() && RcodeOf(existing.answer) != wire::rcode::kServFail) return;
    stale_seconds = 0;
  }
  if (cache_->Insert(verdict.denial, slot.cache_key, answer, now, verdict.ttl, stale_seconds)) {
    ++counters_.cache_inserts;
  }
}

template <typename Visit>
void ShardReactor::ForEachWaiter(std::uint32_t leader_index, Visit&& visit) {
  InflightSlot& leader = inflight_[leader_index];
  std::uint32_t next = leader.next_waiter;
  leader.next_waiter = kNoSlot;
  leader.waiters = 0;
  while (next != kNoSlot) {
    const std::uint32_t index = next;
    next = inflight_[index].next_waiter;
    inflight_[index].next_waiter = kNoSlot;
    visit(index, inflight_[index]);
  }
}

void ShardReactor::AnswerWaiters(std::uint32_t leader_index, std::span<const std::uint8_t> answer) {
  ForEachWaiter(leader_index, [&](std::uint32_t index, InflightSlot& waiter) {
    if (!answer.empty() && answer.size() <= kQueryRoom) {
      ServeCopy(ClientOf(waiter), answer, kNoTtlCap);
      ++counters_.answers;
      ReleaseSlot(index);
    } else {
      ForwardAlone(index);  // too large to copy into the waiter's buffer (or cut)
    }
  });
}

void ShardReactor::ForwardAlone(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  slot.waiter = false;
  if (!Admit(slot)) return RefuseOverLimit(index);
  ++counters_.forwarded;
  StartForward(index, NowMs());
}

void ShardReactor::RefuseOverLimit(std::uint32_t index) {
  // Waiters wait on this query, which goes no further: they are refused with it.
  const wire::ErrorAnswer refused{wire::rcode::kRefused, false, 0, false};
  ForEachWaiter(index, [&](std::uint32_t waiter_index, InflightSlot& waiter) {
    ReplyError(ClientOf(waiter), refused, LogError::kMaxConcurrent);
    ReleaseSlot(waiter_index);
  });
  InflightSlot& slot = inflight_[index];
  ForgetPending(slot);
  if (slot.has_client()) ReplyError(ClientOf(slot), refused, LogError::kMaxConcurrent);
  ReleaseSlot(index);
}

void ShardReactor::FailWaiters(std::uint32_t leader_index) {
  ForEachWaiter(leader_index, [&](std::uint32_t index, InflightSlot& waiter) {
    ++counters_.servfail_timeout;
    ReplyServfail(ClientOf(waiter));
    ReleaseSlot(index);
  });
}

void ShardReactor::TruncateWaiters(std::uint32_t leader_index) {
  ForEachWaiter(leader_index, [&](std::uint32_t index, InflightSlot& waiter) {
    if (waiter.conn != kNoSlot) return ForwardAlone(index);  // a TCP client has no use for TC
    ReplyTruncated(ClientOf(waiter));
    ReleaseSlot(index);
  });
}

bool ShardReactor::ServeStale(std::uint32_t index, std::int64_t now) {
  if (!cache_) return false;  // handed to a reload's successor
  InflightSlot& slot = inflight_[index];
  const std::span<const std::uint8_t> qname = rewrites_.AskedQnameOf(slot);
  const Cache::Hit hit = cache_->Find(slot.cache_key, qname, now);
  if (hit.answer.empty() || RcodeOf(hit.answer) == wire::rcode::kServFail) return false;
  const std::uint32_t ttl_cap = hit.stale ? kStaleAnswerTtl : hit.remaining_s(now);
  ForEachWaiter(index, [&](std::uint32_t waiter_index, InflightSlot& waiter) {
    ServeCopy(ClientOf(waiter), hit.answer, ttl_cap);
    ++counters_.cache_stale;
    if (waiter.block != kNoBlock) ++metrics_.blocks[waiter.block].cache_served_stale;
    ReleaseSlot(waiter_index);
  });
  if (slot.has_client()) {
    ServeCopy(ClientOf(slot), hit.answer, ttl_cap);
    ++counters_.cache_stale;
    if (slot.block != kNoBlock) ++metrics_.blocks[slot.block].cache_served_stale;
  }
  ReleaseSlot(index);
  return true;
}

bool ShardReactor::StartRefresh(const Lookup& lookup, std::span<const std::uint8_t> stored_answer,
                                std::int64_t now) {
  // A refresh asks without the client's subnet, so an ECS entry is not refreshed: it
  // expires (or is served stale) and the next client's query renews it.
  if ((lookup.key.flags & CacheKey::kEcs) != 0) return false;
  if (coalescing_.Contains(lookup.key.hash) || !query_buffers_.refresh_available()) return false;
  const std::uint32_t index = inflight_.Take();
  if (index == InflightTable::kNone) return false;
  const std::uint16_t bid = query_buffers_.TakeRefresh();  // held by the slot
  // The stored answer's question is the name, type and class to ask for again.
  const CacheKey& key = lookup.key;
  const std::span<const std::uint8_t> qname =
      stored_answer.subspan(wire::header::kSize, lookup.qname.size());
  std::uint8_t* payload = query_buffers_.Payload(bid);
  const wire::Result<std::size_t> len =
      wire::BuildQuery({0,
                        static_cast<std::uint16_t>(
                            wire::flag::kRd | ((key.flags & CacheKey::kCd) ? wire::flag::kCd : 0)),
                        qname, key.qtype, key.qclass, (key.flags & CacheKey::kEdns) != 0,
                        (key.flags & CacheKey::kDo) != 0},
                       {payload, kQueryRoom});
  const wire::Result<wire::QueryView> q =
      len ? wire::ParseQuery({payload, *len}) : wire::Result<wire::QueryView>(len.error());
  if (!q) {
    inflight_.Release(index);
    query_buffers_.Release(bid);
    return false;
  }
  if (lookup.refresh_udp_size != 0)
    BufsizeStage::Lower({payload, *len}, q->opt, lookup.refresh_udp_size);
  // Filled like a client's query (the forward's transport included), with nobody to
  // answer: no address, no connection.
  Client nobody{.bid = bid,
                .query_len = static_cast<std::uint16_t>(*len),
                .udp_size = wire::edns::kAdvertisedUdpSize,
                .qtype = key.qtype,
                .start_us = NowUs()};
  // The block's rewrite applies as it did to the client's query the answer came from,
  // and the forward is the rewritten name's, as the client's query's was.
  // (Its edns0 rules that need a client's address do nothing.)
  std::optional<wire::QueryView> edited;
  Lookup asked = lookup;
  if (lookup.rewrite != nullptr) {
    OriginalQuestion original;
    bool edited_in_place = false;
    if (!ApplyRewrite(nobody, {payload, kQueryRoom}, *q, lookup.route, asked, original, edited,
                      edited_in_place) ||
        asked.forward == nullptr) {
      inflight_.Release(index);
      query_buffers_.Release(bid);
      return false;
    }
  }
  FillSlot(index, nobody, edited ? *edited : *q, asked, now);
  if (!Admit(inflight_[index])) {
    inflight_.Release(index);
    query_buffers_.Release(bid);
    return false;
  }
  RegisterLeader(index);
  StartForward(index, now);
  return true;
}

}  // namespace ringdns::core
