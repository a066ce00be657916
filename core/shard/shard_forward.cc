// The forwarding half of a shard: a query arrives, is answered in place (errors, cache
// hits) or forwarded from its own buffer with a fresh TXID, and the upstream's answer,
// once it is proven to answer our query, goes back to the client from the buffer it
// arrived in.
#include <algorithm>

#include "core/net.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "core/udp_steering.h"
#include "ring/recvmsg.h"
#include "wire/edns.h"
#include "wire/message.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using namespace layout;

constexpr std::uint16_t kNoEde = 0xffff;

struct Received {
  std::uint8_t* payload = nullptr;
  std::size_t len = 0;
  const sockaddr* from = nullptr;
  socklen_t from_len = 0;
  ReplySource destination;
  bool truncated = false;
};

// Decodes a multishot recvmsg completion's buffer. Returns false if the kernel's layout
// does not fit the buffer (never expected; counted as a short datagram).
bool Decode(std::span<std::uint8_t> buffer, int res, msghdr& layout, Received& out) {
  ring::ReceivedMessage m;
  if (!ring::DecodeRecvMsg(buffer, res, layout, m)) return false;
  out.payload = m.payload.data();
  out.len = m.payload.size();
  out.from = m.from;
  out.from_len = std::min<socklen_t>(m.from_len, sizeof(sockaddr_in6));
  out.truncated = m.truncated;
  m.FindControl([&out](const cmsghdr& c) { return out.destination.Take(c); });
  return true;
}

}  // namespace

void ShardReactor::OnQuery(std::uint32_t listener, std::uint16_t bid, int res) {
  Received rx;
  ++counters_.queries;
  // HandleCompletion made this function its holder; handed to the slot when forwarded.
  if (!Decode(query_buffers_.Received(bid), res, listeners_[listener].recv_msg, rx) ||
      rx.truncated || rx.len < wire::header::kSize) {
    ++counters_.dropped_short;
    query_buffers_.Release(bid);
    return;
  }
  if ((wire::LoadU16(rx.payload + wire::header::kFlags) & wire::flag::kQr) != 0) {
    ++counters_.dropped_qr;  // an answer sent to a listener: answering it could loop
    query_buffers_.Release(bid);
    return;
  }
  if (question_samples_ && question_samples_->Due()) {
    if (const std::optional<std::uint32_t> hash =
            QuestionSteeringHash({rx.payload, rx.len}, *succession_.steering)) {
      question_samples_->Push(*hash);
    }
  }
  Client client{.listener = listener,
                .bid = bid,
                .id = wire::GetId({rx.payload, rx.len}),
                .query_len = static_cast<std::uint16_t>(rx.len),
                .udp_size = wire::kClassicUdpSize,
                .addr = rx.from,
                .addr_len = rx.from_len,
                .source = rx.destination};
  ServeQuery(client, {rx.payload, rx.len});
}

