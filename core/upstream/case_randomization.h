// core/upstream/case_randomization.h: which upstreams get DNS 0x20 names from one shard
// (wire/name_case.h), with a fall-back for upstreams that do not echo case, as Unbound's
// use-caps-for-id has.
//
// Every upstream starts out trusted to echo the question's case. An answer that passed
// every other check (address, port, ID, question) but folded the case is either from an
// upstream that does not echo case, or a forgery that guessed port and ID. A forger must
// not be able to switch 0x20 off, so one fold proves nothing: the query is asked again
// with a fresh spelling. Only kFoldsToFallBack folds in a row, with no echo between and
// none for kTrustEchoMs, make the upstream plain; a live upstream's genuine echoes keep
// resetting the count, so a blind forger would have to win that race several times
// running. The fall-back ends after kPlainForMs and the upstream is tried again.
// Pure state, no clock of its own: the caller passes the time.
#pragma once

#include <cstdint>
#include <vector>

namespace ringdns::core {

class CaseRandomization {
 public:
  static constexpr std::uint32_t kFoldsToFallBack = 3;
  static constexpr std::int64_t kTrustEchoMs = 60 * 1000;
  static constexpr std::int64_t kPlainForMs = 10 * 60 * 1000;

  CaseRandomization() = default;
  // `upstreams`: how many global upstream ids the routes have. `enabled` false: plain
  // names to everyone.
  CaseRandomization(bool enabled, std::uint32_t upstreams)
      : enabled_(enabled), upstreams_(upstreams) {}

  // Whether a query to `upstream` now goes out with its name's case randomised.
  bool Randomizes(std::uint32_t upstream, std::int64_t now_ms) const noexcept {
    return enabled_ && now_ms >= upstreams_[upstream].plain_until_ms;
  }

  // `upstream` echoed a randomised spelling exactly.
  void Echoed(std::uint32_t upstream, std::int64_t now_ms) noexcept {
    Upstream& u = upstreams_[upstream];
    u.folds = 0;
    u.echoed_ms = now_ms;
  }

  // `upstream` answered with the question's case folded.
  struct Fold {
    bool now_plain = false;  // it gets plain names from now on (for kPlainForMs)
    bool report = false;     // the first time it is found out: say so once in the log
  };
  Fold Folded(std::uint32_t upstream, std::int64_t now_ms) noexcept {
    Upstream& u = upstreams_[upstream];
    if (++u.folds < kFoldsToFallBack) return {};
    if (u.echoed_ms != kNever && now_ms - u.echoed_ms < kTrustEchoMs) return {};
    u.folds = 0;
    u.plain_until_ms = now_ms + kPlainForMs;
    const bool report = !u.reported;
    u.reported = true;
    return {true, report};
  }

  bool enabled() const noexcept { return enabled_; }

 private:
  static constexpr std::int64_t kNever = INT64_MIN;
  struct Upstream {
    std::int64_t plain_until_ms = 0;
    std::int64_t echoed_ms = kNever;
    std::uint32_t folds = 0;  // in a row, since the last echo
    bool reported = false;
  };
  bool enabled_ = false;
  std::vector<Upstream> upstreams_;
};

}  // namespace ringdns::core
