// core/shard/shard_options.h: what one shard is sized and tuned by. Every pool's capacity is
// fixed here at start (core/shard/shard_memory.cc turns them into the shard's memory bound);
// the daemon fills them from flags, the Corefile and the container's limits.
#pragma once

#include <cstdint>

#include "ring/ring.h"

namespace ringdns::core {

struct ShardOptions {
  std::uint32_t slots = 65536;          // in-flight queries
  std::uint32_t query_buffers = 4096;   // power of two; also bounds queries held
  std::uint32_t answer_buffers = 2048;  // power of two
  // Upstream UDP sockets per address family, each on a random port (RFC 5452): a blind
  // forger must hit the one a query left from (SECURITY.md has the sum).
  std::uint32_t upstream_sockets = 256;
  // Each upstream socket serves about this long, then gives up its port for a fresh
  // one (core/upstream/port_rotation.h). 0: never.
  std::int64_t upstream_socket_lifetime_ms = 32000;
  std::uint32_t refresh_buffers = 64;  // cache refreshes (prefetch, stale) in flight
  std::uint32_t max_waiters = 256;     // identical queries chained behind one upstream query
  // DNS over TCP from clients (RFC 7766); timeouts are CoreDNS's `timeouts` defaults.
  std::uint32_t tcp_connections = 1024;            // client connections per shard
  std::uint32_t tcp_query_buffers = 1024;          // TCP queries held per shard
  std::uint32_t tcp_inflight_per_connection = 64;  // beyond: stop reading that connection
  std::uint32_t tcp_queries_per_connection = 0;    // then close it; 0: no limit
  std::int64_t tcp_idle_timeout_ms = 10000;
  std::int64_t tcp_read_timeout_ms = 3000;  // to finish a message once it has begun
  std::int64_t tcp_write_timeout_ms = 5000;
  // DNS over TLS from clients: connections with a TLS session per shard, handshakes in
  // progress at once (each costs a signature), and how long a handshake may take.
  std::uint32_t tls_connections = 256;
  std::uint32_t tls_handshakes = 64;
  std::int64_t tls_handshake_timeout_ms = 5000;
  std::uint32_t big_buffers = 16;           // answers over TCP too large for a query buffer
  std::uint32_t upstream_tcp_queue = 1024;  // queries queued or in flight per upstream connection
  std::uint32_t shards = 1;                 // how many share max_concurrent (each takes its part)
  // Adaptive attempt timeouts never go below this (RFC 6298-style SRTT + 4 RTTVAR).
  std::int64_t min_attempt_timeout_ms = 50;
  // Of each cache's configured capacity: lowered to fit a container's memory limit.
  std::uint32_t cache_percent = 100;
  // DNS 0x20: UDP queries upstream spell their name's letters in a random case, and an
  // answer must echo it (core/upstream/case_randomization.h).
  bool randomize_case = true;
  // DNS cookies (RFC 7873) in UDP queries upstream; once an upstream has shown them, an
  // answer must carry ours (core/upstream/cookie_jar.h).
  bool upstream_cookies = true;
  // 1 in this many UDP queries is sampled for the hot-name balancer (core/hot_names.h).
  std::uint32_t hot_name_sample_every = 64;
  // io_uring where the kernel allows it, else epoll (-io flag).
  ring::Backend io_backend = ring::Backend::kAuto;
};

}  // namespace ringdns::core
