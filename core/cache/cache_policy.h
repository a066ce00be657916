// core/cache/cache_policy.h: how long an answer may be cached, by CoreDNS's `cache` rules and
// RFC 2308, compiled from a server block's `cache` directive.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/base/zone_name.h"
#include "core/config/config.h"
#include "wire/response.h"

namespace ringdns::core {

struct CachePolicy {
  std::uint32_t success_capacity = 9984;
  std::uint32_t denial_capacity = 9984;
  std::uint32_t success_max_ttl = 3600;
  std::uint32_t success_min_ttl = 5;
  std::uint32_t denial_max_ttl = 1800;
  std::uint32_t denial_min_ttl = 5;
  std::uint32_t servfail_ttl = 5;  // 0: SERVFAIL is never cached
  bool keepttl = false;
  // prefetch AMOUNT [DURATION] [PERCENTAGE%]: refresh an entry hit `prefetch_amount`
  // times, each within the window of the last, once its remaining lifetime is at most
  // `prefetch_percentage` of the whole. 0: off.
  std::uint32_t prefetch_amount = 0;
  std::int64_t prefetch_window_ms = 60000;
  std::uint32_t prefetch_percentage = 10;
  // serve_stale [DURATION] [immediate|verify] (RFC 8767). 0: off.
  std::uint32_t stale_seconds = 0;
  bool stale_verify = false;    // ask upstream first; serve stale only if that fails
  std::vector<WireZone> zones;  // empty: every name of the block
  std::vector<WireZone> disable_success;
  std::vector<WireZone> disable_denial;

  static CachePolicy From(const config::Cache& cache);

  // Whether answers for `qname` are cached at all under this policy.
  bool Covers(std::span<const std::uint8_t> qname) const noexcept;
};

// How long to cache an answer, and in which pool.
struct CacheVerdict {
  std::uint32_t ttl = 0;  // seconds; 0: do not cache
  bool denial = false;    // NXDOMAIN, NODATA and SERVFAIL go to the denial pool
};

// The verdict for `info`'s answer to `qname`:
//  - truncated answers, and RCODEs other than NOERROR, NXDOMAIN and SERVFAIL, never;
//  - positive answers: the minimum TTL, 0 never, else floored by MINTTL and capped;
//  - NXDOMAIN and NODATA: min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5), only with an
//    SOA, floored and capped by the denial settings;
//  - SERVFAIL: servfail_ttl;
//  - nothing under a `disable success|denial` zone.
CacheVerdict CacheTtl(const wire::ResponseInfo& info, std::span<const std::uint8_t> qname,
                      const CachePolicy& policy) noexcept;

// RFC 8767 section 4: the TTL a stale answer is served with.
inline constexpr std::uint32_t kStaleAnswerTtl = 30;

}  // namespace ringdns::core
