#include "core/shard/query_rewrites.h"

#include <cstring>

#include "core/shard/shard_layout.h"

namespace ringdns::core {

using namespace layout;

static_assert(sizeof(OriginalQuestion) <= kRewriteStashSize);

void QueryRewrites::MakeScratch() {
  if (scratch_ == nullptr) scratch_.reset(new std::uint8_t[kRewriteScratchSize]);
}

OriginalQuestion QueryRewrites::QuestionOf(std::uint16_t bid, const wire::QueryView& q) noexcept {
  OriginalQuestion original;
  original.qname_len = static_cast<std::uint8_t>(q.qname_len);
  std::memcpy(original.qname.data(), buffers_.Payload(bid) + wire::header::kSize, q.qname_len);
  original.qtype = q.qtype;
  original.qclass = q.qclass;
  return original;
}

void QueryRewrites::Stash(std::uint16_t bid, const OriginalQuestion& original) noexcept {
  std::memcpy(buffers_.Scratch(bid) + kRewriteStashOffset, &original, sizeof original);
}

OriginalQuestion QueryRewrites::Stashed(std::uint16_t bid) noexcept {
  OriginalQuestion original;
  std::memcpy(&original, buffers_.Scratch(bid) + kRewriteStashOffset, sizeof original);
  return original;
}

std::span<const std::uint8_t> QueryRewrites::AskedQnameOf(const InflightSlot& slot) noexcept {
  if (slot.rewrite == nullptr) {
    return {buffers_.Payload(slot.query_buffer) + wire::header::kSize, slot.qname_len};
  }
  const std::uint8_t* stash = buffers_.Scratch(slot.query_buffer) + kRewriteStashOffset;
  return {stash + offsetof(OriginalQuestion, qname), stash[offsetof(OriginalQuestion, qname_len)]};
}

Client QueryRewrites::Unrewritten(const Client& client, std::uint16_t into,
                                  const OriginalQuestion& original) noexcept {
  const std::uint8_t* from = buffers_.Payload(client.bid);
  std::uint8_t* to = buffers_.Payload(into);
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

std::size_t QueryRewrites::RevertStageAnswer(const Client& client, std::span<std::uint8_t> room,
                                             std::size_t len,
                                             const OriginalQuestion& original) noexcept {
  const wire::Result<std::size_t> reverted = client.rewrite->RevertAnswer(
      room.first(len), {scratch_.get(), kRewriteScratchSize}, original, client.rewrite_matched);
  if (!reverted || *reverted > room.size()) return 0;
  std::memcpy(room.data(), scratch_.get(), *reverted);
  if (!client.opt_added) return *reverted;
  // A stage answered the OPT an edns0 rule added: the client sent none (RFC 6891 section 7).
  const std::span<std::uint8_t> answer = room.first(*reverted);
  wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  if (!info) return 0;
  return wire::DropOptForClientWithout(answer, *info);
}

Client QueryRewrites::AsAsked(const Client& client, const OriginalQuestion& original) noexcept {
  Client asked = client;
  asked.query_len =
      static_cast<std::uint16_t>(client.query_len - client.qname_len + original.qname_len);
  asked.qname_len = original.qname_len;
  asked.qtype = original.qtype;
  asked.rewrite = nullptr;
  asked.rewrite_matched = 0;
  return asked;
}

std::optional<QueryRewrites::Reverted> QueryRewrites::RevertUpstreamAnswer(
    const InflightSlot& slot, const OriginalQuestion& original,
    std::span<const std::uint8_t> answer) noexcept {
  const wire::Result<std::size_t> len = slot.rewrite->RevertAnswer(
      answer, {scratch_.get(), kRewriteScratchSize}, original, slot.rewrite_matched);
  if (!len) return std::nullopt;
  const std::span<std::uint8_t> reverted(scratch_.get(), *len);
  const wire::Result<wire::ResponseInfo> walked = wire::WalkResponse(reverted);
  if (!walked) return std::nullopt;
  return Reverted{reverted, *walked};
}

}  // namespace ringdns::core
