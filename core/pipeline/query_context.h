// core/pipeline/query_context.h: what a stage of a server block's query pipeline sees of
// one query, and what it may decide. Stages run on the shard's thread, on the packet
// path: they read the parsed query, may write an answer into `room`, and never allocate.
// A stage that passes a query on may edit it in place, keeping its length (bufsize).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/counters.h"
#include "wire/message.h"

namespace ringdns::core {

enum class Verdict : std::uint8_t {
  kNext,      // not this stage's query: on to the next stage (in the end, the forward)
  kAnswered,  // the answer is in room[0, answer_len): send it
  kDrop,      // no answer at all
};

struct QueryContext {
  std::span<std::uint8_t> message;      // the query as received
  const wire::QueryView& query;         // parsed from `message` as received (before edits)
  std::span<const std::uint8_t> qname;  // the question's name, in `message`
  const sockaddr* client = nullptr;     // the client's address
  bool tcp = false;                     // it came over TCP (or TLS)
  // Where an answer is written. It may start at message.data(): a stage reads what it
  // needs from `query` (or builds with wire's builders, which allow the overlap).
  std::span<std::uint8_t> room;
  ShardCounters& counters;
  // The largest answer the client takes: its EDNS payload size over UDP (512 without
  // one), 65535 over TCP. A stage may lower it; answers are cut to fit.
  std::uint16_t udp_size = 512;
  std::size_t answer_len = 0;  // set with kAnswered
};

}  // namespace ringdns::core
