#include "core/counters.h"

#include "absl/strings/str_cat.h"

namespace ringdns::core {

std::string FormatCounters(const ShardCounters& c) {
  const std::pair<const char*, std::uint64_t> fields[] = {
      {"queries", c.queries},
      {"forwarded", c.forwarded},
      {"retries", c.retries},
      {"answers", c.answers},
      {"cache_hits", c.cache_hits},
      {"cache_misses", c.cache_misses},
      {"cache_inserts", c.cache_inserts},
      {"cache_stale", c.cache_stale},
      {"cache_prefetches", c.cache_prefetches},
      {"cache_stale_refreshes", c.cache_stale_refreshes},
      {"coalesced", c.coalesced},
      {"tcp_accepted", c.tcp_accepted},
      {"tcp_queries", c.tcp_queries},
      {"tcp_refused", c.tcp_refused},
      {"tcp_idle_closed", c.tcp_idle_closed},
      {"tcp_read_timeouts", c.tcp_read_timeouts},
      {"tcp_write_timeouts", c.tcp_write_timeouts},
      {"tcp_bad_frames", c.tcp_bad_frames},
      {"tcp_query_limit", c.tcp_query_limit},
      {"tcp_stalls", c.tcp_stalls},
      {"tc_retries", c.tc_retries},
      {"upstream_tcp_connects", c.upstream_tcp_connects},
      {"upstream_tcp_failures", c.upstream_tcp_failures},
      {"truncated", c.truncated},
      {"formerr", c.formerr},
      {"notimp", c.notimp},
      {"badvers", c.badvers},
      {"refused", c.refused},
      {"servfail_no_forward", c.servfail_no_forward},
      {"servfail_timeout", c.servfail_timeout},
      {"servfail_no_slot", c.servfail_no_slot},
      {"servfail_all_down", c.servfail_all_down},
      {"refused_max_concurrent", c.refused_max_concurrent},
      {"dropped_short", c.dropped_short},
      {"dropped_qr", c.dropped_qr},
      {"dropped_unsolicited", c.dropped_unsolicited},
      {"dropped_wrong_source", c.dropped_wrong_source},
      {"dropped_mismatch", c.dropped_mismatch},
      {"dropped_malformed", c.dropped_malformed},
      {"enobufs", c.enobufs},
      {"send_errors", c.send_errors},
      {"reply_failures", c.reply_failures},
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (value == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  }
  return out.empty() ? "no traffic" : out;
}

}  // namespace ringdns::core