void ShardReactor::ServeQuery(Client& client, std::span<std::uint8_t> query) {
  client.start_us = NowUs();
  const std::uint16_t bid = client.bid;
  const std::span<const std::uint8_t> msg = query;
  const std::span<std::uint8_t> room(query.data(), kQueryRoom);
  const std::uint16_t flags = wire::LoadU16(msg.data() + wire::header::kFlags);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  // rewrite: the query's question before the block's rules edited it in place.
  OriginalQuestion original;
  bool edited_in_place = false;
  auto reply = [&](std::uint16_t rcode, bool with_question, std::uint16_t ede = kNoEde,
                   LogError error = LogError::kNone) {
    if (edited_in_place)
      client = rewrites_.Unrewritten(client, bid, original);  // `msg` and `q` are as received again
    wire::Result<std::size_t> len =
        with_question ? wire::BuildErrorAnswer(msg, *q, {rcode, ede != kNoEde, ede}, room)
                      : wire::BuildHeaderOnlyAnswer(msg, rcode, room);
    if (len) {
      ReplyFromQueryBuffer(client, *len, error);
    } else {
      ++counters_.reply_failures;
    }
    query_buffers_.Release(bid);
  };
  if (wire::Opcode(flags) != wire::opcode::kQuery) {
    ++counters_.notimp;
    return reply(wire::rcode::kNotImp, q.has_value());
  }
  if (!q) {
    ++counters_.formerr;
    return reply(wire::rcode::kFormErr, false);
  }
  if (q->opt.present() && q->opt.version > 0) {
    ++counters_.badvers;  // RFC 6891 section 6.1.3
    return reply(wire::rcode::kBadVers, true);
  }
  client.qname_len = q->qname_len;
  client.do_bit = q->opt.do_bit();
  if (!client.tcp()) client.udp_size = wire::MaxUdpAnswerSize(q->opt);
  Lookup lookup;
  lookup.qname = q->qname(msg);
  loop_.Observe(lookup.qname);
  const zones::RouteId route = RouteOf(client, msg, *q, lookup.qname);
  if (route == zones::kNoRoute) {
    ++counters_.refused;
    return reply(wire::rcode::kRefused, true);
  }
  client.block = static_cast<std::uint16_t>(route);
  client.qtype = q->qtype;
  // The block's stages (core/pipeline/), around the cache; the forward comes last.
  const Pipeline& pipeline = routes_.blocks[route].pipeline;
  if (pipeline.nsid) client.nsid = wire::HasOption(msg, q->opt, wire::edns::kOptionNsid);
  QueryContext ctx{query,        *q,   lookup.qname, client.addr,
                   client.tcp(), room, counters_,    client.udp_size};
  auto stages_handled_at = [&](std::span<const Stage> stages, QueryContext& at) {
    const Verdict verdict = Pipeline::Run(stages, at);
    client.udp_size = at.udp_size;  // bufsize may have lowered it
    switch (verdict) {
      case Verdict::kNext: return false;
      case Verdict::kAnswered:
        if (client.rewrite == nullptr) {
          ReplyFromStage(client, room, at.answer_len);
        } else if (const std::size_t len =
                       rewrites_.RevertStageAnswer(client, room, at.answer_len, original);
                   len > 0) {
          ReplyFromStage(QueryRewrites::AsAsked(client, original), room, len);
        } else {
          ++counters_.rewrite_failures;  // the stage's answer is over the query: the error is made
                                         // from `original`
          ReplyRewriteFailure(QueryRewrites::AsAsked(client, original), original);
        }
        break;
      case Verdict::kDrop:
        if (client.tcp()) StreamQueryDone(client.conn, client.conn_generation);
        break;
    }
    query_buffers_.Release(bid);
    return true;
  };
  auto stages_handled = [&](std::span<const Stage> stages) {
    return stages_handled_at(stages, ctx);
  };
  // bufsize edits the query before dnstap, the metrics and the other stages see it.
  if (stages_handled(pipeline.query_edits)) return;
  lookup.refresh_udp_size = pipeline.bufsize;
  if (taps_.Taps(route)) taps_.ClientQuery(client, LocalAddressOf(client), msg);
  BlockMetrics& metrics = metrics_.blocks[route];
  const std::size_t proto = client.tcp() ? kTcp : kUdp;
  ++metrics.requests[proto][FamilyIndex(listeners_[client.listener].family)][TypeSlot(q->qtype)];
  metrics.request_size[proto].Observe(msg.size(), kSizeBounds);
  if (stages_handled(pipeline.before_cache)) return;
  lookup.forward = routes_.PickForward(route, lookup.qname);
  lookup.rewrite = pipeline.rewrite ? &*pipeline.rewrite : nullptr;
  lookup.route = route;
  const std::int64_t now = NowMs();
  // Keyed for the cache and coalescing only when a forward takes the name as asked (a
  // name that only its rewrite sends to a forward goes alone, uncached), and the block's
  // rewrite gives no query its client's own data.
  const bool keyed =
      lookup.forward != nullptr && (lookup.rewrite == nullptr || !lookup.rewrite->per_client());
  if (keyed) {
    std::uint8_t key_flags = static_cast<std::uint8_t>(
        (q->opt.present() ? CacheKey::kEdns : 0) | (q->opt.do_bit() ? CacheKey::kDo : 0) |
        ((q->flags & wire::flag::kCd) != 0 ? CacheKey::kCd : 0));
    // An answer tailored to a client subnet (and echoing it) is shared, from the cache or
    // with coalesced waiters, only with queries for the same subnet.
    std::span<const std::uint8_t> client_subnet;
    if (q->opt.present()) {
      wire::ForEachOption(msg, q->opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
        if (code == wire::edns::kOptionClientSubnet) client_subnet = data;
      });
    }
    if (client_subnet.data() != nullptr) key_flags |= CacheKey::kEcs;
    lookup.key = MakeCacheKey(lookup.forward->cache_id, lookup.qname, q->qtype, q->qclass,
                              key_flags, client_subnet);
    if (routes_.blocks[route].cache && cache_) {
      lookup.policy = &*routes_.blocks[route].cache;
      if (ServeFromCache(client, lookup, now)) return query_buffers_.Release(bid);
    }
  }
  // rewrite, after the cache (which keeps answers under the client's question): the
  // stages and the forward after it see the rewritten query.
  std::optional<wire::QueryView> edited;
  if (lookup.rewrite != nullptr &&
      !ApplyRewrite(client, query, *q, route, lookup, original, edited, edited_in_place)) {
    ++counters_.rewrite_failures;
    return reply(wire::rcode::kServFail, true);
  }
  std::optional<QueryContext> edited_ctx;
  if (edited) {
    edited_ctx.emplace(QueryContext{query.first(edited->size), *edited, lookup.qname, client.addr,
                                    client.tcp(), room, counters_, client.udp_size});
  }
  QueryContext& stage_ctx = edited_ctx ? *edited_ctx : ctx;
  if (lookup.forward == nullptr) {
    if (stages_handled_at(pipeline.after_cache, stage_ctx) ||
        stages_handled_at(pipeline.after_forward, stage_ctx))
      return;
    ++counters_.servfail_no_forward;
    return reply(wire::rcode::kServFail, true, kNoEde, LogError::kNoForward);
  }
  if (stages_handled_at(pipeline.after_cache, stage_ctx)) return;
  const ForwardRoute& forward = *lookup.forward;
  if (FailsFast(forward)) {
    ++counters_.servfail_all_down;  // failfast_all_unhealthy_upstreams
    return reply(wire::rcode::kServFail, true, wire::ede::kNoReachableAuthority,
                 LogError::kNoHealthyUpstreams);
  }
  const std::uint32_t index = inflight_.Take();
  if (index == InflightTable::kNone) {
    ++counters_.servfail_no_slot;
    return reply(wire::rcode::kServFail, true, kNoEde, LogError::kSlotsFull);
  }
  FillSlot(index, client, edited ? *edited : *q, lookup, now);
  client.query_len = inflight_[index].query_len;  // without the client's COOKIE now
  if (keyed && JoinInFlight(index, lookup)) return;
  if (!Admit(inflight_[index])) {
    inflight_.Release(index);  // nothing was sent; the query buffer is still this function's
    return reply(wire::rcode::kRefused, true, kNoEde, LogError::kMaxConcurrent);
  }
  if (keyed) RegisterLeader(index);
  ++counters_.forwarded;
  StartForward(index, now);
}

