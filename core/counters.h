// core/counters.h: what a shard counts. Written only by the owning shard (plain
// integers, no atomics on the packet path); read by others only after the shard stopped,
// or summed at scrape time once metrics land.
#pragma once

#include <cstdint>
#include <string>

namespace ringdns::core {

struct ShardCounters {
  std::uint64_t queries = 0;             // datagrams received on listeners
  std::uint64_t forwarded = 0;           // queries sent upstream (first attempts)
  std::uint64_t retries = 0;             // further attempts after a timeout or error
  std::uint64_t answers = 0;             // upstream answers delivered to clients
  std::uint64_t cache_hits = 0;          // answered from the cache
  std::uint64_t cache_misses = 0;        // cacheable queries that went upstream
  std::uint64_t cache_inserts = 0;
  std::uint64_t cache_stale = 0;         // answered from an expired entry (serve_stale)
  std::uint64_t cache_prefetches = 0;    // refreshes of popular entries before they expire
  std::uint64_t cache_stale_refreshes = 0;  // refreshes of entries served stale
  std::uint64_t coalesced = 0;           // queries that shared an identical one's upstream answer
  std::uint64_t tcp_accepted = 0;        // client connections
  std::uint64_t tcp_queries = 0;         // queries read from client connections
  std::uint64_t tcp_refused = 0;         // connections closed at once: the shard had no room
  std::uint64_t tcp_idle_closed = 0;     // idle past the idle timeout
  std::uint64_t tcp_read_timeouts = 0;   // a message begun and not finished in time
  std::uint64_t tcp_write_timeouts = 0;  // a client that did not read its answers in time
  std::uint64_t tcp_bad_frames = 0;      // zero or oversized length, or not a query
  std::uint64_t tcp_query_limit = 0;     // connections closed after their query quota
  std::uint64_t tcp_stalls = 0;          // reads paused: in-flight limit or no buffer
  std::uint64_t tc_retries = 0;          // truncated UDP answers asked again over TCP
  std::uint64_t upstream_tcp_connects = 0;
  std::uint64_t upstream_tcp_failures = 0;  // connects refused, connections broken
  std::uint64_t truncated = 0;           // answers cut to the client's UDP size (TC)
  std::uint64_t formerr = 0;             // malformed queries answered FORMERR
  std::uint64_t notimp = 0;              // opcodes other than QUERY
  std::uint64_t badvers = 0;             // EDNS version above 0
  std::uint64_t refused = 0;             // no server block serves the zone
  std::uint64_t servfail_no_forward = 0; // the block has no forward for the name
  std::uint64_t servfail_timeout = 0;    // every attempt failed before the deadline
  std::uint64_t servfail_no_slot = 0;    // in-flight table full
  std::uint64_t servfail_all_down = 0;   // failfast_all_unhealthy_upstreams with all down
  std::uint64_t refused_max_concurrent = 0;  // above the forward's max_concurrent
  std::uint64_t dropped_short = 0;       // shorter than a header, or cut by the buffer
  std::uint64_t dropped_qr = 0;          // QR set on a query: never answer an answer
  std::uint64_t dropped_unsolicited = 0; // answer with no matching (socket, ID)
  std::uint64_t dropped_wrong_source = 0;// answer from another address or port
  std::uint64_t dropped_mismatch = 0;    // answer whose question differs (RFC 5452)
  std::uint64_t dropped_malformed = 0;   // answer that fails validation
  std::uint64_t enobufs = 0;             // receives that found no free buffer
  std::uint64_t send_errors = 0;
  std::uint64_t reply_failures = 0;      // could not build an error answer in place

  ShardCounters& operator+=(const ShardCounters& o) {
    const std::uint64_t* src = reinterpret_cast<const std::uint64_t*>(&o);
    std::uint64_t* dst = reinterpret_cast<std::uint64_t*>(this);
    for (std::size_t i = 0; i < sizeof(ShardCounters) / sizeof(std::uint64_t); ++i) dst[i] += src[i];
    return *this;
  }
};

// "queries=10 forwarded=9 ...", every non-zero counter, for logs.
std::string FormatCounters(const ShardCounters& counters);

}  // namespace ringdns::core
