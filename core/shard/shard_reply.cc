// Answering clients on a shard: SendToClient, the one way every answer reaches its
// client (the block's answer hooks, dnstap, the `log` record and the metrics, then
// framed on TCP or sent over UDP from the address the client asked), the room an answer
// may grow into, and the answers ringdns writes over a query itself: errors (SERVFAIL,
// TC), a stage's answer cut to the client's UDP size (FitForUdp, which sheds records
// first in a block with `minimal`), WriteOverQuery, which moves the query aside when
// a send still reads its buffer, and PlaceAnswer, which moves an answer out of a buffer
// it must not stay in.
#include <algorithm>
#include <cstring>

#include "core/base/invariant.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using namespace layout;

}  // namespace

void ShardReactor::ReplyFromQueryBuffer(const Client& client, std::size_t len, LogError error) {
  query_buffers_.Hold(client.bid);
  SendToClient(client, query_buffers_.Payload(client.bid), len, kOwnsQuery, client.bid, error);
}

void ShardReactor::WriteOverQuery(const Client& client,
                                  absl::FunctionRef<void(const Client&)> write) {
  // Copies of the query still waiting to go upstream are of no use once it is answered.
  if (!query_buffers_.SoleHolder(client.bid)) CancelUnsentWrites(client.bid);
  if (query_buffers_.SoleHolder(client.bid)) {  // only the caller holds it
    if (client.rewrite != nullptr)
      return write(rewrites_.Unrewritten(client, client.bid, rewrites_.Stashed(client.bid)));
    return write(client);
  }
  Client moved = client;
  moved.bid = query_buffers_.TakeTcp();  // held by this function
  if (moved.bid == QueryBuffers::kNone) {
    // A send reads the buffer and no spare is free: no answer. The client asks again;
    // its connection must not wait for this one.
    ++counters_.reply_failures;
    if (client.tcp()) StreamQueryDone(client.conn, client.conn_generation);
    return;
  }
  if (client.rewrite != nullptr) {
    moved =
        rewrites_.Unrewritten(client, moved.bid,
                              rewrites_.Stashed(client.bid));  // the client's question, in the copy
  } else {
    std::memcpy(query_buffers_.Payload(moved.bid), query_buffers_.Payload(client.bid),
                client.query_len);
  }
  write(moved);
  query_buffers_.Release(moved.bid);
}

void ShardReactor::RecordForLog(const Client& client, const std::uint8_t* data, std::size_t len,
                                LogError error) noexcept {
  LogRecord* r = log_queue_->Reserve();
  if (r == nullptr) {
    ++counters_.log_dropped;
    return;
  }
  r->duration_us = NowUs() - client.start_us;
  r->remote = {};
  if (client.tcp()) {
    std::memcpy(&r->remote, &streams_[client.conn].peer, streams_[client.conn].peer_len);
  } else {
    std::memcpy(&r->remote, client.addr, std::min<std::size_t>(client.addr_len, sizeof(r->remote)));
  }
  r->block = client.block;
  r->id = client.id;
  r->size = client.query_len;
  r->bufsize = client.tcp() ? 65535 : client.udp_size;
  r->flags = wire::LoadU16(data + wire::header::kFlags);
  r->answers = wire::LoadU16(data + wire::header::kAnCount);
  r->rsize = static_cast<std::uint16_t>(len);
  r->tcp = client.tcp();
  r->do_bit = client.do_bit;
  r->error = error;
  // The question, as the answer carries it: the client's spelling.
  const std::size_t qname_end = wire::header::kSize + client.qname_len;
  const bool has_question = client.qname_len > 0 && len >= qname_end + 4;
  r->qname_len = has_question ? static_cast<std::uint8_t>(client.qname_len) : 0;
  if (has_question) std::memcpy(r->qname, data + wire::header::kSize, client.qname_len);
  r->qtype = has_question ? wire::LoadU16(data + qname_end) : client.qtype;
  r->qclass = has_question ? wire::LoadU16(data + qname_end + 2) : 1;
  log_queue_->Commit();
}

