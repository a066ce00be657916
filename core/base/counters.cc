#include "core/base/counters.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// Every counter once: its name (for logs and metric names) and where it lives.
constexpr std::pair<const char*, RelaxedCounter ShardCounters::*> kFields[] = {
    {"queries", &ShardCounters::queries},
    {"forwarded", &ShardCounters::forwarded},
    {"retries", &ShardCounters::retries},
    {"answers", &ShardCounters::answers},
    {"cache_hits", &ShardCounters::cache_hits},
    {"cache_misses", &ShardCounters::cache_misses},
    {"cache_inserts", &ShardCounters::cache_inserts},
    {"cache_stale", &ShardCounters::cache_stale},
    {"cache_prefetches", &ShardCounters::cache_prefetches},
    {"cache_stale_refreshes", &ShardCounters::cache_stale_refreshes},
    {"coalesced", &ShardCounters::coalesced},
    {"tcp_accepted", &ShardCounters::tcp_accepted},
    {"tcp_queries", &ShardCounters::tcp_queries},
    {"tcp_refused", &ShardCounters::tcp_refused},
    {"tcp_handed_over", &ShardCounters::tcp_handed_over},
    {"tcp_adopted", &ShardCounters::tcp_adopted},
    {"tcp_idle_closed", &ShardCounters::tcp_idle_closed},
    {"tcp_read_timeouts", &ShardCounters::tcp_read_timeouts},
    {"tcp_write_timeouts", &ShardCounters::tcp_write_timeouts},
    {"tcp_bad_frames", &ShardCounters::tcp_bad_frames},
    {"tcp_query_limit", &ShardCounters::tcp_query_limit},
    {"tcp_stalls", &ShardCounters::tcp_stalls},
    {"tls_handshakes", &ShardCounters::tls_handshakes},
    {"tls_handshake_failures", &ShardCounters::tls_handshake_failures},
    {"tls_handshake_timeouts", &ShardCounters::tls_handshake_timeouts},
    {"tls_resumed", &ShardCounters::tls_resumed},
    {"tls_refused", &ShardCounters::tls_refused},
    {"tc_retries", &ShardCounters::tc_retries},
    {"tc_relayed", &ShardCounters::tc_relayed},
    {"upstream_tcp_connects", &ShardCounters::upstream_tcp_connects},
    {"upstream_tcp_failures", &ShardCounters::upstream_tcp_failures},
    {"upstream_tcp_silent", &ShardCounters::upstream_tcp_silent},
    {"upstream_write_timeouts", &ShardCounters::upstream_write_timeouts},
    {"upstream_socket_rotations", &ShardCounters::upstream_socket_rotations},
    {"upstream_socket_rotation_failures", &ShardCounters::upstream_socket_rotation_failures},
    {"truncated", &ShardCounters::truncated},
    {"formerr", &ShardCounters::formerr},
    {"notimp", &ShardCounters::notimp},
    {"badvers", &ShardCounters::badvers},
    {"acl_blocked", &ShardCounters::acl_blocked},
    {"acl_filtered", &ShardCounters::acl_filtered},
    {"acl_dropped", &ShardCounters::acl_dropped},
    {"any_minimal", &ShardCounters::any_minimal},
    {"chaos_answers", &ShardCounters::chaos_answers},
    {"whoami_answers", &ShardCounters::whoami_answers},
    {"hosts_answers", &ShardCounters::hosts_answers},
    {"hosts_servfail", &ShardCounters::hosts_servfail},
    {"bufsize_lowered", &ShardCounters::bufsize_lowered},
    {"template_answers", &ShardCounters::template_answers},
    {"template_failures", &ShardCounters::template_failures},
    {"rewrites", &ShardCounters::rewrites},
    {"rewrite_failures", &ShardCounters::rewrite_failures},
    {"refused", &ShardCounters::refused},
    {"view_refused", &ShardCounters::view_refused},
    {"servfail_no_forward", &ShardCounters::servfail_no_forward},
    {"servfail_timeout", &ShardCounters::servfail_timeout},
    {"servfail_no_slot", &ShardCounters::servfail_no_slot},
    {"servfail_no_buffer", &ShardCounters::servfail_no_buffer},
    {"servfail_all_down", &ShardCounters::servfail_all_down},
    {"refused_max_concurrent", &ShardCounters::refused_max_concurrent},
    {"dropped_short", &ShardCounters::dropped_short},
    {"dropped_qr", &ShardCounters::dropped_qr},
    {"dropped_unsolicited", &ShardCounters::dropped_unsolicited},
    {"dropped_wrong_source", &ShardCounters::dropped_wrong_source},
    {"dropped_mismatch", &ShardCounters::dropped_mismatch},
    {"dropped_malformed", &ShardCounters::dropped_malformed},
    {"dropped_case_mismatch", &ShardCounters::dropped_case_mismatch},
    {"case_fallback_refused", &ShardCounters::case_fallback_refused},
    {"case_tcp_retries", &ShardCounters::case_tcp_retries},
    {"case_tcp_failures", &ShardCounters::case_tcp_failures},
    {"dropped_cookie_mismatch", &ShardCounters::dropped_cookie_mismatch},
    {"dropped_cookie_missing", &ShardCounters::dropped_cookie_missing},
    {"cookie_retries", &ShardCounters::cookie_retries},
    {"cookie_tcp_retries", &ShardCounters::cookie_tcp_retries},
    {"cookie_tcp_failures", &ShardCounters::cookie_tcp_failures},
    {"cookies_given_up", &ShardCounters::cookies_given_up},
    {"cookie_formerr_retries", &ShardCounters::cookie_formerr_retries},
    {"enobufs", &ShardCounters::enobufs},
    {"send_errors", &ShardCounters::send_errors},
    {"reply_failures", &ShardCounters::reply_failures},
    {"log_dropped", &ShardCounters::log_dropped},
    {"dnstap_dropped", &ShardCounters::dnstap_dropped},
    {"invariant_violations", &ShardCounters::invariant_violations},
};

}  // namespace

ShardCounters& ShardCounters::operator+=(const ShardCounters& other) {
  for (const auto& [name, field] : kFields) (this->*field).Add((other.*field).get());
  return *this;
}

void ForEachCounter(const ShardCounters& counters,
                    const std::function<void(const char* name, std::uint64_t value)>& visit) {
  for (const auto& [name, field] : kFields) visit(name, (counters.*field).get());
}

std::string FormatCounters(const ShardCounters& counters) {
  std::string out;
  ForEachCounter(counters, [&](const char* name, std::uint64_t value) {
    if (value == 0) return;
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  });
  return out.empty() ? "no traffic" : out;
}

}  // namespace ringdns::core