void ShardReactor::StartForward(std::uint32_t index, std::int64_t now) {
  InflightSlot& slot = inflight_[index];
  if (!ChooseUpstream(slot, index, /*first=*/true)) {
    // No socket or stream for the upstream: fail over as a network error would.
    timers_->Schedule(index, std::min(RetryWithoutConnectionAt(slot, now), slot.deadline_ms));
    return;
  }
  SendToUpstream(index);
  timers_->Schedule(index, std::min(now + AttemptTimeoutMs(slot), slot.deadline_ms));
}

void ShardReactor::SendToUpstream(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  slot.sent_us = NowUs();
  slot.case_spelled = false;
  if (slot.tcp_upstream) return SendOverTcp(index);
  std::uint8_t* query = query_buffers_.Payload(slot.query_buffer);
  wire::SetId({query, slot.query_len}, slot.txid);
  if (taps_.TapsForward(slot)) taps_.ForwarderQuery(slot, {query, slot.query_len}, NowUs());
  const SockAddr& upstream = slot.forward->upstreams[slot.upstream];
  const std::span<const std::uint8_t> spelled = SpellForUpstream(slot, slot.sent_us / 1000);
  std::span<const std::uint8_t> cookie;
  const std::uint32_t upstream_id = slot.forward->first_upstream + slot.upstream;
  if (cookies_ && slot.cookie_off_upstream != upstream_id) cookie = cookies_->Option(upstream_id);
  std::uint8_t* scratch = query_buffers_.Scratch(slot.query_buffer);
  const OutgoingQuery pieces =
      LayOutQuery({query, slot.query_len}, slot.qname_len, slot.opt_rdata, spelled, cookie,
                  std::span<std::uint8_t, kOutgoingScratchSize>(scratch + kSpelledNameLen,
                                                                kOutgoingScratchSize));
  query_buffers_.Hold(slot.query_buffer);
  QueueSend(upstream_udp_.fd(slot.upstream_socket), kSendUpstream, index, slot.generation,
            slot.query_buffer, query_sends_[slot.query_buffer], query, slot.query_len,
            upstream.get(), upstream.len, {}, &pieces);
}

