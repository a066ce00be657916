// rewrite on a shard (core/pipeline/rewrite_stage.h). A query the block's rules change
// is edited in its own buffer, so everything after (the stages, the forward over any
// transport, 0x20, dnstap) sees the rewritten query; its original question waits in the
// buffer's upstream scratch (layout::kRewriteStashOffset). Every way out gives the
// client its own question back: an upstream's answer is re-encoded (RevertAnswer), and
// an answer written over the query (errors, stale and cached copies, a coalesced
// waiter's share) first restores it (Unrewritten, from WriteOverQuery).
#include <cstring>
#include <optional>

#include "core/shard/shard.h"
#include "core/shard/shard_layout.h"
#include "wire/response.h"

namespace ringdns::core {

using namespace layout;

static_assert(sizeof(OriginalQuestion) <= kRewriteStashSize);

OriginalQuestion Shard::QuestionOf(std::uint16_t bid, const wire::QueryView& q) noexcept {
  OriginalQuestion original;
  original.qname_len = static_cast<std::uint8_t>(q.qname_len);
  std::memcpy(original.qname.data(), query_buffers_.Payload(bid) + wire::header::kSize,
              q.qname_len);
  original.qtype = q.qtype;
  original.qclass = q.qclass;
  return original;
}

void Shard::StashQuestion(std::uint16_t bid, const OriginalQuestion& original) noexcept {
  std::memcpy(query_buffers_.Scratch(bid) + kRewriteStashOffset, &original, sizeof original);
}

OriginalQuestion Shard::StashedQuestion(std::uint16_t bid) noexcept {
  OriginalQuestion original;
  std::memcpy(&original, query_buffers_.Scratch(bid) + kRewriteStashOffset, sizeof original);
  return original;
}

std::span<const std::uint8_t> Shard::AskedQnameOf(const InflightSlot& slot) noexcept {
  if (slot.rewrite == nullptr) return QnameOf(slot);
  const std::uint8_t* stash = query_buffers_.Scratch(slot.query_buffer) + kRewriteStashOffset;
  return {stash + offsetof(OriginalQuestion, qname), stash[offsetof(OriginalQuestion, qname_len)]};
}

Client Shard::Unrewritten(const Client& client, std::uint16_t into,
                          const OriginalQuestion& original) noexcept {
  const std::uint8_t* from = query_buffers_.Payload(client.bid);
  std::uint8_t* to = query_buffers_.Payload(into);
  // Everything after the rewritten question (the other sections) follows the original.
  const std::size_t rest_at = wire::header::kSize + client.qname_len + 4;
  const std::size_t rest = client.query_len > rest_at ? client.query_len - rest_at : 0;
  const std::size_t question = std::size_t{original.qname_len} + 4;
  std::memmove(to + wire::header::kSize + question, from + rest_at, rest);
  if (into != client.bid) std::memcpy(to, from, wire::header::kSize);
  std::memcpy(to + wire::header::kSize, original.qname.data(), original.qname_len);
  wire::StoreU16(to + wire::header::kSize + original.qname_len, original.qtype);
  wire::StoreU16(to + wire::header::kSize + original.qname_len + 2, original.qclass);
  Client restored = client;
  restored.bid = into;
  restored.qname_len = original.qname_len;
  restored.qtype = original.qtype;
  restored.query_len = static_cast<std::uint16_t>(wire::header::kSize + question + rest);
  restored.rewrite = nullptr;
  restored.rewrite_matched = 0;
  if (client.opt_added) {  // the OPT an edns0 rule added, last: the client sent none
    const std::span<std::uint8_t> message(to, restored.query_len);
    if (wire::Result<wire::QueryView> q = wire::ParseQuery(message)) {
      restored.query_len = static_cast<std::uint16_t>(wire::DropOpt(message, q->opt));
    }
    restored.opt_added = false;
  }
  return restored;
}

bool Shard::ApplyRewrite(Client& client, std::span<std::uint8_t> query, const wire::QueryView& q,
                         zones::RouteId route, Lookup& lookup, OriginalQuestion& original,
                         std::optional<wire::QueryView>& edited, bool& edited_in_place) noexcept {
  original = QuestionOf(client.bid, q);
  const RewriteStage::QueryResult r =
      lookup.rewrite->RewriteQuery({query.data(), kQueryRoom}, q.size, q.qname_len, q.qtype,
                                   q.qclass, {client.addr, client.tcp()});
  if (r.outcome == RewriteStage::Outcome::kFailed) return false;  // the query is as it came
  if (r.outcome == RewriteStage::Outcome::kRewritten) {
    edited_in_place = true;
    client.query_len = static_cast<std::uint16_t>(r.len);
    client.qname_len = static_cast<std::uint16_t>(r.qname_len);
    client.opt_added = r.opt_created;
    const wire::Result<wire::QueryView> parsed = wire::ParseQuery(query.first(r.len));
    // A pointer of a later record into the question no longer lands on a label.
    if (!parsed) return false;
    ++counters_.rewrites;
    edited = *parsed;
    client.qtype = edited->qtype;
    lookup.qname = edited->qname(query.first(r.len));
    lookup.forward = routes_.PickForward(route, lookup.qname);
  }
  if (edited_in_place || lookup.rewrite->EditsAnswer(r.matched)) {
    client.rewrite = lookup.rewrite;
    client.rewrite_matched = r.matched;
    StashQuestion(client.bid, original);
  }
  return true;
}

std::size_t Shard::RevertStageAnswer(const Client& client, std::span<std::uint8_t> room,
                                     std::size_t len, const OriginalQuestion& original) noexcept {
  const wire::Result<std::size_t> reverted =
      client.rewrite->RevertAnswer(room.first(len), {rewrite_scratch_.get(), kRewriteScratchSize},
                                   original, client.rewrite_matched);
  if (!reverted || *reverted > room.size()) return 0;
  std::memcpy(room.data(), rewrite_scratch_.get(), *reverted);
  if (!client.opt_added) return *reverted;
  // A stage answered the OPT an edns0 rule added: the client sent none (RFC 6891 section 7).
  const std::span<std::uint8_t> answer = room.first(*reverted);
  wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  if (!info) return 0;
  return wire::DropOptForClientWithout(answer, *info);
}

Client Shard::AsAsked(const Client& client, const OriginalQuestion& original) noexcept {
  Client asked = client;
  asked.query_len =
      static_cast<std::uint16_t>(client.query_len - client.qname_len + original.qname_len);
  asked.qname_len = original.qname_len;
  asked.qtype = original.qtype;
  asked.rewrite = nullptr;
  asked.rewrite_matched = 0;
  return asked;
}

bool Shard::RevertUpstreamAnswer(const InflightSlot& slot, const OriginalQuestion& original,
                                 std::span<std::uint8_t>& answer, Owner& owner, std::uint16_t& bid,
                                 wire::ResponseInfo& info) noexcept {
  const wire::Result<std::size_t> len = slot.rewrite->RevertAnswer(
      answer, {rewrite_scratch_.get(), kRewriteScratchSize}, original, slot.rewrite_matched);
  if (!len) return false;
  const std::span<std::uint8_t> reverted(rewrite_scratch_.get(), *len);
  const wire::Result<wire::ResponseInfo> walked = wire::WalkResponse(reverted);
  if (!walked) return false;
  // The re-encoded answer lives in the scratch until it is placed for the client.
  GiveBack(owner, bid);
  owner = kBorrowed;
  bid = 0;
  answer = reverted;
  info = *walked;
  return true;
}

}  // namespace ringdns::core
