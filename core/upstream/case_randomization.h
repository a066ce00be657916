// core/upstream/case_randomization.h: which upstreams get DNS 0x20 names from one shard
// (wire/name_case.h), as Unbound's use-caps-for-id does with its fall-back.
//
// Every upstream starts out trusted to echo the question's case. One that answers our
// (port, ID, question) with the case folded does not: it gets plain names from then on.
// The fall-back ends after kPlainForMs and the upstream is tried again, so a forger who
// guessed port and ID but not the case (which also looks like a folded echo) switches
// 0x20 off for a while at most, and an upstream that was replaced is found out.
// Pure state, no clock of its own: the caller passes the time.
#pragma once

#include <cstdint>
#include <vector>

namespace ringdns::core {

class CaseRandomization {
 public:
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

  // `upstream` answered with the question's case folded. Returns true the first time
  // this upstream is found out (the caller says so once in the log).
  bool Folded(std::uint32_t upstream, std::int64_t now_ms) noexcept {
    Upstream& u = upstreams_[upstream];
    u.plain_until_ms = now_ms + kPlainForMs;
    if (u.reported) return false;
    u.reported = true;
    return true;
  }

  bool enabled() const noexcept { return enabled_; }

 private:
  struct Upstream {
    std::int64_t plain_until_ms = 0;
    bool reported = false;
  };
  bool enabled_ = false;
  std::vector<Upstream> upstreams_;
};

}  // namespace ringdns::core