void ShardReactor::SendToClient(const Client& client, std::uint8_t* data, std::size_t len,
                                Owner owner, std::uint16_t bid, LogError error) {
  if (client.block != kNoBlock && len >= wire::header::kSize) {
    const BlockRoute& block = routes_.blocks[client.block];
    if (!block.pipeline.answer_hooks.empty()) {
      AnswerContext ctx{
          {data, len}, random_, AnswerRoom(client, data, len, owner, bid), client.nsid};
      Pipeline::RunAnswer(block.pipeline.answer_hooks, ctx);
      len = ctx.message.size();
    }
    if (block.taps()) taps_.ClientResponse(client, LocalAddressOf(client), {data, len}, NowUs());
    if (block.logs_answers() || (error != LogError::kNone && block.logs_errors())) {
      RecordForLog(client, data, len, error);
    }
    BlockMetrics& m = metrics_.blocks[client.block];
    const std::size_t rcode = wire::LoadU16(data + wire::header::kFlags) & wire::flag::kRcodeMask;
    ++m.responses[rcode];
    m.duration[TypeSlot(client.qtype)].Observe(
        static_cast<std::uint64_t>(NowUs() - client.start_us), kDurationBoundsUs);
    m.response_size[client.tcp() ? kTcp : kUdp].Observe(len, kSizeBounds);
  }
  if (client.tcp()) {
    StreamWrite(client.conn, client.conn_generation, data, len, owner, bid);
    return;
  }
  const int fd = listeners_[client.listener].fd.get();
  switch (owner) {
    case kOwnsQuery:
      return QueueSend(fd, kSendReply, 0, 0, bid, query_sends_[bid], data, len, client.addr,
                       client.addr_len, client.source);
    case kOwnsAnswer:
      return QueueSend(fd, kSendAnswer, 0, 0, bid, answer_sends_[bid], data, len, client.addr,
                       client.addr_len, client.source);
    case kOwnsBig:
      return QueueSend(fd, kSendBig, 0, 0, bid, big_sends_[bid], data, len, client.addr,
                       client.addr_len, client.source);
    case kOwnsNothing:
    case kBorrowed:  // never sent from where it lies: PlaceAnswer moved it
      return;
  }
}

std::span<std::uint8_t> ShardReactor::AnswerRoom(const Client& client, std::uint8_t* data,
                                                 std::size_t len, Owner owner,
                                                 std::uint16_t bid) noexcept {
  std::span<std::uint8_t> buffer;  // the whole buffer the answer lies in
  switch (owner) {
    case kOwnsQuery: buffer = {query_buffers_.Payload(bid), kQueryRoom}; break;
    case kOwnsAnswer: buffer = answer_buffers_.Buffer(bid); break;
    case kOwnsBig: buffer = {big_buffers_.Payload(bid), kBigBufferSize - kBigPayloadOffset}; break;
    case kOwnsNothing:
    case kBorrowed: break;  // never sent from where it lies
  }
  if (buffer.empty()) return {};
  const std::uint8_t* end = buffer.data() + buffer.size();
  if (data < buffer.data() || data + len > end) return {};  // not in its buffer: it does not grow
  const std::size_t limit = client.tcp() ? 65535 : client.udp_size;
  return {data, std::max(len, std::min(static_cast<std::size_t>(end - data), limit))};
}

void ShardReactor::ReplyRewriteFailure(const Client& client, const OriginalQuestion& original) {
  // The query's bytes are gone: SERVFAIL is built from its question alone.
  std::uint8_t* payload = query_buffers_.Payload(client.bid);
  const wire::Result<std::size_t> len = wire::BuildQuery(
      {client.id, wire::flag::kRd, original.name(), original.qtype, original.qclass, false, false},
      {payload, kQueryRoom});
  const wire::Result<wire::QueryView> q =
      len ? wire::ParseQuery({payload, *len}) : wire::Result<wire::QueryView>(len.error());
  const wire::Result<std::size_t> answer =
      q ? wire::BuildErrorAnswer({payload, *len}, *q, {wire::rcode::kServFail, false, 0, false},
                                 {payload, kQueryRoom})
        : wire::Result<std::size_t>(q.error());
  if (answer) {
    ReplyFromQueryBuffer(client, *answer, LogError::kNone);
  } else {
    ++counters_.reply_failures;
  }
}

void ShardReactor::ReplyFromStage(const Client& client, std::span<std::uint8_t> room,
                                  std::size_t len) {
  if (!client.tcp() && len > client.udp_size) {
    // Too large for the client's UDP size: cut as an upstream's answer is (RFC 2181
    // section 9: TC, whole RRsets only; the RCODE and OPT kept).
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(room.first(len));
    if (!info) {
      ++counters_.reply_failures;  // a stage wrote something unsound: nothing is sent
      return;
    }
    bool cut = false;
    len = FitForUdp(client.block, room.first(len), *info, client.udp_size, cut);
    if (cut) ++counters_.truncated;
  }
  ReplyFromQueryBuffer(client, len, LogError::kNone);
}

