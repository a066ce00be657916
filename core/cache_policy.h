// core/cache_policy.h: how long an answer may be cached, by CoreDNS's `cache` rules and
// RFC 2308, compiled from a server block's `cache` directive.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/config/config.h"
#include "core/zone_name.h"
#include "wire/response.h"

namespace ringdns::core {

struct CachePolicy {
  std::uint32_t capacity = 0;          // success + denial entries
  std::uint32_t success_max_ttl = 3600;
  std::uint32_t success_min_ttl = 5;
  std::uint32_t denial_max_ttl = 1800;
  std::uint32_t denial_min_ttl = 5;
  std::uint32_t servfail_ttl = 5;      // 0: SERVFAIL is never cached
  bool keepttl = false;
  std::vector<WireZone> zones;         // empty: every name of the block
  std::vector<WireZone> disable_success;
  std::vector<WireZone> disable_denial;

  static CachePolicy From(const config::Cache& cache);

  // Whether answers for `qname` are cached at all under this policy.
  bool Covers(std::span<const std::uint8_t> qname) const noexcept;
};

// Seconds to cache `info`'s answer for `qname`, or 0 when it must not be cached:
//  - truncated answers, and RCODEs other than NOERROR, NXDOMAIN and SERVFAIL, never;
//  - positive answers: the minimum TTL, 0 never, else floored by MINTTL and capped;
//  - NXDOMAIN and NODATA: min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5), only with an
//    SOA, floored and capped by the denial settings;
//  - SERVFAIL: servfail_ttl;
//  - nothing under a `disable success|denial` zone.
std::uint32_t CacheTtl(const wire::ResponseInfo& info, std::span<const std::uint8_t> qname,
                       const CachePolicy& policy) noexcept;

}  // namespace ringdns::core
