// core/shard/inflight.h: the fixed table of queries waiting for an upstream answer.
//
// Sized at start-up; Take and Release are O(1) and never allocate. A slot keeps the
// client's query buffer (a provided buffer we have not recycled yet) so retries resend
// the same bytes and error answers are written in place: no copy of the query is made.
//
// A slot is one of three things: a query ringdns forwards for a client; a waiter, a
// client query that found an identical one already upstream and is chained behind it
// (the leader) to share its answer; or a refresh ringdns sends on its own behalf to
// renew a cache entry (client_len == 0: nobody to answer). Shard-local.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <vector>

#include "core/base/reserved.h"
#include "core/cache/cache.h"
#include "core/routes.h"
#include "core/shard/reply_source.h"
#include "core/upstream/case_randomization.h"

namespace ringdns::core {

inline constexpr std::uint32_t kNoSlot = 0xffffffffu;

class RewriteStage;

struct InflightSlot {
  // Hot: touched by every answer.
  std::uint16_t generation = 0;
  std::uint16_t txid = 0;       // the ID we sent upstream
  std::uint16_t client_id = 0;  // the ID the client sent
  std::uint16_t upstream_socket = 0;
  std::uint16_t query_buffer = 0;  // provided-buffer id holding the query
  std::uint16_t query_len = 0;
  std::uint16_t qname_len = 0;
  std::uint16_t opcode = 0;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint16_t client_udp_size = 512;
  std::uint8_t upstream = 0;  // index into forward->upstreams
  std::uint8_t attempts = 0;
  std::uint8_t listener = 0;
  bool in_use = false;
  bool leader = false;        // registered in the coalescing index under cache_key
  bool waiter = false;        // chained behind a leader; nothing sent upstream
  bool tcp_upstream = false;  // asks its upstream over TCP (upstream_socket names the stream)
  bool pending = false;       // filed in the pending index under (upstream_socket, txid)
  bool client_do = false;     // the client's query had the DO bit (for `log`)
  bool client_nsid = false;   // the client's query asked for an NSID (for `nsid`)
  bool opt_added = false;  // rewrite gave the query an OPT: the answer's goes (RFC 6891 section 7)
  bool truncated_over_udp = false;  // the upstream's UDP answer had TC: asked again over TCP
  bool moved = false;               // its upstream stream broke: the retry is not its own failure
  // The attempt before the current one (UDP only) still counts: if its answer comes
  // late, after a retry went out, it is taken (a hedge against an adaptive timeout
  // fired too early).
  bool prev_pending = false;
  std::uint8_t prev_upstream = 0;
  std::uint16_t prev_socket = 0;
  std::uint16_t prev_txid = 0;
  // DNS 0x20 (wire/name_case.h): the key that spells the name of every UDP attempt of
  // this forward, 0 for plain names; and whether the current and the previous attempt
  // went out spelled with it (their answers must then echo that spelling).
  std::uint64_t case_key = 0;
  bool case_spelled = false;
  bool prev_case_spelled = false;
  CaseFolds case_folds;        // answers to this query that folded the spelling
  bool case_over_tcp = false;  // asked over TCP after two folds: if that fails, plain over UDP
  std::uint32_t case_plain_upstream =
      CaseFolds::kNoUpstream;  // the upstream whose TCP check failed
  // DNS cookies (core/upstream/cookie_jar.h): where the query's OPT is (kNoOpt: the
  // client sent none, kOptNotLast, or its RDATA's offset; core/upstream/outgoing_query.h),
  // which upstream (global id) had its one BADCOOKIE retry, and to which the query goes
  // without ringdns's COOKIE (its TCP check failed).
  std::uint16_t opt_rdata = 0;
  std::uint32_t cookie_retried_upstream = CaseFolds::kNoUpstream;
  std::uint32_t cookie_off_upstream = CaseFolds::kNoUpstream;
  bool cookie_over_tcp = false;  // asked over TCP after a UDP answer without our cookie
  std::uint32_t counted_forward = 0xffffffffu;  // in that forward's max_concurrent count
  std::int64_t sent_us = 0;                     // when the current attempt went out (RTT samples)
  std::int64_t start_us = 0;     // when the client's query arrived (duration metrics)
  std::uint16_t block = 0xffff;  // the server block that took it (metrics labels)
  std::uint16_t waiters = 0;     // leader: how many are chained
  std::uint32_t next_waiter = kNoSlot;
  const ForwardRoute* forward = nullptr;
  const CachePolicy* cache_policy = nullptr;  // null: the answer is not cached
  CacheKey cache_key;
  std::int64_t deadline_ms = 0;  // the whole query's
  // Cold: needed once, to reply.
  sockaddr_in6 client{};             // large enough for either family
  socklen_t client_len = 0;          // 0: a refresh, nobody to answer
  ReplySource client_source;         // the address the client asked (wildcard listeners)
  std::uint32_t conn = 0xffffffffu;  // a TCP client's connection, else none
  std::uint16_t conn_generation = 0;
  // rewrite (core/shard/query_rewrites.h): the block's rules when they edited the query, whose
  // original question then waits at the end of its buffer; the rules that matched.
  const RewriteStage* rewrite = nullptr;
  std::uint32_t rewrite_matched = 0;

  bool has_client() const noexcept { return client_len != 0 || conn != 0xffffffffu; }
};

// Slots are made as queries need them (the table's memory follows the peak number in
// flight) up to the capacity fixed at start; released ones are reused first.
class InflightTable {
 public:
  explicit InflightTable(std::uint32_t slots) : slots_(slots) { free_.reserve(slots); }

  // Returns a slot index, or kNone when the table is full.
  static constexpr std::uint32_t kNone = kNoSlot;
  std::uint32_t Take() noexcept {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else if (!slots_.full()) {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.Grow();
    } else {
      return kNone;
    }
    InflightSlot& slot = slots_[index];
    slot.in_use = true;
    slot.leader = slot.waiter = slot.tcp_upstream = slot.pending = slot.prev_pending = false;
    slot.truncated_over_udp = slot.moved = false;
    slot.counted_forward = kNoSlot;
    slot.conn = kNoSlot;
    slot.waiters = 0;
    slot.next_waiter = kNoSlot;
    slot.attempts = 0;
    ++slot.generation;  // completions for the previous user of this slot no longer match
    return index;
  }
  void Release(std::uint32_t index) noexcept {
    slots_[index].in_use = false;
    free_.push_back(index);  // never grows past the reserved capacity
  }

  InflightSlot& operator[](std::uint32_t index) noexcept { return slots_[index]; }
  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(slots_.capacity()); }
  // Slots made so far: every index ever taken is below it.
  std::uint32_t made() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t in_use() const noexcept {
    return made() - static_cast<std::uint32_t>(free_.size());
  }

 private:
  ReservedArray<InflightSlot> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace ringdns::core