std::size_t ShardReactor::FitForUdp(std::uint16_t block, std::span<std::uint8_t> answer,
                                    const wire::ResponseInfo& info, std::uint16_t udp_size,
                                    bool& cut) noexcept {
  cut = false;
  if (answer.size() <= udp_size) return answer.size();
  if (block != kNoBlock && routes_.blocks[block].pipeline.minimal) {
    const std::size_t shorter = MinimalStage::Shrink(answer);
    if (shorter <= udp_size) return shorter;
    if (shorter < answer.size()) {
      const wire::Result<wire::ResponseInfo> again = wire::WalkResponse(answer.first(shorter));
      cut = true;
      if (!RINGDNS_INVARIANT(again.has_value())) {  // Shrink keeps a sound message sound
        ++counters_.invariant_violations;
        // The header alone, TC set and no section: the client asks again over TCP.
        wire::StoreU16(answer.data() + wire::header::kFlags,
                       static_cast<std::uint16_t>(
                           wire::LoadU16(answer.data() + wire::header::kFlags) | wire::flag::kTc));
        for (const std::size_t count : {wire::header::kQdCount, wire::header::kAnCount,
                                        wire::header::kNsCount, wire::header::kArCount}) {
          wire::StoreU16(answer.data() + count, 0);
        }
        return wire::header::kSize;
      }
      return wire::TruncateForUdp(answer.first(shorter), *again, udp_size);
    }
  }
  cut = true;
  return wire::TruncateForUdp(answer, info, udp_size);
}

void ShardReactor::ReplyServfail(const Client& client, LogError why) {
  // RFC 8914 "No Reachable Authority" when the client speaks EDNS.
  ReplyError(client, {wire::rcode::kServFail, true, wire::ede::kNoReachableAuthority}, why);
}

void ShardReactor::ReplyError(const Client& to, const wire::ErrorAnswer& error, LogError why) {
  WriteOverQuery(to, [&](const Client& client) { WriteError(client, error, why); });
}

void ShardReactor::WriteError(const Client& client, const wire::ErrorAnswer& error, LogError why) {
  // Written over the client's query in place (its ID first: the buffer may carry our
  // upstream TXID).
  std::uint8_t* payload = query_buffers_.Payload(client.bid);
  wire::SetId({payload, client.query_len}, client.id);
  const std::span<const std::uint8_t> msg(payload, client.query_len);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  wire::Result<std::size_t> len = wire::Error::kBadText;
  if (q) {
    len = wire::BuildErrorAnswer(msg, *q, error, {payload, kQueryRoom});
  }
  if (len) {
    ReplyFromQueryBuffer(client, *len, why);
  } else {
    ++counters_.reply_failures;
  }
}

void ShardReactor::ReplyTruncated(const Client& client) {
  ++counters_.tc_relayed;
  ReplyError(client, {wire::rcode::kNoError, false, wire::ede::kOther, true}, LogError::kNone);
}

bool ShardReactor::PlaceAnswer(const InflightSlot& slot, std::span<const std::uint8_t> answer,
                               std::uint8_t*& data, Owner& owner, std::uint16_t& bid) {
  if (answer.size() <= kQueryRoom) {
    if (query_buffers_.SoleHolder(slot.query_buffer)) {
      // Only the slot holds its query's buffer (no send reads it): the query has done
      // its job. So every TCP query has room for its answer, whatever the pool holds.
      bid = slot.query_buffer;
      query_buffers_.Hold(bid);  // the send's; the slot lets go of its own when released
    } else {
      bid = query_buffers_.TakeTcp();  // held by the send; kNone when every spare is out
    }
    if (bid != QueryBuffers::kNone) {
      owner = kOwnsQuery;
      data = query_buffers_.Payload(bid);
      std::memcpy(data, answer.data(), answer.size());
      return true;
    }
  }
  if (!big_buffers_.available()) return false;  // every big buffer waits on slow clients
  if (slot.conn != kNoSlot) {
    const Stream& client = streams_[slot.conn];
    if (client.generation == slot.conn_generation && client.big_held >= kBigBuffersPerConnection)
      return false;
  }
  owner = kOwnsBig;
  bid = big_buffers_.Take();
  data = big_buffers_.Payload(bid);
  std::memcpy(data, answer.data(), answer.size());
  return true;
}

}  // namespace ringdns::core
