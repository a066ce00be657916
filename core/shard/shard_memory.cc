// What a shard may hold at most: every pool, table and cache at its capacity. The
// shard touches memory as it uses it (core/base/reserved.h), so this is the bound a
// container's memory limit is checked against, not what a shard holds idle.
#include <algorithm>

#include "core/shard/shard_reactor.h"
#include "wire/name.h"

namespace ringdns::core {

using namespace layout;

namespace {
// OpenSSL's own per connection (the SSL object, its record buffers and handshake
// state), beyond the cipher buffers the shard keeps.
constexpr std::uint64_t kTlsSessionBytes = 64 * 1024;
}  // namespace

void Shard::CacheCapacities(const ShardOptions& options, const RouteTable& routes,
                            std::uint32_t (&capacity)[2]) noexcept {
  // One cache per shard, its pools as large as the largest block asks for, scaled down
  // when a memory limit asks for it (never below one entry; 0 % is used only to weigh
  // the rest of the shard).
  capacity[0] = capacity[1] = 0;
  for (const BlockRoute& block : routes.blocks) {
    if (!block.cache) continue;
    capacity[0] = std::max(capacity[0], block.cache->success_capacity);
    capacity[1] = std::max(capacity[1], block.cache->denial_capacity);
  }
  for (std::uint32_t& c : capacity) {
    if (c > 0)
      c = std::max<std::uint32_t>(
          1, static_cast<std::uint32_t>(std::uint64_t{c} * options.cache_percent / 100));
  }
}

std::uint64_t Shard::MemoryBound(const ShardOptions& o, const RouteTable& routes) {
  const std::uint64_t owned = std::uint64_t{o.refresh_buffers} + o.tcp_query_buffers;
  const std::uint64_t all_query = o.query_buffers + owned;
  std::uint64_t bound = 0;
  // Buffers: the provided rings (and their entries), the shard's own, the big ones.
  bound += std::uint64_t{o.query_buffers} * (kQueryBufferSize + sizeof(io_uring_buf));
  bound += std::uint64_t{o.answer_buffers} * (kAnswerBufferSize + sizeof(io_uring_buf));
  bound += owned * kQueryBufferSize + std::uint64_t{o.big_buffers} * kBigBufferSize;
  bound += (all_query + o.answer_buffers + o.big_buffers) * sizeof(SendContext) + all_query;
  bound +=
      all_query * kUpstreamScratch;  // 0x20 spellings, COOKIE pieces, rewrite's original questions
  if (std::any_of(routes.blocks.begin(), routes.blocks.end(),
                  [](const BlockRoute& b) { return b.pipeline.rewrite.has_value(); })) {
    bound += kRewriteScratchSize;  // where rewritten answers are re-encoded
  }
  // Upstream UDP sockets: the kernel's socket, file and inode, and the multishot receive,
  // charged to the same cgroup (a replacement is open while its socket's receive ends).
  bound += std::uint64_t{routes.upstream_family_count()} * o.upstream_sockets * 3 / 2 *
           kKernelSocketBytes;
  // ... and the answers they may queue while the answer ring is empty.
  bound += std::uint64_t{routes.upstream_family_count()} * o.upstream_sockets * 2 *
           static_cast<std::uint64_t>(UpstreamReceiveBuffer(o.upstream_sockets));
  // Streams: client connections, then each upstream pool's.
  const std::uint64_t upstream_streams =
      std::uint64_t{routes.upstream_count} * UpstreamConnectionPools::kConnectionsPerPool;
  const std::uint64_t streams = o.tcp_connections + upstream_streams;
  bound += streams * sizeof(Stream) + TimerWheel::MemoryBound(static_cast<std::uint32_t>(streams));
  bound += std::uint64_t{o.tcp_connections} *
           (kClientStreamBuffer + o.tcp_inflight_per_connection * sizeof(PendingWrite));
  bound += upstream_streams * (kUpstreamStreamBuffer + o.upstream_tcp_queue * sizeof(PendingWrite));
  // Queries in flight and their indexes.
  bound += std::uint64_t{o.slots} * (sizeof(InflightSlot) + sizeof(std::uint32_t));
  bound += TimerWheel::MemoryBound(o.slots) + PendingIndex::MemoryBound(o.slots) +
           CoalescingIndex::MemoryBound(o.slots);
  // DNS over TLS, when any listener or upstream speaks it.
  bool tls = !routes.tls_contexts.empty();
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) tls = tls || f.tls != nullptr;
  }
  if (tls) {
    bound += (o.tls_connections + upstream_streams) *
             (sizeof(TlsConnection) + 2 * kTlsCipherBuffer + kTlsSessionBytes);
  }
  // `dnstap`: the ring of tapped records.
  if (std::any_of(routes.blocks.begin(), routes.blocks.end(),
                  [](const BlockRoute& b) { return b.taps(); })) {
    bound += dnstap::kShardTapQueueBytes;
  }
  std::uint32_t cache[2];
  CacheCapacities(o, routes, cache);
  if (cache[0] + cache[1] > 0) bound += Cache::MemoryBound(cache[0]) + Cache::MemoryBound(cache[1]);
  return bound;
}

}  // namespace ringdns::core