void ShardReactor::OnTimeout(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  if (!slot.in_use || slot.waiter) return;
  if (slot.truncated_over_udp && slot.conn == kNoSlot) return RelayTruncation(index);
  if (slot.case_over_tcp && NowMs() < slot.deadline_ms) return AskPlainAfterFolds(index);
  if (slot.cookie_over_tcp && NowMs() < slot.deadline_ms) return AskWithoutCookie(index);
  // The attempt failed: it counts against the upstream's health (CoreDNS's max_fails),
  // once per broken stream, not once per query that was waiting on it.
  // (A 0x20 or cookie check over TCP that ran out of time is not one.)
  if (!slot.moved && !slot.case_over_tcp && !slot.cookie_over_tcp) {
    health_.Failure(slot.forward->first_upstream + slot.upstream, slot.forward->max_fails);
  }
  slot.moved = false;
  const std::int64_t now = NowMs();
  const Retry retry = RetryNext(index, now);
  if (retry == Retry::kRetried) return;
  // Every attempt failed, or every upstream is now down and the forward fails fast.
  ForgetPending(slot);
  if (slot.cache_policy != nullptr && slot.cache_policy->stale_seconds > 0 &&
      ServeStale(index, now)) {
    return;
  }
  const bool all_down = retry == Retry::kAllDown;
  ++(all_down ? counters_.servfail_all_down : counters_.servfail_timeout);
  FailWaiters(index);
  if (slot.has_client()) {
    ReplyServfail(ClientOf(slot),
                  all_down ? LogError::kNoHealthyUpstreams : LogError::kUpstreamsFailed);
  }
  ReleaseSlot(index);
}

void ShardReactor::RelayTruncation(std::uint32_t index) {
  // The upstream's UDP answer had TC and asking it over TCP failed (refused, broken, or
  // timed out). A UDP client gets TC now, as CoreDNS would relay it, and asks ringdns
  // again over TCP, where every upstream is tried, instead of waiting out the deadline.
  // Not a failure of the upstream's health: it did answer.
  InflightSlot& slot = inflight_[index];
  ForgetPending(slot);
  TruncateWaiters(index);
  if (slot.has_client()) ReplyTruncated(ClientOf(slot));
  ReleaseSlot(index);
}

void ShardReactor::OnAnswer(std::uint32_t socket, std::uint16_t bid, int res) {
  Received rx;
  if (!Decode(answer_buffers_.Buffer(bid), res, upstream_udp_.receive_layout(socket), rx) ||
      rx.len < wire::header::kSize) {
    ++counters_.dropped_short;
    answer_buffers_.Recycle(bid);
    return;
  }
  const std::uint16_t txid = wire::GetId({rx.payload, rx.len});
  const std::uint32_t index =
      pending_.Find(PendingIndex::Key(static_cast<std::uint16_t>(socket), txid));
  if (index == PendingIndex::kEmpty) {
    ++counters_.dropped_unsolicited;  // late, duplicate, or forged
    answer_buffers_.Recycle(bid);
    return;
  }
  const InflightSlot& slot = inflight_[index];
  std::uint8_t upstream = 0;
  if (!AttemptOf(slot, static_cast<std::uint16_t>(socket), txid, upstream) ||
      !SameEndpoint(rx.from, slot.forward->upstreams[upstream].get())) {
    ++counters_.dropped_wrong_source;
    answer_buffers_.Recycle(bid);
    return;
  }
  OnUpstreamAnswer(index, upstream, txid, {rx.payload, rx.len}, rx.truncated, kOwnsAnswer, bid);
}

