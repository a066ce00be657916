// core/upstream/case_randomization.h: which upstreams get DNS 0x20 names from one shard
// (wire/name_case.h), with a fall-back for upstreams that do not echo case, as Unbound's
// use-caps-for-id has.
//
// Every upstream starts out trusted to echo the question's case. An answer that passed
// every other check (address, port, ID, question) but folded the case is either from an
// upstream that does not echo case, or a forgery that guessed port and ID. A forger must
// not be able to switch 0x20 off, so one fold proves nothing: the shard asks the same
// query again from a fresh port and ID with a fresh spelling. Only when that answer
// folds too (kFoldsToFallBack folds for one query: a forger would have to guess port
// and ID twice running, within one round trip) does the upstream fall back to plain
// names, for kPlainForMs; then it is tried again. At most kFoldsToFallBack re-asks per
// query, so a folding upstream is never asked in a loop.
// Pure state, no clock of its own: the caller passes the time.
#pragma once

#include <cstdint>
#include <vector>

namespace ringdns::core {

class CaseRandomization {
 public:
  static constexpr std::uint8_t kFoldsToFallBack = 2;
  static constexpr std::int64_t kPlainForMs = 10 * 60 * 1000;

  CaseRandomization() = default;
  // `upstreams`: how many global upstream ids the routes have. `enabled` false: plain
  // names to everyone.
  CaseRandomization(bool enabled, std::uint32_t upstreams)
      : enabled_(enabled), plain_until_ms_(upstreams, 0) {}

  // Whether a query to `upstream` now goes out with its name's case randomised.
  bool Randomizes(std::uint32_t upstream, std::int64_t now_ms) const noexcept {
    return enabled_ && now_ms >= plain_until_ms_[upstream];
  }

  // `upstream` folded case kFoldsToFallBack times for one query: plain names to it for
  // kPlainForMs. True when it was getting randomised names until now (log it).
  bool FallBack(std::uint32_t upstream, std::int64_t now_ms) noexcept {
    const bool was = Randomizes(upstream, now_ms);
    plain_until_ms_[upstream] = now_ms + kPlainForMs;
    return was;
  }

  bool enabled() const noexcept { return enabled_; }

 private:
  bool enabled_ = false;
  std::vector<std::int64_t> plain_until_ms_;  // per upstream
};

}  // namespace ringdns::core
