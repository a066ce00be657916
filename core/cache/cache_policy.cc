#include "core/cache/cache_policy.h"

namespace ringdns::core {
namespace {

std::uint32_t Seconds(absl::Duration d) {
  return static_cast<std::uint32_t>(absl::ToInt64Seconds(d));
}

std::vector<WireZone> Zones(const std::vector<std::string>& names) {
  std::vector<WireZone> out;
  for (const std::string& name : names) {
    absl::StatusOr<WireZone> zone = ToWireZone(name);
    if (zone.ok()) out.push_back(*zone);  // the config layer validated every name
  }
  return out;
}

bool InAny(std::span<const std::uint8_t> qname, const std::vector<WireZone>& zones) noexcept {
  for (const WireZone& z : zones) {
    if (InZone(qname, z.view())) return true;
  }
  return false;
}

std::uint32_t Clamp(std::uint32_t ttl, std::uint32_t min_ttl, std::uint32_t max_ttl) noexcept {
  if (ttl < min_ttl) ttl = min_ttl;
  return ttl > max_ttl ? max_ttl : ttl;
}

}  // namespace

CachePolicy CachePolicy::From(const config::Cache& cache) {
  CachePolicy p;
  p.success_capacity = cache.success.capacity;
  p.denial_capacity = cache.denial.capacity;
  p.success_max_ttl = Seconds(cache.success.max_ttl);
  p.success_min_ttl = Seconds(cache.success.min_ttl);
  p.denial_max_ttl = Seconds(cache.denial.max_ttl);
  p.denial_min_ttl = Seconds(cache.denial.min_ttl);
  p.servfail_ttl = Seconds(cache.servfail_ttl);
  p.keepttl = cache.keepttl;
  p.prefetch_amount = cache.prefetch_amount;
  p.prefetch_window_ms = absl::ToInt64Milliseconds(cache.prefetch_duration);
  p.prefetch_percentage = cache.prefetch_percentage;
  if (cache.serve_stale) {
    p.stale_seconds = Seconds(cache.serve_stale_duration);
    p.stale_verify = cache.serve_stale_refresh == config::StaleRefresh::kVerify;
  }
  p.zones = Zones(cache.zones);
  p.disable_success = Zones(cache.disable_success);
  p.disable_denial = Zones(cache.disable_denial);
  return p;
}

bool CachePolicy::Covers(std::span<const std::uint8_t> qname) const noexcept {
  return zones.empty() || InAny(qname, zones);
}

CacheVerdict CacheTtl(const wire::ResponseInfo& info, std::span<const std::uint8_t> qname,
                      const CachePolicy& policy) noexcept {
  if (info.truncated()) return {};
  switch (info.rcode) {
    case wire::rcode::kServFail: return {policy.servfail_ttl, true};
    case wire::rcode::kNoError:
      if (info.counts[0] > 0) {
        if (InAny(qname, policy.disable_success)) return {};
        if (info.min_ttl == 0 || info.min_ttl == wire::kNoTtl) return {};  // TTL 0: never
        return {Clamp(info.min_ttl, policy.success_min_ttl, policy.success_max_ttl), false};
      }
      [[fallthrough]];  // NODATA is a denial
    case wire::rcode::kNxDomain: {
      if (InAny(qname, policy.disable_denial) || !info.has_soa) return {};
      const std::uint32_t ttl = info.negative_ttl();
      if (ttl == 0) return {};
      return {Clamp(ttl, policy.denial_min_ttl, policy.denial_max_ttl), true};
    }
    default: return {};
  }
}

}  // namespace ringdns::core