void ShardReactor::OnUpstreamAnswer(std::uint32_t index, std::uint8_t upstream, std::uint16_t txid,
                                    std::span<std::uint8_t> answer, bool cut, Owner owner,
                                    std::uint16_t bid) {
  InflightSlot& slot = inflight_[index];
  const wire::Question question{QnameOf(slot), slot.qtype, slot.qclass};
  if (wire::MatchAnswer(answer, txid, slot.opcode, question) != wire::Error::kOk) {
    ++counters_.dropped_mismatch;
    return GiveBack(owner, bid);
  }
  if (!AcceptSpelling(index, upstream, txid, answer, cut)) return GiveBack(owner, bid);
  if (taps_.TapsForward(slot)) taps_.ForwarderResponse(slot, upstream, answer, NowUs());
  const std::uint16_t flags = wire::LoadU16(answer.data() + wire::header::kFlags);
  if (!slot.tcp_upstream && (cut || (flags & wire::flag::kTc) != 0)) {
    // Too large for UDP (RFC 7766 section 5): ringdns asks the same upstream over TCP
    // itself, so the full answer is cached and each client gets what fits it.
    GiveBack(owner, bid);
    return RetryOverTcp(index);
  }
  wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  if (!info) {
    ++counters_.dropped_malformed;
    return GiveBack(owner, bid);
  }
  const std::int64_t now = NowMs();
  // Only the UDP path hands over an answer it owns (TCP and DoT lend their read buffer).
  if (!AcceptCookie(index, upstream, txid, answer, *info, owner == kOwnsAnswer, now))
    return GiveBack(owner, bid);
  // What the answer says of the upstream: a SERVFAIL is a failure, anything else proof
  // of life. Only the current attempt's answer times the round trip.
  const ForwardRoute& forward = *slot.forward;
  const std::uint32_t upstream_id = forward.first_upstream + upstream;
  if (info->rcode == wire::rcode::kServFail) {
    health_.Failure(upstream_id, forward.max_fails);
  } else {
    health_.Success(upstream_id);
  }
  if (upstream == slot.upstream && slot.pending) {
    const std::int64_t rtt_us = NowUs() - slot.sent_us;
    rtt_[upstream_id].Record(rtt_us);
    metrics_.upstreams[upstream_id].duration.Observe(static_cast<std::uint64_t>(rtt_us),
                                                     kDurationBoundsUs);
  }
  const std::uint16_t rcode_bit =
      static_cast<std::uint16_t>(info->rcode < 16 ? 1u << info->rcode : 0);
  if ((forward.failover_rcodes & rcode_bit) != 0) {
    // `failover RCODE`: try the next upstream; the last one's answer stands.
    ForgetPending(slot);
    if (RetryNext(index, now) == Retry::kRetried) return GiveBack(owner, bid);
  }
  if ((forward.next_rcodes & rcode_bit) != 0) {
    // `next RCODE`: the query moves on to the block's next forward for the name.
    if (const ForwardRoute* next = routes_.PickForwardAfter(forward, QnameOf(slot))) {
      GiveBack(owner, bid);
      return MoveOnTo(index, *next, now);
    }
  }
  std::optional<OriginalQuestion> asked;  // a rewritten query's, for the log and metrics
  if (slot.rewrite != nullptr) {
    asked = rewrites_.Stashed(slot.query_buffer);
    const std::optional<QueryRewrites::Reverted> reverted =
        rewrites_.RevertUpstreamAnswer(slot, *asked, answer);
    GiveBack(owner, bid);  // either way: a re-encoded answer is in the rewrites' scratch
    if (!reverted) {
      ++counters_.rewrite_failures;  // its names do not re-encode: nothing reaches the client
      ForgetPending(slot);
      FailWaiters(index);
      if (slot.has_client())
        ReplyError(ClientOf(slot), {wire::rcode::kServFail, false, 0, false}, LogError::kNone);
      return ReleaseSlot(index);
    }
    owner = kBorrowed;
    bid = 0;
    answer = reverted->answer;
    *info = reverted->info;
  }
  const bool failed = info->rcode == wire::rcode::kServFail || info->rcode == wire::rcode::kRefused;
  if (failed && slot.cache_policy != nullptr && slot.cache_policy->stale_seconds > 0 &&
      ServeStale(index, now)) {
    return GiveBack(owner, bid);  // RFC 8767: an upstream failure, and we have better
  }
  if (slot.cache_policy != nullptr) StoreAnswer(slot, answer, *info, now);
  // Waiters copy the whole answer before it is cut for this client.
  AnswerWaiters(index, answer);
  if (!slot.has_client()) {  // a refresh: the cache was the point
    GiveBack(owner, bid);
    return ReleaseSlot(index);
  }
  wire::SetId(answer, slot.client_id);
  bool truncated = false;
  const std::size_t len = FitForUdp(slot.block, answer, *info, slot.client_udp_size, truncated);
  if (truncated) ++counters_.truncated;
  std::uint8_t* data = answer.data();
  // Moved out of where it lies: an answer in an upstream stream's read buffer, and a UDP
  // answer to a TCP client (prefer_udp), which would otherwise hold an answer-ring
  // buffer for as long as the client takes to read it, and with enough slow readers
  // stop every UDP receive on the shard.
  if (owner == kBorrowed || (owner == kOwnsAnswer && slot.conn != kNoSlot)) {
    const Owner held_by = owner;
    const std::uint16_t held_bid = bid;
    const bool placed = PlaceAnswer(slot, answer.first(len), data, owner, bid);
    GiveBack(held_by, held_bid);
    if (!placed) {
      ++counters_.servfail_no_buffer;
      ReplyServfail(ClientOf(slot));
      return ReleaseSlot(index);
    }
  }
  ++counters_.answers;
  SendToClient(asked ? QueryRewrites::AsAsked(ClientOf(slot), *asked) : ClientOf(slot), data, len,
               owner, bid);
  ReleaseSlot(index);
}

}  // namespace ringdns::core
