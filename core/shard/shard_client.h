// core/shard/shard_client.h: the client a query's answer goes to (Client), as a shard's
// files pass it along: taken from a received query, or rebuilt from its in-flight slot
// (ClientOf). Shard-local.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "core/shard/inflight.h"
#include "core/shard/reply_source.h"

namespace ringdns::core {

inline constexpr std::uint32_t kNoConn = kNoSlot;
inline constexpr std::uint16_t kNoBlock = 0xffff;
// Where an answer goes: a client, and the query buffer its answer is written over.
struct Client {
  std::uint32_t listener = 0;
  std::uint16_t bid = 0;
  std::uint16_t id = 0;  // the client's query ID
  std::uint16_t query_len = 0;
  std::uint16_t qname_len = 0;  // the client's spelling of the name is at offset 12
  std::uint16_t udp_size = 512;
  const sockaddr* addr = nullptr;
  socklen_t addr_len = 0;
  std::uint32_t conn = kNoConn;  // a TCP client's connection
  std::uint16_t conn_generation = 0;
  std::uint16_t block = kNoBlock;  // once routed: metrics are kept for its answer
  std::uint16_t qtype = 0;
  std::int64_t start_us = 0;
  bool do_bit = false;
  bool nsid = false;     // its query asked for an NSID (noted only in blocks with `nsid`)
  ReplySource source{};  // the address the client asked: a UDP answer leaves from it
  // rewrite: the rules that edited the query (its original question waits at
  // kRewriteStashOffset of its buffer) and which of them matched.
  const RewriteStage* rewrite = nullptr;
  std::uint32_t rewrite_matched = 0;
  bool opt_added = false;  // an edns0 rule gave its query an OPT the client did not send

  bool tcp() const noexcept { return conn != kNoConn; }
};

inline Client ClientOf(const InflightSlot& slot) noexcept {
  return {.listener = slot.listener,
          .bid = slot.query_buffer,
          .id = slot.client_id,
          .query_len = slot.query_len,
          .qname_len = slot.qname_len,
          .udp_size = slot.client_udp_size,
          .addr = reinterpret_cast<const sockaddr*>(&slot.client),
          .addr_len = slot.client_len,
          .conn = slot.conn,
          .conn_generation = slot.conn_generation,
          .block = slot.block,
          .qtype = slot.qtype,
          .start_us = slot.start_us,
          .do_bit = slot.client_do,
          .nsid = slot.client_nsid,
          .source = slot.client_source,
          .rewrite = slot.rewrite,
          .rewrite_matched = slot.rewrite_matched,
          .opt_added = slot.opt_added};
}

}  // namespace ringdns::core
