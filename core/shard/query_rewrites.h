// core/shard/query_rewrites.h: rewrite (core/pipeline/rewrite_stage.h) over a shard's query
// buffers. A query the block's rules change is edited in its own buffer, so everything
// after (the stages, the forward over any transport, 0x20, dnstap) sees the rewritten
// query; its original question waits in the buffer's upstream scratch
// (layout::kRewriteStashOffset). Every way out gives the client its own question back: an
// upstream's answer is re-encoded (RevertUpstreamAnswer), and an answer written over the
// query (errors, stale and cached copies, a coalesced waiter's share) first restores it
// (Unrewritten). Shard-local; needs the buffers, no socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "core/buffers/query_buffers.h"
#include "core/pipeline/rewrite_stage.h"
#include "core/shard/inflight.h"
#include "core/shard/shard_client.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::core {

class QueryRewrites {
 public:
  explicit QueryRewrites(QueryBuffers& buffers) : buffers_(buffers) {}

  // The room answers are re-encoded in, for a shard whose routes have rewrite rules;
  // untouched (so not resident) until an answer needs it.
  void MakeScratch();

  // The question of the query in buffer `bid`, as parsed in `q`.
  OriginalQuestion QuestionOf(std::uint16_t bid, const wire::QueryView& q) noexcept;
  // Keeps `original` at the end of buffer `bid`, and reads it back.
  void Stash(std::uint16_t bid, const OriginalQuestion& original) noexcept;
  OriginalQuestion Stashed(std::uint16_t bid) noexcept;
  // The name the slot's client asked, before any rewrite.
  std::span<const std::uint8_t> AskedQnameOf(const InflightSlot& slot) noexcept;

  // The client's query with `original` in place of its rewritten question, written into
  // buffer `into` (which may be the client's own).
  Client Unrewritten(const Client& client, std::uint16_t into,
                     const OriginalQuestion& original) noexcept;
  // The client as it asked, for an answer that already carries its own question (the
  // query log reads the question from the answer by these lengths; metrics by type).
  static Client AsAsked(const Client& client, const OriginalQuestion& original) noexcept;

  // An answer a stage wrote for a rewritten query, re-encoded in place for the client:
  // its new length, or 0 when it does not re-encode or fit.
  std::size_t RevertStageAnswer(const Client& client, std::span<std::uint8_t> room, std::size_t len,
                                const OriginalQuestion& original) noexcept;
  // An upstream's answer to a rewritten query, re-encoded for the client into the scratch,
  // where it stays until the next re-encoding. Nothing when it does not re-encode.
  struct Reverted {
    std::span<std::uint8_t> answer;
    wire::ResponseInfo info;
  };
  std::optional<Reverted> RevertUpstreamAnswer(const InflightSlot& slot,
                                               const OriginalQuestion& original,
                                               std::span<const std::uint8_t> answer) noexcept;

 private:
  QueryBuffers& buffers_;
  std::unique_ptr<std::uint8_t[]> scratch_;  // layout::kRewriteScratchSize octets
};

}  // namespace ringdns::core
