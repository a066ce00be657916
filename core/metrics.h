// core/metrics.h: what a shard measures for Prometheus, in CoreDNS's shapes (requests by
// server block, protocol, family and type; responses by RCODE; request duration and
// message size histograms; cache and upstream figures).
//
// Each shard owns a ShardMetrics sized at start-up and writes it with RelaxedCounter
// adds (no lock, no allocation); the scrape (core/metrics_text.cc) sums every shard's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/relaxed_counter.h"

namespace ringdns::core {

// Query types with their own label; the rest count as "other" (CoreDNS's list).
inline constexpr std::array<std::uint16_t, 14> kMetricTypes = {1,  2,  5,  6,  12, 15, 16,
                                                               28, 33, 35, 43, 46, 48, 65};
inline constexpr std::size_t kTypeSlots = kMetricTypes.size() + 1;
std::size_t TypeSlot(std::uint16_t qtype) noexcept;
const char* TypeName(std::size_t slot) noexcept;

inline constexpr std::size_t kRcodeSlots = 24;  // RCODEs 0..23; larger ones in the last
const char* RcodeName(std::size_t rcode) noexcept;

// A histogram over fixed upper bounds; buckets are stored per bound (not cumulative).
template <std::size_t N>
struct Histogram {
  std::array<RelaxedCounter, N + 1> buckets;  // the last is +Inf
  RelaxedCounter count;
  RelaxedCounter sum;  // in the unit the caller observes (microseconds or octets)

  void Observe(std::uint64_t value, const std::array<std::uint64_t, N>& bounds) noexcept {
    std::size_t i = 0;
    while (i < N && value > bounds[i]) ++i;
    ++buckets[i];
    ++count;
    sum.Add(value);
  }
  void Merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i <= N; ++i) buckets[i].Add(other.buckets[i].get());
    count.Add(other.count.get());
    sum.Add(other.sum.get());
  }
};

// CoreDNS's buckets: durations 0.25 ms doubling to 8.192 s (in microseconds here),
// sizes in octets.
inline constexpr std::array<std::uint64_t, 16> kDurationBoundsUs = {
    250,   500,    1000,   2000,   4000,    8000,    16000,   32000,
    64000, 128000, 256000, 512000, 1024000, 2048000, 4096000, 8192000};
inline constexpr std::array<std::uint64_t, 13> kSizeBounds = {
    0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000};
using DurationHistogram = Histogram<kDurationBoundsUs.size()>;
using SizeHistogram = Histogram<kSizeBounds.size()>;

enum Proto : std::size_t { kUdp = 0, kTcp = 1 };

// Per server block.
struct BlockMetrics {
  RelaxedCounter requests[2][2][kTypeSlots];  // [proto][family: 0 IPv4, 1 IPv6][type]
  RelaxedCounter responses[kRcodeSlots];
  DurationHistogram duration[kTypeSlots];
  SizeHistogram request_size[2];   // [proto]
  SizeHistogram response_size[2];  // [proto]
  RelaxedCounter cache_hits[2];    // [0 success, 1 denial]
  RelaxedCounter cache_misses;
  RelaxedCounter cache_prefetches;
  RelaxedCounter cache_served_stale;

  void Merge(const BlockMetrics& other) noexcept;
};

// Per upstream (global upstream id).
struct UpstreamMetrics {
  DurationHistogram duration;
};

struct ShardMetrics {
  std::vector<BlockMetrics> blocks;
  std::vector<UpstreamMetrics> upstreams;
  RelaxedCounter cache_entries[2];    // gauges the shard keeps current: [success, denial]
  RelaxedCounter cache_evictions[2];  // likewise, copied from the pools
  RelaxedCounter cache_bytes[2];      // likewise: the octets each pool has made

  ShardMetrics(std::size_t block_count, std::size_t upstream_count)
      : blocks(block_count), upstreams(upstream_count) {}
};

}  // namespace ringdns::core
