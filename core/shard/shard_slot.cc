// A query's in-flight slot on a shard (core/shard/inflight.h): filled from its client's query
// (FillSlot, which keeps the client's COOKIE and NSID request from the upstream), given
// its forward and transport (SetForward), counted against the forward's max_concurrent
// share (Admit), moved on to another forward (MoveOnTo), and released with everything it
// held (ReleaseSlot).
#include <cstring>

#include "core/shard/shard_reactor.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"

namespace ringdns::core {

void ShardReactor::FillSlot(std::uint32_t index, const Client& client, const wire::QueryView& q,
                            const Lookup& lookup, std::int64_t now) {
  InflightSlot& slot = inflight_[index];
  slot.client_id = client.id;
  slot.query_buffer = client.bid;
  // The client's COOKIE is for ringdns to answer, not for the upstream, which gets
  // ringdns's own (core/upstream/cookie_jar.h).
  wire::OptView opt = q.opt;
  const std::span<std::uint8_t> query(query_buffers_.Payload(client.bid), q.size);
  std::size_t len = wire::DropOption(query, opt, wire::edns::kOptionCookie);
  // Nor is its NSID request: nsid answers with this server's own, and an upstream's NSID
  // cached with the answer would reach clients that did not ask (RFC 5001 section 2.3).
  if (client.nsid) len = wire::DropOption(query.first(len), opt, wire::edns::kOptionNsid);
  slot.query_len = static_cast<std::uint16_t>(len);
  // A query whose additional section holds something else (a TSIG, which must stay
  // last and counted as signed) goes as it came.
  const bool others = wire::LoadU16(query_buffers_.Payload(client.bid) + wire::header::kArCount) !=
                      (opt.present() ? 1 : 0);
  slot.opt_rdata = others ? kOptNotLast : !opt.present() ? kNoOpt : opt.rdata_offset;
  slot.qname_len = q.qname_len;
  slot.opcode = q.opcode();
  slot.qtype = q.qtype;
  slot.qclass = q.qclass;
  slot.client_udp_size = client.udp_size;
  slot.listener = static_cast<std::uint8_t>(client.listener);
  slot.cache_policy = lookup.policy;
  slot.cache_key = lookup.key;
  slot.deadline_ms = now + kQueryDeadlineMs;
  if (client.addr_len > 0) std::memcpy(&slot.client, client.addr, client.addr_len);
  slot.client_len = client.addr_len;
  slot.client_source = client.source;
  slot.conn = client.conn;
  slot.conn_generation = client.conn_generation;
  slot.block = client.block;
  slot.start_us = client.start_us;
  slot.client_do = client.do_bit;
  slot.opt_added = client.opt_added;
  slot.rewrite = client.rewrite;
  slot.rewrite_matched = client.rewrite_matched;
  slot.client_nsid = client.nsid;
  SetForward(slot, *lookup.forward);
}

void ShardReactor::SetForward(InflightSlot& slot, const ForwardRoute& forward) noexcept {
  slot.forward = &forward;
  slot.attempts = 0;
  slot.truncated_over_udp = false;
  slot.tcp_upstream = forward.force_tcp || (slot.conn != kNoSlot && !forward.prefer_udp);
  // 0: plain. Over TCP nobody can forge blind: no key needed.
  slot.case_key = cases_.enabled() && !slot.tcp_upstream ? DrawCaseKey(slot) : 0;
  slot.case_spelled = slot.prev_case_spelled = false;
  slot.case_folds = {};
  slot.case_over_tcp = false;
  slot.cookie_over_tcp = false;
  slot.cookie_retried_upstream = slot.cookie_off_upstream = CaseFolds::kNoUpstream;
  slot.case_plain_upstream = CaseFolds::kNoUpstream;
}

bool ShardReactor::Admit(InflightSlot& slot) noexcept {
  const std::uint32_t id = slot.forward->id;
  if (!concurrency_.TryAdmit(id)) {
    ++counters_.refused_max_concurrent;
    return false;
  }
  slot.counted_forward = id;
  return true;
}

void ShardReactor::ReleaseSlot(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  if (!slot.waiter) {
    ForgetPending(slot);
    timers_->Cancel(index);
  }
  if (slot.leader) coalescing_.Erase(slot.cache_key.hash);
  if (slot.counted_forward != kNoSlot) concurrency_.Release(slot.counted_forward);
  slot.counted_forward = kNoSlot;
  const std::uint16_t bid = slot.query_buffer;
  inflight_.Release(index);
  query_buffers_.Release(bid);  // the slot's hold on its query
}

void ShardReactor::MoveOnTo(std::uint32_t slot_index, const ForwardRoute& next,
                            std::int64_t now_ms) {
  InflightSlot& slot = inflight_[slot_index];
  ForgetPending(slot);
  timers_->Cancel(slot_index);
  if (slot.counted_forward != kNoSlot) concurrency_.Release(slot.counted_forward);
  slot.counted_forward = kNoSlot;
  SetForward(slot, next);
  if (!Admit(slot)) return RefuseOverLimit(slot_index);
  StartForward(slot_index, now_ms);
}

}  // namespace ringdns::core
