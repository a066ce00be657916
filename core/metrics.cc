#include "core/metrics.h"

namespace ringdns::core {

std::size_t TypeSlot(std::uint16_t qtype) noexcept {
  for (std::size_t i = 0; i < kMetricTypes.size(); ++i) {
    if (kMetricTypes[i] == qtype) return i;
  }
  return kMetricTypes.size();
}

const char* TypeName(std::size_t slot) noexcept {
  static constexpr const char* kNames[kTypeSlots] = {"A",  "NS",    "CNAME",  "SOA",   "PTR",
                                                     "MX", "TXT",   "AAAA",   "SRV",   "NAPTR",
                                                     "DS", "RRSIG", "DNSKEY", "HTTPS", "other"};
  return slot < kTypeSlots ? kNames[slot] : "other";
}

const char* RcodeName(std::size_t rcode) noexcept {
  // RFC 6895 section 2.3, as CoreDNS prints them.
  static constexpr const char* kNames[kRcodeSlots] = {
      "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
      "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "RCODE15",
      "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE"};
  return rcode < kRcodeSlots ? kNames[rcode] : "other";
}

void BlockMetrics::Merge(const BlockMetrics& o) noexcept {
  for (std::size_t p = 0; p < 2; ++p) {
    for (std::size_t f = 0; f < 2; ++f) {
      for (std::size_t t = 0; t < kTypeSlots; ++t) requests[p][f][t].Add(o.requests[p][f][t].get());
    }
    request_size[p].Merge(o.request_size[p]);
    response_size[p].Merge(o.response_size[p]);
  }
  for (std::size_t r = 0; r < kRcodeSlots; ++r) responses[r].Add(o.responses[r].get());
  for (std::size_t t = 0; t < kTypeSlots; ++t) duration[t].Merge(o.duration[t]);
  for (std::size_t c = 0; c < 2; ++c) cache_hits[c].Add(o.cache_hits[c].get());
  cache_misses.Add(o.cache_misses.get());
  cache_prefetches.Add(o.cache_prefetches.get());
  cache_served_stale.Add(o.cache_served_stale.get());
}

}  // namespace ringdns::core
