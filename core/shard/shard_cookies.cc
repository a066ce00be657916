// DNS cookies on a shard (RFC 7873; core/upstream/cookie_jar.h holds what each upstream
// has shown). Every UDP query upstream carries the shard's client cookie for that
// upstream (core/upstream/outgoing_query.h); here its answer is judged, and the COOKIE
// (and an OPT added only to carry it) is taken out before anyone else sees the answer.
#include "absl/strings/str_cat.h"
#include "core/net.h"
#include "core/shard/shard_reactor.h"
#include "wire/cookie.h"

namespace ringdns::core {

bool ShardReactor::AcceptCookie(std::uint32_t index, std::uint8_t upstream, std::uint16_t txid,
                                std::span<std::uint8_t>& answer, wire::ResponseInfo& info,
                                bool over_udp, std::int64_t now_ms) {
  InflightSlot& slot = inflight_[index];
  const std::uint32_t upstream_id = slot.forward->first_upstream + upstream;
  // A query with a TSIG went as it came, and its answer comes back as it is.
  if (slot.opt_rdata == kOptNotLast) return true;
  const bool carried = cookies_ && over_udp && slot.cookie_off_upstream != upstream_id &&
                       !cookies_->GaveUp(upstream_id);
  if (carried) {
    const bool current = slot.pending && upstream == slot.upstream && txid == slot.txid;
    const wire::FoundCookie found = wire::FindCookie(answer, info.opt());
    switch (cookies_->Judge(upstream_id, found, now_ms)) {
      case CookieJar::Verdict::kGaveUp:
        ++counters_.cookies_given_up;
        error_log_.Write(absl::StrCat(
            "upstream ", slot.forward->upstreams[upstream].ToString(),
            " answers without ringdns's DNS cookie too often; cookies to it are given up"));
        [[fallthrough]];
      case CookieJar::Verdict::kWrongCookie:
      case CookieJar::Verdict::kMissing:
        // A forgery, or an upstream that lost its cookies (or a cache before it that
        // keeps another client's): over TCP the answer is the upstream's.
        ++(found.status == wire::FoundCookie::Status::kNone ? counters_.dropped_cookie_missing
                                                            : counters_.dropped_cookie_mismatch);
        if (current) CheckCookieOverTcp(index);
        return false;
      case CookieJar::Verdict::kAccept: break;
    }
    if (info.rcode == wire::rcode::kFormErr && !cookies_->Knows(upstream_id)) {
      // A server that knows no EDNS (RFC 6891 section 7) or chokes on the option: it
      // gets no more cookies, and this query is asked again as the client sent it.
      cookies_->GiveUp(upstream_id);
      ++counters_.cookies_given_up;
      error_log_.Write(
          absl::StrCat("upstream ", slot.forward->upstreams[upstream].ToString(),
                       " answers FORMERR to a DNS cookie; cookies to it are given up"));
      if (!current) return false;
      ++counters_.cookie_formerr_retries;
      AskAgainOverUdp(index);
      return false;
    }
    if (info.rcode == wire::rcode::kBadCookie) {
      // RFC 7873 section 5.3: with our client cookie, the server cookie it sent is
      // learnt; asked again once with it, then over TCP, where no cookie is needed.
      if (!current) return false;
      if (slot.cookie_retried_upstream != upstream_id &&
          found.status == wire::FoundCookie::Status::kOk) {
        slot.cookie_retried_upstream = upstream_id;
        ++counters_.cookie_retries;
        AskAgainOverUdp(index);
      } else {
        CheckCookieOverTcp(index);
      }
      return false;
    }
  }
  // Ours, or one an upstream put in a TCP answer: never the client's, the cache's or a
  // waiter's.
  answer = answer.first(wire::DropEdnsOption(answer, info, wire::edns::kOptionCookie));
  if (slot.opt_rdata == kNoOpt || slot.opt_added) {
    answer = answer.first(wire::DropOptForClientWithout(answer, info));
  }
  return true;
}

void ShardReactor::CheckCookieOverTcp(std::uint32_t index) {
  ++counters_.cookie_tcp_retries;
  inflight_[index].cookie_over_tcp = true;
  AskOverTcp(index);
}

void ShardReactor::AskWithoutCookie(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  ++counters_.cookie_tcp_failures;
  slot.cookie_over_tcp = false;
  slot.cookie_off_upstream = slot.forward->first_upstream + slot.upstream;
  BackToUdpAfterCheck(index);
}

}  // namespace ringdns::core
